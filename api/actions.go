package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/scheme"
	"redress/store"
	"redress/workflows"
)

// refusalKey holds, in the request context, the code of a refused action, so that the audit
// log says why (e.g. target_out_of_scope) and not only that it was refused.
const refusalKey = "refusal"

// dispositionAppealDraft is the read-model's disposition of an order whose officer has drafted
// an appeal that the unit leader has not yet submitted (workflows' appeal-draft change).
const dispositionAppealDraft = "appeal_draft"

func (s *Server) routesActions() {
	s.e.Group("/api/v1").GET("/actions", s.listActions)
}

// actionsJSON is the actions table as served: the UI builds its action forms from it.
type actionsJSON struct {
	Actions       []scheme.ActionSpec `json:"actions"`
	MaxTextLength int                 `json:"max_text_length"`
}

// listActions serves the one table of actions (scheme.Table): roles, from-states, fields
// with their zh-CN labels and rules, and transitions.
func (s *Server) listActions(c echo.Context) error {
	return c.JSON(http.StatusOK, actionsJSON{Actions: scheme.Table(), MaxTextLength: scheme.MaxTextLength})
}

// resolveTarget fills the path of the unit an action sends the order to, from the database,
// so that the workflow's validator can refuse a target outside the caller's reach before
// anything is applied. An unknown unit is refused here.
func (s *Server) resolveTarget(c echo.Context, req *workflows.ActionRequest) error {
	req.ToUnitPath = "" // never the client's word
	if req.ToUnit == "" || !scheme.Targets(req.Action) || len(req.ToUnit) > 64 {
		return nil // nothing to resolve, or the validator answers (too long, not required)
	}
	u, err := s.units.Known(c.Request().Context(), req.ToUnit)
	if errors.Is(err, store.ErrNotFound) {
		return apperr.Invalid("to_unit", "unknown_unit", "unit %q is not known", req.ToUnit)
	}
	if err != nil {
		return fmt.Errorf("resolve target unit: %w", err)
	}
	req.ToUnitPath = u.Path
	return nil
}

// appealDraftJSON is an officer's appeal as drafted.
type appealDraftJSON struct {
	DraftedBy    string `json:"drafted_by"`
	AppealReason string `json:"appeal_reason"`
	Evidence     string `json:"evidence"`
	At           string `json:"at"`
}

// appealDraft reads the latest draft of the order's timeline.
func (s *Server) appealDraft(ctx context.Context, r store.OrderRow) (*appealDraftJSON, error) {
	evs, err := s.orders.Events(ctx, r)
	if err != nil {
		return nil, err
	}
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i]
		if e.Type != "appeal_drafted" {
			continue
		}
		str := func(k string) string { v, _ := e.Data.V[k].(string); return v }
		return &appealDraftJSON{DraftedBy: e.Actor, AppealReason: str("appeal_reason"), Evidence: str("evidence"),
			At: e.At.UTC().Format("2006-01-02T15:04:05Z07:00")}, nil
	}
	return nil, nil
}
