package e2e

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"redress/api/contract"
)

// Every answer the browser (and this package's own requests) receive from /api/ is validated
// against api/openapi.yaml (package contract), as api/apitest does for the API tests: an
// answer that breaks the document fails the browser test that provoked it.

// teeWriter passes the answer through and keeps a copy of it.
type teeWriter struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *teeWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

// contractChecked wraps the system's handler: answers under /api/ are validated after they are
// sent. Violations are collected and reported when the test ends (after the server is closed,
// so that no request still in flight reports into a finished test).
func contractChecked(t *testing.T, h http.Handler) http.Handler {
	var mu sync.Mutex
	var problems []string
	seen := 0
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("contract: %s", p)
		}
		if seen == 0 && !t.Skipped() {
			t.Errorf("contract: no API answer was checked")
		}
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/") {
			h.ServeHTTP(w, r)
			return
		}
		var reqBody []byte
		if r.Body != nil {
			reqBody, _ = io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(reqBody))
		}
		tw := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(tw, r)
		req := r.Clone(context.Background())
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		p, err := contract.Check(req, tw.status, tw.Header(), tw.body.Bytes())
		if err != nil {
			p = err.Error()
		}
		mu.Lock()
		seen++
		if p != "" {
			problems = append(problems, p)
		}
		mu.Unlock()
	})
}
