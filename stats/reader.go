package stats

import (
	"context"
	"fmt"

	"redress/store"
)

// Reader reads the figures on a caller's behalf, within the units their grants cover: the
// figures of the units their staff grants cover (store.StaffRoles), narrowed on request to one
// of those units, and the alarms of the units they oversee (store.OversightRoles). The
// scope is decided here, where the figures are read, not by each handler.
type Reader struct {
	DB *store.DB
	// Kept, when set, keeps the sums of Units per scope and period while the rollups'
	// generation stands.
	Kept *Kept
}

// scope is the caller's staff scope, or with unit (a code) that unit: with its subtree when
// the caller's reach spans subtrees below it, alone otherwise. An unknown unit and one out of
// the caller's reach alike are store.ErrNotFound.
func (r Reader) scope(ctx context.Context, c store.Caller, unit string) (store.Scope, error) {
	scope := c.Scope(store.StaffRoles...)
	if unit == "" {
		return scope, nil
	}
	u, err := store.Units{DB: r.DB}.Reachable(ctx, c, unit, store.StaffRoles...)
	if err != nil {
		return scope, fmt.Errorf("statistics: %w", err)
	}
	if len(scope.Subtrees) > 0 && scope.Covers(u.Path+"x/") {
		return store.Scope{Subtrees: []string{u.Path}}, nil
	}
	return store.Scope{Exact: []string{u.Path}}, nil
}

// Units answers the figures of each unit in the caller's scope (narrowed to unit when given).
func (r Reader) Units(ctx context.Context, c store.Caller, unit string, p Period) ([]UnitFigures, error) {
	scope, err := r.scope(ctx, c, unit)
	if err != nil {
		return nil, err
	}
	return unitsFrom(ctx, r.DB, scope, p, r.Kept)
}

// ByDim answers the figures by staff member, service item or channel in the caller's scope.
func (r Reader) ByDim(ctx context.Context, c store.Caller, unit, dim string, p Period) ([]DimFigures, error) {
	scope, err := r.scope(ctx, c, unit)
	if err != nil {
		return nil, err
	}
	return ByDim(ctx, r.DB, scope, dim, p)
}

// Trend answers the figures by day or month in the caller's scope.
func (r Reader) Trend(ctx context.Context, c store.Caller, unit string, p Period, granularity string) ([]TrendPoint, error) {
	scope, err := r.scope(ctx, c, unit)
	if err != nil {
		return nil, err
	}
	return Trend(ctx, r.DB, scope, p, granularity)
}

// Alarms answers the suppressed-ratings alarms of the units the caller oversees.
func (r Reader) Alarms(ctx context.Context, c store.Caller, until string, pol AlarmPolicy) ([]Alarm, error) {
	return Alarms(ctx, r.DB, c.Scope(store.OversightRoles...), until, pol)
}
