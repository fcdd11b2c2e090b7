package calendar

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// entry is one exception in a national year: a rest day (off) or a weekend made a working day.
type entry struct {
	date day
	off  bool
	name string
}

// yearData is one version of a national year as stored.
type yearData struct {
	year     int
	revision int
	papers   []string
	entries  []entry // sorted by date, no duplicates
}

func (y yearData) version() string { return strconv.Itoa(y.year) + "." + strconv.Itoa(y.revision) }

// overrideRec is a local override in force for a scope path.
type overrideRec struct {
	path   string
	date   day
	off    bool
	reason string
}

// scopeRev is the override revision of one scope on a unit's path.
type scopeRev struct {
	path     string
	revision int
}

// Where a day's status comes from, for the year view.
const (
	SourceWeekday  = "weekday"
	SourceWeekend  = "weekend"
	SourceNational = "national"
	SourceOverride = "override"
)

type dayInfo struct {
	off    bool
	name   string // holiday name, or the override's reason
	source string
	scope  string // override scope path
}

type calYear struct {
	data  yearData
	first day
	days  []dayInfo
	// deps are the years whose versions decided some day of this year: the year itself, and the
	// next year when its notice fixes late-December days of this one.
	deps []int
}

// Calendar is the national calendar plus the overrides that apply to one unit. It is immutable
// and safe for concurrent use.
type Calendar struct {
	unitPath string
	years    map[int]*calYear
	scopes   []scopeRev // root first; only scopes with revision ≥ 1
	version  string
}

// build assembles a calendar. Overrides for dates in years without national data are ignored:
// coverage is a national matter, and an override must not make a missing year look covered.
func build(unitPath string, national []yearData, scopes []scopeRev, overrides []overrideRec) *Calendar {
	c := &Calendar{unitPath: unitPath, years: map[int]*calYear{}}
	for _, yd := range national {
		f := firstDay(yd.year)
		n := int(firstDay(yd.year+1) - f)
		cy := &calYear{data: yd, first: f, days: make([]dayInfo, n), deps: []int{yd.year}}
		for i := range cy.days {
			if (f + day(i)).weekend() {
				cy.days[i] = dayInfo{off: true, source: SourceWeekend}
			} else {
				cy.days[i] = dayInfo{source: SourceWeekday}
			}
		}
		c.years[yd.year] = cy
	}
	// Own-year entries first, then the next year's entries for late December: the later notice
	// is the one that fixed those days.
	for pass := 0; pass < 2; pass++ {
		for _, yd := range national {
			for _, e := range yd.entries {
				y := e.date.year()
				if (pass == 0) != (y == yd.year) {
					continue
				}
				cy := c.years[y]
				if cy == nil {
					continue
				}
				cy.days[e.date-cy.first] = dayInfo{off: e.off, name: e.name, source: SourceNational}
				if y != yd.year && !containsInt(cy.deps, yd.year) {
					cy.deps = append(cy.deps, yd.year)
				}
			}
		}
	}
	// Shallow scopes first so that the nearest (deepest) override of a date wins.
	sorted := append([]overrideRec(nil), overrides...)
	sort.SliceStable(sorted, func(i, j int) bool { return len(sorted[i].path) < len(sorted[j].path) })
	for _, o := range sorted {
		if cy := c.years[o.date.year()]; cy != nil {
			cy.days[o.date-cy.first] = dayInfo{off: o.off, name: o.reason, source: SourceOverride, scope: o.path}
		}
	}
	c.scopes = scopes
	all := make([]int, 0, len(c.years))
	for y := range c.years {
		all = append(all, y)
	}
	c.version = c.versionOf(all)
	return c
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// versionOf formats the version string for the given covered years (see package doc).
func (c *Calendar) versionOf(years []int) string {
	set := map[int]bool{}
	for _, y := range years {
		if cy := c.years[y]; cy != nil {
			for _, d := range cy.deps {
				if c.years[d] != nil {
					set[d] = true
				}
			}
		}
	}
	ys := make([]int, 0, len(set))
	for y := range set {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	var b strings.Builder
	b.WriteString("cn-")
	for i, y := range ys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(c.years[y].data.version())
	}
	for _, s := range c.scopes {
		b.WriteByte('+')
		b.WriteString(scopeLabel(s.path))
		b.WriteByte('.')
		b.WriteString(strconv.Itoa(s.revision))
	}
	return b.String()
}

// scopeLabel is the unit code that ends a scope path ("/gd/sz/" → "sz").
func scopeLabel(path string) string {
	p := strings.TrimSuffix(path, "/")
	return p[strings.LastIndexByte(p, '/')+1:]
}

// Version identifies all the data loaded into the calendar (all years and override scopes).
func (c *Calendar) Version() string { return c.version }

// UnitPath is the unit the calendar was loaded for ("" for the national calendar alone).
func (c *Calendar) UnitPath() string { return c.unitPath }

// Years lists the covered years, ascending.
func (c *Calendar) Years() []int {
	ys := make([]int, 0, len(c.years))
	for y := range c.years {
		ys = append(ys, y)
	}
	sort.Ints(ys)
	return ys
}

// span records the range of days a computation read, for coverage and the version string.
type span struct {
	c        *Calendar
	min, max day
	used     bool
}

func (s *span) touch(d day) {
	if !s.used || d < s.min {
		s.min = d
	}
	if !s.used || d > s.max {
		s.max = d
	}
	s.used = true
}

func (s *span) version() string {
	if !s.used {
		return s.c.versionOf(nil)
	}
	var ys []int
	for y := s.min.year(); y <= s.max.year(); y++ {
		ys = append(ys, y)
	}
	return s.c.versionOf(ys)
}

// info returns the status of d, or the uncovered-year error.
func (s *span) info(d day) (dayInfo, error) {
	cy := s.c.years[d.year()]
	if cy == nil {
		return dayInfo{}, s.c.notCovered(d.year())
	}
	s.touch(d)
	return cy.days[d-cy.first], nil
}

func (s *span) off(d day) (bool, error) {
	i, err := s.info(d)
	return i.off, err
}

// cover checks that every year from a to b is covered and records them as used.
func (s *span) cover(a, b day) error {
	for y := a.year(); y <= b.year(); y++ {
		if s.c.years[y] == nil {
			return s.c.notCovered(y)
		}
	}
	s.touch(a)
	s.touch(b)
	return nil
}

func (c *Calendar) checkInstant(t time.Time, what string) error {
	if t.IsZero() {
		return fmt.Errorf("calendar: %s is not set", what)
	}
	if !instantOK(t) {
		return c.notCovered(t.Year())
	}
	return nil
}

// IsWorkingDay reports whether date (YYYY-MM-DD) is a working day for this calendar's unit.
func (c *Calendar) IsWorkingDay(date string) (bool, error) {
	d, err := parseDay(date)
	if err != nil {
		return false, fmt.Errorf("calendar: %w", err)
	}
	s := span{c: c}
	off, err := s.off(d)
	return !off, err
}

// Add computes the deadline of budget b started at start; see the package documentation for
// the counting rules.
func (c *Calendar) Add(start time.Time, b Budget) (Result, error) {
	return c.AddWithPauses(start, b, nil)
}

// pauseSpan is a merged, clipped pause; open when to is zero.
type pauseSpan struct {
	from, to time.Time
	open     bool
}

// normalizePauses validates, clips to start, sorts and merges the pauses.
func (c *Calendar) normalizePauses(start time.Time, pauses []Pause) ([]pauseSpan, error) {
	var ps []pauseSpan
	for i, p := range pauses {
		if err := c.checkInstant(p.From, fmt.Sprintf("pause %d start", i+1)); err != nil {
			return nil, err
		}
		open := p.To.IsZero()
		if !open {
			if err := c.checkInstant(p.To, fmt.Sprintf("pause %d end", i+1)); err != nil {
				return nil, err
			}
			if p.To.Before(p.From) {
				return nil, fmt.Errorf("calendar: pause %d ends (%s) before it starts (%s)", i+1, p.To.Format(time.RFC3339), p.From.Format(time.RFC3339))
			}
			if !p.To.After(start) {
				continue // over before the clock started
			}
		}
		from := p.From
		if from.Before(start) {
			from = start
		}
		ps = append(ps, pauseSpan{from: from, to: p.To, open: open})
	}
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].from.Before(ps[j].from) })
	var out []pauseSpan
	for _, p := range ps {
		if n := len(out); n > 0 {
			last := &out[n-1]
			if last.open {
				break // everything after an open pause is inside it
			}
			if !p.from.After(last.to) {
				if p.open {
					last.open, last.to = true, time.Time{}
				} else if p.to.After(last.to) {
					last.to = p.to
				}
				continue
			}
		}
		out = append(out, p)
	}
	return out, nil
}

// AddWithPauses is Add with the clock stopped during pauses (the last may be open).
func (c *Calendar) AddWithPauses(start time.Time, b Budget, pauses []Pause) (Result, error) {
	if err := b.Validate(); err != nil {
		return Result{}, err
	}
	if err := c.checkInstant(start, "start"); err != nil {
		return Result{}, err
	}
	ps, err := c.normalizePauses(start, pauses)
	if err != nil {
		return Result{}, err
	}
	switch b.Unit {
	case Hours:
		return c.addExact(start, time.Duration(b.N)*time.Hour, ps)
	case Duration:
		return c.addExact(start, b.D, ps)
	default:
		return c.addDays(start, b, ps)
	}
}

func (c *Calendar) addExact(start time.Time, d time.Duration, ps []pauseSpan) (Result, error) {
	s := span{c: c}
	t, rem := start, d
	for _, p := range ps {
		if !p.from.Before(t.Add(rem)) {
			break // began when the deadline had already passed
		}
		if p.from.After(t) {
			rem -= p.from.Sub(t)
		}
		if p.open {
			if err := s.cover(dayOf(start), dayOf(p.from)); err != nil {
				return Result{}, err
			}
			return Result{Paused: true, CalendarVersion: s.version()}, nil
		}
		if p.to.After(t) {
			t = p.to
		}
	}
	due := t.Add(rem)
	if !instantOK(due) {
		return Result{}, c.notCovered(due.Year())
	}
	last := dayOf(due.Add(-time.Nanosecond))
	if err := s.cover(dayOf(start), last); err != nil {
		return Result{}, err
	}
	return Result{DueDate: last.String(), DueAt: due.UTC(), CalendarVersion: s.version()}, nil
}

// dayPause is a pause in whole days: every day from first to last (inclusive) is skipped.
type dayPause struct {
	first, last day
	open        bool
}

func (c *Calendar) addDays(start time.Time, b Budget, ps []pauseSpan) (Result, error) {
	s := span{c: c}
	sd := dayOf(start)
	if _, err := s.info(sd); err != nil {
		return Result{}, err
	}
	dps := make([]dayPause, len(ps))
	for i, p := range ps {
		dps[i] = dayPause{first: dayOf(p.from), open: p.open}
		if !p.open {
			dps[i].last = dayOf(p.to)
		}
	}
	paused := func() (Result, error) { return Result{Paused: true, CalendarVersion: s.version()}, nil }

	pi := 0
	// inPause reports whether d is skipped by a pause, and whether that pause is open.
	inPause := func(d day) (bool, bool) {
		for pi < len(dps) && !dps[pi].open && dps[pi].last < d {
			pi++
		}
		if pi < len(dps) && dps[pi].first <= d {
			return true, dps[pi].open
		}
		return false, false
	}
	d := sd
	if b.N == 0 {
		// Same day: ends at 24:00 of the start day; a pause that began before then moves the
		// end to 24:00 of the day it ended.
		for _, p := range ps {
			if !p.from.Before(d.end()) {
				break
			}
			if p.open {
				return paused()
			}
			if pd := dayOf(p.to); pd > d {
				d = pd
			}
		}
		if _, err := s.info(d); err != nil {
			return Result{}, err
		}
	}
	for count := int64(0); count < b.N; {
		d++
		info, err := s.info(d)
		if err != nil {
			return Result{}, err
		}
		if p, open := inPause(d); p {
			if open {
				return paused()
			}
			continue
		}
		if b.Unit == WorkingDays && info.off {
			continue
		}
		count++
	}
	if b.ExtendToWorkingDay {
		// The day reached so far was counted (or is the same-day anchor), so pauses matter only
		// for the days the extension adds.
		for first := true; ; first = false {
			if !first {
				d++
			}
			info, err := s.info(d)
			if err != nil {
				return Result{}, err
			}
			if !first {
				if p, open := inPause(d); open {
					return paused()
				} else if p {
					continue
				}
			}
			if !info.off {
				break
			}
		}
	}
	return Result{DueDate: d.String(), DueAt: d.end(), CalendarVersion: s.version()}, nil
}

// WorkingDaysBetween counts the working days wholly elapsed after the day of a and by b (0 when
// b is not after a), so that WorkingDaysBetween(s, Add(s, n).DueAt) == n.
func (c *Calendar) WorkingDaysBetween(a, b time.Time) (int, error) {
	if err := c.checkInstant(a, "from"); err != nil {
		return 0, err
	}
	if err := c.checkInstant(b, "to"); err != nil {
		return 0, err
	}
	return c.countWorking(dayOf(a)+1, dayOf(b)-1)
}

// OverdueDays counts the working days that began after dueAt and by now, a partly elapsed day
// included; 0 when now is not after dueAt.
func (c *Calendar) OverdueDays(dueAt, now time.Time) (int, error) {
	if err := c.checkInstant(dueAt, "due"); err != nil {
		return 0, err
	}
	if err := c.checkInstant(now, "now"); err != nil {
		return 0, err
	}
	if !now.After(dueAt) {
		return 0, nil
	}
	last := dayOf(now)
	if now.Equal(last.start()) {
		last-- // a day that begins exactly now has not begun to be overdue
	}
	return c.countWorking(dayOf(dueAt), last)
}

func (c *Calendar) countWorking(first, last day) (int, error) {
	s := span{c: c}
	n := 0
	for d := first; d <= last; d++ {
		off, err := s.off(d)
		if err != nil {
			return 0, err
		}
		if !off {
			n++
		}
	}
	return n, nil
}

// Day is one day of a year view.
type Day struct {
	Date    string `json:"date"`
	Weekday string `json:"weekday"`
	OffDay  bool   `json:"off_day"`
	// Name is the holiday's name for national exceptions, the reason for overrides.
	Name string `json:"name,omitempty"`
	// Source is weekday, weekend, national or override.
	Source string `json:"source"`
	// Scope is the unit path of the override that decided the day.
	Scope string `json:"scope,omitempty"`
}

// YearView is a year of days as this calendar sees it, for the administrators' year view.
type YearView struct {
	Year            int      `json:"year"`
	CalendarVersion string   `json:"calendar_version"`
	Papers          []string `json:"papers"`
	Days            []Day    `json:"days"`
}

// Year returns every day of year y.
func (c *Calendar) Year(y int) (YearView, error) {
	cy := c.years[y]
	if cy == nil {
		return YearView{}, c.notCovered(y)
	}
	v := YearView{Year: y, CalendarVersion: c.versionOf([]int{y}), Papers: cy.data.papers, Days: make([]Day, len(cy.days))}
	for i, in := range cy.days {
		d := cy.first + day(i)
		v.Days[i] = Day{Date: d.String(), Weekday: d.weekday().String(), OffDay: in.off, Name: in.name, Source: in.source, Scope: in.scope}
	}
	return v, nil
}
