package workflows

import (
	"go.temporal.io/sdk/workflow"

	"redress/activities/activitydefs"
	"redress/models"
	notify "redress/notify/message"
)

// The transitions after the unit's work: the administration's review, the evaluator's
// feedback (by the tracking link or taken by phone), a reopening, and escalation by hand.

// onReview: the administration approves the handling (the evaluator is asked for feedback) or
// sends it back to the unit.
func (w *workOrder) onReview(ctx workflow.Context, req ActionRequest, c *change) error {
	var err error
	if err = w.meet(ctx, DLReview, c.at); err != nil {
		return err
	}
	if *req.Approve {
		w.Snapshot.State = models.StateFeedback
		err = w.startClock(ctx, DLFeedback, c.at, w.unitPath())
		// The outcome and a tracking link where the evaluator can say whether they are
		// satisfied with the handling.
		c.msgs = w.toEvaluator("feedback", true, w.params())
	} else {
		// Sent back: the rectification clock runs on from where it stopped (and the
		// unit's committed date stands).
		w.Snapshot.State = models.StateCalledBack
		w.reopenClock(DLRectify)
		if w.owners() {
			w.reopenClock(DLCommitted)
		}
	}
	return err
}

// closeWithFeedback records the evaluator's satisfaction given through the tracking link and
// closes the order; a dissatisfied evaluator is brought to the administration, which may reopen.
func (w *workOrder) closeWithFeedback(ctx workflow.Context, f EvaluatorFeedback) error {
	at := workflow.Now(ctx)
	w.Snapshot.State = models.StateClosed
	if err := w.meet(ctx, DLFeedback, at); err != nil {
		return err
	}
	data := map[string]any{"satisfaction": f.Satisfaction, "by": "tracking_link"}
	if f.Comment != "" {
		data["comment"] = f.Comment
	}
	var msgs []notify.Message
	if f.Satisfaction == models.Dissatisfied {
		msgs = w.toAdmins("dissatisfied", w.params())
	}
	return w.record(ctx, "evaluator", "evaluator_feedback", data, activitydefs.Row{}, msgs...)
}

// onRecordFeedback: the unit records the evaluator's word taken by phone; the order closes.
func (w *workOrder) onRecordFeedback(ctx workflow.Context, req ActionRequest, c *change) error {
	w.Snapshot.State = models.StateClosed
	err := w.meet(ctx, DLFeedback, c.at)
	c.data["by"] = "phone"
	if req.Satisfaction == models.Dissatisfied {
		c.msgs = w.toAdmins("dissatisfied", w.params())
	}
	return err
}

// onReopen: the administration reopens a closed order; the unit works it again.
func (w *workOrder) onReopen(ctx workflow.Context, req ActionRequest, c *change) error {
	w.Reopens++
	w.Snapshot.State = models.StateCalledBack
	for _, name := range []string{DLRectify, DLReview, DLFeedback, DLCommitted} {
		if d := w.current(name); d != nil && !d.Superseded {
			w.supersede(d, c.at)
		}
	}
	w.dirty = true
	if !w.owners() {
		return nil
	}
	// The unit works the order again against a fresh rectification clock.
	return w.startClock(ctx, DLRectify, c.at, w.unitPath())
}

// onEscalate: a supervisor raises the order's supervision by hand (at most 挂牌督办).
func (w *workOrder) onEscalate(ctx workflow.Context, req ActionRequest, c *change) error {
	if w.Snapshot.SupervisionLevel < 2 {
		w.Snapshot.SupervisionLevel++
	}
	w.ManualLevel = w.Snapshot.SupervisionLevel
	c.data["supervision_level"] = w.Snapshot.SupervisionLevel
	c.msgs = w.toSupervision(w.Snapshot.SupervisionLevel, w.params("level", levelLabel(w.Snapshot.SupervisionLevel), "note", req.Note))
	for i := range c.msgs {
		c.msgs[i].Template = "escalated"
	}
	return nil
}
