package workflows

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"redress/activities/activitydefs"
	"redress/models"
	"redress/scheme"
	"redress/scheme/indicators"
)

// The disposition stage's transitions: how the unit disposes of a called-back order
// (rectify now, explain, a ledger with its committed-date clock, an appeal and its draft),
// the extension of its rectification deadline, and the administration's ruling on an appeal.

// onDispose: the unit says how it handles the review (rectify now, explain, a ledger with a
// committed date, or an appeal); an officer's appeal waits for the unit leader.
func (w *workOrder) onDispose(ctx workflow.Context, req ActionRequest, c *change) error {
	var err error
	if req.Disposition == "appeal" && !scheme.HoldsRole(req.Caller, models.RoleUnitLeader, w.unitPath()) &&
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
			if err = activitydefs.ExcludeIndicators.Run(ctx, w.exec, activitydefs.Exclusion{WorkOrderID: w.input.WorkOrderID, Indicators: staff}).Get(ctx); err != nil {
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
		if err = activitydefs.ExcludeRating.Run(ctx, w.exec, w.input.WorkOrderID).Get(ctx); err != nil {
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
		spec := activitydefs.DeadlineSpec{Name: DLRectify, Budget: b, Start: at, UnitPath: w.unitPath()}
		var c activitydefs.DeadlineCalc
		if err := activitydefs.ComputeDeadline.Run(ctx, w.exec, spec).Get(ctx, &c); err != nil {
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
