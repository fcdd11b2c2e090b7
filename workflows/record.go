package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"redress/activities/activitydefs"
	"redress/clock"
	"redress/models"
	notify "redress/notify/message"
)

// Persistence of the work order's events: every transition ends in record, which appends the
// next timeline event and writes the read-model row (state, clocks as the API shows them,
// supervision level, overdue days) in one activity.

// record appends the next timeline event and applies it to the read-model.
func (w *workOrder) record(ctx workflow.Context, actor, typ string, data map[string]any, row activitydefs.Row, msgs ...notify.Message) error {
	w.Snapshot.Seq++
	row.State = w.Snapshot.State
	now := workflow.Now(ctx)
	row.DeadlinesSet = true
	row.Deadlines, row.NextDueAt = w.deadlineRows(now)
	lvl, od := w.Snapshot.SupervisionLevel, w.overdueDays()
	row.SupervisionLevel, row.OverdueDays = &lvl, &od
	if u := w.uncovered(); len(u) > 0 {
		data["uncovered_calendar"] = u
	}
	if len(msgs) > 0 {
		data["notified"] = recipients(msgs)
	}
	ev := activitydefs.Event{
		WorkOrderID: w.input.WorkOrderID, WorkflowID: w.workflowID, RunID: workflow.GetInfo(ctx).WorkflowExecution.RunID, Seq: w.Snapshot.Seq, At: now,
		Actor: actor, Type: typ, Data: data, Row: row, Notify: msgs,
	}
	if err := activitydefs.RecordEvent.Run(ctx, w.exec, ev).Get(ctx); err != nil {
		return fmt.Errorf("record %s: %w", typ, err)
	}
	return nil
}

// actionData is the timeline's record of an action: its fields without the caller's grants.
func actionData(req ActionRequest) map[string]any {
	d := map[string]any{}
	put := func(k string, v any, ok bool) {
		if ok {
			d[k] = v
		}
	}
	put("to_unit", req.ToUnit, req.ToUnit != "")
	put("reason", req.Reason, req.Reason != "")
	put("accept", isTrue(req.Accept), req.Accept != nil)
	put("reached", isTrue(req.Reached), req.Reached != nil)
	put("method", req.Method, req.Method != "")
	put("note", req.Note, req.Note != "")
	put("true", isTrue(req.True), req.True != nil)
	put("reasonable", isTrue(req.Reasonable), req.Reasonable != nil)
	put("disposition", req.Disposition, req.Disposition != "")
	put("measures", req.Measures, req.Measures != "")
	put("plan", req.Plan, req.Plan != "")
	put("committed_date", req.CommittedDate, req.CommittedDate != "")
	put("explanation", req.Explanation, req.Explanation != "")
	put("appeal_reason", req.AppealReason, req.AppealReason != "")
	put("evidence", req.Evidence, req.Evidence != "")
	if req.Days != nil {
		d["days"] = *req.Days
	}
	put("approve", isTrue(req.Approve), req.Approve != nil)
	put("upheld", isTrue(req.Upheld), req.Upheld != nil)
	put("satisfaction", req.Satisfaction, req.Satisfaction != "")
	put("comment", req.Comment, req.Comment != "")
	return d
}

// isTrue reads an optional flag of a request (absent is false).
func isTrue(b *bool) bool { return b != nil && *b }

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
		row.Status = clock.Status(row) // the status every reader derives
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
