package workflows

import (
	"fmt"
	"sort"
	"time"

	"go.temporal.io/sdk/workflow"

	"redress/activities"
	"redress/models"
)

// Stage deadline names (the policy's keys).
const (
	DLSign           = "sign"
	DLCallback       = "callback"
	DLRectify        = "rectify"
	DLAppealDecision = "appeal_decision"
	DLReview         = "review"
	DLFeedback       = "feedback"
)

// RecomputeSignal tells a work order that the calendar changed: its open deadlines are
// computed again, and the timeline says what moved.
const RecomputeSignal = "recompute_deadlines"

// deadline is one stage's clock. Deadlines are never deleted: a restarted clock supersedes
// the old one, which stays for the record.
type deadline struct {
	Name       string                  `json:"name"`
	Budget     models.Budget           `json:"budget"`
	Start      time.Time               `json:"start"`
	Pauses     []activities.Pause      `json:"pauses,omitempty"`
	UnitPath   string                  `json:"unit_path"`
	Calc       activities.DeadlineCalc `json:"calc"`
	MetAt      *time.Time              `json:"met_at,omitempty"`
	Reminded   bool                    `json:"reminded,omitempty"`
	Level      int                     `json:"level,omitempty"` // 1 breached, 2 breached by more than its budget
	Overdue    int                     `json:"overdue_days,omitempty"`
	Superseded bool                    `json:"superseded,omitempty"`
}

func (d *deadline) open() bool { return d.MetAt == nil && !d.Superseded }

func (d *deadline) paused() bool {
	return len(d.Pauses) > 0 && d.Pauses[len(d.Pauses)-1].To == nil
}

func (d *deadline) computed() bool { return !d.Calc.DueAt.IsZero() }

// current returns the live clock of a stage, or nil.
func (w *workOrder) current(name string) *deadline {
	for i := len(w.dls) - 1; i >= 0; i-- {
		if w.dls[i].Name == name && !w.dls[i].Superseded {
			return w.dls[i]
		}
	}
	return nil
}

// startClock starts (or restarts) a stage's clock for the unit at path.
func (w *workOrder) startClock(ctx workflow.Context, name string, at time.Time, unitPath string) error {
	if d := w.current(name); d != nil && d.open() {
		d.Superseded = true
	}
	b, ok := w.policy.Deadlines[name]
	if !ok {
		return nil
	}
	d := &deadline{Name: name, Budget: b, Start: at, UnitPath: unitPath}
	w.dls = append(w.dls, d)
	return w.compute(ctx, d)
}

func (w *workOrder) compute(ctx workflow.Context, d *deadline) error {
	spec := activities.DeadlineSpec{
		Name: d.Name, Budget: d.Budget, Start: d.Start, Pauses: d.Pauses, UnitPath: d.UnitPath,
		RemindShare: w.policy.RemindShare,
	}
	var c activities.DeadlineCalc
	if err := w.exec(ctx, w.a.ComputeDeadline, spec).Get(ctx, &c); err != nil {
		return fmt.Errorf("compute deadline %s: %w", d.Name, err)
	}
	d.Calc = c
	w.dirty = true
	return nil
}

// meet stops a stage's clock; a late stop counts the working days overdue.
func (w *workOrder) meet(ctx workflow.Context, name string, at time.Time) error {
	d := w.current(name)
	if d == nil || !d.open() {
		return nil
	}
	d.MetAt = &at
	w.dirty = true
	if d.computed() && at.After(d.Calc.DueAt) {
		var n int
		if err := w.exec(ctx, w.a.OverdueDays, d.UnitPath, d.Calc.DueAt, at).Get(ctx, &n); err != nil {
			return fmt.Errorf("overdue days %s: %w", name, err)
		}
		d.Overdue = n
	}
	return nil
}

// reopenClock lets a met stage's clock run on (work sent back by review continues the same
// rectification clock rather than starting a fresh budget).
func (w *workOrder) reopenClock(name string) {
	if d := w.current(name); d != nil && d.MetAt != nil {
		d.MetAt = nil
		d.Overdue = 0
		w.dirty = true
	}
}

func (w *workOrder) pauseClock(name string, at time.Time) {
	if d := w.current(name); d != nil && d.open() && !d.paused() {
		d.Pauses = append(d.Pauses, activities.Pause{From: at})
		w.dirty = true
	}
}

func (w *workOrder) resumeClock(ctx workflow.Context, name string, at time.Time) error {
	d := w.current(name)
	if d == nil || !d.open() || !d.paused() {
		return nil
	}
	d.Pauses[len(d.Pauses)-1].To = &at
	return w.compute(ctx, d)
}

// extendClock adds working (or natural) days to a stage's budget.
func (w *workOrder) extendClock(ctx workflow.Context, name string, days int) error {
	d := w.current(name)
	if d == nil || !d.open() {
		return nil
	}
	b := d.Budget
	switch {
	case b.WorkingDays != nil:
		n := *b.WorkingDays + days
		b.WorkingDays = &n
	case b.NaturalDays != nil:
		n := *b.NaturalDays + days
		b.NaturalDays = &n
	default:
		// An hour or duration budget grows by whole days of 24 hours.
		h := days * 24
		if b.Hours != nil {
			h += *b.Hours
		} else {
			dur, _ := time.ParseDuration(*b.Duration)
			s := (dur + time.Duration(h)*time.Hour).String()
			b.Duration, h = &s, -1
		}
		if h >= 0 {
			b.Hours = &h
		}
	}
	d.Budget = b
	return w.compute(ctx, d)
}

// budgetString renders a budget as API.md's deadline fields (budget, unit).
func budgetString(b models.Budget) (string, string) {
	switch {
	case b.WorkingDays != nil:
		return fmt.Sprint(*b.WorkingDays), "working_days"
	case b.NaturalDays != nil:
		return fmt.Sprint(*b.NaturalDays), "natural_days"
	case b.Hours != nil:
		return fmt.Sprint(*b.Hours), "hours"
	case b.Duration != nil:
		return *b.Duration, "duration"
	}
	return "", ""
}

// deadlineRows renders the live clocks for the read-model, and the nearest open due instant.
func (w *workOrder) deadlineRows(now time.Time) ([]models.Deadline, *time.Time) {
	out := []models.Deadline{}
	var next *time.Time
	for _, d := range w.dls {
		if d.Superseded {
			continue
		}
		budget, unit := budgetString(d.Budget)
		row := models.Deadline{
			Name: d.Name, Budget: budget, Unit: unit, Start: d.Start, DueDate: d.Calc.DueDate,
			DueAt: d.Calc.DueAt, MetAt: d.MetAt, Paused: d.paused(), CalendarVersion: d.Calc.CalendarVersion,
		}
		if d.computed() {
			end := now
			if d.MetAt != nil {
				end = *d.MetAt
			}
			row.Overdue = end.After(d.Calc.DueAt) && !d.paused()
		}
		out = append(out, row)
		if d.open() && !d.paused() && d.computed() && (next == nil || d.Calc.DueAt.Before(*next)) {
			t := d.Calc.DueAt
			next = &t
		}
	}
	return out, next
}

// overdueDays is the order's overdue count: the worst of its stages (stages run side by side,
// so adding them would count the same days twice).
func (w *workOrder) overdueDays() int {
	n := 0
	for _, d := range w.dls {
		if !d.Superseded && d.Overdue > n {
			n = d.Overdue
		}
	}
	return n
}

// alarm is the next moment a clock needs attention.
type alarm struct {
	at   time.Time
	d    *deadline
	kind string // remind, breach, long_breach
}

func (w *workOrder) alarms() []alarm {
	var out []alarm
	for _, d := range w.dls {
		if !d.open() || d.paused() || !d.computed() {
			continue
		}
		if !d.Reminded && !d.Calc.RemindAt.IsZero() && d.Level == 0 {
			out = append(out, alarm{d.Calc.RemindAt, d, "remind"})
		}
		switch d.Level {
		case 0:
			out = append(out, alarm{d.Calc.DueAt, d, "breach"})
		case 1:
			// Overdue by more than the whole budget again: listed supervision.
			out = append(out, alarm{d.Calc.DueAt.Add(d.Calc.DueAt.Sub(d.Start)), d, "long_breach"})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out
}

// fire handles every alarm that is due: reminders, breaches and their supervision.
func (w *workOrder) fire(ctx workflow.Context, now time.Time) error {
	for _, a := range w.alarms() {
		if a.at.After(now) {
			break
		}
		d := a.d
		data := map[string]any{"deadline": d.Name, "due_at": d.Calc.DueAt, "due_date": d.Calc.DueDate}
		switch a.kind {
		case "remind":
			d.Reminded = true
			msgs := w.toUnit("reminder", w.params("deadline", deadlineLabel(d.Name), "due", fmtCST(d.Calc.DueAt)))
			if err := w.record(ctx, "system", "reminder", data, activities.Row{}, msgs...); err != nil {
				return err
			}
			continue
		case "breach":
			d.Level = 1
			w.breaches++
		case "long_breach":
			d.Level = 2
		}
		if d.Name == DLFeedback && w.s.State == models.StateFeedback {
			// No word from the evaluator in time: the order closes, and says so.
			w.s.State = models.StateClosed
			data["feedback"] = "none_received"
			if err := w.meet(ctx, DLFeedback, now); err != nil {
				return err
			}
			if err := w.record(ctx, "system", "closed_without_feedback", data, activities.Row{}); err != nil {
				return err
			}
			continue
		}
		// 督办 on the first breach; 挂牌督办 on a second breach or one longer than the budget.
		level := 1
		if d.Level == 2 || w.breaches > 1 {
			level = 2
		}
		data["breach"] = a.kind
		if err := w.record(ctx, "system", "deadline_breached", data, activities.Row{}); err != nil {
			return err
		}
		if level > w.s.SupervisionLevel {
			w.s.SupervisionLevel = level
			sup := map[string]any{"level": level, "deadline": d.Name, "reason": a.kind,
				"notify": notifyFor(level)}
			msgs := w.toSupervision(level, w.params("deadline", deadlineLabel(d.Name), "due", fmtCST(d.Calc.DueAt), "level", levelLabel(level)))
			if err := w.record(ctx, "system", "supervision", sup, activities.Row{}, msgs...); err != nil {
				return err
			}
		}
	}
	return nil
}

// notifyFor says who a supervision notice goes to.
func notifyFor(level int) []string {
	if level >= 2 {
		return []string{"unit_leader", "supervisor", "auditor"}
	}
	return []string{"unit_leader", "supervisor"}
}

// recomputeAll computes every open clock again (after a calendar change) and records what
// moved.
func (w *workOrder) recomputeAll(ctx workflow.Context, reason string) error {
	var moved []map[string]any
	for _, d := range w.dls {
		if !d.open() {
			continue
		}
		before := d.Calc
		if err := w.compute(ctx, d); err != nil {
			return err
		}
		if !before.DueAt.Equal(d.Calc.DueAt) || before.CalendarVersion != d.Calc.CalendarVersion || before.UncoveredYear != d.Calc.UncoveredYear {
			moved = append(moved, map[string]any{
				"deadline": d.Name, "from": before.DueDate, "to": d.Calc.DueDate,
				"from_version": before.CalendarVersion, "to_version": d.Calc.CalendarVersion,
			})
			if d.Calc.DueAt.After(now(ctx)) && d.Level > 0 {
				// The breach no longer stands under the corrected calendar.
				d.Level = 0
			}
		}
	}
	if len(moved) == 0 {
		return nil
	}
	return w.record(ctx, "system", "deadlines_recomputed", map[string]any{"reason": reason, "moved": moved}, activities.Row{})
}

func now(ctx workflow.Context) time.Time { return workflow.Now(ctx).UTC() }

// uncovered lists the deadlines that wait for a calendar year.
func (w *workOrder) uncovered() []map[string]any {
	var out []map[string]any
	for _, d := range w.dls {
		if d.open() && d.Calc.UncoveredYear != 0 {
			out = append(out, map[string]any{"deadline": d.Name, "year": d.Calc.UncoveredYear})
		}
	}
	return out
}
