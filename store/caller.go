package store

import (
	"context"
	"errors"
	"fmt"

	"redress/models"
)

// Caller is who reads or writes through a repository of this package: the acting login and
// the roles they hold. The repositories take it and apply its scope where they read and
// write, so that a handler cannot forget the check (the dispatch-target hole of the
// work-order issue was a check left to each caller).
type Caller struct {
	Login  string
	Grants []Grant
}

// Scope is the units the caller's grants of any of the roles cover.
func (c Caller) Scope(roles ...string) Scope { return ScopeFor(c.Grants, roles...) }

// ErrNotFound reports a row that does not exist or lies outside the caller's scope: the two
// are answered alike, so that another unit's data does not show by its absence.
var ErrNotFound = errors.New("store: not found")

// Units reads and writes units on a caller's behalf.
type Units struct{ DB *DB }

// Reachable returns the unit coded code if the caller's grants of any of roles cover it;
// ErrNotFound for an unknown unit and for one out of their reach alike.
func (r Units) Reachable(ctx context.Context, c Caller, code string, roles ...string) (models.Unit, error) {
	return unitIn(ctx, r.DB, c.Scope(roles...), code)
}

func unitIn(ctx context.Context, db *DB, scope Scope, code string) (models.Unit, error) {
	u, ok, err := UnitByCode(ctx, db, code)
	if err != nil {
		return u, err
	}
	if !ok || !scope.Covers(u.Path) {
		return models.Unit{}, fmt.Errorf("unit %q: %w", code, ErrNotFound)
	}
	return u, nil
}

// Known returns any unit by code (ErrNotFound when there is none): for what every caller
// may name, such as the national calendar's local overrides or a dispatch target, whose
// reach the workflow itself decides.
func (r Units) Known(ctx context.Context, code string) (models.Unit, error) {
	u, ok, err := UnitByCode(ctx, r.DB, code)
	if err == nil && !ok {
		err = fmt.Errorf("unit %q: %w", code, ErrNotFound)
	}
	return u, err
}
