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

	"go.temporal.io/sdk/workflow"

	"redress/activities/activitydefs"
	"redress/models"
)

// The workflow itself: its registered names, its input and query answer, the run's own state
// (workOrder), and how a new order opens before the clockwork takes over. Handlers are in
// handlers.go, the transitions of actions in transitions.go, events in record.go.

// Names under which the worker registers the workflow and its handlers.
const (
	WorkOrderName = "WorkOrder"
	ActionUpdate  = "action"
	// FeedbackUpdate carries the evaluator's own satisfaction from the tracking link.
	FeedbackUpdate = "evaluator_feedback"
	StateQuery     = "state"
)

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
	State            string                `json:"state"`
	Disposition      string                `json:"disposition"`
	Unit             *activitydefs.UnitRef `json:"unit"`
	Admin            activitydefs.UnitRef  `json:"admin"`
	StaffID          *string               `json:"staff_id"`
	SupervisionLevel int                   `json:"supervision_level"`
	Seq              int                   `json:"seq"`
}

// workOrder is one run of the work-order workflow. OrderState is everything that outlives one
// action, and is all a run hands to the next (carry.go); the fields below it live and die with
// the run.
type workOrder struct {
	OrderState

	input      WorkOrderInput
	workflowID string

	busy       bool // an action or an alarm is being applied; the next waits
	dirty      bool // clocks changed: the clockwork re-arms its timer
	noContinue bool // this run does not continue as new (its history predates the change)
	retrying   bool // a step failed and is tried again (activitydefs.DeadlineSpec.Retry)
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

// exec runs one of the order's activities, locally for orders that run them so (Local). A
// scheduled activity costs the engine a task queue round trip and two more workflow tasks; the
// order's activities are short transactions on the database the worker holds anyway, so
// running them inside the workflow task takes an order from intake to its unit's inbox in one
// workflow task instead of seven (BENCHMARKS.md, point 2). It is the activitydefs.Runner the
// order's activities are scheduled with (by their definitions' names).
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
	if err := activitydefs.MarkStarted.Run(ctx, w.exec, w.input.WorkOrderID).Get(ctx); err != nil {
		return fmt.Errorf("mark started: %w", err)
	}
	var d activitydefs.Dispatch
	if err := activitydefs.ResolveDispatch.Run(ctx, w.exec, w.input.WorkOrderID).Get(ctx, &d); err != nil {
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
			activitydefs.Row{Unit: d.Unit, StaffID: d.StaffID, DispatchedAt: &now},
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
			activitydefs.Row{Unit: &admin}, w.toAdmins("pending_dispatch", w.params("reason", d.Reason))...); err != nil {
			return err
		}
	}
	w.busy = false
	return nil
}

// loadPolicy reads the policy of the unit that now holds the order.
func (w *workOrder) loadPolicy(ctx workflow.Context, unitPath string) error {
	return activitydefs.LoadPolicy.Run(ctx, w.exec, unitPath).Get(ctx, &w.Policy)
}

func (w *workOrder) unitPath() string {
	if w.Snapshot.Unit != nil {
		return w.Snapshot.Unit.Path
	}
	return w.Snapshot.Admin.Path
}
