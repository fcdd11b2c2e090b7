package workflows

import (
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"redress/activities/activitydefs"
	"redress/models"
	notify "redress/notify/message"
	"redress/scheme"
)

// The work order's transitions: what each accepted action does to the order's state and
// clocks, and whom it tells. apply runs one transition per action and records the event
// (record.go); here are the dispatch and callback stages, the disposition stage is in
// disposition.go, review, feedback, reopening and escalation in review.go.

// change is what one action's transition leaves to be recorded: the event's data, the
// read-model row's changes and the messages sent with it.
type change struct {
	at   time.Time
	data map[string]any
	row  activitydefs.Row
	msgs []notify.Message
	// event, when set, is recorded in place of the action (an officer's appeal is recorded as
	// appeal_drafted) and the action's other effects are left out.
	event string
}

// apply moves the state and the clocks for one action (by its transition below) and records it.
func (w *workOrder) apply(ctx workflow.Context, req ActionRequest) error {
	c := &change{at: workflow.Now(ctx), data: actionData(req)}
	var err error
	switch req.Action {
	case "dispatch", "reassign":
		err = w.onDispatch(ctx, req, c)
	case "sign":
		err = w.onSign(ctx, req, c)
	case "return":
		err = w.onReturn(ctx, req, c)
	case "rule_return":
		err = w.onRuleReturn(ctx, req, c)
	case "callback":
		err = w.onCallback(ctx, req, c)
	case "waive_callback":
		err = w.onWaiveCallback(ctx, req, c)
	case "dispose":
		err = w.onDispose(ctx, req, c)
	case "submit_appeal":
		err = w.onSubmitAppeal(ctx, req, c)
	case "complete":
		err = w.onComplete(ctx, req, c)
	case "request_extension":
		err = w.onRequestExtension(ctx, req, c)
	case "decide_extension":
		err = w.onDecideExtension(ctx, req, c)
	case "decide_appeal":
		err = w.onDecideAppeal(ctx, req, c)
	case "review":
		err = w.onReview(ctx, req, c)
	case "record_feedback":
		err = w.onRecordFeedback(ctx, req, c)
	case "escalate":
		err = w.onEscalate(ctx, req, c)
	case "reopen":
		err = w.onReopen(ctx, req, c)
	case "progress":
		// recorded on the timeline; the state stays
	}
	if err != nil {
		return err
	}
	if c.event != "" {
		return w.record(ctx, req.Caller.Login, c.event, c.data, c.row, c.msgs...)
	}
	if w.Draft != nil && w.Snapshot.State != models.StateCalledBack {
		// A draft lives only while its order waits in called_back (a reassigned order is
		// drafted afresh by its new unit).
		w.Draft = nil
		if w.Snapshot.Disposition == dispositionAppealDraft {
			w.Snapshot.Disposition = ""
			c.row.Disposition = &w.Snapshot.Disposition
		}
	}
	return w.record(ctx, req.Caller.Login, req.Action, c.data, c.row, c.msgs...)
}

// onDispatch sends the order to a unit: from the manual-dispatch queue, or away from the unit
// that holds it (reassign).
func (w *workOrder) onDispatch(ctx workflow.Context, req ActionRequest, c *change) error {
	u, err := w.resolveUnit(ctx, req)
	if err != nil {
		return err
	}
	if w.Snapshot.Unit != nil {
		c.data["from_unit"] = w.Snapshot.Unit.Code
	}
	if w.owners() {
		if err = w.meet(ctx, DLDispatch, c.at); err != nil {
			return err
		}
	}
	return w.handTo(ctx, u, c)
}

// handTo dispatches the order to unit u (dispatchTo) and tells the unit; the read-model row
// shows the new unit, and no staff or disposition of the unit before.
func (w *workOrder) handTo(ctx workflow.Context, u *activitydefs.UnitRef, c *change) error {
	err := w.dispatchTo(ctx, u)
	c.row.Unit, c.row.ClearStaff, c.row.DispatchedAt = u, true, &c.at
	if w.owners() {
		none := ""
		c.row.Disposition = &none
	}
	c.msgs = w.toUnit("new_order", w.params("due", w.dueParam(DLSign)))
	return err
}

// onSign: the unit accepts the order.
func (w *workOrder) onSign(ctx workflow.Context, req ActionRequest, c *change) error {
	w.Snapshot.State = models.StateSigned
	err := w.meet(ctx, DLSign, c.at)
	// The evaluator learns who handles the review and by when they will be called, with
	// the tracking link, so that they can follow the order from the first message on.
	c.msgs = w.toEvaluator("callback_notice", true, w.params("due", w.dueParam(DLCallback)))
	return err
}

// onReturn: the unit says the order is not its own; the administration rules.
func (w *workOrder) onReturn(ctx workflow.Context, req ActionRequest, c *change) error {
	w.Snapshot.State = models.StateReturned
	// The receiver's sign clock stops at the return: the ruling decides who pays.
	err := w.meet(ctx, DLSign, c.at)
	c.msgs = w.toAdmins("returned", w.params("reason", req.Reason))
	if err == nil && w.owners() {
		// While the administration rules, the unit's callback clock stands still and the
		// administration's ruling clock runs.
		w.pauseClock(DLCallback, c.at)
		err = w.startClock(ctx, DLRuling, c.at, w.Snapshot.Admin.Path)
	}
	return err
}

// onRuleReturn: the administration accepts a return (the order goes to the right unit, the
// misrouting is charged) or refuses it (the unit keeps the order and its clocks).
func (w *workOrder) onRuleReturn(ctx workflow.Context, req ActionRequest, c *change) error {
	if w.owners() {
		if err := w.meet(ctx, DLRuling, c.at); err != nil {
			return err
		}
	}
	if *req.Accept {
		u, err := w.resolveUnit(ctx, req)
		if err != nil {
			return err
		}
		c.data["from_unit"] = w.Snapshot.Unit.Code
		c.data["charged_to"] = "misrouting"
		if d := w.current(DLSign); d != nil {
			c.data["misrouted_since"] = d.Start
		}
		return w.handTo(ctx, u, c)
	}
	// Return refused: the same unit goes on with its original clocks.
	w.Snapshot.State = models.StateDispatched
	c.data["charged_to"] = "receiver"
	w.reopenClock(DLSign)
	// The unit learns that it keeps the order.
	c.msgs = w.toUnit("return_refused", w.params("reason", req.Reason))
	if w.owners() {
		return w.resumeClock(ctx, DLCallback, c.at)
	}
	return nil
}

// onCallback counts an attempt to reach the evaluator; one that reached them ends the stage.
func (w *workOrder) onCallback(ctx workflow.Context, req ActionRequest, c *change) error {
	c.data["attempt"] = w.CallbackAttempts + 1
	w.CallbackAttempts++
	if !*req.Reached {
		return nil
	}
	w.Snapshot.State = models.StateCalledBack
	w.CalledBack = true
	return w.meet(ctx, DLCallback, c.at)
}

// onWaiveCallback: an administrator records an exception for an evaluator who cannot be
// reached; the order goes on as if called back.
func (w *workOrder) onWaiveCallback(ctx workflow.Context, req ActionRequest, c *change) error {
	w.Snapshot.State = models.StateCalledBack
	w.CalledBack = true
	c.data["exception"] = true
	c.data["attempts_before"] = w.CallbackAttempts
	return w.meet(ctx, DLCallback, c.at)
}

// dispatchTo hands the order to a unit and starts that unit's clocks (a fresh start: the time
// spent before a misrouting is charged to the misrouting, not to the receiver).
func (w *workOrder) dispatchTo(ctx workflow.Context, u *activitydefs.UnitRef) error {
	if w.owners() {
		// The receiver starts clean: every clock still running is retired for the record
		// (charged to whoever held it), and no supervision of the unit before stands
		// against the receiver.
		at := workflow.Now(ctx)
		for _, d := range w.Deadlines {
			if d.open() {
				w.supersede(d, at)
			}
		}
		delete(w.OwnerLevels, u.Path)
		for k := range w.StageBreaches {
			if strings.HasPrefix(k, u.Path+"|") {
				delete(w.StageBreaches, k)
			}
		}
		w.ManualLevel = 0
		w.Extension = nil
		// Nor does the unit before's disposition (an appeal pending, a ledger): the receiver
		// has not disposed of the order yet (the callers clear the read-model's too).
		w.Snapshot.Disposition = ""
	}
	w.Snapshot.State, w.Snapshot.Unit, w.Snapshot.StaffID = models.StateDispatched, u, nil
	if w.owners() {
		w.Snapshot.SupervisionLevel = w.standingLevel()
	}
	// The new unit calls the evaluator back itself.
	w.CalledBack, w.CallbackAttempts = false, 0
	if err := w.loadPolicy(ctx, u.Path); err != nil {
		return err
	}
	at := workflow.Now(ctx)
	if err := w.startClock(ctx, DLSign, at, u.Path); err != nil {
		return err
	}
	return w.startClock(ctx, DLCallback, at, u.Path)
}

func (w *workOrder) resolveUnit(ctx workflow.Context, req ActionRequest) (*activitydefs.UnitRef, error) {
	var u activitydefs.UnitRef
	if err := activitydefs.ResolveUnit.Run(ctx, w.exec, req.ToUnit).Get(ctx, &u); err != nil {
		return nil, invalid("to_unit", "unknown_unit", "unit %q is not known", req.ToUnit)
	}
	// The validator judged the path the API resolved; the unit as the worker reads it now
	// must be the same and still within the caller's reach (a unit moved meanwhile is
	// refused, before anything changes). Requests of old histories carry no path.
	if req.ToUnitPath != "" && (u.Path != req.ToUnitPath || !scheme.MayAct(req.Caller, specs[req.Action].Roles, u.Path)) {
		return nil, refuse(ErrForbidden, fmt.Sprintf("unit %q is outside your jurisdiction", req.ToUnit), FieldError{Field: "to_unit", Code: ErrTargetOutOfScope})
	}
	return &u, nil
}
