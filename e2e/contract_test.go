package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Every answer the browser (and this package's own requests) receive from /api/ is validated
// against api/openapi.yaml with kin-openapi, as api/apitest does for the API tests: an answer
// that breaks the document fails the browser test that provoked it.

var contract = sync.OnceValues(func() (routers.Router, error) {
	_, file, _, _ := runtime.Caller(0)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(filepath.Join(filepath.Dir(file), "..", "api", "openapi.yaml"))
	if err != nil {
		return nil, fmt.Errorf("load api/openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("api/openapi.yaml is not valid OpenAPI: %w", err)
	}
	doc.Servers = nil // the document's server is "/": match on the path alone
	return legacy.NewRouter(doc)
})

var contractOptions = &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}

func init() {
	for _, ct := range []string{"text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "application/yaml", "text/plain"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
}

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
	router, err := contract()
	if err != nil {
		t.Fatal(err)
	}
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
		p := checkAnswer(router, req, tw.status, tw.Header(), tw.body.Bytes())
		mu.Lock()
		seen++
		if p != "" {
			problems = append(problems, p)
		}
		mu.Unlock()
	})
}

// checkAnswer returns what is wrong with one answer ("" when it keeps the document).
func checkAnswer(router routers.Router, req *http.Request, status int, header http.Header, body []byte) string {
	route, params, err := router.FindRoute(req)
	if err != nil {
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return ""
		}
		if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
			return fmt.Sprintf("%s %s answered %d but is not in api/openapi.yaml", req.Method, req.URL.Path, status)
		}
		return fmt.Sprintf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	short := string(body)
	if len(short) > 600 {
		short = short[:600] + "…"
	}
	if status >= 400 && route.Operation.Responses.Status(status) == nil && route.Operation.Responses.Default() == nil {
		// Refusals any operation can give are checked against the Error shape.
		schema := route.Spec.Components.Schemas["Error"]
		var v any
		if schema == nil || schema.Value == nil || json.Unmarshal(body, &v) != nil {
			return fmt.Sprintf("%s %s answered %d without a JSON Error: %s", req.Method, route.Path, status, short)
		}
		if err := schema.Value.VisitJSON(v, openapi3.VisitAsResponse(), openapi3.MultiErrors()); err != nil {
			return fmt.Sprintf("%s %s answered %d, not an Error: %v\nbody: %s", req.Method, route.Path, status, err, short)
		}
		return ""
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: contractOptions},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                contractOptions,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Sprintf("%s %s answered %d, which api/openapi.yaml does not allow: %v\nbody: %s", req.Method, route.Path, status, err, short)
	}
	return ""
}
