package apitest

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"

	"redress/intake"
	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// deadStarter never starts anything: the process died after the evaluation's commit.
type deadStarter struct{}

func (deadStarter) StartWorkOrder(context.Context, string) error {
	return errors.New("process died before starting the workflow")
}

// TestCrashBetweenStoreAndStart: a bad rating whose workflow was never started is still
// accepted and stored, and the reconciler starts it exactly once.
func TestCrashBetweenStoreAndStart(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := newEnv(t, db, envOptions{starter: deadStarter{}})
		_, id := e.badOrder(t, "sz-ft-tax", "S0001") // 201 despite the failed start

		wo := e.order(t, id)
		if wo.WorkflowStarted || wo.State != models.StatePendingDispatch {
			t.Fatalf("row after the crash: started=%v state=%q", wo.WorkflowStarted, wo.State)
		}
		_, err := temporalClient.DescribeWorkflowExecution(ctx, intake.WorkflowID(id), "")
		var nf *serviceerror.NotFound
		if !errors.As(err, &nf) {
			t.Fatalf("describe before reconciling: want NotFound, got %v", err)
		}
		if l := e.list(t, "ft-officer", ""); len(l.Items) != 0 {
			t.Errorf("an unstarted order is in the inbox: %v", ids(l))
		}
		wantError(t, e.act(t, "sz-admin", id, "", map[string]any{"action": "escalate", "note": "x"}), http.StatusNotFound, "not_found", "")

		// Within the grace period the reconciler leaves the order to the intake.
		if n, err := e.starter.Reconcile(ctx, time.Hour); err != nil || n != 0 {
			t.Fatalf("reconcile with grace: %d, %v", n, err)
		}
		n, err := e.starter.Reconcile(ctx, 0)
		if err != nil || n != 1 {
			t.Fatalf("reconcile: started %d, %v; want 1", n, err)
		}
		desc, err := temporalClient.DescribeWorkflowExecution(ctx, intake.WorkflowID(id), "")
		if err != nil {
			t.Fatalf("describe after reconciling: %v", err)
		}
		if q := desc.GetWorkflowExecutionInfo().GetTaskQueue(); q != e.queue {
			t.Errorf("started on %q, want %q", q, e.queue)
		}
		if wo := e.order(t, id); !wo.WorkflowStarted {
			t.Error("workflow_started still false after reconciling")
		}
		eventually(t, 10*time.Second, func() (bool, string) {
			l := e.list(t, "ft-officer", "?state=dispatched")
			return slices.Contains(ids(l), id), "not yet dispatched in ft-officer's inbox"
		})
		if n, err := e.starter.Reconcile(ctx, 0); err != nil || n != 0 {
			t.Errorf("second reconcile started %d, %v; want 0", n, err)
		}
		if c := e.count(t, "timeline_events", "work_order_id = ? AND type = ?", id, "dispatched"); c != 1 {
			t.Errorf("%d dispatched events", c)
		}
	})
}
