package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"redress/activities/activitydefs"
	"redress/models"
	"redress/scheme"
)

// The work order's clocks: one deadline per stage, the owner that answers for it, and what the
// transitions do with them (start, meet, pause, resume, extend, supersede). Each clock's due
// instant is computed by the ComputeDeadline activity on the working-day calendar; the
// clockwork that acts on them is in clockwork.go.

// Stage deadline names: the policy's keys, named once in package scheme.
const (
	DLSign           = scheme.StageSign
	DLCallback       = scheme.StageCallback
	DLRectify        = scheme.StageRectify
	DLAppealDecision = scheme.StageAppealDecision
	DLReview         = scheme.StageReview
	DLFeedback       = scheme.StageFeedback
	// DLDispatch is the administration's clock while an order waits for manual dispatch.
	DLDispatch = scheme.StageDispatch
	// DLRuling is the administration's clock while a returned order waits for its ruling.
	DLRuling = scheme.StageRuling
	// DLCommitted is the unit's own committed date of a ledger entry (台账承诺办结日期); it is
	// not a policy stage (its length is the unit's own promise), so scheme does not list it.
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
	Name       string                    `json:"name"`
	Budget     models.Budget             `json:"budget"`
	Start      time.Time                 `json:"start"`
	Pauses     []activitydefs.Pause      `json:"pauses,omitempty"`
	UnitPath   string                    `json:"unit_path"`
	Calc       activitydefs.DeadlineCalc `json:"calc"`
	MetAt      *time.Time                `json:"met_at,omitempty"`
	Reminded   bool                      `json:"reminded,omitempty"`
	Level      int                       `json:"level,omitempty"` // 1 breached, 2 breached by more than its budget
	Overdue    int                       `json:"overdue_days,omitempty"`
	Superseded bool                      `json:"superseded,omitempty"`
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
	spec := activitydefs.DeadlineSpec{
		Name: d.Name, Budget: d.Budget, Start: d.Start, Pauses: d.Pauses, UnitPath: d.UnitPath,
		RemindShare: w.Policy.RemindShare, WorkOrderID: w.input.WorkOrderID, AdminPath: w.Snapshot.Admin.Path, Retry: w.retrying,
	}
	var c activitydefs.DeadlineCalc
	if err := activitydefs.ComputeDeadline.Run(ctx, w.exec, spec).Get(ctx, &c); err != nil {
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
		if err := activitydefs.OverdueDays.Run(ctx, w.exec, d.UnitPath, d.Calc.DueAt, at).Get(ctx, &n); err != nil {
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
		d.Pauses = append(d.Pauses, activitydefs.Pause{From: at})
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
