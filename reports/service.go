package reports

import (
	"context"
	"errors"

	"redress/apperr"
	"redress/stats"
	"redress/store"
)

// Service makes and serves the monthly reports on a caller's behalf: only of the units they
// oversee (store.OversightRoles). The reach is checked here, where reports are read and
// written, not by each handler.
type Service struct {
	DB *store.DB
	// Roller catches the rollups up before a report is made on demand.
	Roller *stats.Roller
}

// Make makes a report of the unit coded unit, which the caller must oversee, for a month now,
// the rollups caught up first.
func (s Service) Make(ctx context.Context, c store.Caller, unit, month string) (Report, error) {
	if unit == "" {
		return Report{}, apperr.Invalid("unit", "required", "unit is required")
	}
	u, err := store.Units{DB: s.DB}.Reachable(ctx, c, unit, store.OversightRoles...)
	if errors.Is(err, store.ErrNotFound) {
		return Report{}, apperr.Invalid("unit", "unknown_unit", "unit %q is not in your jurisdiction", unit)
	}
	if err != nil {
		return Report{}, err
	}
	if _, err := stats.MonthPeriod(month); err != nil {
		return Report{}, apperr.Invalid("month", "invalid_month", "month must be YYYY-MM")
	}
	if s.Roller != nil {
		if _, err := s.Roller.Pass(ctx); err != nil {
			return Report{}, err
		}
	}
	return Create(ctx, s.DB, u, month, TriggerOnDemand, c.Login)
}

// List lists the reports of the units the caller oversees, newest first, without content.
func (s Service) List(ctx context.Context, c store.Caller, month string) ([]Report, error) {
	return List(ctx, s.DB, c.Scope(store.OversightRoles...), month)
}

// Get loads a report of a unit the caller oversees, with its content; any other is not found.
func (s Service) Get(ctx context.Context, c store.Caller, id string) (Report, error) {
	return Get(ctx, s.DB, c.Scope(store.OversightRoles...), id)
}
