package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"redress/activities/activitydefs"
)

// The calendar fan-out (issue 16, finding 5): when the working-day calendar changes, every open
// order recomputes its deadlines. One workflow per calendar change does it for the whole
// cluster: its id is derived from the calendar's stamp, so the start made by each worker that
// notices the change finds the one already started (or finished) and does nothing. It pages
// through the open orders in id order, signals each once, and continues as new past a page
// budget, carrying its cursor.

// CalendarFanOutName is the fan-out workflow's registered name.
const CalendarFanOutName = "CalendarFanOut"

// FanOutInput is the fan-out's input and, continued, its cursor.
type FanOutInput struct {
	Reason string `json:"reason"`
	// Units limits the fan-out to the orders within these unit subtrees (none: all).
	Units []string `json:"units,omitempty"`
	// After is the id of the last order signalled; Signalled counts them.
	After     string `json:"after,omitempty"`
	Signalled int    `json:"signalled,omitempty"`
}

// fanOutPage is how many orders one page signals; fanOutPages how many pages one run takes
// before it continues as new (each signal is two events of its history).
var (
	fanOutPage  = 200
	fanOutPages = 10
)

// FanOutID is the workflow id of the fan-out for the calendar's change from stamp from to stamp
// to on a task queue (one deployment's workers: deployments sharing a Temporal namespace do not
// share fan-outs). Both stamps are in it because the orders a change concerns depend on where
// it started: a worker that last saw from=A and one that last saw from=B (it started between
// two changes) each owe the orders of a different set of units; the same change seen from the
// same stamp by every worker is one fan-out.
func FanOutID(queue, from, to string) string {
	return "calendar-fanout-" + queue + "-" + from + "-" + to
}

// CalendarFanOut signals RecomputeSignal to every open order (within Units), once.
func CalendarFanOut(ctx workflow.Context, in FanOutInput) (int, error) {
	actx := activityCtx(ctx)
	for page := 0; page < fanOutPages; page++ {
		var refs []activitydefs.OrderRef
		if err := activitydefs.OpenOrders.Run(actx, workflow.ExecuteActivity, activitydefs.OrdersPage{After: in.After, Limit: fanOutPage, Units: in.Units}).Get(ctx, &refs); err != nil {
			return in.Signalled, fmt.Errorf("calendar fan-out: open orders: %w", err)
		}
		if len(refs) == 0 {
			return in.Signalled, nil
		}
		futures := make([]workflow.Future, len(refs))
		for i, r := range refs {
			futures[i] = workflow.SignalExternalWorkflow(ctx, r.WorkflowID, "", RecomputeSignal, in.Reason)
		}
		for i, f := range futures {
			// An order that closed meanwhile has no running workflow: nothing to recompute.
			if err := f.Get(ctx, nil); err != nil {
				workflow.GetLogger(ctx).Debug("calendar fan-out: order not signalled", "order", refs[i].ID, "err", err)
				continue
			}
			in.Signalled++
		}
		in.After = refs[len(refs)-1].ID
	}
	return in.Signalled, workflow.NewContinueAsNewError(ctx, CalendarFanOutName, in)
}

// StartCalendarFanOut starts the fan-out for a calendar change (stamp from to stamp to), once
// for the whole cluster: a fan-out for the same change that is running or has run makes this a
// no-op.
func StartCalendarFanOut(ctx context.Context, c client.Client, queue, from, to string, in FanOutInput) (bool, error) {
	_, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       FanOutID(queue, from, to),
		TaskQueue:                queue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionTimeout: 24 * time.Hour,
	}, CalendarFanOutName, in)
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("start calendar fan-out %s→%s: %w", from, to, err)
	}
	return true, nil
}
