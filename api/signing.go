package api

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/signing"
)

// routesSigning registers the public signing key (issue 21): anyone may fetch it and check
// the signature header of a publication or an upstream push.
func (s *Server) routesSigning() {
	s.e.GET("/api/v1/public/signing-key", s.signingKey)
}

// signingKey answers the public key document; 404 when the deployment signs nothing.
func (s *Server) signingKey(c echo.Context) error {
	if s.deps.Signer == nil {
		return &apperr.Error{Status: http.StatusNotFound, Code: "signing_not_configured", Message: "this deployment signs nothing (REDRESS_SIGNING_KEY is not set)"}
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return c.JSON(http.StatusOK, s.deps.Signer.Key())
}

// signedJSON answers v as JSON with, when a signer is configured, the signature of the exact
// body bytes in the signature header: a reader verifies the bytes received, no canonical form
// needed.
func (s *Server) signedJSON(c echo.Context, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode answer: %w", err)
	}
	if s.deps.Signer != nil {
		h, err := s.deps.Signer.HeaderValue(body)
		if err != nil {
			return err
		}
		c.Response().Header().Set(signing.Header, h)
	}
	return c.Blob(status, echo.MIMEApplicationJSON, body)
}
