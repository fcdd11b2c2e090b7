package api

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/models"
	"redress/store"
	"redress/upstream"
)

func (s *Server) routesUpstream() {
	v1 := s.e.Group("/api/v1")
	v1.GET("/upstream/messages", s.listUpstream)
	v1.GET("/upstream/messages/:id", s.getUpstream)
	v1.POST("/upstream/messages/:id/resend", s.resendUpstream)
	v1.POST("/work-orders/:id/hotline", s.forwardHotline)
	v1.GET("/work-orders/:id/hotline", s.getHotline)
	v1.POST("/hotline/results", s.hotlineResult)
}

// upstreamScope: administrators and auditors see the messages of their subtree, a sysadmin
// every message.
func upstreamScope(c echo.Context) (scope store.Scope, all bool) {
	p := principal(c)
	for _, g := range p.Grants {
		if g.Role == models.RoleSysadmin {
			return store.Scope{}, true
		}
	}
	return store.ScopeFor(p.Grants, models.RoleAdministrator, models.RoleAuditor), false
}

func (s *Server) listUpstream(c echo.Context) error {
	status := c.QueryParam("status")
	switch status {
	case "", upstream.StatusPending, upstream.StatusSent, upstream.StatusDead:
	default:
		return apperr.Invalid("status", "invalid_status", "status must be pending, sent or dead")
	}
	target := c.QueryParam("target")
	switch target {
	case "", upstream.TargetUpstream, upstream.TargetHotline:
	default:
		return apperr.Invalid("target", "invalid_target", "target must be upstream or hotline")
	}
	limit, err := intParam(c, "limit", 100, 1, 500)
	if err != nil {
		return err
	}
	scope, all := upstreamScope(c)
	ms, err := upstream.List(c.Request().Context(), s.deps.DB, scope, all, status, target, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": ms})
}

func (s *Server) getUpstream(c echo.Context) error {
	scope, all := upstreamScope(c)
	ms, err := upstream.Get(c.Request().Context(), s.deps.DB, scope, all, c.Param("id"))
	if err != nil {
		return err
	}
	atts, err := upstream.Attempts(c.Request().Context(), s.deps.DB, ms.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"message": ms, "attempts": atts})
}

func (s *Server) resendUpstream(c echo.Context) error {
	scope, all := upstreamScope(c)
	for _, g := range principal(c).Grants { // auditors read, never act
		if g.Role == models.RoleAdministrator || g.Role == models.RoleSysadmin {
			m, err := upstream.Resend(c.Request().Context(), s.deps.DB, scope, all, c.Param("id"))
			if err != nil {
				return err
			}
			return c.JSON(http.StatusOK, m)
		}
	}
	return apperr.Forbidden("forbidden", "your roles do not allow this")
}

type hotlineRequest struct {
	Note string `json:"note"`
}

// forwardHotline forwards a work order in the caller's jurisdiction to the 12345 platform.
func (s *Server) forwardHotline(c echo.Context) error {
	var req hotlineRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if len([]rune(req.Note)) > 1000 {
		return apperr.Invalid("note", "too_long", "note is longer than 1000 characters")
	}
	scope := store.ScopeFor(principal(c).Grants, models.RoleAdministrator, models.RoleSupervisor)
	t, err := upstream.Forward(c.Request().Context(), s.deps.DB, scope, c.Param("id"), principal(c).User.Login, req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, t)
}

func (s *Server) getHotline(c echo.Context) error {
	t, rs, err := upstream.TicketOf(c.Request().Context(), s.deps.DB, staffScope(c), c.Param("id"))
	if err != nil {
		return err
	}
	if rs == nil {
		rs = []upstream.Result{}
	}
	return c.JSON(http.StatusOK, map[string]any{"ticket": t, "results": rs})
}

// hotlineResult receives a result from the 12345 platform: public route, authenticated by the
// HMAC signature over the raw body with the shared secret; idempotent by result_id.
func (s *Server) hotlineResult(c echo.Context) error {
	if mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); err != nil || mt != echo.MIMEApplicationJSON {
		return apperr.BadRequest("unsupported_content_type", "send the body as application/json")
	}
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return decodeError(err)
	}
	if err := upstream.Verify(s.deps.Results.HotlineSecret, c.Request().Header.Get("X-Redress-Signature"), raw, s.resultsNow(), 5*time.Minute); err != nil {
		return unauthorized("the signature is missing, invalid or too old")
	}
	if err := checkJSONText(raw); err != nil {
		return err
	}
	var in upstream.ResultIn
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return decodeError(err)
	}
	r, created, err := upstream.Receive(c.Request().Context(), s.deps.DB, in, raw)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, r)
}
