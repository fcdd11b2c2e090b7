package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"redress/apperr"
	"redress/calendar"
	"redress/intake"
	"redress/models"
	"redress/pii"
	"redress/scheme"
	"redress/store"
	"redress/workflows"
)

// orderJSON is a work order as API.md describes it.
type orderJSON struct {
	ID               string              `json:"id"`
	EvaluationID     string              `json:"evaluation_id"`
	State            string              `json:"state"`
	Disposition      string              `json:"disposition"`
	Unit             *unitJSON           `json:"unit"`
	Staff            *string             `json:"staff"`
	CaseNos          []string            `json:"case_nos"`
	Levels           map[string]string   `json:"levels"`
	Comment          string              `json:"comment"`
	Evaluator        *evaluatorJSON      `json:"evaluator,omitempty"`
	OpenedAt         time.Time           `json:"opened_at"`
	DispatchedAt     *time.Time          `json:"dispatched_at"`
	Deadlines        []orderDeadlineJSON `json:"deadlines"`
	SupervisionLevel int                 `json:"supervision_level"`
	OverdueDays      int                 `json:"overdue_days"`
	AllowedActions   []string            `json:"allowed_actions"`
	UpdatedAt        time.Time           `json:"updated_at"`
	// PendingExtension is an undecided extension request (rectifying orders only).
	PendingExtension *pendingExtensionJSON `json:"pending_extension"`
	// AppealDraft is an officer's appeal waiting for the unit leader's submit_appeal.
	AppealDraft *appealDraftJSON `json:"appeal_draft"`
	// What a person reads instead of codes: the staff member's name, the rating's channel and
	// time, and the service item of the order's first case (the order's title).
	StaffName   *string    `json:"staff_name"`
	Channel     string     `json:"channel"`
	RatedAt     *time.Time `json:"rated_at"`
	ServiceName *string    `json:"service_name"`
	// DeadlineError says in Chinese why a deadline of the order cannot be computed (the
	// policy's budget is out of range); the order waits until the policy is fixed.
	DeadlineError string `json:"deadline_error,omitempty"`
}

type evaluatorJSON struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
}

func callerOf(p *Principal) workflows.Caller {
	c := workflows.Caller{Login: p.User.Login}
	for _, g := range p.Grants {
		c.Grants = append(c.Grants, workflows.Grant{Role: g.Role, UnitPath: g.UnitPath})
	}
	return c
}

func (s *Server) orderJSON(c echo.Context, r store.OrderRow, withEvaluator bool) (orderJSON, error) {
	o := orderJSON{
		ID: r.ID, EvaluationID: r.ClientEvalID, State: r.State, Disposition: r.Disposition, Staff: r.StaffID,
		CaseNos: r.CaseNos.V, Levels: r.Levels.V, Comment: r.Comment, OpenedAt: r.OpenedAt,
		DispatchedAt: r.DispatchedAt, SupervisionLevel: r.SupervisionLevel,
		OverdueDays: r.OverdueDays, UpdatedAt: r.UpdatedAt, DeadlineError: r.DeadlineError,
		StaffName: r.StaffName, Channel: r.Channel, RatedAt: r.RatedAt, ServiceName: r.ServiceName,
		AllowedActions: scheme.AllowedActions(scheme.OrderView{State: r.State, UnitPath: r.UnitPath,
			AppealDraft: r.Disposition == dispositionAppealDraft}, callerOf(principal(c))),
	}
	if r.Disposition == dispositionAppealDraft {
		d, err := s.appealDraft(c.Request().Context(), r)
		if err != nil {
			return o, err
		}
		o.AppealDraft = d
	}
	now := time.Now()
	ds, days := s.liveDeadlines(c.Request().Context(), r, now)
	o.OverdueDays = days
	o.Deadlines = s.deadlinesJSON(c.Request().Context(), r.UnitPath, ds, now)
	pe, err := s.pendingExtension(c.Request().Context(), r)
	if err != nil {
		return o, err
	}
	o.PendingExtension = pe
	if o.AllowedActions == nil {
		o.AllowedActions = []string{}
	}
	if r.UnitID != nil {
		o.Unit = &unitJSON{Code: r.UnitCode, Name: r.UnitName}
	}
	if withEvaluator {
		name, phone, err := s.orders.Evaluator(c.Request().Context(), r)
		if err != nil {
			return o, err
		}
		// Masked for everyone: the unmasked phone is shown only in the callback view.
		n, err1 := s.deps.PII.Open(name)
		p, err2 := s.deps.PII.Open(phone)
		if err := errors.Join(err1, err2); err != nil {
			return o, err
		}
		o.Evaluator = &evaluatorJSON{Name: pii.MaskName(n), Phone: pii.MaskPhone(p)}
	}
	return o, nil
}

// inboxCountCap is where a work-order list stops counting (store.OrderFilter.CountCap).
const inboxCountCap = 10000

type listJSON struct {
	Items []orderJSON `json:"items"`
	Total int64       `json:"total"`
	// TotalCapped: more than Total orders match (the count stops at inboxCountCap).
	TotalCapped bool `json:"total_capped,omitempty"`
	Page        int  `json:"page"`
	PageSize    int  `json:"page_size"`
}

func intParam(c echo.Context, name string, def, min, max int) (int, error) {
	v := c.QueryParam(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return 0, apperr.Invalid(name, "invalid_"+name, "%s must be a whole number from %d to %d", name, min, max)
	}
	return n, nil
}

// pageParams reads page (from 1) and page_size (1..maxSize, default defSize) of a list.
func pageParams(c echo.Context, defSize, maxSize int) (page, size int, err error) {
	if page, err = intParam(c, "page", 1, 1, 1_000_000); err != nil {
		return 0, 0, err
	}
	if size, err = intParam(c, "page_size", defSize, 1, maxSize); err != nil {
		return 0, 0, err
	}
	return page, size, nil
}

func validState(s string) bool {
	switch s {
	case models.StatePendingDispatch, models.StateDispatched, models.StateReturned, models.StateSigned,
		models.StateCalledBack, models.StateRectifying, models.StateAppealing, models.StateReviewing,
		models.StateFeedback, models.StateClosed:
		return true
	}
	return false
}

func (s *Server) listWorkOrders(c echo.Context) error {
	ctx := c.Request().Context()
	page, size, err := pageParams(c, 20, 100)
	if err != nil {
		return err
	}
	f := store.OrderFilter{State: c.QueryParam("state"), Q: c.QueryParam("q"), Page: page, PageSize: size, Now: time.Now().UTC()}
	if f.State != "" && !validState(f.State) {
		return apperr.Invalid("state", "invalid_state", "unknown state %q", f.State)
	}
	switch c.QueryParam("overdue") {
	case "", "false":
	case "true":
		f.Overdue = true
	default:
		return apperr.Invalid("overdue", "invalid_overdue", "overdue must be true or false")
	}
	if len(f.Q) > 100 {
		return apperr.Invalid("q", "too_long", "q is longer than 100 characters")
	}
	if err := listFilters(c, &f); err != nil {
		return err
	}
	if f.UnitPath, err = s.orderUnit(c); err != nil {
		return err
	}
	f.CountCap = inboxCountCap
	rows, total, err := s.orders.List(ctx, caller(c), f)
	if err != nil {
		return err
	}
	out := listJSON{Items: make([]orderJSON, 0, len(rows)), Total: total, Page: page, PageSize: size}
	if total > inboxCountCap {
		out.Total, out.TotalCapped = inboxCountCap, true
	}
	for _, r := range rows {
		o, err := s.orderJSON(c, r, false)
		if err != nil {
			return err
		}
		out.Items = append(out.Items, o)
	}
	return c.JSON(http.StatusOK, out)
}

// orderUnit resolves ?unit= of an order list to the unit's path ("" for none), within the
// caller's units.
func (s *Server) orderUnit(c echo.Context) (string, error) {
	code := c.QueryParam("unit")
	if code == "" {
		return "", nil
	}
	path, err := s.orders.UnitPath(c.Request().Context(), caller(c), code)
	if errors.Is(err, store.ErrNotFound) {
		return "", apperr.Invalid("unit", "unknown_unit", "unit %q is not known", code)
	}
	return path, err
}

// listFilters reads the inbox's filters besides state, overdue, q and unit: level, staff,
// channel, supervision, from/to (dates, Asia/Shanghai, both inclusive), due_before (RFC 3339),
// pending_extension and sort. Each bad value is refused with its own field.
func listFilters(c echo.Context, f *store.OrderFilter) error {
	if v := c.QueryParam("level"); v != "" {
		if !models.IsLevel(v) {
			return apperr.Invalid("level", "invalid_level", "unknown level %q", v)
		}
		f.Level = v
	}
	if v := c.QueryParam("staff"); v != "" {
		if len(v) > 64 {
			return apperr.Invalid("staff", "too_long", "staff is longer than 64 characters")
		}
		f.Staff = v
	}
	if v := c.QueryParam("channel"); v != "" {
		if !models.IsChannel(v) && v != models.ChannelDefault {
			return apperr.Invalid("channel", "invalid_channel", "unknown channel %q", v)
		}
		f.Channel = v
	}
	if c.QueryParam("supervision") != "" {
		n, err := intParam(c, "supervision", 0, 0, 9)
		if err != nil {
			return err
		}
		f.Supervision = &n
	}
	day := func(name string) (*time.Time, error) {
		v := c.QueryParam(name)
		if v == "" {
			return nil, nil
		}
		d, err := time.ParseInLocation("2006-01-02", v, calendar.Zone())
		if err != nil {
			return nil, apperr.Invalid(name, "invalid_date", "%s must be a date (YYYY-MM-DD)", name)
		}
		return &d, nil
	}
	var err error
	if f.From, err = day("from"); err != nil {
		return err
	}
	if f.To, err = day("to"); err != nil {
		return err
	}
	if f.To != nil {
		end := f.To.AddDate(0, 0, 1) // "to" is inclusive: up to its 24:00
		f.To = &end
	}
	if f.From != nil && f.To != nil && !f.From.Before(*f.To) {
		return apperr.Invalid("to", "invalid_period", "to is before from")
	}
	if v := c.QueryParam("due_before"); v != "" {
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return apperr.Invalid("due_before", "invalid_date", "due_before must be an RFC 3339 time")
		}
		f.DueBefore = &t
	}
	switch c.QueryParam("pending_extension") {
	case "", "false":
	case "true":
		f.PendingExtension = true
	default:
		return apperr.Invalid("pending_extension", "invalid_pending_extension", "pending_extension must be true or false")
	}
	if v := c.QueryParam("sort"); v != "" {
		if _, ok := store.OrderSorts[v]; !ok {
			return apperr.Invalid("sort", "invalid_sort", "sort must be one of due, -due, opened, -opened, -supervision")
		}
		f.Sort = v
	}
	return nil
}

// findOrder reads the order of the route's id within the caller's units.
func (s *Server) findOrder(c echo.Context) (store.OrderRow, error) {
	return s.findOrderWith(c, func(ctx context.Context, id string) (store.OrderRow, error) {
		return s.orders.Get(ctx, caller(c), id)
	})
}

func (s *Server) findOrderWith(c echo.Context, get func(context.Context, string) (store.OrderRow, error)) (store.OrderRow, error) {
	id, err := orderID(c)
	if err != nil {
		return store.OrderRow{}, err
	}
	r, err := get(c.Request().Context(), id)
	return r, orderError(err)
}

// orderID is the route's work-order id; one that is not a UUID is no order's (404).
func orderID(c echo.Context) (string, error) {
	id := c.Param("id")
	if _, err := uuid.Parse(id); err != nil {
		return "", apperr.NotFound("work order")
	}
	return id, nil
}

// orderError answers an order out of the caller's scope as one that does not exist.
func orderError(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return apperr.NotFound("work order")
	}
	return err
}

func (s *Server) getWorkOrder(c echo.Context) error {
	r, err := s.findOrder(c)
	if err != nil {
		return err
	}
	o, err := s.orderJSON(c, r, true)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

type eventJSON struct {
	At    time.Time `json:"at"`
	Actor string    `json:"actor"`
	// ActorName is the acting user's name (absent for the system and unknown logins), so that
	// the timeline says who acted in words, not by login.
	ActorName string         `json:"actor_name,omitempty"`
	Type      string         `json:"type"`
	Data      map[string]any `json:"data"`
}

func (s *Server) getTimeline(c echo.Context) error {
	var evs []store.TimelineEntry
	_, err := s.findOrderWith(c, func(ctx context.Context, id string) (store.OrderRow, error) {
		var err error
		evs, err = s.orders.Timeline(ctx, caller(c), id)
		return store.OrderRow{}, err
	})
	if err != nil {
		return err
	}
	out := make([]eventJSON, len(evs))
	for i, e := range evs {
		out[i] = eventJSON{At: e.At, Actor: e.Actor, ActorName: e.ActorName, Type: e.Type, Data: e.Data.V}
	}
	return c.JSON(http.StatusOK, out)
}

// postAction sends an action to the order's workflow as an Update and answers the order as it
// now stands. The Idempotency-Key header becomes the update id, so a retried request is
// applied once and answers the same.
func (s *Server) postAction(c echo.Context) error {
	r, err := s.findOrder(c)
	if err != nil {
		return err
	}
	var req workflows.ActionRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	c.Set("action", req.Action)
	// Free text past its limit never reaches the workflow's history (the validator refuses it
	// too; this saves the round trip with a body of up to the 1 MB limit).
	if err := workflows.CheckLengths(req); err != nil {
		return actionError(c, err)
	}
	// Who acts is the token's user, whatever the body says; where an order goes is the
	// unit's path as the database has it, whatever the body says.
	req.Caller = callerOf(principal(c))
	if err := s.resolveTarget(c, &req); err != nil {
		return err
	}
	key := c.Request().Header.Get("Idempotency-Key")
	if len(key) > 128 {
		return apperr.BadRequest("invalid_idempotency_key", "Idempotency-Key is longer than 128 characters")
	}
	login := principal(c).User.Login
	updateID := ""
	claim := idemClaim{}
	if key == "" {
		updateID = login + ":" + uuid.NewString()
	} else {
		if claim, err = s.claimIdempotencyKey(c.Request().Context(), login, key, r.ID, req); err != nil {
			return err
		}
		updateID = claim.updateID(login, key)
	}
	if !r.WorkflowStarted {
		return apperr.Unavailable("work_order_not_ready", "the work order is being opened; retry in a moment")
	}
	ctx, cancel := context.WithTimeout(c.Request().Context(), 30*time.Second)
	defer cancel()
	h, err := s.deps.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   intake.WorkflowID(r.ID),
		UpdateID:     updateID,
		UpdateName:   workflows.ActionUpdate,
		Args:         []any{req},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err == nil {
		var res workflows.ActionResult
		err = h.Get(ctx, &res)
	}
	if err != nil {
		err = actionError(c, err)
		var he *apperr.Error
		if key != "" && errors.As(err, &he) && he.Code == workflows.ErrActionFailed {
			// Temporal answers a repeated update id with its first outcome: a failed step
			// (the order unchanged) would answer the same key's retries with the same failure
			// for ever. The retry the message asks for gets a fresh update id instead.
			s.retireIdempotencyClaim(c.Request().Context(), login, key, claim)
		}
		if req.Action == "reopen" && errors.As(err, &he) && he.Code == "wrong_state" && he.Message == orderEnded {
			// The workflow ended with the reopen window: say so.
			return apperr.Conflict(workflows.ErrReopenWindowClosed, "the reopen window of this work order has ended")
		}
		return err
	}
	// The action is applied: answer the order as it now stands, even when it has left the
	// caller's view (a reassignment out of their units), so that the answer and the audit
	// log both say what really happened.
	r, err = s.findOrderWith(c, s.orders.GetActedOn)
	if err != nil {
		return err
	}
	o, err := s.orderJSON(c, r, true)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

// actionError maps the workflow's refusals to API errors; a refusal's code is kept for the
// audit log (refusalKey).
func actionError(c echo.Context, err error) error {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		switch ae.Type() {
		case workflows.ErrForbidden:
			var fe workflows.FieldError
			if ae.HasDetails() {
				_ = ae.Details(&fe)
			}
			if fe.Code == workflows.ErrTargetOutOfScope {
				c.Set(refusalKey, fe.Code)
				return apperr.Forbidden(fe.Code, "%s", ae.Message())
			}
			c.Set(refusalKey, "action_forbidden")
			return apperr.Forbidden("action_forbidden", "%s", ae.Message())
		case workflows.ErrNotReady:
			return apperr.Unavailable("work_order_not_ready", "the work order is being opened; retry in a moment")
		case workflows.ErrWrongState:
			return apperr.Conflict("wrong_state", "%s", ae.Message())
		case workflows.ErrReopenWindowClosed:
			return apperr.Conflict(workflows.ErrReopenWindowClosed, "%s", ae.Message())
		case workflows.ErrTooManyActions:
			c.Set(refusalKey, workflows.ErrTooManyActions)
			return apperr.Conflict(workflows.ErrTooManyActions, "%s", ae.Message())
		case workflows.ErrActionFailed:
			// The step failed after it was accepted (the timeline says step_failed and the
			// administration is told); the order is unchanged and takes the next action.
			return &apperr.Error{Status: http.StatusInternalServerError, Code: workflows.ErrActionFailed,
				Message: "the action could not be completed; the work order is unchanged, try again later"}
		case workflows.ErrInvalid:
			var fe workflows.FieldError
			if ae.HasDetails() {
				_ = ae.Details(&fe)
			}
			code := fe.Code
			if code == "" {
				code = "invalid"
			}
			return apperr.Invalid(fe.Field, code, "%s", ae.Message())
		}
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return apperr.Conflict("wrong_state", orderEnded)
	}
	return err
}

// idemClaim is an Idempotency-Key's stored fingerprint and its generation: the number of
// times an action sent under it failed after it was accepted (action_failed), each of which
// frees the key for one more attempt under a new update id.
type idemClaim struct {
	stored string
	gen    int
}

func (cl idemClaim) updateID(login, key string) string {
	if cl.gen == 0 {
		return login + ":" + key
	}
	return fmt.Sprintf("%s:%s#%d", login, key, cl.gen)
}

// splitFingerprint parses a stored fingerprint "fp" or "fp#gen".
func splitFingerprint(stored string) (string, int) {
	fp, g, ok := strings.Cut(stored, "#")
	if !ok {
		return stored, 0
	}
	n, err := strconv.Atoi(g)
	if err != nil {
		return stored, 0
	}
	return fp, n
}

// claimIdempotencyKey records the order and action a caller's Idempotency-Key was first used
// with. The key becomes the Temporal update id, and Temporal answers a repeated update id with
// the first update's outcome whatever the new arguments say; so the same key with another
// order, action or body is refused here (422 idempotency_key_reused) instead of answering 200
// and doing nothing.
func (s *Server) claimIdempotencyKey(ctx context.Context, login, key, orderID string, req workflows.ActionRequest) (idemClaim, error) {
	req.Caller = workflows.Caller{}
	body, err := json.Marshal(req)
	if err != nil {
		return idemClaim{}, fmt.Errorf("idempotency fingerprint: %w", err)
	}
	sum := sha256.Sum256(append([]byte(orderID+"\x00"), body...))
	fp := hex.EncodeToString(sum[:])
	first, err := s.orders.ClaimIdempotencyKey(ctx, store.Caller{Login: login}, key, fp)
	if err != nil {
		return idemClaim{}, err
	}
	stored, gen := splitFingerprint(first)
	if stored != fp {
		return idemClaim{}, apperr.Invalid("Idempotency-Key", "idempotency_key_reused", "this Idempotency-Key was used with another order, action or body; send a new key for a new action")
	}
	return idemClaim{stored: first, gen: gen}, nil
}

// retireIdempotencyClaim moves the key to its next generation after a failed step, once
// (concurrent failures of the same generation move it one step): the next retry under the key
// is a new update. Best effort: if it fails, the caller's next key still works.
func (s *Server) retireIdempotencyClaim(ctx context.Context, login, key string, cl idemClaim) {
	fp, _ := splitFingerprint(cl.stored)
	next := fmt.Sprintf("%s#%d", fp, cl.gen+1)
	if err := s.orders.ReplaceIdempotencyKey(ctx, store.Caller{Login: login}, key, cl.stored, next); err != nil {
		slog.Warn("idempotency key: next generation not recorded", "err", err)
	}
}

// orderEnded is the message of an action sent to a finished workflow.
const orderEnded = "the work order no longer accepts actions"
