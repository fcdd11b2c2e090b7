package publish

import (
	"context"
	"errors"
	"time"

	"redress/apperr"
	"redress/models"
	"redress/stats"
	"redress/store"
)

// Service publishes and serves the publications on a caller's behalf: an administrator
// publishes the units they administer, and the overseers of a jurisdiction
// (store.OversightRoles) read its versions. The reach is checked here, where publications are
// read and written, not by each handler.
type Service struct {
	DB *store.DB
	// Roller catches the rollups up before a month is frozen (nil: they are taken as they are).
	Roller *stats.Roller
}

// Publish publishes the month of the unit coded unit, which the caller must administer, as its
// next version.
func (s Service) Publish(ctx context.Context, c store.Caller, unit, month, note string, now time.Time) (Summary, error) {
	if unit == "" {
		return Summary{}, apperr.Invalid("unit", "required", "unit is required")
	}
	u, err := store.Units{DB: s.DB}.Reachable(ctx, c, unit, models.RoleAdministrator)
	if errors.Is(err, store.ErrNotFound) {
		return Summary{}, apperr.Invalid("unit", "unknown_unit", "unit %q is not one you administer", unit)
	}
	if err != nil {
		return Summary{}, err
	}
	return Publish(ctx, s.DB, s.Roller, u, month, c.Login, note, now)
}

// Versions lists every version of the publications of the units the caller oversees.
func (s Service) Versions(ctx context.Context, c store.Caller, month string) ([]Summary, error) {
	return Versions(ctx, s.DB, c.Scope(store.OversightRoles...), month)
}

// Version returns one stored version of a unit's month; a unit the caller does not oversee is
// answered as a publication that does not exist.
func (s Service) Version(ctx context.Context, c store.Caller, unit, month string, version int) (Publication, error) {
	u, err := store.Units{DB: s.DB}.Reachable(ctx, c, unit, store.OversightRoles...)
	if errors.Is(err, store.ErrNotFound) {
		return Publication{}, apperr.NotFound("publication")
	}
	if err != nil {
		return Publication{}, err
	}
	return Version(ctx, s.DB, u.ID, month, version)
}

// Latest answers the latest published version of each jurisdiction for a month (public: no
// caller, nothing personal).
func (s Service) Latest(ctx context.Context, month, code string) (Public, error) {
	return Latest(ctx, s.DB, month, code)
}

// Stamp identifies what Latest(month, code) reads (publish.Stamp).
func (s Service) Stamp(ctx context.Context, month, code string) (string, error) {
	return Stamp(ctx, s.DB, month, code)
}
