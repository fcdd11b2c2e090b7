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

// signedBody encodes v as JSON and, when a signer is configured, signs the exact body bytes
// (sig is "" when the deployment signs nothing): a reader verifies the bytes received, no
// canonical form needed. blobSigned sends both.
func (s *Server) signedBody(v any) (body []byte, sig string, err error) {
	body, err = json.Marshal(v)
	if err != nil {
		return nil, "", fmt.Errorf("encode answer: %w", err)
	}
	if s.deps.Signer != nil {
		if sig, err = s.deps.Signer.HeaderValue(body); err != nil {
			return nil, "", err
		}
	}
	return body, sig, nil
}

// blobSigned answers a signed body with its signature header.
func blobSigned(c echo.Context, status int, body []byte, sig string) error {
	if sig != "" {
		c.Response().Header().Set(signing.Header, sig)
	}
	return c.Blob(status, echo.MIMEApplicationJSON, body)
}
