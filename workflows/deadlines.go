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
	// DLDispatch is the administration's clock while an order waits for manual dispatch.
	DLDispatch = "dispatch"
	// DLRuling is the administration's clock while a returned order waits for its ruling.
	DLRuling = "ruling"
	// DLCommitted is the unit's own committed date of a ledger entry (台账承诺办结日期).
	DLCommitted = "committed"
)

// ClockOwnersChange is the version id of the change that gave every clock an owner
// (issue 15 part C): the administration's dispatch and ruling clocks, the paused callback
// clock while a return waits, the committed-date clock, the clock a reopening starts,
// escalation per owner and stage, and the receiver's clean start. Orders recorded before it
// keep the old path.
const ClockOwnersChange = "clock-owners"

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
	// Owner answers for the clock (reminders, supervision, figures).
	Owner        models.DeadlineOwner `json:"owner"`
	SupersededAt *time.Time           `json:"superseded_at,omitempty"`
}

func (d *deadline) open() bool { return d.MetAt == nil && !d.Superseded }

func (d *deadline) paused() bool {
	return len(d.Pauses) > 0 && d.Pauses[len(d.Pauses)-1].To == nil
}

func (d *deadline) computed() bool { return !d.Calc.DueAt.IsZero() }

// current returns the live clock of a stage, or nil.
func (w *workOrder) current(name string) *deadline {
	for i := len(w.Deadlines) - 1; i >= 0; i-- {
		if w.Deadlines[i].Name == name && !w.Deadlines[i].Superseded {
			return w.Deadlines[i]
		}
	}
	return nil
}

// ownerOf says who answers for a stage: the administration for its own decisions (manual
// dispatch, rulings on returns, appeal decisions, review), the evaluator for the feedback
// window, and the unit holding the order for everything else.
func (w *workOrder) ownerOf(name string) models.DeadlineOwner {
	admin := models.DeadlineOwner{Kind: models.OwnerAdministration, Code: w.Snapshot.Admin.Code, Path: w.Snapshot.Admin.Path}
	switch name {
	case DLDispatch, DLRuling, DLAppealDecision, DLReview:
		return admin
	case DLFeedback:
		return models.DeadlineOwner{Kind: models.OwnerEvaluator}
	}
	if w.Snapshot.Unit == nil {
		return admin
	}
	return models.DeadlineOwner{Kind: models.OwnerUnit, Code: w.Snapshot.Unit.Code, Path: w.Snapshot.Unit.Path}
}

// supersede retires a clock for the record.
func (w *workOrder) supersede(d *deadline, at time.Time) {
	d.Superseded = true
	if w.owners() {
		d.SupersededAt = &at
	}
	w.dirty = true
}

// owners reports whether the order runs with clock owners (ClockOwnersChange).
func (w *workOrder) owners() bool { return w.ClockOwnersVersion >= 1 }

// startClock starts (or restarts) a stage's clock for the unit at path.
func (w *workOrder) startClock(ctx workflow.Context, name string, at time.Time, unitPath string) error {
	if d := w.current(name); d != nil && (d.open() || (w.owners() && d.MetAt != nil)) {
		// With owners, a met clock of the stage is replaced too: the stage starts again and
		// the old clock (with its lateness) stays in the record, charged to its owner.
		w.supersede(d, at)
	}
	b, ok := w.Policy.Deadlines[name]
	if !ok {
		return nil
	}
	d := &deadline{Name: name, Budget: b, Start: at, UnitPath: unitPath, Owner: w.ownerOf(name)}
	w.Deadlines = append(w.Deadlines, d)
	return w.compute(ctx, d)
}

func (w *workOrder) compute(ctx workflow.Context, d *deadline) error {
	spec := activities.DeadlineSpec{
		Name: d.Name, Budget: d.Budget, Start: d.Start, Pauses: d.Pauses, UnitPath: d.UnitPath,
		RemindShare: w.Policy.RemindShare, WorkOrderID: w.input.WorkOrderID, AdminPath: w.Snapshot.Admin.Path, Retry: w.retrying,
	}
	var c activities.DeadlineCalc
	if err := w.exec(ctx, w.activities.ComputeDeadline, spec).Get(ctx, &c); err != nil {
		return fmt.Errorf("compute deadline %s: %w", d.Name, err)
	}
	if c.Budget != nil {
		// The policy's budget could not be computed and was fixed while the order waited:
		// the clock runs on the fixed one (handler state only, no new command).
		d.Budget = *c.Budget
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
		if err := w.exec(ctx, w.activities.OverdueDays, d.UnitPath, d.Calc.DueAt, at).Get(ctx, &n); err != nil {
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

// deadlineRows renders the clocks for the read-model, superseded ones included (with their
// owner, so an auditor sees the whole history), and the nearest open due instant.
func (w *workOrder) deadlineRows(now time.Time) ([]models.Deadline, *time.Time) {
	out := []models.Deadline{}
	var next *time.Time
	for _, d := range w.Deadlines {
		budget, unit := budgetString(d.Budget)
		owner := d.Owner
		if owner.Kind == "" {
			owner = w.ownerOf(d.Name)
		}
		row := models.Deadline{
			Name: d.Name, Budget: budget, Unit: unit, Start: d.Start, DueDate: d.Calc.DueDate,
			DueAt: d.Calc.DueAt, MetAt: d.MetAt, Paused: d.paused() && !d.Superseded, CalendarVersion: d.Calc.CalendarVersion,
			Owner: &owner, Superseded: d.Superseded, SupersededAt: d.SupersededAt, MissingYear: d.Calc.UncoveredYear,
			OverdueDays: d.Overdue,
		}
		if d.paused() {
			// Kept on a superseded clock too: it counted nothing from the pause on.
			p := d.Pauses[len(d.Pauses)-1].From
			row.PausedAt = &p
		}
		row.Status = deadlineStatus(row)
		if d.computed() && row.Owner.Kind != models.OwnerEvaluator {
			end := now
			if d.MetAt != nil {
				end = *d.MetAt
			} else if d.SupersededAt != nil {
				end = *d.SupersededAt
			}
			row.Overdue = end.After(d.Calc.DueAt) && !d.paused() && (!d.Superseded || d.SupersededAt != nil || d.MetAt != nil)
		}
		out = append(out, row)
		if d.open() && !d.paused() && d.computed() && !d.Superseded && owner.Kind != models.OwnerEvaluator && (next == nil || d.Calc.DueAt.Before(*next)) {
			t := d.Calc.DueAt
			next = &t
		}
	}
	return out, next
}

// deadlineStatus is a stored deadline's status.
func deadlineStatus(r models.Deadline) string {
	switch {
	case r.Superseded:
		return models.DeadlineSuperseded
	case r.MetAt != nil:
		return models.DeadlineMet
	case r.MissingYear != 0 || r.DueAt.IsZero():
		return models.DeadlineCalendarMissing
	case r.Paused:
		return models.DeadlinePaused
	}
	return models.DeadlineRunning
}

// overdueDays is the order's overdue count: the worst of its stages (stages run side by side,
// so adding them would count the same days twice). With owners, only the clocks the order's
// holder or the administration answers for count (a misrouting unit's lateness stays its own).
func (w *workOrder) overdueDays() int {
	n := 0
	for _, d := range w.Deadlines {
		if d.Superseded || d.Overdue <= n {
			continue
		}
		if w.owners() && (d.Owner.Kind == models.OwnerEvaluator ||
			(d.Owner.Kind == models.OwnerUnit && w.Snapshot.Unit != nil && d.Owner.Path != w.Snapshot.Unit.Path)) {
			continue
		}
		n = d.Overdue
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
	for _, d := range w.Deadlines {
		if !d.open() || d.paused() || !d.computed() {
			continue
		}
		if !d.Reminded && !d.Calc.RemindAt.IsZero() && d.Level == 0 && (!w.owners() || d.Owner.Kind != models.OwnerEvaluator) {
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
		owner := d.Owner
		if owner.Kind == "" {
			owner = w.ownerOf(d.Name)
		}
		data := map[string]any{"deadline": d.Name, "due_at": d.Calc.DueAt, "due_date": d.Calc.DueDate,
			"owner_kind": owner.Kind, "owner_path": owner.Path, "owner_code": owner.Code}
		switch a.kind {
		case "remind":
			d.Reminded = true
			msgs := w.toOwner(owner, "reminder", w.params("deadline", deadlineLabel(d.Name), "due", fmtCST(d.Calc.DueAt)))
			if err := w.record(ctx, "system", "reminder", data, activities.Row{}, msgs...); err != nil {
				return err
			}
			continue
		case "breach":
			d.Level = 1
			if w.owners() && owner.Kind == models.OwnerEvaluator {
				break // the evaluator's silence is nobody's lateness
			}
			w.Breaches++
			if w.owners() {
				if w.StageBreaches == nil {
					w.StageBreaches = map[string]int{}
				}
				w.StageBreaches[owner.Path+"|"+d.Name]++
			}
		case "long_breach":
			d.Level = 2
		}
		if d.Name == DLFeedback && w.Snapshot.State == models.StateFeedback {
			// No word from the evaluator in time: the order closes, and says so.
			w.Snapshot.State = models.StateClosed
			data["feedback"] = "none_received"
			if err := w.meet(ctx, DLFeedback, now); err != nil {
				return err
			}
			if err := w.record(ctx, "system", "closed_without_feedback", data, activities.Row{}); err != nil {
				return err
			}
			continue
		}
		if w.owners() && owner.Kind == models.OwnerEvaluator {
			continue
		}
		// 督办 on the first breach; 挂牌督办 on a second breach or one longer than the budget.
		// With owners a second breach is the same owner's same stage breaching again: two
		// stages breaching in the same minute are two first breaches.
		level := 1
		if d.Level == 2 || (!w.owners() && w.Breaches > 1) || (w.owners() && w.StageBreaches[owner.Path+"|"+d.Name] > 1) {
			level = 2
		}
		data["breach"] = a.kind
		if err := w.record(ctx, "system", "deadline_breached", data, activities.Row{}); err != nil {
			return err
		}
		if w.owners() {
			if err := w.superviseOwner(ctx, owner, d, a.kind, level); err != nil {
				return err
			}
			continue
		}
		if level > w.Snapshot.SupervisionLevel {
			w.Snapshot.SupervisionLevel = level
			sup := map[string]any{"level": level, "deadline": d.Name, "reason": a.kind,
				"notify": notifyFor(owner, level), "owner_kind": owner.Kind, "owner_path": owner.Path}
			msgs := w.toSupervisionOf(owner, level, w.params("deadline", deadlineLabel(d.Name), "due", fmtCST(d.Calc.DueAt), "level", levelLabel(level)))
			if err := w.record(ctx, "system", "supervision", sup, activities.Row{}, msgs...); err != nil {
				return err
			}
		}
	}
	return nil
}

// superviseOwner raises the supervision of the owner of a breached clock: each owner has its
// own level (the administration's delay does not raise the unit's), the order shows the
// highest level that stands against its holder or the administration.
func (w *workOrder) superviseOwner(ctx workflow.Context, owner models.DeadlineOwner, d *deadline, kind string, level int) error {
	if w.OwnerLevels == nil {
		w.OwnerLevels = map[string]int{}
	}
	if level <= w.OwnerLevels[owner.Path] {
		return nil
	}
	w.OwnerLevels[owner.Path] = level
	w.Snapshot.SupervisionLevel = w.standingLevel()
	sup := map[string]any{"level": level, "deadline": d.Name, "reason": kind,
		"notify": notifyFor(owner, level), "owner_kind": owner.Kind, "owner_path": owner.Path, "owner_code": owner.Code}
	msgs := w.toSupervisionOf(owner, level, w.params("deadline", deadlineLabel(d.Name), "due", fmtCST(d.Calc.DueAt), "level", levelLabel(level)))
	return w.record(ctx, "system", "supervision", sup, activities.Row{}, msgs...)
}

// standingLevel is the order's supervision level: the highest of its holder's and the
// administration's (a misrouting unit's supervision stays with that unit).
func (w *workOrder) standingLevel() int {
	n := w.OwnerLevels[w.Snapshot.Admin.Path]
	if w.Snapshot.Unit != nil && w.OwnerLevels[w.Snapshot.Unit.Path] > n {
		n = w.OwnerLevels[w.Snapshot.Unit.Path]
	}
	if w.ManualLevel > n {
		n = w.ManualLevel
	}
	return n
}

// notifyFor says who a supervision notice goes to.
func notifyFor(owner models.DeadlineOwner, level int) []string {
	lead := "unit_leader"
	if owner.Kind == models.OwnerAdministration {
		lead = "administration_leader"
	}
	if level >= 2 {
		return []string{lead, "supervisor", "auditor"}
	}
	return []string{lead, "supervisor"}
}

// recomputeAll computes every open clock again (after a calendar change) and records what
// moved.
func (w *workOrder) recomputeAll(ctx workflow.Context, reason string) error {
	var moved []map[string]any
	for _, d := range w.Deadlines {
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
	for _, d := range w.Deadlines {
		if d.open() && d.Calc.UncoveredYear != 0 {
			out = append(out, map[string]any{"deadline": d.Name, "year": d.Calc.UncoveredYear})
		}
	}
	return out
}
