package apitest

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

// The API's own document, loaded and checked once per test binary by kin-openapi, an
// implementation of OpenAPI that is not ours: every answer the tests receive through env.do is
// validated against it, so an answer that breaks the contract fails the test that got it.
var contract = sync.OnceValues(func() (routers.Router, error) {
	_, file, _, _ := runtime.Caller(0)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(filepath.Join(filepath.Dir(file), "..", "openapi.yaml"))
	if err != nil {
		return nil, fmt.Errorf("load api/openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("api/openapi.yaml is not valid OpenAPI: %w", err)
	}
	// The document's only server is "/", relative to wherever it is served; matching the
	// test server's absolute URL against it would fail, so routes match on the path alone.
	doc.Servers = nil
	return legacy.NewRouter(doc)
})

// contractOptions: every status an operation answers must be documented for it (or by a
// default response), and binary bodies (exports) are checked for their content type only.
var contractOptions = func() *openapi3filter.Options {
	o := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	return o
}()

func init() {
	for _, ct := range []string{
		"text/csv",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"application/yaml",
		"text/plain",
	} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
}

// checkContract fails t when the answer to req breaks api/openapi.yaml. Answers to paths the
// document does not describe (the web UI, metrics) are not checked here; routes_test keeps
// every registered API route documented, and a 404/405 to an undocumented path is the
// router's own answer.
func checkContract(t *testing.T, req *http.Request, res response) {
	t.Helper()
	router, err := contract()
	if err != nil {
		t.Fatal(err)
	}
	route, params, err := router.FindRoute(req)
	if err != nil {
		if !strings.HasPrefix(req.URL.Path, "/api/") || res.status == http.StatusNotFound || res.status == http.StatusMethodNotAllowed {
			return
		}
		if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
			t.Errorf("contract: %s %s answered %d but is not in api/openapi.yaml", req.Method, req.URL.Path, res.status)
			return
		}
		t.Errorf("contract: %s %s: %v", req.Method, req.URL.Path, err)
		return
	}
	if res.status >= 400 && route.Operation.Responses.Status(res.status) == nil && route.Operation.Responses.Default() == nil {
		// Refusals every operation can give (401, 403, 413, 422, 429, 500…) are not listed
		// operation by operation; the document's rule for them is that every error has
		// the Error shape, so that is what they are checked against.
		checkErrorShape(t, req, route, res)
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: params, Route: route, Options: contractOptions,
		},
		Status:  res.status,
		Header:  res.header,
		Body:    io.NopCloser(bytes.NewReader(res.body)),
		Options: contractOptions,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		body := string(res.body)
		if len(body) > 600 {
			body = body[:600] + "…"
		}
		t.Errorf("contract: %s %s answered %d, which api/openapi.yaml does not allow: %v\nbody: %s",
			req.Method, route.Path, res.status, err, body)
	}
}

// checkErrorShape validates an error answer against components.schemas.Error.
func checkErrorShape(t *testing.T, req *http.Request, route *routers.Route, res response) {
	t.Helper()
	if ct := res.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("contract: %s %s answered %d with content type %q, not the JSON Error", req.Method, route.Path, res.status, ct)
		return
	}
	schema := route.Spec.Components.Schemas["Error"]
	if schema == nil || schema.Value == nil {
		t.Fatal("contract: api/openapi.yaml has no components.schemas.Error")
	}
	var v any
	if err := json.Unmarshal(res.body, &v); err != nil {
		t.Errorf("contract: %s %s answered %d with a body that is not JSON: %s", req.Method, route.Path, res.status, res.body)
		return
	}
	if err := schema.Value.VisitJSON(v, openapi3.VisitAsResponse(), openapi3.MultiErrors()); err != nil {
		t.Errorf("contract: %s %s answered %d, not an Error of api/openapi.yaml: %v\nbody: %s", req.Method, route.Path, res.status, err, res.body)
	}
}
