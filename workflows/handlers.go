package workflows

import (
	"fmt"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/workflow"

	"redress/models"
)

// The work order's handlers: how an officer's action and the evaluator's feedback (Temporal
// updates), a calendar change (a signal) and the state query reach the order, and the checks
// that refuse an update before it enters the history. What an accepted action does is in
// transitions.go.

// setup registers the handlers. A calendar change only marks the order for recomputation: the
// clockwork does it, in turn with the actions.
func (w *workOrder) setup(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, StateQuery, func() (Snapshot, error) { return w.Snapshot, nil }); err != nil {
		return err
	}
	ch := workflow.GetSignalChannel(ctx, RecomputeSignal)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var reason string
			ch.Receive(ctx, &reason)
			w.Recompute, w.dirty = reason, true
		}
	})
	if err := workflow.SetUpdateHandlerWithOptions(ctx, FeedbackUpdate, w.evaluatorFeedback, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, f EvaluatorFeedback) error { return w.checkFeedback(f) },
	}); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, ActionUpdate, w.act, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, req ActionRequest) error {
			if err := w.check(req, workflow.Now(ctx)); err != nil {
				return err
			}
			if err := w.checkRepeats(req); err != nil { // validator only: see limits.go
				return err
			}
			return separationOfDuties(w.Actors, req) // validator only: see duties.go
		},
	})
}

// MaxFeedbackLength is the longest comment the evaluator's feedback takes, in characters.
const MaxFeedbackLength = 500

// EvaluatorFeedback is the evaluator's word on the handling, given through the tracking link.
type EvaluatorFeedback struct {
	Satisfaction string `json:"satisfaction"`
	Comment      string `json:"comment,omitempty"`
}

func (w *workOrder) checkFeedback(f EvaluatorFeedback) error {
	if w.Snapshot.State != models.StateFeedback {
		return refuse(ErrWrongState, "feedback is not asked for now")
	}
	switch f.Satisfaction {
	case models.Satisfied, models.BasicallySatisfied, models.Dissatisfied:
	default:
		return invalid("satisfaction", "invalid_satisfaction", "satisfaction must be satisfied, basically_satisfied or dissatisfied")
	}
	if utf8.RuneCountInString(f.Comment) > MaxFeedbackLength {
		return invalid("comment", "too_long", "comment is longer than %d characters", MaxFeedbackLength)
	}
	return nil
}

// evaluatorFeedback takes the evaluator's word from the tracking link (closeWithFeedback).
func (w *workOrder) evaluatorFeedback(ctx workflow.Context, f EvaluatorFeedback) (ActionResult, error) {
	return w.step(ctx, "evaluator_feedback", func() error { return w.checkFeedback(f) },
		func() error { return w.closeWithFeedback(ctx, f) })
}

// act applies an accepted action (apply) and notes who took it.
func (w *workOrder) act(ctx workflow.Context, req ActionRequest) (ActionResult, error) {
	return w.step(ctx, req.Action, func() error { return w.check(req, workflow.Now(ctx)) }, func() error {
		from := w.Snapshot.State
		if err := w.apply(ctx, req); err != nil {
			return err
		}
		w.Actors.note(req)
		w.countRepeat(from, req.Action)
		w.retrying = false
		return nil
	})
}

// step applies one update, one at a time: it waits for the step before it, checks again (a
// step applied meanwhile may have changed the state), saves the state, and undoes a step whose
// activity failed (stepFailed). It answers the state the order is in afterwards.
func (w *workOrder) step(ctx workflow.Context, name string, check, apply func() error) (ActionResult, error) {
	if err := workflow.Await(ctx, func() bool { return !w.busy }); err != nil {
		return ActionResult{}, err
	}
	if err := check(); err != nil {
		return ActionResult{}, err
	}
	w.busy = true
	defer func() { w.busy = false }()
	before, err := w.save()
	if err != nil {
		return ActionResult{}, err
	}
	if err := apply(); err != nil {
		return ActionResult{}, w.stepFailed(ctx, before, name, err, true)
	}
	return ActionResult{State: w.Snapshot.State, Seq: w.Snapshot.Seq}, nil
}

// check adds the order's own rules to the actions table: an appeal only against a rating of
// staff conduct, and an extension decision only when one was requested.
func (w *workOrder) check(req ActionRequest, now time.Time) error {
	if w.Snapshot.Seq == 0 {
		// The order's first workflow task has not yet resolved its unit and recorded where
		// it went: after a crash the read-model may already show the dispatch while the
		// engine runs that task again. Judging the caller against an empty unit would
		// refuse them for good; they are told to retry instead.
		return refuse(ErrNotReady, "the work order is being opened; retry in a moment")
	}
	if err := check(OrderView{State: w.Snapshot.State, UnitPath: w.unitPath(), AppealDraft: w.Draft != nil}, req); err != nil {
		return err
	}
	switch {
	case specs[req.Action].Targets && req.ToUnitPath != "" && targetApplies(specs[req.Action], req) && w.Snapshot.Unit != nil && req.ToUnit == w.Snapshot.Unit.Code:
		// Sending an order to the unit that holds it would restart its clocks and wipe a
		// breach; the rule is new with the resolved path, so old histories replay as they ran.
		return invalid("to_unit", "same_unit", "the work order is already at unit %q", req.ToUnit)
	case req.Action == "dispose" && req.Disposition == "appeal" && len(w.appealable()) == 0:
		return invalid("disposition", "not_appealable", "only a bad rating of staff (indicators of kind staff, such as attitude or conduct) may be appealed, once")
	case req.Action == "decide_extension" && w.Extension == nil:
		return refuse(ErrWrongState, "no extension has been requested")
	case req.Action == "reopen" && w.owners() && w.Snapshot.State == models.StateClosed &&
		(w.Ending || (!w.ClosedAt.IsZero() && !now.Before(w.ClosedAt.Add(w.reopenWindow())))):
		return refuse(ErrReopenWindowClosed, "the reopen window of this work order has ended")
	case req.Action == "reopen" && w.Reopens >= w.Policy.ReopenLimit:
		return refuse(ErrWrongState, fmt.Sprintf("the policy allows %d reopening(s)", w.Policy.ReopenLimit))
	case req.Action == "dispose" && w.RealName && !w.CalledBack:
		// Defence in depth: called_back is only reached this way, but a real-name review must
		// never go on without a reached callback or an administrator's recorded exception.
		return refuse(ErrWrongState, "a real-name bad review needs a reached callback or an administrator's exception first")
	case req.Action == "dispose" && req.Disposition == "ledger" && w.owners():
		return w.checkCommitted(req.CommittedDate, now, "")
	}
	return nil
}

// checkCommitted validates a ledger's committed date: after today (Asia/Shanghai) and not past
// the rectification deadline (which an approved extension moves). rectifyDue is the deadline's
// last day when the caller computed it; otherwise the running rectification clock's is used,
// and without one only the first rule is checked here (the handler checks the second once the
// clock is computed, before anything changes).
func (w *workOrder) checkCommitted(date string, now time.Time, rectifyDue string) error {
	day, err := time.ParseInLocation("2006-01-02", date, cstZone)
	if err != nil {
		return invalid("committed_date", "invalid_date", "committed_date must be YYYY-MM-DD")
	}
	today := now.In(cstZone).Format("2006-01-02")
	if !day.After(cstDay(today)) {
		return invalid("committed_date", "committed_date_not_future", "committed_date must be after today (%s, Asia/Shanghai)", today)
	}
	if rectifyDue == "" {
		if d := w.current(DLRectify); d != nil && !d.Superseded && d.computed() {
			rectifyDue = d.Calc.DueDate
		}
	}
	if rectifyDue != "" && date > rectifyDue {
		return invalid("committed_date", "committed_date_after_deadline",
			"committed_date is after the rectification deadline %s; request an extension first", rectifyDue)
	}
	return nil
}

// cstZone is China Standard Time, in which dates are read.
var cstZone = time.FixedZone("CST", 8*3600)

// cstDay is the start of a day given as YYYY-MM-DD, in China Standard Time (a date already
// checked, or the zero time).
func cstDay(s string) time.Time {
	t, _ := time.ParseInLocation("2006-01-02", s, cstZone)
	return t
}
