// The pieces a calendar is assembled from, as storage (calendar/calendardb) keeps them: the
// revisions of the national years, the override scopes on a unit's path and their overrides.
// They are exported so that the storage lives apart from the arithmetic: workflow code needs
// the Calendar and must not link a database (issue 20), so nothing in this package reads or
// writes one.

package calendar

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// National is the jurisdiction of the national calendar: the jurisdiction of its stored years
// and the prefix of every calendar version ("cn-2025.1").
const National = "cn"

// Exception is one day that a national year's notice changes: a rest day (Off) or a weekend
// made a working day, with the holiday's name.
type Exception struct {
	Date string // YYYY-MM-DD
	Off  bool
	Name string
}

// NationalYear is one revision of a national year: its number, revision, the notices it comes
// from and its exceptions, sorted by date.
type NationalYear struct{ d yearData }

// Year is the year's number.
func (y NationalYear) Year() int { return y.d.year }

// Revision is the year's revision (0 for data not stored yet).
func (y NationalYear) Revision() int { return y.d.revision }

// WithRevision is the same data as the given revision of the year.
func (y NationalYear) WithRevision(r int) NationalYear {
	y.d.revision = r
	return y
}

// Version is the year's part of a calendar version ("2025.1").
func (y NationalYear) Version() string { return y.d.version() }

// Papers are the notices the year's data comes from.
func (y NationalYear) Papers() []string { return y.d.papers }

// Exceptions lists the year's exceptions by date.
func (y NationalYear) Exceptions() []Exception {
	out := make([]Exception, len(y.d.entries))
	for i, e := range y.d.entries {
		out[i] = Exception{Date: e.date.String(), Off: e.off, Name: e.name}
	}
	return out
}

// ContentHash identifies the year's days (dates, status and names; not the papers), so that
// importing the same content again changes nothing.
func (y NationalYear) ContentHash() string { return y.d.contentHash() }

// StoredYear rebuilds a year revision from storage, which keeps its exceptions by date. The
// checks of an import (ParseHolidayCN) are not repeated: the stored data passed them.
func StoredYear(year, revision int, papers []string, days []Exception) (NationalYear, error) {
	es := make([]entry, len(days))
	for i, x := range days {
		d, err := parseDay(x.Date)
		if err != nil {
			return NationalYear{}, fmt.Errorf("calendar: year %d: %w", year, err)
		}
		es[i] = entry{date: d, off: x.Off, name: x.Name}
	}
	return NationalYear{yearData{year: year, revision: revision, papers: papers, entries: es}}, nil
}

// ParseHolidayCN reads one year in the holiday-cn format
// (github.com/NateScarlet/holiday-cn schema.json), checked as an import must be (revision 0).
func ParseHolidayCN(r io.Reader) (NationalYear, error) {
	yd, err := parseHolidayCN(r)
	return NationalYear{yd}, err
}

// ShippedYears are the years of the national calendar shipped with the binary (revision 0).
func ShippedYears() ([]NationalYear, error) {
	yds, err := shipped()
	if err != nil {
		return nil, err
	}
	out := make([]NationalYear, len(yds))
	for i, yd := range yds {
		out[i] = NationalYear{yd}
	}
	return out, nil
}

// ScopeRevision is the override revision of one scope (a unit path) on a unit's path.
type ScopeRevision struct {
	Path     string
	Revision int
}

// OverrideDay is a local override in force for a scope: Date is a rest day (Off) or a working
// day for the scope's subtree, for Reason.
type OverrideDay struct {
	Path   string
	Date   string // YYYY-MM-DD
	Off    bool
	Reason string
}

// Build assembles the calendar of unitPath ("" for the national calendar alone) from the
// national years, the scopes on the unit's path that have a revision (root first; they name
// the calendar's version) and the overrides in force in them. Overrides for dates in years
// without national data are ignored: coverage is a national matter, and an override must not
// make a missing year look covered.
func Build(unitPath string, national []NationalYear, scopes []ScopeRevision, overrides []OverrideDay) (*Calendar, error) {
	yds := make([]yearData, len(national))
	for i, y := range national {
		yds[i] = y.d
	}
	var srs []scopeRev
	for _, s := range scopes {
		srs = append(srs, scopeRev{path: s.Path, revision: s.Revision})
	}
	ovs := make([]overrideRec, 0, len(overrides))
	for _, o := range overrides {
		d, err := parseDay(o.Date)
		if err != nil {
			return nil, fmt.Errorf("calendar: override of %s: %w", o.Path, err)
		}
		ovs = append(ovs, overrideRec{path: o.Path, date: d, off: o.Off, reason: o.Reason})
	}
	return build(unitPath, yds, srs, ovs), nil
}

// ParseDate checks a date of the form YYYY-MM-DD with a real month and day and returns it.
func ParseDate(s string) (string, error) {
	d, err := parseDay(s)
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// ValidScope checks a unit path: slashes on both ends, no empty segment, not the root (the root
// is the national calendar, changed only by import).
func ValidScope(p string) error {
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

// Chain lists the scope paths that apply to unitPath, root first: "/gd/sz/ft/" → "/gd/",
// "/gd/sz/", "/gd/sz/ft/". Exact prefixes rather than LIKE keep '_' and '%' in codes literal.
func Chain(unitPath string) []string {
	var out []string
	for i := 1; i < len(unitPath); i++ {
		if unitPath[i] == '/' {
			out = append(out, unitPath[:i+1])
		}
	}
	return out
}

// ScopeLabel is the unit code that ends a scope path ("/gd/sz/" → "sz"), as calendar versions
// name the scope.
func ScopeLabel(path string) string { return scopeLabel(path) }

// ParseVersion splits a calendar version (see the package doc), "cn-2025.1,2026.1+gd.2+sz.3"
// into year → revision and scope → revision (by the scope's label).
func ParseVersion(v string) (map[int]int, map[string]int, error) {
	bad := func() (map[int]int, map[string]int, error) {
		return nil, nil, fmt.Errorf("calendar: version %q: want cn-YEAR.REV[,YEAR.REV…][+SCOPE.REV…]", v)
	}
	parts := strings.Split(v, "+")
	nat, ok := strings.CutPrefix(parts[0], National+"-")
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
