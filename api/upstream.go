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
	"redress/outbox"
	"redress/upstream"
)

// upstreamAPI serves the delivery queue to the platforms and the 12345 tickets; what the caller
// may see and do is decided by upstream.Service, which takes the caller.
type upstreamAPI struct {
	*Server
	svc upstream.Service
}

func (s *Server) routesUpstream() {
	h := upstreamAPI{Server: s, svc: s.upstream}
	v1 := s.e.Group("/api/v1")
	v1.GET("/upstream/messages", h.listUpstream)
	v1.GET("/upstream/messages/:id", h.getUpstream)
	v1.POST("/upstream/messages/:id/resend", h.resendUpstream)
	v1.POST("/work-orders/:id/hotline", h.forwardHotline)
	v1.GET("/work-orders/:id/hotline", h.getHotline)
	v1.POST("/hotline/results", h.hotlineResult)
}

func (h upstreamAPI) listUpstream(c echo.Context) error {
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
	ms, err := h.svc.List(c.Request().Context(), caller(c), status, target, limit)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": ms})
}

func (h upstreamAPI) getUpstream(c echo.Context) error {
	ms, err := h.svc.Get(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	atts, err := h.svc.Attempts(c.Request().Context(), ms.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"message": ms, "attempts": atts})
}

func (h upstreamAPI) resendUpstream(c echo.Context) error {
	m, err := h.svc.Resend(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

type hotlineRequest struct {
	Note string `json:"note"`
}

// forwardHotline forwards a work order in the caller's jurisdiction to the 12345 platform.
func (h upstreamAPI) forwardHotline(c echo.Context) error {
	var req hotlineRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if len([]rune(req.Note)) > 1000 {
		return apperr.Invalid("note", "too_long", "note is longer than 1000 characters")
	}
	t, err := h.svc.Forward(c.Request().Context(), caller(c), c.Param("id"), req.Note)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, t)
}

func (h upstreamAPI) getHotline(c echo.Context) error {
	t, rs, err := h.svc.TicketOf(c.Request().Context(), caller(c), c.Param("id"))
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
func (h upstreamAPI) hotlineResult(c echo.Context) error {
	if mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType)); err != nil || mt != echo.MIMEApplicationJSON {
		return apperr.BadRequest("unsupported_content_type", "send the body as application/json")
	}
	raw, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return decodeError(err)
	}
	if err := outbox.Verify(h.deps.Results.HotlineSecret, c.Request().Header.Get(outbox.SignatureHeader), raw, h.resultsNow(), 5*time.Minute); err != nil {
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
	r, created, err := h.svc.Receive(c.Request().Context(), in, raw)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	return c.JSON(status, r)
}
