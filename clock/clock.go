// Package clock reads a work order's stored deadlines as of now: how many days each is
// overdue, in the deadline's own unit (working days on the unit's calendar for working-day
// budgets, natural days otherwise), and the order's figure. The list, the order page, the
// export, the supervisor's board and the statistics all count with these functions, so that
// the same order shows the same number everywhere, and a deadline that passed while nobody
// acted is counted from the moment it passed, not from the next action.
package clock

import (
	"context"
	"time"

	"redress/calendar"
	"redress/models"
)

// Source gives the working-day calendar of a unit (a *calendardb.Cache).
type Source interface {
	Calendar(ctx context.Context, unitPath string) (*calendar.Calendar, error)
}

// end is the instant up to which a deadline's lateness counts: when it was met, superseded or
// paused, else now.
func end(d models.Deadline, now time.Time) time.Time {
	e := now
	for _, t := range []*time.Time{d.MetAt, d.SupersededAt, d.PausedAt} {
		if t != nil && t.Before(e) {
			e = *t
		}
	}
	return e
}

// Days is how many days the deadline is overdue as of now (0 when it is not, when it has no
// computed date, when nobody answers for it, or when its calendar year is missing). A superseded
// deadline stored before superseded_at was recorded counts nothing.
func Days(ctx context.Context, src Source, calendarPath string, d models.Deadline, now time.Time) int {
	if d.DueAt.IsZero() || !d.Charged() || (d.Superseded && d.SupersededAt == nil && d.MetAt == nil) {
		return 0
	}
	e := end(d, now)
	if !e.After(d.DueAt) {
		return 0
	}
	if d.Unit == string(calendar.WorkingDays) && src != nil {
		cal, err := src.Calendar(ctx, calendarPath)
		if err == nil {
			if n, err := cal.OverdueDays(d.DueAt, e); err == nil {
				return n
			}
		}
		// A calendar that cannot answer (a missing year) leaves the stored figure.
		return d.OverdueDays
	}
	return NaturalDays(d.DueAt, e)
}

// NaturalDays counts the Asia/Shanghai days from the one on which dueAt falls through the one
// of at (a deadline that passed at 24:00 is one day late during the whole next day).
func NaturalDays(dueAt, at time.Time) int {
	if !at.After(dueAt) {
		return 0
	}
	z := calendar.Zone()
	day := func(t time.Time) int64 {
		y, m, d := t.In(z).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	}
	last := day(at)
	if s := at.In(z); s.Hour() == 0 && s.Minute() == 0 && s.Second() == 0 && s.Nanosecond() == 0 {
		last-- // a day that begins exactly now has not begun to be overdue
	}
	return int(last - day(dueAt) + 1)
}

// Fill sets each deadline's OverdueDays (and Overdue) as of now.
func Fill(ctx context.Context, src Source, orderUnitPath string, ds []models.Deadline, now time.Time) {
	for i := range ds {
		d := &ds[i]
		n := Days(ctx, src, d.OwnerPath(orderUnitPath), *d, now)
		d.OverdueDays = n
		d.Overdue = d.Charged() && !d.DueAt.IsZero() && !d.Paused && end(*d, now).After(d.DueAt)
		if d.Status == "" {
			d.Status = Status(*d)
		}
	}
}

// Status derives a deadline's status (for deadlines stored before the status was).
func Status(d models.Deadline) string {
	switch {
	case d.Superseded:
		return models.DeadlineSuperseded
	case d.MetAt != nil:
		return models.DeadlineMet
	case d.MissingYear != 0 || d.DueAt.IsZero():
		return models.DeadlineCalendarMissing
	case d.Paused:
		return models.DeadlinePaused
	}
	return models.DeadlineRunning
}

// OrderDays is an order's overdue days as of now: the worst of the clocks that stand now (not
// superseded) and that someone answers for; stages run side by side, so adding them would
// count the same days twice. The clocks of a unit that no longer holds the order stay charged
// to that unit (OwnerDays), not to the order's receiver.
func OrderDays(ctx context.Context, src Source, orderUnitPath string, ds []models.Deadline, now time.Time) int {
	n := 0
	for _, d := range ds {
		if d.Superseded || !d.Charged() {
			continue
		}
		if d.Owner != nil && d.Owner.Kind == models.OwnerUnit && d.Owner.Path != orderUnitPath {
			continue // a misrouting unit's own clock
		}
		if k := Days(ctx, src, d.OwnerPath(orderUnitPath), d, now); k > n {
			n = k
		}
	}
	return n
}

// OwnerDays is the overdue days of an order charged to each owner (by unit path), superseded
// clocks included: the worst of each owner's clocks.
func OwnerDays(ctx context.Context, src Source, orderUnitPath string, ds []models.Deadline, now time.Time) map[string]int {
	out := map[string]int{}
	for _, d := range ds {
		if !d.Charged() {
			continue
		}
		p := d.OwnerPath(orderUnitPath)
		if k := Days(ctx, src, p, d, now); k > out[p] {
			out[p] = k
		}
	}
	return out
}
