package calendar

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"redress/calendar/calendartest"
)

// oracle is the status of every listed day according to the holiday-cn files themselves: a
// later year's file wins for the days of the year before that it lists.
type oracle map[string]bool

func loadOracle(t testing.TB) oracle {
	t.Helper()
	dir := calendartest.HolidayCN(t)
	o := oracle{}
	for y := 2019; y <= 2026; y++ {
		raw, err := os.ReadFile(filepath.Join(dir, itoa(y)+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Days []struct {
				Date     string `json:"date"`
				IsOffDay bool   `json:"isOffDay"`
			} `json:"days"`
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatalf("%d.json: %v", y, err)
		}
		for _, d := range f.Days {
			if prev, ok := o[d.Date]; ok && prev != d.IsOffDay {
				t.Fatalf("%s: files disagree", d.Date)
			}
			o[d.Date] = d.IsOffDay
		}
	}
	return o
}

func (o oracle) off(d day) bool {
	if v, ok := o[d.String()]; ok {
		return v
	}
	return d.weekend()
}

// dueWorking is a deliberately naive reference for n ≥ 1 working days.
func (o oracle) dueWorking(start time.Time, n int) day {
	d := dayOf(start)
	for n > 0 {
		d++
		if !o.off(d) {
			n--
		}
	}
	return d
}

func itoa(i int) string { return time.Date(i, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006") }

// shippedCalendar is the shipped national data as revision 1, with optional overrides.
func shippedCalendar(t testing.TB, unitPath string, scopes []scopeRev, ovs ...overrideRec) *Calendar {
	t.Helper()
	yds, err := shipped()
	if err != nil {
		t.Fatal(err)
	}
	for i := range yds {
		yds[i].revision = 1
	}
	return build(unitPath, yds, scopes, ovs)
}

func at(t testing.TB, s string) time.Time {
	t.Helper()
	return calendartest.At(t, s)
}

func mustDay(t testing.TB, s string) day {
	t.Helper()
	d, err := parseDay(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
