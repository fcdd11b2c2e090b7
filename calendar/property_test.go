package calendar

import (
	"errors"
	"math/rand"
	"testing"
	"time"
)

// randomStart is an instant between 2019-01-01 and mid-2026 +08:00, to the second.
func randomStart(r *rand.Rand) time.Time {
	lo := firstDay(2019).start().Unix()
	hi := mustDayNoT("2026-06-30").start().Unix()
	return time.Unix(lo+r.Int63n(hi-lo), 0).UTC()
}

func mustDayNoT(s string) day {
	d, err := parseDay(s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestPropertiesWorkingDays(t *testing.T) {
	c := shippedCalendar(t, "", nil)
	r := rand.New(rand.NewSource(20250101))
	for i := 0; i < 3000; i++ {
		s := randomStart(r)
		n := int64(1 + r.Intn(60))
		res, err := c.Add(s, WorkingDaysBudget(n))
		if err != nil {
			t.Fatalf("Add(%s, %d): %v", s, n, err)
		}
		due := mustDay(t, res.DueDate)
		// Adding N ≥ 1 working days never lands on a rest day.
		if w, _ := c.IsWorkingDay(res.DueDate); !w {
			t.Fatalf("Add(%s, %d) = %s, a rest day", s, n, res.DueDate)
		}
		// DueAt is 24:00 of DueDate, after the start.
		if !res.DueAt.Equal(due.end()) || !res.DueAt.After(s) {
			t.Fatalf("Add(%s, %d): DueAt %s for DueDate %s", s, n, res.DueAt, res.DueDate)
		}
		// WorkingDaysBetween(s, Add(s, n).DueAt) == n.
		if got, err := c.WorkingDaysBetween(s, res.DueAt); err != nil || int64(got) != n {
			t.Fatalf("WorkingDaysBetween(%s, %s) = %d %v, want %d", s, res.DueAt, got, err, n)
		}
		// One nanosecond before DueAt, only n-1 working days have wholly elapsed.
		if got, _ := c.WorkingDaysBetween(s, res.DueAt.Add(-time.Nanosecond)); int64(got) != n-1 {
			t.Fatalf("WorkingDaysBetween just before due = %d, want %d", got, n-1)
		}
		// Chaining: Add(s, a+b) == Add(t, b) for any instant t on Add(s, a).DueDate.
		a := int64(r.Intn(30))
		b := int64(r.Intn(30))
		ra, err := c.Add(s, WorkingDaysBudget(a))
		if err != nil {
			t.Fatal(err)
		}
		rab, err := c.Add(s, WorkingDaysBudget(a+b))
		if err != nil {
			t.Fatal(err)
		}
		onDue := mustDay(t, ra.DueDate)
		for _, tt := range []time.Time{onDue.start(), ra.DueAt.Add(-time.Nanosecond), onDue.start().Add(time.Duration(r.Int63n(int64(24 * time.Hour))))} {
			rb, err := c.Add(tt, WorkingDaysBudget(b))
			if err != nil {
				t.Fatal(err)
			}
			if rb.DueDate != rab.DueDate || !rb.DueAt.Equal(rab.DueAt) {
				t.Fatalf("chain: Add(%s,%d)=%s; Add(%s,%d)=%s; Add(s,%d)=%s", s, a, ra.DueDate, tt, b, rb.DueDate, a+b, rab.DueDate)
			}
		}
		// No pause changes nothing; closed pauses never bring the due date forward.
		p := Pause{From: s.Add(time.Duration(r.Int63n(int64(20 * 24 * time.Hour))))}
		p.To = p.From.Add(time.Duration(r.Int63n(int64(10 * 24 * time.Hour))))
		rp, err := c.AddWithPauses(s, WorkingDaysBudget(n), []Pause{p})
		if err != nil && !errors.Is(err, ErrYearNotCovered) {
			t.Fatal(err)
		}
		if err == nil && rp.DueAt.Before(res.DueAt) {
			t.Fatalf("pause %v brought %s forward to %s", p, res.DueDate, rp.DueDate)
		}
		if err == nil && !p.From.Before(res.DueAt) && rp.DueDate != res.DueDate {
			t.Fatalf("pause %v after due %s moved it to %s", p, res.DueAt, rp.DueDate)
		}
	}
}

// The engine against a naive reading of the holiday-cn files.
func TestAgainstOracle(t *testing.T) {
	o := loadOracle(t)
	c := shippedCalendar(t, "", nil)
	r := rand.New(rand.NewSource(7))
	for i := 0; i < 3000; i++ {
		s := randomStart(r)
		n := 1 + r.Intn(40)
		res, err := c.Add(s, WorkingDaysBudget(int64(n)))
		if err != nil {
			t.Fatal(err)
		}
		if want := o.dueWorking(s, n).String(); res.DueDate != want {
			t.Fatalf("Add(%s, %d working days) = %s, oracle %s", s, n, res.DueDate, want)
		}
	}
	// Every holiday period of 2019–2026, entered from the day before it and left from its
	// last day, for 1–3 working days; and every adjusted working weekend as a due date.
	for d := mustDay(t, "2019-01-02"); d <= mustDay(t, "2026-12-20"); d++ {
		holidayStart := o.off(d) && !d.weekend() && !o.off(d-1)
		workingWeekend := d.weekend() && !o.off(d)
		if !holidayStart && !workingWeekend {
			continue
		}
		for _, s := range []time.Time{(d - 1).start().Add(10 * time.Hour), d.start().Add(10 * time.Hour), (d - 1).end().Add(-time.Second)} {
			for n := 1; n <= 3; n++ {
				res, err := c.Add(s, WorkingDaysBudget(int64(n)))
				if err != nil {
					t.Fatal(err)
				}
				if want := o.dueWorking(s, n).String(); res.DueDate != want {
					t.Errorf("Add(%s, %d) = %s, oracle %s", s, n, res.DueDate, want)
				}
			}
		}
		if workingWeekend {
			// The working weekend itself must be reachable as a due date.
			prev := d - 1
			for o.off(prev) {
				prev--
			}
			res, err := c.Add(prev.start().Add(12*time.Hour), WorkingDaysBudget(1))
			if err != nil || res.DueDate != d.String() {
				t.Errorf("working weekend %s: from %s got %s %v", d, prev, res.DueDate, err)
			}
		}
	}
}

func TestPropertiesNaturalAndExact(t *testing.T) {
	c := shippedCalendar(t, "", nil)
	r := rand.New(rand.NewSource(42))
	for i := 0; i < 2000; i++ {
		s := randomStart(r)
		n := int64(r.Intn(60))
		res, err := c.Add(s, NaturalDaysBudget(n))
		if err != nil {
			t.Fatal(err)
		}
		if want := (dayOf(s) + day(n)).String(); res.DueDate != want {
			t.Fatalf("natural %s + %d = %s, want %s", s, n, res.DueDate, want)
		}
		b := NaturalDaysBudget(n)
		b.ExtendToWorkingDay = true
		ext, err := c.Add(s, b)
		if err != nil {
			t.Fatal(err)
		}
		if w, _ := c.IsWorkingDay(ext.DueDate); !w || ext.DueDate < res.DueDate {
			t.Fatalf("extended %s + %d = %s (plain %s)", s, n, ext.DueDate, res.DueDate)
		}
		h := int64(1 + r.Intn(500))
		rh, err := c.Add(s, HoursBudget(h))
		if err != nil {
			t.Fatal(err)
		}
		if !rh.DueAt.Equal(s.Add(time.Duration(h)*time.Hour)) || rh.DueDate != dayOf(rh.DueAt.Add(-time.Nanosecond)).String() {
			t.Fatalf("hours %s + %d = %+v", s, h, rh)
		}
		// Exact budgets with closed pauses: DueAt moves by exactly the paused time before it.
		pf := s.Add(time.Duration(r.Int63n(int64(time.Duration(h) * time.Hour))))
		pl := time.Duration(r.Int63n(int64(48 * time.Hour)))
		rp, err := c.AddWithPauses(s, HoursBudget(h), []Pause{{From: pf, To: pf.Add(pl)}})
		if err != nil {
			t.Fatal(err)
		}
		if !rp.DueAt.Equal(rh.DueAt.Add(pl)) {
			t.Fatalf("hours with pause %s+%s: %s, want %s", pf, pl, rp.DueAt, rh.DueAt.Add(pl))
		}
	}
}
