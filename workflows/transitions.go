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
	notify "redress/notify/message"
)

// The work order's transitions: what each accepted action does to the order's state and
// clocks (apply and the stage helpers it calls), and whom it tells. Each transition ends in
// one recorded event (record.go).

// apply moves the state and the clocks for one action and records it.
func (w *workOrder) apply(ctx workflow.Context, req ActionRequest) error {
	actor := req.Caller.Login
	data := actionData(req)
	row := activities.Row{}
	at := workflow.Now(ctx)
	var err error
	var msgs []notify.Message
	switch req.Action {
	case "dispatch", "reassign":
		u, uerr := w.resolveUnit(ctx, req)
		if uerr != nil {
			return uerr
		}
		if w.Snapshot.Unit != nil {
			data["from_unit"] = w.Snapshot.Unit.Code
		}
		if w.owners() {
			if err = w.meet(ctx, DLDispatch, at); err != nil {
				break
			}
		}
		err = w.dispatchTo(ctx, u)
		row.Unit, row.ClearStaff, row.DispatchedAt = u, true, &at
		if w.owners() {
			none := ""
			row.Disposition = &none
		}
		msgs = w.toUnit("new_order", w.params("due", w.dueParam(DLSign)))
	case "sign":
		w.Snapshot.State = models.StateSigned
		err = w.meet(ctx, DLSign, at)
		// The evaluator learns who handles the review and by when they will be called, with
		// the tracking link, so that they can follow the order from the first message on.
		msgs = w.toEvaluator("callback_notice", true, w.params("due", w.dueParam(DLCallback)))
	case "return":
		w.Snapshot.State = models.StateReturned
		// The receiver's sign clock stops at the return: the ruling decides who pays.
		err = w.meet(ctx, DLSign, at)
		msgs = w.toAdmins("returned", w.params("reason", req.Reason))
		if err == nil && w.owners() {
			// While the administration rules, the unit's callback clock stands still and the
			// administration's ruling clock runs.
			w.pauseClock(DLCallback, at)
			err = w.startClock(ctx, DLRuling, at, w.Snapshot.Admin.Path)
		}
	case "rule_return":
		if w.owners() {
			if err = w.meet(ctx, DLRuling, at); err != nil {
				break
			}
		}
		if *req.Accept {
			u, uerr := w.resolveUnit(ctx, req)
			if uerr != nil {
				return uerr
			}
			data["from_unit"] = w.Snapshot.Unit.Code
			data["charged_to"] = "misrouting"
			if d := w.current(DLSign); d != nil {
				data["misrouted_since"] = d.Start
			}
			err = w.dispatchTo(ctx, u)
			row.Unit, row.ClearStaff, row.DispatchedAt = u, true, &at
			if w.owners() {
				none := ""
				row.Disposition = &none
			}
			msgs = w.toUnit("new_order", w.params("due", w.dueParam(DLSign)))
		} else {
			// Return refused: the same unit goes on with its original clocks.
			w.Snapshot.State = models.StateDispatched
			data["charged_to"] = "receiver"
			w.reopenClock(DLSign)
			// The unit learns that it keeps the order.
			msgs = w.toUnit("return_refused", w.params("reason", req.Reason))
			if w.owners() {
				err = w.resumeClock(ctx, DLCallback, at)
			}
		}
	case "callback":
		data["attempt"] = w.CallbackAttempts + 1
		w.CallbackAttempts++
		if *req.Reached {
			w.Snapshot.State = models.StateCalledBack
			w.CalledBack = true
			err = w.meet(ctx, DLCallback, at)
		}
	case "waive_callback":
		w.Snapshot.State = models.StateCalledBack
		w.CalledBack = true
		data["exception"] = true
		data["attempts_before"] = w.CallbackAttempts
		err = w.meet(ctx, DLCallback, at)
	case "dispose":
		if req.Disposition == "appeal" && !holdsRole(req.Caller, models.RoleUnitLeader, w.unitPath()) &&
			w.version(ctx, "appeal-draft", 1) == 1 {
			// An officer drafts; the unit leader submits (submit_appeal). No clock moves.
			d := req
			d.Caller = Caller{Login: req.Caller.Login}
			w.Draft = &d
			w.Snapshot.Disposition = dispositionAppealDraft
			disp := w.Snapshot.Disposition // a copy: the row must not follow later changes
			row.Disposition = &disp
			data["drafted_by"] = req.Caller.Login
			return w.record(ctx, actor, "appeal_drafted", data, row)
		}
		if w.owners() && req.Disposition == "ledger" {
			// The committed date is checked against the rectification deadline before
			// anything changes: refused, the order stays exactly as it was.
			if err = w.checkCommittedDeadline(ctx, req.CommittedDate, at); err != nil {
				return err
			}
		}
		if req.Disposition != "ledger" {
			w.endCommitted(ctx, at)
		}
		w.Snapshot.Disposition = req.Disposition
		row.Disposition = &w.Snapshot.Disposition
		if d := w.current(DLRectify); d == nil {
			err = w.startClock(ctx, DLRectify, at, w.unitPath())
		} else if d.paused() {
			err = w.resumeClock(ctx, DLRectify, at)
		}
		if err != nil {
			break
		}
		switch req.Disposition {
		case "ledger":
			w.Snapshot.State = models.StateRectifying
			if w.owners() {
				err = w.startCommitted(ctx, req.CommittedDate, at)
			}
		case "appeal":
			err = w.startAppeal(ctx, at)
		default: // rectify_now, explain
			w.Snapshot.State = models.StateReviewing
			if err = w.meet(ctx, DLRectify, at); err == nil {
				err = w.startClock(ctx, DLReview, at, w.Snapshot.Admin.Path)
			}
		}
	case "submit_appeal":
		// The unit leader submits the officer's draft as it stands.
		d := w.Draft
		for k, v := range actionData(*d) {
			if _, ok := data[k]; !ok {
				data[k] = v
			}
		}
		data["drafted_by"] = d.Caller.Login
		w.endCommitted(ctx, at)
		w.Snapshot.Disposition = "appeal"
		row.Disposition = &w.Snapshot.Disposition
		if c := w.current(DLRectify); c == nil {
			err = w.startClock(ctx, DLRectify, at, w.unitPath())
		} else if c.paused() {
			err = w.resumeClock(ctx, DLRectify, at)
		}
		if err == nil {
			err = w.startAppeal(ctx, at)
		}
	case "complete":
		w.Snapshot.State = models.StateReviewing
		if w.owners() {
			if err = w.meet(ctx, DLCommitted, at); err != nil {
				break
			}
		}
		if err = w.meet(ctx, DLRectify, at); err == nil {
			err = w.startClock(ctx, DLReview, at, w.Snapshot.Admin.Path)
		}
	case "request_extension":
		days := *req.Days
		w.Extension = &days
	case "decide_extension":
		days := *w.Extension
		w.Extension = nil
		data["days"] = days
		if *req.Approve {
			err = w.extendClock(ctx, DLRectify, days)
		}
	case "decide_appeal":
		if err = w.meet(ctx, DLAppealDecision, at); err != nil {
			break
		}
		if *req.Upheld {
			// Not adopted (不予采纳) — but only the staff part of the rating can be: its process
			// and platform complaints stay counted and still need rectification or explanation.
			staff := w.appealable()
			rest := w.badOfKind(indicators.KindProcess, indicators.KindPlatform)
			data["excluded_indicators"] = staff
			// The same-level administration is notified (通报) of every upheld appeal.
			msgs = w.toAdmins("appeal_upheld_notice", w.params("indicators", w.indicatorNames(staff), "note", req.Note))
			if len(rest) > 0 && w.version(ctx, "appeal-excludes-staff-only", 1) == 1 {
				// Only the staff indicators leave the statistics; the order goes back to the
				// unit for the rest, its rectification clock running on.
				data["rating_excluded"] = false
				data["remaining_indicators"] = rest
				if err = w.exec(ctx, w.activities.ExcludeIndicators, activities.Exclusion{WorkOrderID: w.input.WorkOrderID, Indicators: staff}).Get(ctx, nil); err != nil {
					break
				}
				if w.Excluded == nil {
					w.Excluded = map[string]bool{}
				}
				for _, k := range staff {
					w.Excluded[k] = true
				}
				w.Snapshot.State = models.StateCalledBack
				msgs = append(msgs, w.toUnit("appeal_upheld_partly", w.params("indicators", w.indicatorNames(staff), "remaining", w.indicatorNames(rest)))...)
				// The evaluator is told too, as of a wholly upheld appeal: what was set aside
				// and that the order goes on for the rest.
				if w.version(ctx, "appeal-partly-tells-evaluator", 1) == 1 {
					msgs = append(msgs, w.toEvaluator("appeal_upheld_partly_evaluator", true,
						w.params("indicators", w.indicatorNames(staff), "remaining", w.indicatorNames(rest)))...)
				}
				err = w.resumeClock(ctx, DLRectify, at)
				break
			}
			// The whole rating leaves the statistics and the evaluator is told.
			w.Snapshot.State = models.StateReviewing
			data["rating_excluded"] = true
			if err = w.exec(ctx, w.activities.ExcludeRating, w.input.WorkOrderID).Get(ctx, nil); err != nil {
				break
			}
			msgs = append(msgs, w.toEvaluator("appeal_upheld", true, w.params())...)
			if err = w.meet(ctx, DLRectify, at); err == nil {
				err = w.startClock(ctx, DLReview, at, w.Snapshot.Admin.Path)
			}
		} else {
			w.Snapshot.State = models.StateCalledBack
			err = w.resumeClock(ctx, DLRectify, at)
		}
	case "review":
		if err = w.meet(ctx, DLReview, at); err != nil {
			break
		}
		if *req.Approve {
			w.Snapshot.State = models.StateFeedback
			err = w.startClock(ctx, DLFeedback, at, w.unitPath())
			// The outcome and a tracking link where the evaluator can say whether they are
			// satisfied with the handling.
			msgs = w.toEvaluator("feedback", true, w.params())
		} else {
			// Sent back: the rectification clock runs on from where it stopped (and the
			// unit's committed date stands).
			w.Snapshot.State = models.StateCalledBack
			w.reopenClock(DLRectify)
			if w.owners() {
				w.reopenClock(DLCommitted)
			}
		}
	case "record_feedback":
		w.Snapshot.State = models.StateClosed
		err = w.meet(ctx, DLFeedback, at)
		data["by"] = "phone"
		if req.Satisfaction == models.Dissatisfied {
			msgs = w.toAdmins("dissatisfied", w.params())
		}
	case "escalate":
		if w.Snapshot.SupervisionLevel < 2 {
			w.Snapshot.SupervisionLevel++
		}
		w.ManualLevel = w.Snapshot.SupervisionLevel
		data["supervision_level"] = w.Snapshot.SupervisionLevel
		msgs = w.toSupervision(w.Snapshot.SupervisionLevel, w.params("level", levelLabel(w.Snapshot.SupervisionLevel), "note", req.Note))
		for i := range msgs {
			msgs[i].Template = "escalated"
		}
	case "reopen":
		w.Reopens++
		w.Snapshot.State = models.StateCalledBack
		for _, name := range []string{DLRectify, DLReview, DLFeedback, DLCommitted} {
			if d := w.current(name); d != nil && !d.Superseded {
				w.supersede(d, at)
			}
		}
		w.dirty = true
		if w.owners() {
			// The unit works the order again against a fresh rectification clock.
			err = w.startClock(ctx, DLRectify, at, w.unitPath())
		}
	case "progress":
		// recorded on the timeline; the state stays
	}
	if err != nil {
		return err
	}
	if w.Draft != nil && w.Snapshot.State != models.StateCalledBack {
		// A draft lives only while its order waits in called_back (a reassigned order is
		// drafted afresh by its new unit).
		w.Draft = nil
		if w.Snapshot.Disposition == dispositionAppealDraft {
			w.Snapshot.Disposition = ""
			row.Disposition = &w.Snapshot.Disposition
		}
	}
	return w.record(ctx, actor, req.Action, data, row, msgs...)
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
