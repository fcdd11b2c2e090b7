package calendar

import (
	"errors"
	"log/slog"
	"testing"
	"time"
)

// FuzzAdd checks invariants of AddWithPauses on the shipped calendar for arbitrary starts,
// budgets and one pause: no panic; either a result or a budget/pause error or the typed
// uncovered-year error (for a year really not covered); a due instant not before the start;
// never a rest day as the due date of N ≥ 1 working days or of an extended natural period;
// DueDate consistent with DueAt.
func FuzzAdd(f *testing.F) {
	f.Add(int64(1737684000), uint8(8), int64(3), false, int64(0), int64(-1))       // 2025-01-24 10:00 +08, 3 working days
	f.Add(int64(1758852000), uint8(1), int64(7), true, int64(0), int64(-1))        // 2025-09-26, 7 natural days extended
	f.Add(int64(1798423200), uint8(0), int64(4), false, int64(0), int64(-1))       // 2026-12-28, crosses into 2027
	f.Add(int64(1741881600), uint8(2), int64(8), false, int64(3600), int64(7200))  // 16:00 UTC, hours with a pause
	f.Add(int64(1758679200), uint8(0), int64(5), false, int64(172800), int64(0))   // open pause
	f.Add(int64(1758679200), uint8(8), int64(5), false, int64(100000), int64(1e6)) // pause across 国庆
	f.Add(int64(1741881599), uint8(3), int64(90e9), false, int64(0), int64(-1))    // 23:59:59 +08, 90s
	f.Add(int64(-62135596801), uint8(0), int64(1), false, int64(0), int64(-1))     // before year 1
	f.Add(int64(253402300800), uint8(3), int64(1), false, int64(0), int64(-1))     // after 9999
	c := shippedCalendar(f, "", nil)
	// Uncovered years are logged at Error level; thousands of lines would only slow the fuzzer.
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.DiscardHandler))
	f.Cleanup(func() { slog.SetDefault(prev) })
	lo, hi := firstDay(2018).start().Unix()+300*86400, firstDay(2027).start().Unix()+60*86400
	f.Fuzz(func(t *testing.T, sec int64, kind uint8, n int64, extend bool, pauseOff, pauseLen int64) {
		if kind&8 != 0 {
			// Mostly inside the covered years and their edges, where the arithmetic happens.
			sec = lo + (sec%(hi-lo)+(hi-lo))%(hi-lo)
		}
		start := time.Unix(sec, 0).UTC()
		var b Budget
		switch kind % 4 {
		case 0:
			b = WorkingDaysBudget(n)
		case 1:
			b = NaturalDaysBudget(n)
			b.ExtendToWorkingDay = extend
		case 2:
			b = HoursBudget(n)
		case 3:
			b = DurationBudget(time.Duration(n))
		}
		var pauses []Pause
		if pauseLen >= 0 {
			p := Pause{From: start.Add(time.Duration(pauseOff) * time.Second)}
			if pauseLen > 0 {
				p.To = p.From.Add(time.Duration(pauseLen) * time.Second)
			}
			pauses = append(pauses, p)
		}
		r, err := c.AddWithPauses(start, b, pauses)
		if err != nil {
			var y *YearNotCoveredError
			switch {
			case errors.As(err, &y):
				if y.Year >= 2019 && y.Year <= 2026 {
					t.Fatalf("covered year %d reported as not covered: %v", y.Year, err)
				}
				if !errors.Is(err, ErrYearNotCovered) {
					t.Fatal("errors.Is fails")
				}
			case b.Validate() != nil, start.IsZero():
			case len(pauses) == 1 && (!pauses[0].To.IsZero() && pauses[0].To.Before(pauses[0].From) || pauses[0].From.IsZero()):
			default:
				t.Fatalf("unexpected error for %s + %s, pauses %v: %v", start, b, pauses, err)
			}
			return
		}
		if r.CalendarVersion == "" || r.CalendarVersion[:3] != "cn-" {
			t.Fatalf("version %q", r.CalendarVersion)
		}
		if r.Paused {
			if r.DueDate != "" || !r.DueAt.IsZero() {
				t.Fatalf("paused with a due: %+v", r)
			}
			return
		}
		if r.DueAt.Before(start) {
			t.Fatalf("%s + %s: due %s before start", start, b, r.DueAt)
		}
		if want := dayOf(r.DueAt.Add(-time.Nanosecond)).String(); r.DueDate != want {
			t.Fatalf("DueDate %s, DueAt %s", r.DueDate, r.DueAt)
		}
		if (b.Unit == WorkingDays && b.N >= 1) || b.ExtendToWorkingDay {
			if w, err := c.IsWorkingDay(r.DueDate); err != nil || !w {
				t.Fatalf("%s + %s = %s, a rest day (%v)", start, b, r.DueDate, err)
			}
		}
		if b.Unit == WorkingDays || b.Unit == NaturalDays {
			if !r.DueAt.Equal(mustDay(t, r.DueDate).end()) {
				t.Fatalf("day budget DueAt %s is not 24:00 of %s", r.DueAt, r.DueDate)
			}
		}
	})
}
