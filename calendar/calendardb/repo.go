// The calendar as the API's handlers read and write it: through a repository that takes the
// caller, as the repositories of store do, not through the database handle.

package calendardb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"redress/calendar"
	"redress/models"
	"redress/store"
)

// Repository reads and writes the calendar on a caller's behalf. Every change checks that the
// caller may make it (an override within the units they administer, an import by the
// province's administration), so that a handler cannot forget the check.
type Repository struct{ DB *store.DB }

// ErrNotAllowed is the refusal of a change the caller may not make.
var ErrNotAllowed = errors.New("calendar: not allowed")

// Who may do what with the calendar: read and list overrides, or change them.
var (
	overrideReaders = []string{models.RoleAdministrator, models.RoleSupervisor, models.RoleAuditor, models.RoleSysadmin}
	overrideWriters = []string{models.RoleAdministrator, models.RoleSysadmin}
)

// MayImport reports whether the caller may change the national calendar: a sysadmin, or an
// administrator of a root unit (the province).
func MayImport(c store.Caller) bool {
	for _, g := range c.Grants {
		if g.Role == models.RoleSysadmin || (g.Role == models.RoleAdministrator && strings.Count(g.UnitPath, "/") == 2) {
			return true
		}
	}
	return false
}

// Versions lists every stored version of every national year (ListVersions).
func (r Repository) Versions(ctx context.Context) ([]YearVersion, error) {
	return ListVersions(ctx, r.DB)
}

// Year is every day of year as it applies to unitPath ("" for the national calendar).
func (r Repository) Year(ctx context.Context, year int, unitPath string) (calendar.YearView, error) {
	return ListYear(ctx, r.DB, year, unitPath)
}

// Import takes one year in the holiday-cn JSON format from the caller (ImportHolidayCN), who
// must be allowed to (MayImport); the source recorded is "api:" and their login.
func (r Repository) Import(ctx context.Context, c store.Caller, body io.Reader) (ImportResult, error) {
	if !MayImport(c) {
		return ImportResult{}, fmt.Errorf("import by %s: %w", c.Login, ErrNotAllowed)
	}
	return ImportHolidayCN(ctx, r.DB, body, ImportSource(c))
}

// ImportSource is the source recorded for a year the caller imports through the API.
func ImportSource(c store.Caller) string { return "api:" + c.Login }

// Overrides lists the overrides in force in and above the unit at unitPath and anywhere below
// it; store.ErrNotFound when the unit is outside the caller's reach.
func (r Repository) Overrides(ctx context.Context, c store.Caller, unitPath string) ([]Override, error) {
	if !c.Scope(overrideReaders...).Covers(unitPath) {
		return nil, store.ErrNotFound
	}
	return ListOverrides(ctx, r.DB, unitPath, true)
}

// SetOverride sets an override (SetOverride) by the caller, who must administer the unit
// (store.ErrNotFound otherwise); in.By is the caller's login.
func (r Repository) SetOverride(ctx context.Context, c store.Caller, in OverrideInput) (OverrideChange, error) {
	if !c.Scope(overrideWriters...).Covers(in.UnitPath) {
		return OverrideChange{}, store.ErrNotFound
	}
	in.By = c.Login
	return SetOverride(ctx, r.DB, in)
}

// RemoveOverride withdraws an override (RemoveOverride) by the caller, who must administer the
// unit (store.ErrNotFound otherwise).
func (r Repository) RemoveOverride(ctx context.Context, c store.Caller, unitPath, date string) (OverrideChange, error) {
	if !c.Scope(overrideWriters...).Covers(unitPath) {
		return OverrideChange{}, store.ErrNotFound
	}
	return RemoveOverride(ctx, r.DB, unitPath, date, c.Login)
}
