package api

import (
	"errors"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"redress/apperr"
)

// routesWeb serves the single-page UI: the shell at / and its files under /assets/.
func (s *Server) routesWeb() {
	s.e.GET("/", func(c echo.Context) error { return s.serveFile(c, "index.html") })
	s.e.GET("/assets/*", func(c echo.Context) error {
		p := path.Clean(c.Param("*"))
		if p == "." || strings.HasPrefix(p, "..") {
			return apperr.NotFound("file")
		}
		return s.serveFile(c, "assets/"+p)
	})
}

func (s *Server) serveFile(c echo.Context, name string) error {
	// A directory (GET /assets/js) is no file: 404, not the 500 its read error gave.
	if st, err := fs.Stat(s.deps.Web, name); errors.Is(err, fs.ErrNotExist) || err == nil && st.IsDir() {
		return apperr.NotFound("file")
	}
	b, err := fs.ReadFile(s.deps.Web, name)
	if errors.Is(err, fs.ErrNotExist) {
		return apperr.NotFound("file")
	}
	if err != nil {
		return err
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = "application/octet-stream"
	}
	if name == "index.html" {
		c.Response().Header().Set("Cache-Control", "no-cache")
	}
	c.Response().Header().Set("X-Content-Type-Options", "nosniff")
	return c.Blob(http.StatusOK, ct, b)
}
