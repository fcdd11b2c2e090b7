package workflows

import (
	"sort"
	"time"

	"go.temporal.io/sdk/workflow"

	"redress/activities/activitydefs"
	"redress/models"
)

// The work order's clockwork: the loop that sleeps until the next alarm of its clocks and
// handles it (reminders, breaches and the supervision they bring), recomputes the clocks when
// the calendar changes, hands the order to a new run past its history budget, and ends the
// workflow when a closed order's reopen window is over. The clocks themselves are in
// deadlines.go.

// watch is the order's clockwork: it sleeps until the nearest alarm of its deadlines, handles
// it, and starts over whenever an action or the calendar moves a clock. A closed order waits
// for a reopening for a while, then the workflow ends.
func (w *workOrder) watch(ctx workflow.Context) error {
	for {
		if w.Snapshot.State != models.StateClosed {
			w.ClosedAt = time.Time{}
		} else if w.ClosedAt.IsZero() {
			w.ClosedAt = workflow.Now(ctx)
		}
		// Between actions, a history past its budget hands the order to a new run (carry.go).
		handOver := func() bool { return !w.noContinue && overBudget(ctx) }
		if w.Recompute == "" && handOver() {
			if w.version(ctx, ContinueAsNewChange, 1) == 1 {
				return w.continueAsNew(ctx)
			}
			w.noContinue = true // an order of an older worker: it runs on as it did
		}
		w.dirty = false
		wake := func() bool { return w.dirty || w.Recompute != "" || handOver() }
		var fired bool
		switch due := w.alarms(); {
		case w.Snapshot.State == models.StateClosed:
			left := w.reopenWindow() - workflow.Now(ctx).Sub(w.ClosedAt)
			ok, err := workflow.AwaitWithTimeout(ctx, left, func() bool { return w.Snapshot.State != models.StateClosed || wake() })
			if err != nil {
				return err
			}
			if !ok {
				if end, err := w.windowOver(ctx); end {
					return err
				}
				continue
			}
		case len(due) == 0:
			if err := workflow.Await(ctx, wake); err != nil {
				return err
			}
		default:
			ok, err := workflow.AwaitWithTimeout(ctx, due[0].at.Sub(workflow.Now(ctx)), wake)
			if err != nil {
				return err
			}
			fired = !ok
		}
		if !fired && w.Recompute == "" {
			continue
		}
		if err := w.tick(ctx); err != nil {
			return err
		}
	}
}

// windowOver is the end of a closed order's reopen window: it reports whether the workflow
// ends. A reopening accepted before the end is applied first, and one that reopened the order
// keeps the workflow running.
func (w *workOrder) windowOver(ctx workflow.Context) (bool, error) {
	if !w.owners() {
		return true, workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	}
	// Refuse new reopenings, let the accepted ones finish, and end only if none of them
	// reopened the order (a reopening is applied or refused, never accepted and then lost
	// with the workflow).
	w.Ending = true
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return true, err
	}
	if w.Snapshot.State == models.StateClosed {
		return true, nil
	}
	w.Ending = false
	return false, nil
}

// tick handles what woke the clockwork, in turn with the actions: a calendar change's
// recomputation, then every alarm that is due. A step that fails is undone and made visible,
// and tried again after a while (an action may come first).
func (w *workOrder) tick(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return !w.busy }); err != nil {
		return err
	}
	w.busy = true
	before, err := w.save()
	if err != nil {
		return err
	}
	if w.Recompute != "" {
		reason := w.Recompute
		w.Recompute = ""
		err = w.recomputeAll(ctx, reason)
	}
	if err == nil {
		err = w.fire(ctx, workflow.Now(ctx))
	}
	if err != nil {
		if err := w.stepFailed(ctx, before, "clock", err, false); err != nil {
			w.busy = false
			return err
		}
		w.busy = false
		_, err := workflow.AwaitWithTimeout(ctx, clockRetry, func() bool { return false })
		return err
	}
	w.Failed, w.retrying = "", false
	w.busy = false
	return nil
}

// defaultReopenWindow is how long a closed order's workflow stays to accept a reopening, for
// orders recorded before the window became policy (reopen_window) and for policies without it.
const defaultReopenWindow = 30 * 24 * time.Hour

// reopenWindow is how long a closed order waits for a reopening (policy reopen_window).
func (w *workOrder) reopenWindow() time.Duration {
	if !w.owners() || w.Policy.ReopenWindow == nil {
		return defaultReopenWindow
	}
	return budgetDuration(*w.Policy.ReopenWindow, defaultReopenWindow)
}

// budgetDuration reads a window budget as a span of time (days of 24 hours).
func budgetDuration(b models.Budget, def time.Duration) time.Duration {
	switch {
	case b.NaturalDays != nil:
		return time.Duration(*b.NaturalDays) * 24 * time.Hour
	case b.WorkingDays != nil:
		return time.Duration(*b.WorkingDays) * 24 * time.Hour
	case b.Hours != nil:
		return time.Duration(*b.Hours) * time.Hour
	case b.Duration != nil:
		if d, err := time.ParseDuration(*b.Duration); err == nil {
			return d
		}
	}
	return def
}

// alarm is the next moment a clock needs attention.
type alarm struct {
	at    time.Time
	clock *deadline
	kind  string // remind, breach, long_breach
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
		d := a.clock
		owner := d.Owner
		if owner.Kind == "" {
			owner = w.ownerOf(d.Name)
		}
		data := map[string]any{"deadline": d.Name, "due_at": d.Calc.DueAt, "due_date": d.Calc.DueDate,
			"owner_kind": owner.Kind, "owner_path": owner.Path, "owner_code": owner.Code}
		var err error
		if a.kind == "remind" {
			err = w.remind(ctx, d, owner, data)
		} else {
			err = w.breach(ctx, a, owner, data, now)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// remind tells the owner of a clock that its due instant is near.
func (w *workOrder) remind(ctx workflow.Context, d *deadline, owner models.DeadlineOwner, data map[string]any) error {
	d.Reminded = true
	msgs := w.toOwner(owner, "reminder", w.params("deadline", deadlineLabel(d.Name), "due", fmtCST(d.Calc.DueAt)))
	return w.record(ctx, "system", "reminder", data, activitydefs.Row{}, msgs...)
}

// breach records a clock that ran out (breach) or ran out by more than its budget again
// (long_breach), with the supervision it brings; the feedback window running out closes the
// order instead.
func (w *workOrder) breach(ctx workflow.Context, a alarm, owner models.DeadlineOwner, data map[string]any, now time.Time) error {
	d := a.clock
	switch a.kind {
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
		return w.record(ctx, "system", "closed_without_feedback", data, activitydefs.Row{})
	}
	if w.owners() && owner.Kind == models.OwnerEvaluator {
		return nil
	}
	// 督办 on the first breach; 挂牌督办 on a second breach or one longer than the budget.
	// With owners a second breach is the same owner's same stage breaching again: two
	// stages breaching in the same minute are two first breaches.
	level := 1
	if d.Level == 2 || (!w.owners() && w.Breaches > 1) || (w.owners() && w.StageBreaches[owner.Path+"|"+d.Name] > 1) {
		level = 2
	}
	data["breach"] = a.kind
	if err := w.record(ctx, "system", "deadline_breached", data, activitydefs.Row{}); err != nil {
		return err
	}
	if w.owners() {
		return w.superviseOwner(ctx, owner, d, a.kind, level)
	}
	if level <= w.Snapshot.SupervisionLevel {
		return nil
	}
	w.Snapshot.SupervisionLevel = level
	sup := map[string]any{"level": level, "deadline": d.Name, "reason": a.kind,
		"notify": notifyFor(owner, level), "owner_kind": owner.Kind, "owner_path": owner.Path}
	msgs := w.toSupervisionOf(owner, level, w.params("deadline", deadlineLabel(d.Name), "due", fmtCST(d.Calc.DueAt), "level", levelLabel(level)))
	return w.record(ctx, "system", "supervision", sup, activitydefs.Row{}, msgs...)
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
	return w.record(ctx, "system", "supervision", sup, activitydefs.Row{}, msgs...)
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
			if d.Calc.DueAt.After(nowUTC(ctx)) && d.Level > 0 {
				// The breach no longer stands under the corrected calendar.
				d.Level = 0
			}
		}
	}
	if len(moved) == 0 {
		return nil
	}
	return w.record(ctx, "system", "deadlines_recomputed", map[string]any{"reason": reason, "moved": moved}, activitydefs.Row{})
}

func nowUTC(ctx workflow.Context) time.Time { return workflow.Now(ctx).UTC() }
