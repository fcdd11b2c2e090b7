// Versions: the stored revisions of the national years, loading the calendar in force (or the
// one a version string names, for recomputation), and the stamps that tell one state of the
// calendar data from another.

package calendardb

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"redress/calendar"
	"redress/store"
)

// YearVersion describes one stored version of a national year.
type YearVersion struct {
	Year       int       `json:"year"`
	Version    string    `json:"version"`
	Current    bool      `json:"current"`
	Source     string    `json:"source"`
	Papers     []string  `json:"papers"`
	DayCount   int       `json:"day_count"`
	ImportedAt time.Time `json:"imported_at"`
}

// ListVersions lists every stored version of every national year, by year and revision.
func ListVersions(ctx context.Context, db *store.DB) ([]YearVersion, error) {
	var rows []yearRow
	if err := db.WithContext(ctx).Where("jurisdiction = ?", calendar.National).Order("year, revision").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("calendar: list versions: %w", err)
	}
	out := make([]YearVersion, len(rows))
	for i, r := range rows {
		var papers []string
		_ = json.Unmarshal([]byte(r.Papers), &papers)
		out[i] = YearVersion{Year: r.Year, Version: r.Version, Source: r.Source, Papers: papers, DayCount: r.DayCount, ImportedAt: r.ImportedAt.UTC()}
		out[i].Current = i == len(rows)-1 || rows[i+1].Year != r.Year
	}
	return out, nil
}

// ListYear returns every day of year as it applies to unitPath ("" for the national calendar),
// for the administrators' year view.
func ListYear(ctx context.Context, db *store.DB, year int, unitPath string) (calendar.YearView, error) {
	c, err := Load(ctx, db, unitPath)
	if err != nil {
		return calendar.YearView{}, err
	}
	return c.Year(year)
}

// Load reads the current national calendar and the overrides in force for unitPath ("" for the
// national calendar alone). Use a Cache on hot paths.
func Load(ctx context.Context, db *store.DB, unitPath string) (*calendar.Calendar, error) {
	nat, err := loadNational(ctx, db, nil)
	if err != nil {
		return nil, err
	}
	return loadFor(ctx, db, unitPath, nat, nil)
}

// LoadVersion rebuilds the calendar that a version string names (see the package doc), for
// unitPath, so that an auditor can recompute a stored deadline with the data it was computed
// with. Years not named in the version are not covered.
func LoadVersion(ctx context.Context, db *store.DB, unitPath, version string) (*calendar.Calendar, error) {
	years, scopes, err := calendar.ParseVersion(version)
	if err != nil {
		return nil, err
	}
	nat, err := loadNational(ctx, db, years)
	if err != nil {
		return nil, err
	}
	pins := map[string]int{}
	if unitPath != "" {
		if err := calendar.ValidScope(unitPath); err != nil {
			return nil, err
		}
		for _, p := range calendar.Chain(unitPath) {
			if rev, ok := scopes[calendar.ScopeLabel(p)]; ok {
				pins[p] = rev
				delete(scopes, calendar.ScopeLabel(p))
			}
		}
	}
	if len(scopes) > 0 {
		return nil, fmt.Errorf("calendar: version %q names override scopes not on the path of %q", version, unitPath)
	}
	c, err := loadFor(ctx, db, unitPath, nat, pins)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// loadNational reads the current revision of every year, or with pins exactly the pinned
// year revisions.
func loadNational(ctx context.Context, db *store.DB, pins map[int]int) ([]calendar.NationalYear, error) {
	var rows []yearRow
	q := db.WithContext(ctx).Where("jurisdiction = ?", calendar.National)
	if pins == nil {
		q = q.Where("revision = (SELECT MAX(z.revision) FROM calendar_years z WHERE z.jurisdiction = calendar_years.jurisdiction AND z.year = calendar_years.year)")
	} else {
		if len(pins) == 0 {
			return nil, nil
		}
		var cond []string
		var args []any
		for y, r := range pins {
			cond = append(cond, "(year = ? AND revision = ?)")
			args = append(args, y, r)
		}
		q = q.Where(strings.Join(cond, " OR "), args...)
	}
	if err := q.Order("year").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("calendar: load national years: %w", err)
	}
	if pins != nil && len(rows) != len(pins) {
		return nil, fmt.Errorf("calendar: some year versions of %v are not stored", pins)
	}
	if len(rows) == 0 {
		return nil, nil
	}
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	var days []dayRow
	if err := db.WithContext(ctx).Where("year_id IN ?", ids).Order("date").Find(&days).Error; err != nil {
		return nil, fmt.Errorf("calendar: load national days: %w", err)
	}
	byYear := map[int64][]calendar.Exception{}
	for _, d := range days {
		if _, err := calendar.ParseDate(d.Date); err != nil {
			return nil, fmt.Errorf("calendar: stored day %d: %w", d.ID, err)
		}
		byYear[d.YearID] = append(byYear[d.YearID], calendar.Exception{Date: d.Date, Off: d.IsOffDay, Name: d.Name})
	}
	out := make([]calendar.NationalYear, len(rows))
	for i, r := range rows {
		var papers []string
		_ = json.Unmarshal([]byte(r.Papers), &papers)
		y, err := calendar.StoredYear(r.Year, r.Revision, papers, byYear[r.ID])
		if err != nil {
			return nil, err
		}
		out[i] = y
	}
	return out, nil
}

// loadFor adds the overrides of unitPath's scopes to nat: those in force, or with pins those in
// force at each pinned scope revision (scopes not pinned contribute nothing).
func loadFor(ctx context.Context, db *store.DB, unitPath string, nat []calendar.NationalYear, pins map[string]int) (*calendar.Calendar, error) {
	if unitPath == "" {
		return calendar.Build("", nat, nil, nil)
	}
	if err := calendar.ValidScope(unitPath); err != nil {
		return nil, err
	}
	paths := calendar.Chain(unitPath)
	var srows []scopeRow
	if err := db.WithContext(ctx).Where("unit_path IN ?", paths).Find(&srows).Error; err != nil {
		return nil, fmt.Errorf("calendar: load override scopes of %s: %w", unitPath, err)
	}
	revs := map[string]int{}
	for _, s := range srows {
		revs[s.UnitPath] = s.Revision
	}
	var scopes []calendar.ScopeRevision
	var rows []overrideRow
	for _, p := range paths {
		rev := revs[p]
		if pins != nil {
			pin, ok := pins[p]
			if !ok {
				continue
			}
			if pin > rev {
				return nil, fmt.Errorf("calendar: override scope %s has no revision %d", p, pin)
			}
			rev = pin
		}
		if rev == 0 {
			continue
		}
		scopes = append(scopes, calendar.ScopeRevision{Path: p, Revision: rev})
	}
	if len(scopes) > 0 {
		q := db.WithContext(ctx)
		if pins == nil {
			q = q.Where("unit_path IN ? AND removed_revision IS NULL", paths)
		} else {
			var cond []string
			var args []any
			for _, s := range scopes {
				cond = append(cond, "(unit_path = ? AND revision <= ? AND (removed_revision IS NULL OR removed_revision > ?))")
				args = append(args, s.Path, s.Revision, s.Revision)
			}
			q = q.Where(strings.Join(cond, " OR "), args...)
		}
		if err := q.Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("calendar: load overrides of %s: %w", unitPath, err)
		}
	}
	ovs := make([]calendar.OverrideDay, 0, len(rows))
	for _, r := range rows {
		if _, err := calendar.ParseDate(r.Date); err != nil {
			return nil, fmt.Errorf("calendar: stored override %d: %w", r.ID, err)
		}
		ovs = append(ovs, calendar.OverrideDay{Path: r.UnitPath, Date: r.Date, Off: r.IsOffDay, Reason: r.Reason})
	}
	return calendar.Build(unitPath, nat, scopes, ovs)
}

// Stamp is a cheap fingerprint of all calendar data: it changes whenever a year version is
// imported or an override changes (scope revisions only grow, so their sum does too).
func Stamp(ctx context.Context, db *store.DB) (string, error) {
	var s struct {
		MaxID, Years, Revs int64
	}
	err := db.WithContext(ctx).Raw(`SELECT
 (SELECT COALESCE(MAX(id), 0) FROM calendar_years) AS max_id,
 (SELECT COUNT(*) FROM calendar_years) AS years,
 (SELECT COALESCE(SUM(revision), 0) FROM calendar_override_scopes) AS revs`).Scan(&s).Error
	if err != nil {
		return "", fmt.Errorf("calendar: stamp: %w", err)
	}
	return fmt.Sprintf("%d.%d.%d", s.MaxID, s.Years, s.Revs), nil
}

// Revisions is what the Stamp sums up, kept apart so that a watcher can tell what changed: the
// national years (a change concerns every unit) and each override scope's revision (a change
// concerns that unit subtree only).
type Revisions struct {
	National string         // "maxid.years" of calendar_years, as in the Stamp
	Scopes   map[string]int // override scope (unit path) → its revision
}

// LoadRevisions reads the calendar's revisions in one statement (one snapshot, so that its
// Stamp is a stamp the calendar really had).
func LoadRevisions(ctx context.Context, db *store.DB) (Revisions, error) {
	var rows []struct {
		UnitPath string
		Revision int
		MaxID    int64
		Years    int64
	}
	err := db.WithContext(ctx).Raw(`SELECT COALESCE(s.unit_path, '') AS unit_path, COALESCE(s.revision, 0) AS revision, y.max_id, y.years
FROM (SELECT COALESCE(MAX(id), 0) AS max_id, COUNT(*) AS years FROM calendar_years) y
LEFT JOIN calendar_override_scopes s ON 1 = 1`).Scan(&rows).Error
	if err != nil {
		return Revisions{}, fmt.Errorf("calendar: revisions: %w", err)
	}
	r := Revisions{Scopes: map[string]int{}}
	for _, row := range rows {
		r.National = fmt.Sprintf("%d.%d", row.MaxID, row.Years)
		if row.UnitPath != "" {
			r.Scopes[row.UnitPath] = row.Revision
		}
	}
	return r, nil
}

// Stamp is the Stamp of these revisions.
func (r Revisions) Stamp() string {
	sum := 0
	for _, rev := range r.Scopes {
		sum += rev
	}
	return fmt.Sprintf("%s.%d", r.National, sum)
}

// ChangedSince tells whom the change from prev to r concerns: every unit (a national year was
// imported, or prev is unknown), or the override scopes whose revision moved, sorted (none: no
// change).
func (r Revisions) ChangedSince(prev Revisions) (all bool, scopes []string) {
	if r.National != prev.National {
		return true, nil
	}
	for path, rev := range r.Scopes {
		if prev.Scopes[path] != rev {
			scopes = append(scopes, path)
		}
	}
	// Scope rows are never deleted; one gone (a restored backup) changed its subtree too.
	for path := range prev.Scopes {
		if _, ok := r.Scopes[path]; !ok {
			scopes = append(scopes, path)
		}
	}
	slices.Sort(scopes)
	return false, scopes
}
