package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"redress/models"
)

// WorkOrders reads work orders in a caller's staff scope (StaffRoles): an order of another
// unit is ErrNotFound, never told apart from a missing one.
type WorkOrders struct{ DB *DB }

// List returns one page of the orders in the caller's scope and the total matching (up to
// f.CountCap+1), as ListOrders.
func (r WorkOrders) List(ctx context.Context, c Caller, f OrderFilter) ([]OrderRow, int64, error) {
	return ListOrders(ctx, r.DB, c.Scope(StaffRoles...), f)
}

// UnitPath resolves a unit the caller's lists may be narrowed to (OrderFilter.UnitPath);
// ErrNotFound when it is unknown or out of scope.
func (r WorkOrders) UnitPath(ctx context.Context, c Caller, code string) (string, error) {
	u, err := unitIn(ctx, r.DB, c.Scope(StaffRoles...), code)
	return u.Path, err
}

// Get returns the order id in the caller's scope; ErrNotFound otherwise.
func (r WorkOrders) Get(ctx context.Context, c Caller, id string) (OrderRow, error) {
	return r.getIn(ctx, c.Scope(StaffRoles...), id)
}

// GetActedOn returns the order id wherever it now is: the answer to an action the workflow
// has accepted from a caller who could see the order, which may have moved it out of their
// units (a reassignment). The answer and the audit log then say what really happened.
func (r WorkOrders) GetActedOn(ctx context.Context, id string) (OrderRow, error) {
	return r.getIn(ctx, Scope{Subtrees: []string{"/"}}, id)
}

func (r WorkOrders) getIn(ctx context.Context, scope Scope, id string) (OrderRow, error) {
	o, ok, err := GetOrder(ctx, r.DB, scope, id)
	if err != nil {
		return o, err
	}
	if !ok {
		return o, fmt.Errorf("work order %s: %w", id, ErrNotFound)
	}
	return o, nil
}

// TimelineEntry is a timeline event with the acting user's name ("" for the system and
// unknown logins).
type TimelineEntry struct {
	models.TimelineEvent
	ActorName string
}

// Timeline returns the events of the order id in the caller's scope, oldest first, with the
// names of the users who acted; ErrNotFound for an order out of scope.
func (r WorkOrders) Timeline(ctx context.Context, c Caller, id string) ([]TimelineEntry, error) {
	o, err := r.Get(ctx, c, id)
	if err != nil {
		return nil, err
	}
	evs, err := Timeline(ctx, r.DB, o.ID)
	if err != nil {
		return nil, err
	}
	logins := map[string]bool{}
	for _, e := range evs {
		logins[e.Actor] = true
	}
	keys := make([]string, 0, len(logins))
	for l := range logins {
		keys = append(keys, l)
	}
	var users []models.User
	if err := r.DB.WithContext(ctx).Select("login", "name").Where("login IN ?", keys).Find(&users).Error; err != nil {
		return nil, fmt.Errorf("timeline actors: %w", err)
	}
	names := make(map[string]string, len(users))
	for _, u := range users {
		names[u.Login] = u.Name
	}
	out := make([]TimelineEntry, len(evs))
	for i, e := range evs {
		out[i] = TimelineEntry{TimelineEvent: e, ActorName: names[e.Actor]}
	}
	return out, nil
}

// The details below belong to an order the caller has already read through Get or List
// (the OrderRow is what they were allowed to see); they read nothing of any other order.

// Events returns the order's events, oldest first.
func (r WorkOrders) Events(ctx context.Context, o OrderRow) ([]models.TimelineEvent, error) {
	return Timeline(ctx, r.DB, o.ID)
}

// LastEventOf returns the order's latest event of one of types (ok=false when there is none).
func (r WorkOrders) LastEventOf(ctx context.Context, o OrderRow, types []string) (models.TimelineEvent, bool, error) {
	var evs []models.TimelineEvent
	err := r.DB.WithContext(ctx).Where("work_order_id = ? AND type IN ?", o.ID, types).
		Order("seq DESC").Limit(1).Find(&evs).Error
	if err != nil {
		return models.TimelineEvent{}, false, fmt.Errorf("last event of %s: %w", o.ID, err)
	}
	if len(evs) == 0 {
		return models.TimelineEvent{}, false, nil
	}
	return evs[0], true, nil
}

// Evaluator returns the sealed evaluator identity of the order's evaluation.
func (r WorkOrders) Evaluator(ctx context.Context, o OrderRow) (name, phone string, err error) {
	return EvaluatorOf(ctx, r.DB, o.EvaluationID)
}

// ClaimIdempotencyKey records fingerprint as the first use of a caller's Idempotency-Key
// unless one is recorded, and returns the one recorded first.
func (r WorkOrders) ClaimIdempotencyKey(ctx context.Context, c Caller, key, fingerprint string) (string, error) {
	db := r.DB.WithContext(ctx)
	row := map[string]any{"login": c.Login, "idem_key": key, "fingerprint": fingerprint, "created_at": time.Now().UTC()}
	if err := db.Table("idempotency_keys").Clauses(clause.OnConflict{DoNothing: true}).Create(row).Error; err != nil {
		return "", fmt.Errorf("record idempotency key: %w", err)
	}
	var first []string
	if err := db.Table("idempotency_keys").Where("login = ? AND idem_key = ?", c.Login, key).Pluck("fingerprint", &first).Error; err != nil {
		return "", fmt.Errorf("read idempotency key: %w", err)
	}
	if len(first) != 1 {
		return "", fmt.Errorf("read idempotency key: %d rows", len(first))
	}
	return first[0], nil
}

// ReplaceIdempotencyKey moves the caller's key from the fingerprint was to next, unless
// another request has moved it already.
func (r WorkOrders) ReplaceIdempotencyKey(ctx context.Context, c Caller, key, was, next string) error {
	if err := r.DB.WithContext(ctx).Table("idempotency_keys").
		Where("login = ? AND idem_key = ? AND fingerprint = ?", c.Login, key, was).
		Update("fingerprint", next).Error; err != nil {
		return fmt.Errorf("idempotency key %q: %w", key, err)
	}
	return nil
}
