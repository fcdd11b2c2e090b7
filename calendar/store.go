package calendar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"redress/migrations"
	"redress/store"
)

// Jurisdiction of the national calendar rows.
const national = "cn"

type yearRow struct {
	ID           int64 `gorm:"primaryKey"`
	Jurisdiction string
	Year         int
	Revision     int
	Version      string
	ContentHash  string
	Source       string
	Papers       string
	DayCount     int
	ImportedAt   time.Time
}

func (yearRow) TableName() string { return "calendar_years" }

type dayRow struct {
	ID       int64 `gorm:"primaryKey"`
	YearID   int64
	Date     string
	IsOffDay bool
	Name     string
}

func (dayRow) TableName() string { return "calendar_days" }

type scopeRow struct {
	UnitPath  string `gorm:"primaryKey"`
	Revision  int
	UpdatedAt time.Time
}

func (scopeRow) TableName() string { return "calendar_override_scopes" }

type overrideRow struct {
	ID              int64 `gorm:"primaryKey"`
	UnitPath        string
	Date            string
	IsOffDay        bool
	Reason          string
	CreatedBy       string
	CreatedAt       time.Time
	Revision        int
	RemovedRevision *int
	RemovedBy       *string
	RemovedAt       *time.Time
}

func (overrideRow) TableName() string { return "calendar_overrides" }

// ImportResult tells what an import did.
type ImportResult struct {
	Year    int    `json:"year"`
	Version string `json:"version"` // e.g. "2025.2": the year's version now in force
	Changed bool   `json:"changed"` // false when the content equalled the version in force
	Days    int    `json:"days"`    // exceptions listed
}

// ImportHolidayCN imports one year in the holiday-cn JSON format. Content equal to the year's
// current version changes nothing; different content becomes the year's next revision (older
// revisions are kept for recomputation). source describes where the file came from (a path or
// URL) for the record.
func ImportHolidayCN(ctx context.Context, db *store.DB, r io.Reader, source string) (ImportResult, error) {
	yd, err := parseHolidayCN(r)
	if err != nil {
		return ImportResult{}, fmt.Errorf("calendar: import %s: %w", source, err)
	}
	res, err := storeYear(ctx, db, yd, source, false)
	if err != nil {
		return ImportResult{}, fmt.Errorf("calendar: import %s: %w", source, err)
	}
	return res, nil
}

// EnsureShipped loads each year of the shipped national calendar that the database does not
// have yet (any revision counts as having it, so an imported correction is never overwritten).
// It is idempotent and safe to run from several processes at once; it returns the years loaded.
func EnsureShipped(ctx context.Context, db *store.DB) ([]ImportResult, error) {
	years, err := shipped()
	if err != nil {
		return nil, err
	}
	var loaded []ImportResult
	for _, yd := range years {
		res, err := storeYear(ctx, db, yd, ShippedSource, true)
		if err != nil {
			return loaded, fmt.Errorf("calendar: load shipped %d: %w", yd.year, err)
		}
		if res.Changed {
			loaded = append(loaded, res)
		}
	}
	return loaded, nil
}

// storeYear stores yd as the year's next revision unless the current one has the same content
// (or, with onlyIfAbsent, unless any revision exists).
func storeYear(ctx context.Context, db *store.DB, yd yearData, source string, onlyIfAbsent bool) (ImportResult, error) {
	hash := yd.contentHash()
	var res ImportResult
	err := writeTx(ctx, db, func(tx *gorm.DB) error {
		var cur []yearRow
		if err := tx.Where("jurisdiction = ? AND year = ?", national, yd.year).
			Order("revision DESC").Limit(1).Find(&cur).Error; err != nil {
			return fmt.Errorf("read current version: %w", err)
		}
		if len(cur) == 1 && (onlyIfAbsent || cur[0].ContentHash == hash) {
			res = ImportResult{Year: yd.year, Version: cur[0].Version, Days: cur[0].DayCount}
			return nil
		}
		yd.revision = 1
		if len(cur) == 1 {
			yd.revision = cur[0].Revision + 1
		}
		papers, _ := json.Marshal(yd.papers)
		row := yearRow{
			Jurisdiction: national, Year: yd.year, Revision: yd.revision, Version: yd.version(),
			ContentHash: hash, Source: source, Papers: string(papers), DayCount: len(yd.entries),
			ImportedAt: time.Now().UTC(),
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("store version %s: %w", row.Version, err)
		}
		days := make([]dayRow, len(yd.entries))
		for i, e := range yd.entries {
			days[i] = dayRow{YearID: row.ID, Date: e.date.String(), IsOffDay: e.off, Name: e.name}
		}
		if err := tx.CreateInBatches(days, 100).Error; err != nil {
			return fmt.Errorf("store days of %s: %w", row.Version, err)
		}
		res = ImportResult{Year: yd.year, Version: row.Version, Changed: true, Days: len(days)}
		return nil
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		// Another process stored a revision at the same moment; report what is there now.
		var cur yearRow
		if err2 := db.WithContext(ctx).Where("jurisdiction = ? AND year = ?", national, yd.year).
			Order("revision DESC").First(&cur).Error; err2 == nil && (onlyIfAbsent || cur.ContentHash == hash) {
			return ImportResult{Year: yd.year, Version: cur.Version, Days: cur.DayCount}, nil
		}
	}
	return res, err
}

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
	if err := db.WithContext(ctx).Where("jurisdiction = ?", national).Order("year, revision").Find(&rows).Error; err != nil {
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
func ListYear(ctx context.Context, db *store.DB, year int, unitPath string) (YearView, error) {
	c, err := Load(ctx, db, unitPath)
	if err != nil {
		return YearView{}, err
	}
	return c.Year(year)
}

// validScope checks a unit path: slashes on both ends, no empty segment, not the root (the root
// is the national calendar, changed only by import).
func validScope(p string) error {
	if len(p) < 3 || p[0] != '/' || p[len(p)-1] != '/' {
		return fmt.Errorf("calendar: unit path %q: want the form /gd/sz/", p)
	}
	for _, seg := range strings.Split(p[1:len(p)-1], "/") {
		if seg == "" || strings.TrimSpace(seg) != seg {
			return fmt.Errorf("calendar: unit path %q: empty or padded segment", p)
		}
	}
	return nil
}

// chain lists the scope paths that apply to unitPath, root first: "/gd/sz/ft/" → "/gd/",
// "/gd/sz/", "/gd/sz/ft/". Exact prefixes rather than LIKE keep '_' and '%' in codes literal.
func chain(unitPath string) []string {
	var out []string
	for i := 1; i < len(unitPath); i++ {
		if unitPath[i] == '/' {
			out = append(out, unitPath[:i+1])
		}
	}
	return out
}

// OverrideInput is an administrator's local deviation: date is a rest day (OffDay) or a working
// day for every unit in the subtree UnitPath.
type OverrideInput struct {
	UnitPath string
	Date     string // YYYY-MM-DD
	OffDay   bool
	Reason   string
	By       string // login of the administrator
}

// Override is a local override in force.
type Override struct {
	ID        int64     `json:"id"`
	UnitPath  string    `json:"unit_path"`
	Date      string    `json:"date"`
	OffDay    bool      `json:"off_day"`
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	Revision  int       `json:"revision"` // the scope revision that set it
}

// OverrideChange is the outcome of setting or removing an override.
type OverrideChange struct {
	UnitPath string `json:"unit_path"`
	Revision int    `json:"revision"` // the scope's revision now
	Changed  bool   `json:"changed"`
}

// bump raises a scope's revision inside tx and returns the new value; in PostgreSQL the upsert
// also locks the scope row, so concurrent changes of one scope queue behind each other.
func bump(tx *gorm.DB, path string) (int, error) {
	var rev int
	err := tx.Raw(`INSERT INTO calendar_override_scopes (unit_path, revision, updated_at) VALUES (?, 1, ?)
ON CONFLICT (unit_path) DO UPDATE SET revision = calendar_override_scopes.revision + 1, updated_at = excluded.updated_at
RETURNING revision`, path, time.Now().UTC()).Scan(&rev).Error
	if err != nil {
		return 0, fmt.Errorf("bump override revision of %s: %w", path, err)
	}
	return rev, nil
}

func scopeRevision(ctx context.Context, db *store.DB, path string) (int, error) {
	var rows []scopeRow
	if err := db.WithContext(ctx).Where("unit_path = ?", path).Find(&rows).Error; err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, nil
	}
	return rows[0].Revision, nil
}

// SetOverride makes in.Date a rest or working day for the subtree in.UnitPath, replacing an
// override of the same scope and date; it bumps the scope's revision unless nothing changes.
func SetOverride(ctx context.Context, db *store.DB, in OverrideInput) (OverrideChange, error) {
	if err := validScope(in.UnitPath); err != nil {
		return OverrideChange{}, err
	}
	d, err := parseDay(in.Date)
	if err != nil {
		return OverrideChange{}, fmt.Errorf("calendar: override: %w", err)
	}
	if strings.TrimSpace(in.Reason) == "" || strings.TrimSpace(in.By) == "" {
		return OverrideChange{}, errors.New("calendar: override needs a reason and the administrator's login")
	}
	out := OverrideChange{UnitPath: in.UnitPath}
	err = writeTx(ctx, db, func(tx *gorm.DB) error {
		rev, err := bump(tx, in.UnitPath)
		if err != nil {
			return err
		}
		var cur []overrideRow
		if err := tx.Where("unit_path = ? AND date = ? AND removed_revision IS NULL", in.UnitPath, d.String()).Find(&cur).Error; err != nil {
			return fmt.Errorf("read override: %w", err)
		}
		if len(cur) == 1 && cur[0].IsOffDay == in.OffDay && cur[0].Reason == in.Reason {
			return errNoChange
		}
		now := time.Now().UTC()
		if len(cur) == 1 {
			if err := retire(tx, cur[0].ID, rev, in.By, now); err != nil {
				return err
			}
		}
		row := overrideRow{UnitPath: in.UnitPath, Date: d.String(), IsOffDay: in.OffDay, Reason: in.Reason, CreatedBy: in.By, CreatedAt: now, Revision: rev}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("store override: %w", err)
		}
		out.Revision, out.Changed = rev, true
		return nil
	})
	if errors.Is(err, errNoChange) {
		out.Revision, err = scopeRevision(ctx, db, in.UnitPath)
	}
	if err != nil {
		return OverrideChange{}, fmt.Errorf("calendar: set override %s %s: %w", in.UnitPath, in.Date, err)
	}
	return out, nil
}

// writeTx runs fn in a transaction. SQLite in WAL mode refuses (SQLITE_BUSY) a transaction
// that read before another connection's write committed and then tries to write; the busy
// timeout cannot help there, so the whole transaction is retried.
func writeTx(ctx context.Context, db *store.DB, fn func(tx *gorm.DB) error) error {
	for attempt := 1; ; attempt++ {
		err := db.WithContext(ctx).Transaction(fn)
		if err == nil || db.Dialect != migrations.SQLite || attempt == 20 || !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt*5+rand.IntN(20)) * time.Millisecond):
		}
	}
}

func isBusy(err error) bool {
	s := err.Error()
	return strings.Contains(s, "SQLITE_BUSY") || strings.Contains(s, "database is locked")
}

// errNoChange rolls back a revision bump when the change turns out to change nothing.
var errNoChange = errors.New("no change")

func retire(tx *gorm.DB, id int64, rev int, by string, at time.Time) error {
	err := tx.Model(&overrideRow{}).Where("id = ?", id).
		Updates(map[string]any{"removed_revision": rev, "removed_by": by, "removed_at": at}).Error
	if err != nil {
		return fmt.Errorf("retire override %d: %w", id, err)
	}
	return nil
}

// RemoveOverride withdraws the override of unitPath on date, bumping the scope's revision; the
// row is kept for audit. ErrOverrideNotFound when none is in force.
func RemoveOverride(ctx context.Context, db *store.DB, unitPath, date, by string) (OverrideChange, error) {
	if err := validScope(unitPath); err != nil {
		return OverrideChange{}, err
	}
	d, err := parseDay(date)
	if err != nil {
		return OverrideChange{}, fmt.Errorf("calendar: override: %w", err)
	}
	if strings.TrimSpace(by) == "" {
		return OverrideChange{}, errors.New("calendar: removing an override needs the administrator's login")
	}
	out := OverrideChange{UnitPath: unitPath}
	err = writeTx(ctx, db, func(tx *gorm.DB) error {
		rev, err := bump(tx, unitPath)
		if err != nil {
			return err
		}
		var cur []overrideRow
		if err := tx.Where("unit_path = ? AND date = ? AND removed_revision IS NULL", unitPath, d.String()).Find(&cur).Error; err != nil {
			return fmt.Errorf("read override: %w", err)
		}
		if len(cur) == 0 {
			return ErrOverrideNotFound
		}
		if err := retire(tx, cur[0].ID, rev, by, time.Now().UTC()); err != nil {
			return err
		}
		out.Revision, out.Changed = rev, true
		return nil
	})
	if err != nil {
		return OverrideChange{}, fmt.Errorf("calendar: remove override %s %s: %w", unitPath, date, err)
	}
	return out, nil
}

// ListOverrides lists the overrides in force that apply to unitPath (its scope and the scopes
// above it), or with subtree also those set anywhere below it; by date, then scope.
func ListOverrides(ctx context.Context, db *store.DB, unitPath string, subtree bool) ([]Override, error) {
	if err := validScope(unitPath); err != nil {
		return nil, err
	}
	q := db.WithContext(ctx).Where("removed_revision IS NULL")
	if subtree {
		// substr rather than LIKE, so that '_' and '%' in unit codes stay literal.
		q = q.Where("(unit_path IN ? OR substr(unit_path, 1, ?) = ?)", chain(unitPath), len(unitPath), unitPath)
	} else {
		q = q.Where("unit_path IN ?", chain(unitPath))
	}
	var rows []overrideRow
	if err := q.Order("date, unit_path").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("calendar: list overrides of %s: %w", unitPath, err)
	}
	out := make([]Override, len(rows))
	for i, r := range rows {
		out[i] = Override{ID: r.ID, UnitPath: r.UnitPath, Date: r.Date, OffDay: r.IsOffDay, Reason: r.Reason, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), Revision: r.Revision}
	}
	return out, nil
}

// Load reads the current national calendar and the overrides in force for unitPath ("" for the
// national calendar alone). Use a Cache on hot paths.
func Load(ctx context.Context, db *store.DB, unitPath string) (*Calendar, error) {
	nat, err := loadNational(ctx, db, nil)
	if err != nil {
		return nil, err
	}
	return loadFor(ctx, db, unitPath, nat, nil)
}

// LoadVersion rebuilds the calendar that a version string names (see the package doc), for
// unitPath, so that an auditor can recompute a stored deadline with the data it was computed
// with. Years not named in the version are not covered.
func LoadVersion(ctx context.Context, db *store.DB, unitPath, version string) (*Calendar, error) {
	years, scopes, err := parseVersion(version)
	if err != nil {
		return nil, err
	}
	nat, err := loadNational(ctx, db, years)
	if err != nil {
		return nil, err
	}
	pins := map[string]int{}
	if unitPath != "" {
		if err := validScope(unitPath); err != nil {
			return nil, err
		}
		for _, p := range chain(unitPath) {
			if rev, ok := scopes[scopeLabel(p)]; ok {
				pins[p] = rev
				delete(scopes, scopeLabel(p))
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

// parseVersion splits "cn-2025.1,2026.1+gd.2+sz.3" into year → revision and scope → revision.
func parseVersion(v string) (map[int]int, map[string]int, error) {
	bad := func() (map[int]int, map[string]int, error) {
		return nil, nil, fmt.Errorf("calendar: version %q: want cn-YEAR.REV[,YEAR.REV…][+SCOPE.REV…]", v)
	}
	parts := strings.Split(v, "+")
	nat, ok := strings.CutPrefix(parts[0], national+"-")
	if !ok {
		return bad()
	}
	years := map[int]int{}
	if nat != "" {
		for _, yv := range strings.Split(nat, ",") {
			y, r, ok := strings.Cut(yv, ".")
			yi, err1 := strconv.Atoi(y)
			ri, err2 := strconv.Atoi(r)
			if !ok || err1 != nil || err2 != nil || ri < 1 {
				return bad()
			}
			years[yi] = ri
		}
	}
	scopes := map[string]int{}
	for _, s := range parts[1:] {
		i := strings.LastIndexByte(s, '.')
		if i <= 0 {
			return bad()
		}
		r, err := strconv.Atoi(s[i+1:])
		if err != nil || r < 1 {
			return bad()
		}
		scopes[s[:i]] = r
	}
	return years, scopes, nil
}

// loadNational reads the current revision of every year, or with pins exactly the pinned
// year revisions.
func loadNational(ctx context.Context, db *store.DB, pins map[int]int) ([]yearData, error) {
	var rows []yearRow
	q := db.WithContext(ctx).Where("jurisdiction = ?", national)
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
	byYear := map[int64][]entry{}
	for _, d := range days {
		dd, err := parseDay(d.Date)
		if err != nil {
			return nil, fmt.Errorf("calendar: stored day %d: %w", d.ID, err)
		}
		byYear[d.YearID] = append(byYear[d.YearID], entry{date: dd, off: d.IsOffDay, name: d.Name})
	}
	out := make([]yearData, len(rows))
	for i, r := range rows {
		var papers []string
		_ = json.Unmarshal([]byte(r.Papers), &papers)
		out[i] = yearData{year: r.Year, revision: r.Revision, papers: papers, entries: byYear[r.ID]}
	}
	return out, nil
}

// loadFor adds the overrides of unitPath's scopes to nat: those in force, or with pins those in
// force at each pinned scope revision (scopes not pinned contribute nothing).
func loadFor(ctx context.Context, db *store.DB, unitPath string, nat []yearData, pins map[string]int) (*Calendar, error) {
	if unitPath == "" {
		return build("", nat, nil, nil), nil
	}
	if err := validScope(unitPath); err != nil {
		return nil, err
	}
	paths := chain(unitPath)
	var srows []scopeRow
	if err := db.WithContext(ctx).Where("unit_path IN ?", paths).Find(&srows).Error; err != nil {
		return nil, fmt.Errorf("calendar: load override scopes of %s: %w", unitPath, err)
	}
	revs := map[string]int{}
	for _, s := range srows {
		revs[s.UnitPath] = s.Revision
	}
	var scopes []scopeRev
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
		scopes = append(scopes, scopeRev{path: p, revision: rev})
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
				args = append(args, s.path, s.revision, s.revision)
			}
			q = q.Where(strings.Join(cond, " OR "), args...)
		}
		if err := q.Find(&rows).Error; err != nil {
			return nil, fmt.Errorf("calendar: load overrides of %s: %w", unitPath, err)
		}
	}
	ovs := make([]overrideRec, 0, len(rows))
	for _, r := range rows {
		d, err := parseDay(r.Date)
		if err != nil {
			return nil, fmt.Errorf("calendar: stored override %d: %w", r.ID, err)
		}
		ovs = append(ovs, overrideRec{path: r.UnitPath, date: d, off: r.IsOffDay, reason: r.Reason})
	}
	return build(unitPath, nat, scopes, ovs), nil
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

// Cache keeps loaded calendars per unit path and reloads them when the Stamp changes. It is safe
// for concurrent use.
type Cache struct {
	db         *store.DB
	checkEvery time.Duration

	mu        sync.Mutex
	stamp     string
	checkedAt time.Time
	national  []yearData
	units     map[string]*Calendar
}

// NewCache returns a cache over db. It checks the Stamp at most once per checkEvery (0: on every
// call), so a change becomes visible within checkEvery.
func NewCache(db *store.DB, checkEvery time.Duration) *Cache {
	return &Cache{db: db, checkEvery: checkEvery}
}

// Calendar returns the calendar for unitPath ("" for national only).
func (c *Cache) Calendar(ctx context.Context, unitPath string) (*Calendar, error) {
	c.mu.Lock()
	fresh := c.units != nil && c.checkEvery > 0 && time.Since(c.checkedAt) < c.checkEvery
	if fresh {
		if cal := c.units[unitPath]; cal != nil {
			c.mu.Unlock()
			return cal, nil
		}
	}
	c.mu.Unlock()

	stamp, err := Stamp(ctx, c.db)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checkedAt = time.Now()
	if stamp != c.stamp || c.units == nil {
		nat, err := loadNational(ctx, c.db, nil)
		if err != nil {
			return nil, err
		}
		c.stamp, c.national, c.units = stamp, nat, map[string]*Calendar{}
	}
	if cal := c.units[unitPath]; cal != nil {
		return cal, nil
	}
	cal, err := loadFor(ctx, c.db, unitPath, c.national, nil)
	if err != nil {
		return nil, err
	}
	c.units[unitPath] = cal
	return cal, nil
}
