// Package contract checks answers of the API against its own document, api/openapi.yaml, with
// kin-openapi — an implementation of OpenAPI that is not ours. The API tests (api/apitest) and
// the browser test (e2e) both pass every answer they receive through Check, so an answer that
// breaks the document fails the test that provoked it. Only tests import it.
package contract

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

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// router is the document, loaded and validated once per test binary.
var router = sync.OnceValues(func() (routers.Router, error) {
	_, file, _, _ := runtime.Caller(0)
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(filepath.Join(filepath.Dir(file), "..", "openapi.yaml"))
	if err != nil {
		return nil, fmt.Errorf("load api/openapi.yaml: %w", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		return nil, fmt.Errorf("api/openapi.yaml is not valid OpenAPI: %w", err)
	}
	// The document's only server is "/", relative to wherever it is served; matching a test
	// server's absolute URL against it would fail, so routes match on the path alone.
	doc.Servers = nil
	return legacy.NewRouter(doc)
})

// options: every status an operation answers must be documented for it (or by a default
// response), and binary bodies (exports) are checked for their content type only.
var options = &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}

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

// Check returns what is wrong with one answer to req ("" when it keeps the document); the
// error is for a document that cannot be loaded. Paths the document does not describe (the
// web UI, metrics) are not checked, nor is a 404 or 405 to an undocumented path (the router's
// own answer). Refusals every operation can give (401, 403, 413, 422, 429, 500…) are not
// listed operation by operation: the document's rule for them is the Error shape, so that is
// what they are checked against.
func Check(req *http.Request, status int, header http.Header, body []byte) (string, error) {
	rt, err := router()
	if err != nil {
		return "", err
	}
	route, params, err := rt.FindRoute(req)
	if err != nil {
		if !strings.HasPrefix(req.URL.Path, "/api/") || status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return "", nil
		}
		if errors.Is(err, routers.ErrPathNotFound) || errors.Is(err, routers.ErrMethodNotAllowed) {
			return fmt.Sprintf("%s %s answered %d but is not in api/openapi.yaml", req.Method, req.URL.Path, status), nil
		}
		return fmt.Sprintf("%s %s: %v", req.Method, req.URL.Path, err), nil
	}
	short := string(body)
	if len(short) > 600 {
		short = short[:600] + "…"
	}
	if status >= 400 && route.Operation.Responses.Status(status) == nil && route.Operation.Responses.Default() == nil {
		return errorShape(req, route, status, header, body, short), nil
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route, Options: options},
		Status:                 status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(body)),
		Options:                options,
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Sprintf("%s %s answered %d, which api/openapi.yaml does not allow: %v\nbody: %s", req.Method, route.Path, status, err, short), nil
	}
	return "", nil
}

// errorShape checks an error answer against components.schemas.Error.
func errorShape(req *http.Request, route *routers.Route, status int, header http.Header, body []byte, short string) string {
	if ct := header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return fmt.Sprintf("%s %s answered %d with content type %q, not the JSON Error", req.Method, route.Path, status, ct)
	}
	schema := route.Spec.Components.Schemas["Error"]
	if schema == nil || schema.Value == nil {
		return "api/openapi.yaml has no components.schemas.Error"
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Sprintf("%s %s answered %d with a body that is not JSON: %s", req.Method, route.Path, status, short)
	}
	if err := schema.Value.VisitJSON(v, openapi3.VisitAsResponse(), openapi3.MultiErrors()); err != nil {
		return fmt.Sprintf("%s %s answered %d, not an Error of api/openapi.yaml: %v\nbody: %s", req.Method, route.Path, status, err, short)
	}
	return ""
}
