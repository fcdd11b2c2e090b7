package workflows

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"redress/activities"
	"redress/indicators"
	"redress/models"
	"redress/notify"
)

// The work order's transitions: what each accepted action does to the order's state and
// clocks (apply and the stage helpers it calls), and whom it tells. Each transition ends in
// one recorded event (record.go).

// change is what one action's transition leaves to be recorded: the event's data, the
// read-model row's changes and the messages sent with it.
type change struct {
	at   time.Time
	data map[string]any
	row  activities.Row
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
	err = w.dispatchTo(ctx, u)
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
	var err error
	if w.owners() {
		if err = w.meet(ctx, DLRuling, c.at); err != nil {
			return err
		}
	}
	if *req.Accept {
		u, uerr := w.resolveUnit(ctx, req)
		if uerr != nil {
			return uerr
		}
		c.data["from_unit"] = w.Snapshot.Unit.Code
		c.data["charged_to"] = "misrouting"
		if d := w.current(DLSign); d != nil {
			c.data["misrouted_since"] = d.Start
		}
		err = w.dispatchTo(ctx, u)
		c.row.Unit, c.row.ClearStaff, c.row.DispatchedAt = u, true, &c.at
		if w.owners() {
			none := ""
			c.row.Disposition = &none
		}
		c.msgs = w.toUnit("new_order", w.params("due", w.dueParam(DLSign)))
	} else {
		// Return refused: the same unit goes on with its original clocks.
		w.Snapshot.State = models.StateDispatched
		c.data["charged_to"] = "receiver"
		w.reopenClock(DLSign)
		// The unit learns that it keeps the order.
		c.msgs = w.toUnit("return_refused", w.params("reason", req.Reason))
		if w.owners() {
			err = w.resumeClock(ctx, DLCallback, c.at)
		}
	}
	return err
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

// onDispose: the unit says how it handles the review (rectify now, explain, a ledger with a
// committed date, or an appeal); an officer's appeal waits for the unit leader.
func (w *workOrder) onDispose(ctx workflow.Context, req ActionRequest, c *change) error {
	var err error
	if req.Disposition == "appeal" && !holdsRole(req.Caller, models.RoleUnitLeader, w.unitPath()) &&
		w.version(ctx, "appeal-draft", 1) == 1 {
		// An officer drafts; the unit leader submits (submit_appeal). No clock moves.
		d := req
		d.Caller = Caller{Login: req.Caller.Login}
		w.Draft = &d
		w.Snapshot.Disposition = dispositionAppealDraft
		disp := w.Snapshot.Disposition // a copy: the row must not follow later changes
		c.row.Disposition = &disp
		c.data["drafted_by"] = req.Caller.Login
		c.event = "appeal_drafted"
		return nil
	}
	if w.owners() && req.Disposition == "ledger" {
		// The committed date is checked against the rectification deadline before
		// anything changes: refused, the order stays exactly as it was.
		if err = w.checkCommittedDeadline(ctx, req.CommittedDate, c.at); err != nil {
			return err
		}
	}
	if req.Disposition != "ledger" {
		w.endCommitted(ctx, c.at)
	}
	w.Snapshot.Disposition = req.Disposition
	c.row.Disposition = &w.Snapshot.Disposition
	if d := w.current(DLRectify); d == nil {
		err = w.startClock(ctx, DLRectify, c.at, w.unitPath())
	} else if d.paused() {
		err = w.resumeClock(ctx, DLRectify, c.at)
	}
	if err != nil {
		return err
	}
	switch req.Disposition {
	case "ledger":
		w.Snapshot.State = models.StateRectifying
		if w.owners() {
			err = w.startCommitted(ctx, req.CommittedDate, c.at)
		}
	case "appeal":
		err = w.startAppeal(ctx, c.at)
	default: // rectify_now, explain
		w.Snapshot.State = models.StateReviewing
		if err = w.meet(ctx, DLRectify, c.at); err == nil {
			err = w.startClock(ctx, DLReview, c.at, w.Snapshot.Admin.Path)
		}
	}
	return err
}

// onSubmitAppeal: the unit leader submits an officer's appeal draft as it stands.
func (w *workOrder) onSubmitAppeal(ctx workflow.Context, req ActionRequest, c *change) error {
	var err error
	d := w.Draft
	for k, v := range actionData(*d) {
		if _, ok := c.data[k]; !ok {
			c.data[k] = v
		}
	}
	c.data["drafted_by"] = d.Caller.Login
	w.endCommitted(ctx, c.at)
	w.Snapshot.Disposition = "appeal"
	c.row.Disposition = &w.Snapshot.Disposition
	if clock := w.current(DLRectify); clock == nil {
		err = w.startClock(ctx, DLRectify, c.at, w.unitPath())
	} else if clock.paused() {
		err = w.resumeClock(ctx, DLRectify, c.at)
	}
	if err == nil {
		err = w.startAppeal(ctx, c.at)
	}
	return err
}

// onComplete: the unit reports its rectification done; the administration reviews it.
func (w *workOrder) onComplete(ctx workflow.Context, req ActionRequest, c *change) error {
	var err error
	w.Snapshot.State = models.StateReviewing
	if w.owners() {
		if err = w.meet(ctx, DLCommitted, c.at); err != nil {
			return err
		}
	}
	if err = w.meet(ctx, DLRectify, c.at); err == nil {
		err = w.startClock(ctx, DLReview, c.at, w.Snapshot.Admin.Path)
	}
	return err
}

// onRequestExtension keeps the unit's request for more days until it is decided.
func (w *workOrder) onRequestExtension(ctx workflow.Context, req ActionRequest, c *change) error {
	days := *req.Days
	w.Extension = &days
	return nil
}

// onDecideExtension: an approved extension moves the rectification deadline.
func (w *workOrder) onDecideExtension(ctx workflow.Context, req ActionRequest, c *change) error {
	var err error
	days := *w.Extension
	w.Extension = nil
	c.data["days"] = days
	if *req.Approve {
		err = w.extendClock(ctx, DLRectify, days)
	}
	return err
}

// onDecideAppeal: the administration rules on an appeal. Upheld, the staff part of the rating
// leaves the statistics (the whole rating when nothing else is bad); refused, the unit
// rectifies on.
func (w *workOrder) onDecideAppeal(ctx workflow.Context, req ActionRequest, c *change) error {
	var err error
	if err = w.meet(ctx, DLAppealDecision, c.at); err != nil {
		return err
	}
	if *req.Upheld {
		// Not adopted (不予采纳) — but only the staff part of the rating can be: its process
		// and platform complaints stay counted and still need rectification or explanation.
		staff := w.appealable()
		rest := w.badOfKind(indicators.KindProcess, indicators.KindPlatform)
		c.data["excluded_indicators"] = staff
		// The same-level administration is notified (通报) of every upheld appeal.
		c.msgs = w.toAdmins("appeal_upheld_notice", w.params("indicators", w.indicatorNames(staff), "note", req.Note))
		if len(rest) > 0 && w.version(ctx, "appeal-excludes-staff-only", 1) == 1 {
			// Only the staff indicators leave the statistics; the order goes back to the
			// unit for the rest, its rectification clock running on.
			c.data["rating_excluded"] = false
			c.data["remaining_indicators"] = rest
			if err = w.exec(ctx, w.activities.ExcludeIndicators, activities.Exclusion{WorkOrderID: w.input.WorkOrderID, Indicators: staff}).Get(ctx, nil); err != nil {
				return err
			}
			if w.Excluded == nil {
				w.Excluded = map[string]bool{}
			}
			for _, k := range staff {
				w.Excluded[k] = true
			}
			w.Snapshot.State = models.StateCalledBack
			c.msgs = append(c.msgs, w.toUnit("appeal_upheld_partly", w.params("indicators", w.indicatorNames(staff), "remaining", w.indicatorNames(rest)))...)
			// The evaluator is told too, as of a wholly upheld appeal: what was set aside
			// and that the order goes on for the rest.
			if w.version(ctx, "appeal-partly-tells-evaluator", 1) == 1 {
				c.msgs = append(c.msgs, w.toEvaluator("appeal_upheld_partly_evaluator", true,
					w.params("indicators", w.indicatorNames(staff), "remaining", w.indicatorNames(rest)))...)
			}
			return w.resumeClock(ctx, DLRectify, c.at)
		}
		// The whole rating leaves the statistics and the evaluator is told.
		w.Snapshot.State = models.StateReviewing
		c.data["rating_excluded"] = true
		if err = w.exec(ctx, w.activities.ExcludeRating, w.input.WorkOrderID).Get(ctx, nil); err != nil {
			return err
		}
		c.msgs = append(c.msgs, w.toEvaluator("appeal_upheld", true, w.params())...)
		if err = w.meet(ctx, DLRectify, c.at); err == nil {
			err = w.startClock(ctx, DLReview, c.at, w.Snapshot.Admin.Path)
		}
	} else {
		w.Snapshot.State = models.StateCalledBack
		err = w.resumeClock(ctx, DLRectify, c.at)
	}
	return err
}

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

// dispositionAppealDraft is the read-model's disposition while an officer's appeal waits for
// the unit leader (the state stays called_back).
const dispositionAppealDraft = "appeal_draft"

// startAppeal moves the order to the administration's decision: the rectification clock
// stops while the appeal is pending.
func (w *workOrder) startAppeal(ctx workflow.Context, at time.Time) error {
	w.Snapshot.State = models.StateAppealing
	w.pauseClock(DLRectify, at)
	return w.startClock(ctx, DLAppealDecision, at, w.Snapshot.Admin.Path)
}

// checkCommittedDeadline checks a ledger's committed date against the rectification deadline
// that applies: the running clock's, or the one a clock started now would have.
func (w *workOrder) checkCommittedDeadline(ctx workflow.Context, date string, at time.Time) error {
	due := ""
	if d := w.current(DLRectify); d != nil && d.computed() {
		due = d.Calc.DueDate
	} else if b, ok := w.Policy.Deadlines[DLRectify]; ok && d == nil {
		spec := activities.DeadlineSpec{Name: DLRectify, Budget: b, Start: at, UnitPath: w.unitPath()}
		var c activities.DeadlineCalc
		if err := w.exec(ctx, w.activities.ComputeDeadline, spec).Get(ctx, &c); err != nil {
			return fmt.Errorf("compute deadline %s: %w", DLRectify, err)
		}
		due = c.DueDate
	}
	return w.checkCommitted(date, at, due)
}

// endCommitted withdraws the committed date of a ledger that a new disposition replaces
// (after a review sent the ledger's completion back): the promise was neither kept nor broken,
// so the clock is superseded — it stays in the record with its owner — and no longer reminds,
// breaches or brings 督办 while the order waits for review, feedback or an appeal ruling.
// Guarded by a version: orders whose history ran the old clock on replay as they did.
func (w *workOrder) endCommitted(ctx workflow.Context, at time.Time) {
	if !w.owners() {
		return
	}
	d := w.current(DLCommitted)
	if d == nil || !d.open() || w.version(ctx, "ledger-replaced-ends-committed", 1) != 1 {
		return
	}
	w.supersede(d, at)
}

// startCommitted starts the clock of the unit's committed date: it ends at 24:00 of that day.
func (w *workOrder) startCommitted(ctx workflow.Context, date string, at time.Time) error {
	day, err := time.ParseInLocation("2006-01-02", date, cstZone)
	if err != nil {
		return invalid("committed_date", "invalid_date", "committed_date must be YYYY-MM-DD")
	}
	today := cstDay(at.In(cstZone).Format("2006-01-02"))
	n := int(day.Sub(today).Hours()/24 + 0.5)
	if d := w.current(DLCommitted); d != nil && (d.open() || d.MetAt != nil) {
		w.supersede(d, at)
	}
	d := &deadline{Name: DLCommitted, Budget: models.Budget{NaturalDays: &n}, Start: at, UnitPath: w.unitPath(), Owner: w.ownerOf(DLCommitted)}
	w.Deadlines = append(w.Deadlines, d)
	return w.compute(ctx, d)
}

// dispatchTo hands the order to a unit and starts that unit's clocks (a fresh start: the time
// spent before a misrouting is charged to the misrouting, not to the receiver).
func (w *workOrder) dispatchTo(ctx workflow.Context, u *activities.UnitRef) error {
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

func (w *workOrder) resolveUnit(ctx workflow.Context, req ActionRequest) (*activities.UnitRef, error) {
	var u activities.UnitRef
	if err := w.exec(ctx, w.activities.ResolveUnit, req.ToUnit).Get(ctx, &u); err != nil {
		return nil, invalid("to_unit", "unknown_unit", "unit %q is not known", req.ToUnit)
	}
	// The validator judged the path the API resolved; the unit as the worker reads it now
	// must be the same and still within the caller's reach (a unit moved meanwhile is
	// refused, before anything changes). Requests of old histories carry no path.
	if req.ToUnitPath != "" && (u.Path != req.ToUnitPath || !mayAct(req.Caller, specs[req.Action].Roles, u.Path)) {
		return nil, refuse(ErrForbidden, fmt.Sprintf("unit %q is outside your jurisdiction", req.ToUnit), FieldError{Field: "to_unit", Code: ErrTargetOutOfScope})
	}
	return &u, nil
}

// appealable lists the bad staff indicators not yet excluded, sorted: only the staff part of a
// rating can be appealed (DOMAIN.md, Shenzhen art. 22).
func (w *workOrder) appealable() []string {
	return w.badOfKind(indicators.KindStaff)
}

// badOfKind lists the rating's bad indicators of the given kinds that no appeal excluded, sorted.
func (w *workOrder) badOfKind(kinds ...string) []string {
	var out []string
	for k, v := range w.Levels {
		if !models.IsBadLevel(v) || w.Excluded[k] {
			continue
		}
		for _, kind := range kinds {
			if w.kindOf(k) == kind {
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// kindOf is an indicator's kind: as resolved with the order's dispatch (the jurisdiction's
// catalogue), else by the default catalogue (orders resolved before kinds were carried, whose
// names the default catalogue holds).
func (w *workOrder) kindOf(code string) string {
	if k, ok := w.Kinds[code]; ok {
		return k
	}
	return indicators.DefaultKind(code)
}

// indicatorNames renders indicator codes for a message, by the default catalogue's Chinese
// names where it knows them (a message is read by people, never codes).
func (w *workOrder) indicatorNames(codes []string) string {
	names := make([]string, len(codes))
	for i, c := range codes {
		names[i] = c
		if ind, ok := indicators.Default.Get(c); ok {
			names[i] = ind.Name
		}
	}
	return strings.Join(names, "、")
}
