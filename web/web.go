// Package web holds the browser user interface of redress: a single-page application in plain
// JavaScript ES modules and CSS, with no build step and no third-party code, embedded into the
// binary so that every process that serves the API can serve the UI too.
//
// FS is the root of the static files. index.html sits at its root and every other file under
// assets/ (assets/js for the modules, assets/css for the style sheet, assets/i18n for the message
// catalogues). The UI routes with the URL fragment (#/login, #/inbox, #/orders/{id}), so the
// server only has to answer index.html for "/" and, as a fallback, for any unknown path that is
// not under /api/; Handler does exactly that for callers that want it.
//
// Every user-visible string lives in the message catalogue assets/i18n/zh-CN.js; no other file
// may contain Chinese text (web_test.go enforces it), so that further languages can be added by
// adding catalogues.
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

//go:embed all:static
var static embed.FS

// FS is the static files root: index.html at its root, the assets under assets/.
var FS fs.FS = mustSub(static, "static")

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}

// Handler serves FS: existing files as they are, index.html for "/" and for any other path that
// names no file (the single-page fallback), and 404 for unknown paths under /api/ and /assets/
// (so a missing module or endpoint fails loudly instead of answering HTML). index.html is sent
// with Cache-Control: no-cache so that a new binary's UI is picked up at once.
func Handler() http.Handler {
	files := http.FileServerFS(FS)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
		if p != "" && p != "index.html" {
			if st, err := fs.Stat(FS, p); err == nil && !st.IsDir() {
				files.ServeHTTP(w, r)
				return
			}
			if strings.HasPrefix(p, "api/") || strings.HasPrefix(p, "assets/") {
				http.NotFound(w, r)
				return
			}
		}
		index, err := fs.ReadFile(FS, "index.html")
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.Method != http.MethodHead {
			_, _ = w.Write(index)
		}
	})
}
