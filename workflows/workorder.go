// Package workflows holds the durable processes of redress. The work-order workflow carries
// one bad review from dispatch to closing: its state is the truth about where the order stands,
// officers' actions arrive as Temporal Updates whose validators refuse what the state or the
// caller does not allow, and every transition is written to the timeline and read-model by an
// activity before the update answers.
//
// Changing the workflow: orders live for weeks, so every change must replay the histories of
// orders already running. TestReplayRecordedHistories replays real histories recorded from the
// embedded server (testdata/*.json, written by `REDRESS_RECORD_HISTORIES=1 go test
// ./api/apitest/ -run 'TestChain|TestFiveSecond'`). A change that adds, removes or reorders a
// command (an activity, a timer, a child) on an existing path must be guarded:
//
//	if v := workflow.GetVersion(ctx, "callback-sms", workflow.DefaultVersion, 1); v == 1 {
//		// the new behaviour; running orders recorded before the change take the old path
//	}
//
// and recorded histories are kept (add new ones for the new path by bumping historyGeneration
// in api/apitest, which never overwrites a recorded file; never re-record old ones to make a
// change pass). Changes that only alter activity arguments or handler-local state (the
// notifications a timeline event carries, a validator's rule) do not need a version.
package workflows

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/workflow"

	"redress/activities"
	"redress/indicators"
	"redress/models"
	"redress/notify"
)

// Names under which the worker registers the workflow and its handlers.
const (
	WorkOrderName = "WorkOrder"
	ActionUpdate  = "action"
	// FeedbackUpdate carries the evaluator's own satisfaction from the tracking link.
	FeedbackUpdate = "evaluator_feedback"
	StateQuery     = "state"
)

// reopenWindow is how long a closed order's workflow stays to accept a reopening, for orders
// recorded before the window became policy (reopen_window) and for policies without it.
const reopenWindow = 30 * 24 * time.Hour

// WorkerPicksPathChange is the version id of the change that made the worker, not the
// starter's input flag, decide that an order's activities run as local activities
// (issue 16, finding 4).
const WorkerPicksPathChange = "worker-picks-path"

// ErrReopenWindowClosed refuses a reopening after the policy's reopen window (409).
const ErrReopenWindowClosed = "reopen_window_closed"

// WorkOrderInput starts a work order.
type WorkOrderInput struct {
	WorkOrderID string `json:"work_order_id"`
	// Local ran the order's activities as local activities in orders started while the
	// starter chose the code path (the histories of that time replay by it). Since issue 16
	// the worker decides (WorkerPicksPathChange): a starter newer or older than the worker
	// cannot make the worker that replays an order take another path than the one that ran
	// it. Starters no longer set it.
	Local bool `json:"local,omitempty"`
	// State is the whole state of an order continued from its previous run (continue-as-new,
	// carry.go); nil for a new order.
	State *OrderState `json:"state,omitempty"`
}

// Snapshot is what the state query answers.
type Snapshot struct {
	State            string              `json:"state"`
	Disposition      string              `json:"disposition"`
	Unit             *activities.UnitRef `json:"unit"`
	Admin            activities.UnitRef  `json:"admin"`
	StaffID          *string             `json:"staff_id"`
	SupervisionLevel int                 `json:"supervision_level"`
	Seq              int                 `json:"seq"`
}

// workOrder is one run of the work-order workflow. OrderState is everything that outlives one
// action, and is all a run hands to the next (carry.go); the fields below it live and die with
// the run.
type workOrder struct {
	OrderState

	input      WorkOrderInput
	workflowID string
	// activities is never set: its methods name the activities the order runs (exec).
	activities *activities.Activities

	busy       bool // an action or an alarm is being applied; the next waits
	dirty      bool // clocks changed: the clockwork re-arms its timer
	noContinue bool // this run does not continue as new (its history predates the change)
	retrying   bool // a step failed and is tried again (activities.DeadlineSpec.Retry)
}

// WorkOrder is the work-order workflow.
func WorkOrder(ctx workflow.Context, in WorkOrderInput) error {
	w := &workOrder{OrderState: OrderState{Local: in.Local}, input: in, workflowID: workflow.GetInfo(ctx).WorkflowExecution.ID}
	if in.State != nil {
		// Continued from a previous run: the state is whole (before the handlers are set: an
		// update that waited for the new run is judged against it), the clocks are re-armed
		// from it.
		w.restore(*in.State)
		if err := w.setup(ctx); err != nil {
			return err
		}
		return w.watch(ctx)
	}
	w.Snapshot.State = models.StatePendingDispatch
	if err := w.setup(ctx); err != nil {
		return err
	}
	return w.run(ctx)
}

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

// evaluatorFeedback records the evaluator's satisfaction and closes the order; a dissatisfied
// evaluator is brought to the administration, which may reopen.
func (w *workOrder) evaluatorFeedback(ctx workflow.Context, f EvaluatorFeedback) (ActionResult, error) {
	if err := workflow.Await(ctx, func() bool { return !w.busy }); err != nil {
		return ActionResult{}, err
	}
	if err := w.checkFeedback(f); err != nil {
		return ActionResult{}, err
	}
	w.busy = true
	defer func() { w.busy = false }()
	before, err := w.save()
	if err != nil {
		return ActionResult{}, err
	}
	at := workflow.Now(ctx)
	w.Snapshot.State = models.StateClosed
	if err := w.meet(ctx, DLFeedback, at); err != nil {
		return ActionResult{}, w.stepFailed(ctx, before, "evaluator_feedback", err, true)
	}
	data := map[string]any{"satisfaction": f.Satisfaction, "by": "tracking_link"}
	if f.Comment != "" {
		data["comment"] = f.Comment
	}
	var msgs []notify.Message
	if f.Satisfaction == models.Dissatisfied {
		msgs = w.toAdmins("dissatisfied", w.params())
	}
	if err := w.record(ctx, "evaluator", "evaluator_feedback", data, activities.Row{}, msgs...); err != nil {
		return ActionResult{}, w.stepFailed(ctx, before, "evaluator_feedback", err, true)
	}
	return ActionResult{State: w.Snapshot.State, Seq: w.Snapshot.Seq}, nil
}

// exec runs one of the order's activities, locally for orders that run them so (Local). A
// scheduled activity costs the engine a task queue round trip and two more workflow tasks; the
// order's activities are short transactions on the database the worker holds anyway, so
// running them inside the workflow task takes an order from intake to its unit's inbox in one
// workflow task instead of seven (BENCHMARKS.md, point 2).
func (w *workOrder) exec(ctx workflow.Context, activity any, args ...any) workflow.Future {
	if !w.Local {
		return workflow.ExecuteActivity(activityCtx(ctx), activity, args...)
	}
	return workflow.ExecuteLocalActivity(localActivityCtx(ctx), activity, args...)
}

func (w *workOrder) run(ctx workflow.Context) error {
	// The worker, not the starter, picks the code path: before any command, so that histories
	// without the marker (in.Local decided then) replay as they ran.
	w.Local = w.input.Local || w.version(ctx, WorkerPicksPathChange, 1) == 1
	w.ClockOwnersVersion = w.version(ctx, ClockOwnersChange, 1)
	for {
		before, err := w.save()
		if err != nil {
			return err
		}
		err = w.open(ctx)
		if err == nil {
			w.retrying = false
			break
		}
		if !activityFailed(err) || w.version(ctx, StepFailedChange, 1) != 1 {
			return err
		}
		// The order's opening failed (retries spent, or a policy the calendar refuses): it is
		// tried again from the start after a while, rather than failing the workflow for good.
		workflow.GetLogger(ctx).Error("work order could not be opened; trying again", "order", w.input.WorkOrderID, "code", failureCode(err), "err", err)
		var st OrderState
		if err := json.Unmarshal(before, &st); err != nil {
			return fmt.Errorf("restore order state: %w", err)
		}
		w.restore(st) // the sequence too: nothing of the failed opening counts
		w.busy, w.retrying = false, true
		if err := workflow.Sleep(ctx, clockRetry); err != nil {
			return err
		}
	}
	return w.watch(ctx)
}

// open resolves where a new order goes and records it (its first workflow task).
func (w *workOrder) open(ctx workflow.Context) error {
	if err := w.exec(ctx, w.activities.MarkStarted, w.input.WorkOrderID).Get(ctx, nil); err != nil {
		return fmt.Errorf("mark started: %w", err)
	}
	var d activities.Dispatch
	if err := w.exec(ctx, w.activities.ResolveDispatch, w.input.WorkOrderID).Get(ctx, &d); err != nil {
		return fmt.Errorf("resolve dispatch: %w", err)
	}
	w.Snapshot.Admin, w.Levels, w.RealName, w.Kinds = d.Admin, d.Levels, d.RealName, d.Kinds
	w.busy = true
	if d.Unit != nil {
		if err := w.dispatchTo(ctx, d.Unit); err != nil {
			return err
		}
		w.Snapshot.StaffID = d.StaffID
		now := workflow.Now(ctx)
		err := w.record(ctx, "system", "dispatched", map[string]any{"to_unit": d.Unit.Code, "staff": d.StaffID, "rule": d.Reason},
			activities.Row{Unit: d.Unit, StaffID: d.StaffID, DispatchedAt: &now},
			w.toUnit("new_order", w.params("due", w.dueParam(DLSign)))...)
		if err != nil {
			return err
		}
	} else {
		admin := d.Admin
		if err := w.loadPolicy(ctx, admin.Path); err != nil {
			return err
		}
		if w.owners() {
			// The manual-dispatch queue is the administration's stage, with its own clock.
			if err := w.startClock(ctx, DLDispatch, workflow.Now(ctx), admin.Path); err != nil {
				return err
			}
		}
		if err := w.record(ctx, "system", "pending_dispatch", map[string]any{"queue": admin.Code, "reason": d.Reason},
			activities.Row{Unit: &admin}, w.toAdmins("pending_dispatch", w.params("reason", d.Reason))...); err != nil {
			return err
		}
	}
	w.busy = false
	return nil
}

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
		cont := func() bool { return !w.noContinue && overBudget(ctx) }
		if w.Recompute == "" && cont() {
			if w.version(ctx, ContinueAsNewChange, 1) == 1 {
				return w.continueAsNew(ctx)
			}
			w.noContinue = true // an order of an older worker: it runs on as it did
		}
		w.dirty = false
		wake := func() bool { return w.dirty || w.Recompute != "" || cont() }
		var fired bool
		switch as := w.alarms(); {
		case w.Snapshot.State == models.StateClosed:
			left := w.reopenWindow() - workflow.Now(ctx).Sub(w.ClosedAt)
			ok, err := workflow.AwaitWithTimeout(ctx, left, func() bool { return w.Snapshot.State != models.StateClosed || wake() })
			if err != nil {
				return err
			}
			if !ok {
				if !w.owners() {
					return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
				}
				// The window is over: refuse new reopenings, let the accepted ones finish, and
				// end only if none of them reopened the order (a reopening is applied or
				// refused, never accepted and then lost with the workflow).
				w.Ending = true
				if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
					return err
				}
				if w.Snapshot.State == models.StateClosed {
					return nil
				}
				w.Ending = false
				continue
			}
		case len(as) == 0:
			if err := workflow.Await(ctx, wake); err != nil {
				return err
			}
		default:
			ok, err := workflow.AwaitWithTimeout(ctx, as[0].at.Sub(workflow.Now(ctx)), wake)
			if err != nil {
				return err
			}
			fired = !ok
		}
		if !fired && w.Recompute == "" {
			continue
		}
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
			// Undone and made visible; tried again after a while (an action may come first).
			if err := w.stepFailed(ctx, before, "clock", err, false); err != nil {
				w.busy = false
				return err
			}
			w.busy = false
			if _, err := workflow.AwaitWithTimeout(ctx, clockRetry, func() bool { return false }); err != nil {
				return err
			}
			continue
		}
		w.Failed, w.retrying = "", false
		w.busy = false
	}
}

// loadPolicy reads the policy of the unit that now holds the order.
func (w *workOrder) loadPolicy(ctx workflow.Context, unitPath string) error {
	return w.exec(ctx, w.activities.LoadPolicy, unitPath).Get(ctx, &w.Policy)
}

// reopenWindow is how long a closed order waits for a reopening (policy reopen_window).
func (w *workOrder) reopenWindow() time.Duration {
	if !w.owners() || w.Policy.ReopenWindow == nil {
		return reopenWindow
	}
	return budgetDuration(*w.Policy.ReopenWindow, reopenWindow)
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

func (w *workOrder) unitPath() string {
	if w.Snapshot.Unit != nil {
		return w.Snapshot.Unit.Path
	}
	return w.Snapshot.Admin.Path
}

// record appends the next timeline event and applies it to the read-model.
func (w *workOrder) record(ctx workflow.Context, actor, typ string, data map[string]any, row activities.Row, msgs ...notify.Message) error {
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
	ev := activities.Event{
		WorkOrderID: w.input.WorkOrderID, WorkflowID: w.workflowID, RunID: workflow.GetInfo(ctx).WorkflowExecution.RunID, Seq: w.Snapshot.Seq, At: now,
		Actor: actor, Type: typ, Data: data, Row: row, Notify: msgs,
	}
	if err := w.exec(ctx, w.activities.RecordEvent, ev).Get(ctx, nil); err != nil {
		return fmt.Errorf("record %s: %w", typ, err)
	}
	return nil
}

// act applies an accepted action. Actions run one at a time; the check is repeated after
// waiting, because an action applied meanwhile may have changed the state.
func (w *workOrder) act(ctx workflow.Context, req ActionRequest) (ActionResult, error) {
	if err := workflow.Await(ctx, func() bool { return !w.busy }); err != nil {
		return ActionResult{}, err
	}
	if err := w.check(req, workflow.Now(ctx)); err != nil {
		return ActionResult{}, err
	}
	w.busy = true
	defer func() { w.busy = false }()
	from := w.Snapshot.State
	before, err := w.save()
	if err != nil {
		return ActionResult{}, err
	}
	if err := w.apply(ctx, req); err != nil {
		return ActionResult{}, w.stepFailed(ctx, before, req.Action, err, true)
	}
	w.Actors.note(req)
	w.countRepeat(from, req.Action)
	w.retrying = false
	return ActionResult{State: w.Snapshot.State, Seq: w.Snapshot.Seq}, nil
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

// kindOf is an indicator's kind: as resolved with the order's dispatch (the jurisdiction's
// catalogue), else by the default catalogue (orders resolved before kinds were carried, whose
// names the default catalogue holds).
func (w *workOrder) kindOf(code string) string {
	if k, ok := w.Kinds[code]; ok {
		return k
	}
	return indicators.DefaultKind(code)
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
	if !day.After(mustDay(today)) {
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

func mustDay(s string) time.Time {
	t, _ := time.ParseInLocation("2006-01-02", s, cstZone)
	return t
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
	today := mustDay(at.In(cstZone).Format("2006-01-02"))
	n := int(day.Sub(today).Hours()/24 + 0.5)
	if d := w.current(DLCommitted); d != nil && (d.open() || d.MetAt != nil) {
		w.supersede(d, at)
	}
	d := &deadline{Name: DLCommitted, Budget: models.Budget{NaturalDays: &n}, Start: at, UnitPath: w.unitPath(), Owner: w.ownerOf(DLCommitted)}
	w.Deadlines = append(w.Deadlines, d)
	return w.compute(ctx, d)
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
	put("accept", deref(req.Accept), req.Accept != nil)
	put("reached", deref(req.Reached), req.Reached != nil)
	put("method", req.Method, req.Method != "")
	put("note", req.Note, req.Note != "")
	put("true", deref(req.True), req.True != nil)
	put("reasonable", deref(req.Reasonable), req.Reasonable != nil)
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
	put("approve", deref(req.Approve), req.Approve != nil)
	put("upheld", deref(req.Upheld), req.Upheld != nil)
	put("satisfaction", req.Satisfaction, req.Satisfaction != "")
	put("comment", req.Comment, req.Comment != "")
	return d
}

func deref(b *bool) bool { return b != nil && *b }

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
