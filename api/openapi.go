package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"
	"go.yaml.in/yaml/v3"
)

// openAPIYAML is the API's contract, written first and checked against the router by a test.
//
//go:embed openapi.yaml
var openAPIYAML []byte

var openAPIJSONBytes = func() []byte {
	var doc any
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		panic(fmt.Sprintf("api: openapi.yaml: %v", err))
	}
	b, err := json.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("api: openapi.yaml to JSON: %v", err))
	}
	return b
}()

func (s *Server) openAPIJSON(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPIJSONBytes)
}

func (s *Server) openAPIYAML(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/yaml", openAPIYAML)
}
