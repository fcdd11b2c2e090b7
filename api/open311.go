package api

import (
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"redress/open311"
)

// routesOpen311 registers the Open311 GeoReport v2 read side (issue 21), public, in JSON and
// XML by the spec's format suffix. Each route is registered per format (Echo cannot split a
// suffix off a static segment), so each has its own policy line.
func (s *Server) routesOpen311() {
	for _, f := range []string{"json", "xml"} {
		s.e.GET("/open311/v2/discovery."+f, s.open311Discovery)
		s.e.GET("/open311/v2/services."+f, s.open311Services)
		s.e.GET("/open311/v2/requests."+f, s.open311Requests)
	}
	// The id carries the suffix: /requests/ID.json or /requests/ID.xml.
	s.e.GET("/open311/v2/requests/:id", s.open311Request)
}

// open311Format answers "xml" or "json" from the path's suffix.
func open311Format(path string) string {
	if strings.HasSuffix(path, ".xml") {
		return "xml"
	}
	return "json"
}

// open311Write answers v in the format; list wraps a slice for XML.
func open311Write(c echo.Context, format string, status int, jsonV, xmlV any) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=60")
	if format == "xml" {
		b, err := xml.Marshal(xmlV)
		if err != nil {
			return err
		}
		return c.Blob(status, echo.MIMETextXMLCharsetUTF8, append([]byte(xml.Header), b...))
	}
	return c.JSON(status, jsonV)
}

// open311Fail answers an error as the spec shapes it: an array of {code, description}; an
// internal error is logged and answered without its text.
func open311Fail(c echo.Context, format string, err error) error {
	var oe *open311.Error
	if !errors.As(err, &oe) {
		slog.ErrorContext(c.Request().Context(), "open311", "err", err)
		oe = &open311.Error{Code: http.StatusInternalServerError, Description: "internal error"}
	}
	return open311Write(c, format, oe.Code, []open311.Error{*oe}, open311.ErrorsXML{Errors: []open311.Error{*oe}})
}

// open311Base is the endpoint's URL as the client reached it.
func (s *Server) open311Base(c echo.Context) string {
	return c.Scheme() + "://" + c.Request().Host + "/open311/v2"
}

func (s *Server) open311Discovery(c echo.Context) error {
	d := open311.NewDiscovery(s.open311Base(c))
	return open311Write(c, open311Format(c.Path()), http.StatusOK, d, d)
}

func (s *Server) open311Services(c echo.Context) error {
	f := open311Format(c.Path())
	svcs, err := s.open311.Services(c.Request().Context(), s.resultsNow())
	if err != nil {
		return open311Fail(c, f, err)
	}
	return open311Write(c, f, http.StatusOK, svcs, open311.ServicesXML{Services: svcs})
}

func (s *Server) open311Requests(c echo.Context) error {
	f := open311Format(c.Path())
	q, err := open311.ParseQuery(c.QueryParam, s.resultsNow())
	if err != nil {
		return open311Fail(c, f, err)
	}
	rs, err := s.open311.Requests(c.Request().Context(), q)
	if err != nil {
		return open311Fail(c, f, err)
	}
	return open311Write(c, f, http.StatusOK, rs, open311.RequestsXML{Requests: rs})
}

func (s *Server) open311Request(c echo.Context) error {
	id := c.Param("id")
	f := open311Format(id)
	id = strings.TrimSuffix(strings.TrimSuffix(id, ".xml"), ".json")
	if id == "" || len(id) > 64 {
		return open311Fail(c, f, open311.ErrNotFound)
	}
	r, err := s.open311.One(c.Request().Context(), id)
	if err != nil {
		return open311Fail(c, f, err)
	}
	// The spec answers a list even for one request.
	return open311Write(c, f, http.StatusOK, []open311.Request{r}, open311.RequestsXML{Requests: []open311.Request{r}})
}
