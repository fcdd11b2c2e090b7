package calendar

import (
	"errors"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
)

func TestAdd(t *testing.T) {
	c := shippedCalendar(t, "", nil)
	wd, nd := WorkingDaysBudget, NaturalDaysBudget
	ext := func(n int64) Budget { b := nd(n); b.ExtendToWorkingDay = true; return b }
	tests := []struct {
		name    string
		start   string
		budget  Budget
		due     string // DueDate
		dueAt   string // RFC 3339; default 24:00 +08:00 of due
		version string
	}{
		// 2025 Spring Festival: Sunday 01-26 and Saturday 02-08 are working days.
		{"2025 春节 working Sunday", "2025-01-24T10:00:00+08:00", wd(3), "2025-02-05", "", "cn-2025.1"},
		{"2025 春节 first day is the working Sunday", "2025-01-24T10:00:00+08:00", wd(1), "2025-01-26", "", ""},
		{"2025 春节 working Saturday 02-08", "2025-02-07T10:00:00+08:00", wd(1), "2025-02-08", "", ""},
		{"2025 春节 from inside the holiday", "2025-01-30T10:00:00+08:00", wd(1), "2025-02-05", "", ""},
		{"2025 劳动节 working Sunday 04-27", "2025-04-25T10:00:00+08:00", wd(2), "2025-04-28", "", ""},
		{"2025 劳动节 holiday", "2025-04-30T10:00:00+08:00", wd(1), "2025-05-06", "", ""},
		{"2025 国庆 working Sunday 09-28", "2025-09-26T10:00:00+08:00", wd(3), "2025-09-30", "", ""},
		{"2025 国庆 8-day holiday", "2025-09-30T10:00:00+08:00", wd(1), "2025-10-09", "", ""},
		{"2025 国庆 working Saturday 10-11", "2025-09-30T10:00:00+08:00", wd(3), "2025-10-11", "", ""},
		{"2025 元旦", "2024-12-31T10:00:00+08:00", wd(1), "2025-01-02", "", "cn-2024.1,2025.1"},
		{"2026 国庆", "2026-09-30T10:00:00+08:00", wd(1), "2026-10-08", "", "cn-2026.1"},
		{"2026 国庆 working Saturday 10-10", "2026-09-30T10:00:00+08:00", wd(3), "2026-10-10", "", ""},
		{"2026 国庆 working Sunday 09-20", "2026-09-18T10:00:00+08:00", wd(1), "2026-09-20", "", ""},
		{"2026 中秋 Friday to Sunday", "2026-09-24T10:00:00+08:00", wd(1), "2026-09-28", "", ""},
		{"2026 元旦 working Sunday 01-04", "2025-12-31T10:00:00+08:00", wd(1), "2026-01-04", "", "cn-2025.1,2026.1"},
		{"2026 春节 9 days", "2026-02-13T10:00:00+08:00", wd(2), "2026-02-24", "", ""},
		{"2019 元旦 from the 2019 notice", "2019-01-01T10:00:00+08:00", wd(1), "2019-01-02", "", "cn-2019.1"},
		{"2020 春节 extended", "2020-01-23T10:00:00+08:00", wd(1), "2020-02-03", "", "cn-2020.1"},
		{"2022/2023 year end", "2022-12-30T10:00:00+08:00", wd(1), "2023-01-03", "", "cn-2022.1,2023.1"},
		// Late night: the instant's China date is the start day.
		{"23:59:59 +08:00 Thursday", "2025-03-13T23:59:59+08:00", wd(1), "2025-03-14", "", ""},
		{"16:00 UTC is Friday 00:00 +08:00", "2025-03-13T16:00:00Z", wd(1), "2025-03-17", "", ""},
		{"15:59:59 UTC is still Thursday", "2025-03-13T15:59:59Z", wd(1), "2025-03-14", "", ""},
		// Starts on rest days.
		{"Saturday", "2025-03-15T10:00:00+08:00", wd(1), "2025-03-17", "", ""},
		{"Sunday", "2025-03-16T10:00:00+08:00", wd(3), "2025-03-19", "", ""},
		{"working Sunday start", "2025-09-28T10:00:00+08:00", wd(1), "2025-09-29", "", ""},
		{"holiday start", "2025-10-03T10:00:00+08:00", wd(1), "2025-10-09", "", ""},
		// Same day.
		{"0 working days on a Saturday", "2025-03-15T10:00:00+08:00", wd(0), "2025-03-15", "", ""},
		{"0 natural days", "2025-03-13T16:00:00Z", nd(0), "2025-03-14", "", ""},
		{"0 natural days on a Saturday, extended", "2025-03-15T10:00:00+08:00", ext(0), "2025-03-17", "", ""},
		// Natural days.
		{"7 natural days", "2025-03-10T10:00:00+08:00", nd(7), "2025-03-17", "", ""},
		{"natural days ending in 国庆, no extension", "2025-09-26T10:00:00+08:00", nd(7), "2025-10-03", "", ""},
		{"natural days ending in 国庆, extended", "2025-09-26T10:00:00+08:00", ext(7), "2025-10-09", "", ""},
		{"natural days ending on a working day, extension unused", "2025-03-10T10:00:00+08:00", ext(7), "2025-03-17", "", ""},
		{"natural days ending on Saturday, extended", "2025-03-08T10:00:00+08:00", ext(7), "2025-03-17", "", ""},
		{"natural days ending on a working Saturday", "2025-10-04T10:00:00+08:00", ext(7), "2025-10-11", "", ""},
		// Hours and durations are exact.
		{"24 hours across a holiday", "2025-01-27T10:00:00+08:00", HoursBudget(24), "2025-01-28", "2025-01-28T10:00:00+08:00", ""},
		{"hours ending at 00:00 belong to the day before", "2025-03-13T12:00:00+08:00", HoursBudget(12), "2025-03-13", "2025-03-14T00:00:00+08:00", ""},
		{"hours from 16:00 UTC", "2025-03-13T16:00:00Z", HoursBudget(8), "2025-03-14", "2025-03-14T08:00:00+08:00", ""},
		{"90s duration", "2025-03-13T23:59:00+08:00", DurationBudget(90 * time.Second), "2025-03-14", "2025-03-14T00:00:30+08:00", ""},
		{"duration to the nanosecond", "2025-03-13T10:00:00+08:00", DurationBudget(time.Nanosecond), "2025-03-13", "2025-03-13T10:00:00.000000001+08:00", ""},
		// Year boundary inside coverage.
		{"2026-12-28 + 3 working days stays in 2026", "2026-12-28T10:00:00+08:00", wd(3), "2026-12-31", "", "cn-2026.1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := c.Add(at(t, tc.start), tc.budget)
			if err != nil {
				t.Fatal(err)
			}
			if r.DueDate != tc.due {
				t.Errorf("DueDate %s, want %s", r.DueDate, tc.due)
			}
			wantAt := mustDay(t, tc.due).end()
			if tc.dueAt != "" {
				wantAt = at(t, tc.dueAt)
			}
			if !r.DueAt.Equal(wantAt) || r.DueAt.Location() != time.UTC {
				t.Errorf("DueAt %s, want %s in UTC", r.DueAt, wantAt.UTC())
			}
			if tc.version != "" && r.CalendarVersion != tc.version {
				t.Errorf("version %q, want %q", r.CalendarVersion, tc.version)
			}
			if r.Paused {
				t.Error("Paused")
			}
		})
	}
}

func TestAddUncoveredYear(t *testing.T) {
	c := shippedCalendar(t, "", nil)
	before := counterValue(t)
	tests := []struct {
		name   string
		start  string
		budget Budget
		year   int
	}{
		{"2026-12-28 + 4 working days reaches 2027", "2026-12-28T10:00:00+08:00", WorkingDaysBudget(4), 2027},
		{"natural days into 2027", "2026-12-28T10:00:00+08:00", NaturalDaysBudget(7), 2027},
		{"hours into 2027", "2026-12-31T10:00:00+08:00", HoursBudget(24), 2027},
		{"start in 2018", "2018-12-31T10:00:00+08:00", WorkingDaysBudget(1), 2018},
		{"start in 2027", "2027-01-04T10:00:00+08:00", NaturalDaysBudget(0), 2027},
		{"late night 31 Dec 2026 is already 2027 in China", "2026-12-31T16:00:00Z", HoursBudget(1), 2027},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Add(at(t, tc.start), tc.budget)
			var yerr *YearNotCoveredError
			if !errors.Is(err, ErrYearNotCovered) || !errors.As(err, &yerr) || yerr.Year != tc.year {
				t.Fatalf("err %v, want YearNotCoveredError{%d}", err, tc.year)
			}
		})
	}
	if got := counterValue(t) - before; got != float64(len(tests)) {
		t.Errorf("redress_calendar_uncovered_year_total rose by %v, want %d", got, len(tests))
	}
}

func counterValue(t *testing.T) float64 {
	t.Helper()
	var m dto.Metric
	if err := uncoveredYears.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

func TestAddPauses(t *testing.T) {
	c := shippedCalendar(t, "", nil)
	start := "2025-09-24T10:00:00+08:00" // Wednesday; 5 working days without pause: 09-30
	tests := []struct {
		name   string
		start  string
		budget Budget
		pauses [][2]string // "" end = open
		due    string
		dueAt  string
		paused bool
	}{
		{"no pause", start, WorkingDaysBudget(5), nil, "2025-09-30", "", false},
		{"pause across 国庆", start, WorkingDaysBudget(5), [][2]string{{"2025-09-26T09:00:00+08:00", "2025-10-09T15:00:00+08:00"}}, "2025-10-14", "", false},
		{"pause within the start day", start, WorkingDaysBudget(5), [][2]string{{"2025-09-24T11:00:00+08:00", "2025-09-24T12:00:00+08:00"}}, "2025-09-30", "", false},
		{"pause before the start", start, WorkingDaysBudget(5), [][2]string{{"2025-09-20T11:00:00+08:00", "2025-09-24T09:00:00+08:00"}}, "2025-09-30", "", false},
		{"one-hour pause on a working day skips it", start, WorkingDaysBudget(5), [][2]string{{"2025-09-25T11:00:00+08:00", "2025-09-25T12:00:00+08:00"}}, "2025-10-09", "", false},
		{"pause on a rest day changes nothing", start, WorkingDaysBudget(5), [][2]string{{"2025-09-27T11:00:00+08:00", "2025-09-27T12:00:00+08:00"}}, "2025-09-30", "", false},
		{"pause begun on the due date", start, WorkingDaysBudget(5), [][2]string{{"2025-09-30T20:00:00+08:00", "2025-10-08T12:00:00+08:00"}}, "2025-10-09", "", false},
		{"pause begun at the due instant has no effect", start, WorkingDaysBudget(5), [][2]string{{"2025-10-01T00:00:00+08:00", ""}}, "2025-09-30", "", false},
		{"open pause", start, WorkingDaysBudget(5), [][2]string{{"2025-09-26T09:00:00+08:00", ""}}, "", "", true},
		{"closed then open", start, WorkingDaysBudget(5), [][2]string{{"2025-09-25T09:00:00+08:00", "2025-09-25T10:00:00+08:00"}, {"2025-10-09T09:00:00+08:00", ""}}, "", "", true},
		{"overlapping pauses merge", start, WorkingDaysBudget(5), [][2]string{{"2025-09-26T09:00:00+08:00", "2025-10-08T15:00:00+08:00"}, {"2025-10-08T09:00:00+08:00", "2025-10-09T15:00:00+08:00"}}, "2025-10-14", "", false},
		{"natural days skip paused days", "2025-03-10T10:00:00+08:00", NaturalDaysBudget(7), [][2]string{{"2025-03-12T10:00:00+08:00", "2025-03-13T10:00:00+08:00"}}, "2025-03-19", "", false},
		{"0 days, pause moves the end to the resume day", "2025-03-10T10:00:00+08:00", WorkingDaysBudget(0), [][2]string{{"2025-03-10T12:00:00+08:00", "2025-03-12T10:00:00+08:00"}}, "2025-03-12", "", false},
		{"hours: paused time does not count", "2025-03-10T10:00:00+08:00", HoursBudget(24), [][2]string{{"2025-03-10T12:00:00+08:00", "2025-03-10T14:00:00+08:00"}}, "2025-03-11", "2025-03-11T12:00:00+08:00", false},
		{"hours: pause over a holiday is exact", "2025-09-30T10:00:00+08:00", HoursBudget(2), [][2]string{{"2025-09-30T11:00:00+08:00", "2025-10-08T11:00:00+08:00"}}, "2025-10-08", "2025-10-08T12:00:00+08:00", false},
		{"hours: pause after due", "2025-03-10T10:00:00+08:00", HoursBudget(1), [][2]string{{"2025-03-10T11:00:00+08:00", ""}}, "2025-03-10", "2025-03-10T11:00:00+08:00", false},
		{"hours: open pause before due", "2025-03-10T10:00:00+08:00", HoursBudget(1), [][2]string{{"2025-03-10T10:59:59+08:00", ""}}, "", "", true},
		{"duration: two pauses", "2025-03-10T10:00:00+08:00", DurationBudget(time.Hour), [][2]string{{"2025-03-10T10:10:00+08:00", "2025-03-10T10:20:00+08:00"}, {"2025-03-10T10:30:00+08:00", "2025-03-10T10:40:00+08:00"}}, "2025-03-10", "2025-03-10T11:20:00+08:00", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ps []Pause
			for _, p := range tc.pauses {
				pp := Pause{From: at(t, p[0])}
				if p[1] != "" {
					pp.To = at(t, p[1])
				}
				ps = append(ps, pp)
			}
			r, err := c.AddWithPauses(at(t, tc.start), tc.budget, ps)
			if err != nil {
				t.Fatal(err)
			}
			if r.Paused != tc.paused || r.DueDate != tc.due {
				t.Fatalf("got %+v, want due %q paused %v", r, tc.due, tc.paused)
			}
			if tc.paused {
				if !r.DueAt.IsZero() || r.CalendarVersion == "" {
					t.Errorf("paused result %+v", r)
				}
				return
			}
			wantAt := mustDay(t, tc.due).end()
			if tc.dueAt != "" {
				wantAt = at(t, tc.dueAt)
			}
			if !r.DueAt.Equal(wantAt) {
				t.Errorf("DueAt %s, want %s", r.DueAt, wantAt.UTC())
			}
		})
	}
	if _, err := c.AddWithPauses(at(t, start), WorkingDaysBudget(1), []Pause{{From: at(t, "2025-09-26T09:00:00+08:00"), To: at(t, "2025-09-25T09:00:00+08:00")}}); err == nil {
		t.Error("a pause ending before it starts was accepted")
	}
}

func TestBetweenAndOverdue(t *testing.T) {
	c := shippedCalendar(t, "", nil)
	between := []struct {
		a, b string
		want int
	}{
		{"2025-09-30T10:00:00+08:00", "2025-10-10T10:00:00+08:00", 1}, // only 10-09 wholly elapsed
		{"2025-09-30T10:00:00+08:00", "2025-10-11T00:00:00+08:00", 2},
		{"2025-03-10T10:00:00+08:00", "2025-03-10T23:00:00+08:00", 0},
		{"2025-03-10T10:00:00+08:00", "2025-03-09T23:00:00+08:00", 0},
		{"2025-03-10T10:00:00+08:00", "2025-03-17T00:00:00+08:00", 4}, // Tue–Fri
		{"2025-01-24T10:00:00+08:00", "2025-02-09T00:00:00+08:00", 6}, // 01-26, 01-27, 02-05, 02-06, 02-07, 02-08
	}
	for _, tc := range between {
		got, err := c.WorkingDaysBetween(at(t, tc.a), at(t, tc.b))
		if err != nil || got != tc.want {
			t.Errorf("WorkingDaysBetween(%s, %s) = %d, %v; want %d", tc.a, tc.b, got, err, tc.want)
		}
	}
	overdue := []struct {
		due, now string
		want     int
	}{
		{"2025-03-14T00:00:00+08:00", "2025-03-14T09:00:00+08:00", 1}, // passed at 00:00, 09:00 same day
		{"2025-03-14T00:00:00+08:00", "2025-03-14T00:00:00+08:00", 0},
		{"2025-03-14T00:00:00+08:00", "2025-03-13T09:00:00+08:00", 0},
		{"2025-03-14T00:00:00+08:00", "2025-03-15T00:00:00+08:00", 1}, // Saturday has not begun to count
		{"2025-03-15T00:00:00+08:00", "2025-03-15T12:00:00+08:00", 0}, // overdue over a weekend only
		{"2025-03-15T00:00:00+08:00", "2025-03-17T09:00:00+08:00", 1},
		{"2025-10-01T00:00:00+08:00", "2025-10-09T01:00:00+08:00", 1},
		{"2025-03-14T15:00:00+08:00", "2025-03-14T16:00:00+08:00", 1}, // an hours deadline passed mid-day
		{"2025-03-14T00:00:00+08:00", "2025-03-21T09:00:00+08:00", 6},
	}
	for _, tc := range overdue {
		got, err := c.OverdueDays(at(t, tc.due), at(t, tc.now))
		if err != nil || got != tc.want {
			t.Errorf("OverdueDays(%s, %s) = %d, %v; want %d", tc.due, tc.now, got, err, tc.want)
		}
	}
	if _, err := c.OverdueDays(at(t, "2026-12-31T00:00:00+08:00"), at(t, "2027-01-05T00:00:00+08:00")); !errors.Is(err, ErrYearNotCovered) {
		t.Errorf("overdue into 2027: %v", err)
	}
}

func TestOverridesNearestWins(t *testing.T) {
	scopes := []scopeRev{{"/gd/", 1}, {"/gd/sz/", 2}}
	ovs := []overrideRec{
		{path: "/gd/sz/", date: mustDay(t, "2025-03-14"), off: false, reason: "深圳: 照常上班"},
		{path: "/gd/", date: mustDay(t, "2025-03-14"), off: true, reason: "广东: 台风停工"},
		{path: "/gd/", date: mustDay(t, "2025-03-15"), off: false, reason: "广东: 补班"},
		{path: "/gd/", date: mustDay(t, "2027-01-04"), off: false, reason: "uncovered year"},
	}
	sz := shippedCalendar(t, "/gd/sz/ft/", scopes, ovs...)
	gz := shippedCalendar(t, "/gd/gz/", scopes[:1], ovs[1:]...)
	for _, tc := range []struct {
		c       *Calendar
		date    string
		working bool
	}{
		{sz, "2025-03-14", true}, {gz, "2025-03-14", false},
		{sz, "2025-03-15", true}, {gz, "2025-03-15", true},
	} {
		got, err := tc.c.IsWorkingDay(tc.date)
		if err != nil || got != tc.working {
			t.Errorf("%s %s: working %v %v, want %v", tc.c.UnitPath(), tc.date, got, err, tc.working)
		}
	}
	r, err := gz.Add(at(t, "2025-03-13T10:00:00+08:00"), WorkingDaysBudget(1))
	if err != nil || r.DueDate != "2025-03-15" || r.CalendarVersion != "cn-2025.1+gd.1" {
		t.Errorf("gz: %+v %v", r, err)
	}
	r, err = sz.Add(at(t, "2025-03-13T10:00:00+08:00"), WorkingDaysBudget(1))
	if err != nil || r.DueDate != "2025-03-14" || r.CalendarVersion != "cn-2025.1+gd.1+sz.2" {
		t.Errorf("sz: %+v %v", r, err)
	}
	if _, err := sz.IsWorkingDay("2027-01-04"); !errors.Is(err, ErrYearNotCovered) {
		t.Errorf("an override must not make 2027 covered: %v", err)
	}
	v, err := sz.Year(2025)
	if err != nil {
		t.Fatal(err)
	}
	d := v.Days[mustDay(t, "2025-03-14")-mustDay(t, "2025-01-01")]
	if d.Source != SourceOverride || d.Scope != "/gd/sz/" || d.OffDay || !strings.Contains(d.Name, "深圳") {
		t.Errorf("year view day %+v", d)
	}
	if len(v.Days) != 365 || v.Days[0].Name != "元旦" || v.Days[0].Source != SourceNational {
		t.Errorf("year view: %d days, first %+v", len(v.Days), v.Days[0])
	}
}

func TestParseBudget(t *testing.T) {
	for _, tc := range []struct {
		unit, value string
		ok          bool
	}{
		{"working_days", "3", true}, {"natural_days", "0", true}, {"hours", "24", true},
		{"duration", "90s", true}, {"hours", "0", false}, {"working_days", "-1", false},
		{"working_days", "1.5", false}, {"weeks", "1", false}, {"duration", "-1s", false},
		{"working_days", "100000", false},
	} {
		_, err := ParseBudget(tc.unit, tc.value)
		if (err == nil) != tc.ok {
			t.Errorf("ParseBudget(%s, %s): %v", tc.unit, tc.value, err)
		}
	}
}

func TestParseVersion(t *testing.T) {
	ys, ss, err := ParseVersion("cn-2025.1,2026.2+gd.1+sz.3")
	if err != nil || ys[2025] != 1 || ys[2026] != 2 || ss["gd"] != 1 || ss["sz"] != 3 {
		t.Fatalf("%v %v %v", ys, ss, err)
	}
	for _, bad := range []string{"", "us-2025.1", "cn-2025", "cn-2025.0", "cn-2025.1+sz", "cn-2025.1+sz.x"} {
		if _, _, err := ParseVersion(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
