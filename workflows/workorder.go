// Package workflows holds the durable processes of redress. The work-order workflow carries
// one bad review from dispatch to closing: its state is the truth about where the order stands,
// officers' actions arrive as Temporal Updates whose validators refuse what the state or the
// caller does not allow, and every transition is written to the timeline and read-model by an
// activity before the update answers.
package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"redress/activities"
	"redress/models"
)

// Names under which the worker registers the workflow and its handlers.
const (
	WorkOrderName = "WorkOrder"
	ActionUpdate  = "action"
	StateQuery    = "state"
)

// reopenWindow is how long a closed order's workflow stays to accept a reopening.
const reopenWindow = 30 * 24 * time.Hour

// WorkOrderInput starts a work order.
type WorkOrderInput struct {
	WorkOrderID string `json:"work_order_id"`
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

type workOrder struct {
	in   WorkOrderInput
	id   string // workflow id
	s    Snapshot
	busy bool // an action is being applied; the next waits
	a    *activities.Activities
}

// WorkOrder is the work-order workflow.
func WorkOrder(ctx workflow.Context, in WorkOrderInput) error {
	w := &workOrder{in: in, id: workflow.GetInfo(ctx).WorkflowExecution.ID}
	if err := w.setup(ctx); err != nil {
		return err
	}
	return w.run(ctx)
}

func (w *workOrder) setup(ctx workflow.Context) error {
	w.s.State = models.StatePendingDispatch
	if err := workflow.SetQueryHandler(ctx, StateQuery, func() (Snapshot, error) { return w.s, nil }); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, ActionUpdate, w.act, workflow.UpdateHandlerOptions{
		Validator: func(ctx workflow.Context, req ActionRequest) error {
			return check(w.s.State, w.unitPath(), req)
		},
	})
}

func activityCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Minute,
		},
	})
}

func (w *workOrder) run(ctx workflow.Context) error {
	actx := activityCtx(ctx)
	if err := workflow.ExecuteActivity(actx, w.a.MarkStarted, w.in.WorkOrderID).Get(ctx, nil); err != nil {
		return fmt.Errorf("mark started: %w", err)
	}
	var d activities.Dispatch
	if err := workflow.ExecuteActivity(actx, w.a.ResolveDispatch, w.in.WorkOrderID).Get(ctx, &d); err != nil {
		return fmt.Errorf("resolve dispatch: %w", err)
	}
	w.s.Admin = d.Admin
	w.busy = true
	if d.Unit != nil {
		now := workflow.Now(ctx)
		w.s.State = models.StateDispatched
		w.s.Unit, w.s.StaffID = d.Unit, d.StaffID
		err := w.record(ctx, "system", "dispatched", map[string]any{"to_unit": d.Unit.Code, "staff": d.StaffID, "rule": d.Reason},
			activities.Row{Unit: d.Unit, StaffID: d.StaffID, DispatchedAt: &now})
		if err != nil {
			return err
		}
	} else {
		admin := d.Admin
		if err := w.record(ctx, "system", "pending_dispatch", map[string]any{"queue": admin.Code, "reason": d.Reason},
			activities.Row{Unit: &admin}); err != nil {
			return err
		}
	}
	w.busy = false

	for {
		if err := workflow.Await(ctx, func() bool { return w.s.State == models.StateClosed && !w.busy }); err != nil {
			return err
		}
		// A closed order may still be reopened for a while; then the workflow ends.
		reopened, err := workflow.AwaitWithTimeout(ctx, reopenWindow, func() bool { return w.s.State != models.StateClosed })
		if err != nil {
			return err
		}
		if !reopened {
			return workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
		}
	}
}

func (w *workOrder) unitPath() string {
	if w.s.Unit != nil {
		return w.s.Unit.Path
	}
	return w.s.Admin.Path
}

// record appends the next timeline event and applies it to the read-model.
func (w *workOrder) record(ctx workflow.Context, actor, typ string, data map[string]any, row activities.Row) error {
	w.s.Seq++
	row.State = w.s.State
	ev := activities.Event{
		WorkOrderID: w.in.WorkOrderID, WorkflowID: w.id, Seq: w.s.Seq, At: workflow.Now(ctx),
		Actor: actor, Type: typ, Data: data, Row: row,
	}
	if err := workflow.ExecuteActivity(activityCtx(ctx), w.a.RecordEvent, ev).Get(ctx, nil); err != nil {
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
	if err := check(w.s.State, w.unitPath(), req); err != nil {
		return ActionResult{}, err
	}
	w.busy = true
	defer func() { w.busy = false }()
	if err := w.apply(ctx, req); err != nil {
		return ActionResult{}, err
	}
	return ActionResult{State: w.s.State, Seq: w.s.Seq}, nil
}

func (w *workOrder) resolveUnit(ctx workflow.Context, code string) (*activities.UnitRef, error) {
	var u activities.UnitRef
	if err := workflow.ExecuteActivity(activityCtx(ctx), w.a.ResolveUnit, code).Get(ctx, &u); err != nil {
		return nil, invalid("to_unit", "unknown_unit", "unit %q is not known", code)
	}
	return &u, nil
}

// apply moves the state for one action and records it.
func (w *workOrder) apply(ctx workflow.Context, req ActionRequest) error {
	actor := req.Caller.Login
	data := actionData(req)
	row := activities.Row{}
	switch req.Action {
	case "dispatch", "reassign":
		u, err := w.resolveUnit(ctx, req.ToUnit)
		if err != nil {
			return err
		}
		now := workflow.Now(ctx)
		w.s.State, w.s.Unit, w.s.StaffID = models.StateDispatched, u, nil
		row.Unit, row.ClearStaff, row.DispatchedAt = u, true, &now
	case "sign":
		w.s.State = models.StateSigned
	case "return":
		w.s.State = models.StateReturned
	case "rule_return":
		if *req.Accept {
			u, err := w.resolveUnit(ctx, req.ToUnit)
			if err != nil {
				return err
			}
			now := workflow.Now(ctx)
			w.s.Unit, w.s.StaffID = u, nil
			row.Unit, row.ClearStaff, row.DispatchedAt = u, true, &now
		}
		w.s.State = models.StateDispatched
	case "callback":
		if *req.Reached {
			w.s.State = models.StateCalledBack
		}
	case "dispose":
		w.s.Disposition = req.Disposition
		row.Disposition = &w.s.Disposition
		switch req.Disposition {
		case "ledger":
			w.s.State = models.StateRectifying
		case "appeal":
			w.s.State = models.StateAppealing
		default:
			w.s.State = models.StateReviewing
		}
	case "complete":
		w.s.State = models.StateReviewing
	case "decide_appeal":
		if *req.Upheld {
			w.s.State = models.StateReviewing
		} else {
			w.s.State = models.StateCalledBack
		}
	case "review":
		if *req.Approve {
			w.s.State = models.StateFeedback
		} else {
			w.s.State = models.StateCalledBack
		}
	case "record_feedback":
		w.s.State = models.StateClosed
	case "escalate":
		if w.s.SupervisionLevel < 2 {
			w.s.SupervisionLevel++
		}
		lvl := w.s.SupervisionLevel
		row.SupervisionLevel = &lvl
		data["supervision_level"] = lvl
	case "reopen":
		w.s.State = models.StateCalledBack
	case "progress", "request_extension", "decide_extension":
		// recorded on the timeline; the state stays
	}
	return w.record(ctx, actor, req.Action, data, row)
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
