package apitest

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"redress/intake"
	"redress/models"
	"redress/store/storetest"
	"redress/workflows"
)

// The red-team case of issue 16, finding 1, on the embedded server: callbacks with 900 kB
// notes are refused before they reach the workflow (422 too_long); an officer repeating a
// callback is stopped after 20 in one stage (409 too_many_actions) while the callback that
// reaches the evaluator still goes through; and an order whose history passes its budget (set
// small here) continues as new and works on, its timeline whole, its clocks unchanged.
func TestRedTeamActionsBoundedAndContinued(t *testing.T) {
	old := workflows.HistoryEventBudget
	workflows.HistoryEventBudget = 40 // a few actions' worth of history
	t.Cleanup(func() { workflows.HistoryEventBudget = old })
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, envOptions{})
	_, id := e.badOrder(t, "sz-ft-tax", "")
	e.waitState(t, id, models.StateDispatched)
	ctx := context.Background()
	d, err := temporalClient.DescribeWorkflowExecution(ctx, intake.WorkflowID(id), "")
	if err != nil {
		t.Fatal(err)
	}
	firstRun := d.WorkflowExecutionInfo.Execution.RunId

	e.ok(t, "ft-officer", id, "signed", map[string]any{"action": "sign"})
	clocks := e.order(t, id).Deadlines.V
	huge := strings.Repeat("长", 300_000) // 900 kB of UTF-8
	for i := 0; i < 3; i++ {
		r := e.act(t, "ft-officer", id, "", map[string]any{"action": "callback", "reached": false, "method": "phone", "note": huge})
		wantError(t, r, http.StatusUnprocessableEntity, "too_long", "note")
	}
	note := strings.Repeat("记", workflows.MaxTextLength)
	for i := 0; i < workflows.MaxRepeats; i++ {
		e.ok(t, "ft-officer", id, "signed", map[string]any{"action": "callback", "reached": false, "method": "phone", "note": note})
	}
	r := e.act(t, "ft-officer", id, "", map[string]any{"action": "callback", "reached": false, "method": "phone", "note": "又一次"})
	wantError(t, r, http.StatusConflict, "too_many_actions", "")
	if got := e.order(t, id).Deadlines.V; !sameClocks(got, clocks) {
		t.Errorf("the clocks changed across the runs:\nbefore %+v\nafter  %+v", clocks, got)
	}
	e.ok(t, "ft-officer", id, "called_back", map[string]any{"action": "callback", "reached": true, "method": "phone", "note": "已联系"})
	e.ok(t, "ft-officer", id, "reviewing", map[string]any{"action": "dispose", "true": true, "reasonable": true, "disposition": "rectify_now", "measures": "已整改"})
	e.ok(t, "sz-admin", id, "feedback", map[string]any{"action": "review", "approve": true})

	d, err = temporalClient.DescribeWorkflowExecution(ctx, intake.WorkflowID(id), "")
	if err != nil {
		t.Fatal(err)
	}
	if d.WorkflowExecutionInfo.Execution.RunId == firstRun {
		t.Fatal("the order never continued as new")
	}
	if st := d.WorkflowExecutionInfo.Status; st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		t.Fatalf("workflow status %v", st)
	}
	// The first run ended by continuing as new, not by a failure or termination.
	first, err := temporalClient.DescribeWorkflowExecution(ctx, intake.WorkflowID(id), firstRun)
	if err != nil {
		t.Fatal(err)
	}
	if st := first.WorkflowExecutionInfo.Status; st != enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW {
		t.Fatalf("first run status %v", st)
	}
	// The timeline is whole: every event once, in order, and the read-model at the last.
	evs := e.timeline(t, "sz-auditor", id)
	want := []string{"opened", "dispatched", "sign"} // opened is the intake's event (seq 0)
	for i := 0; i < workflows.MaxRepeats+1; i++ {
		want = append(want, "callback")
	}
	want = append(want, "dispose", "review")
	if got := strings.Join(types(evs), ","); got != strings.Join(want, ",") {
		t.Errorf("timeline %s\nwant     %s", got, strings.Join(want, ","))
	}
	if o := e.order(t, id); o.Version != len(want)-1 || o.State != models.StateFeedback {
		t.Errorf("read-model at version %d state %s, want %d feedback", o.Version, o.State, len(want)-1)
	}
	// The continued run's history (it starts from the carried state) for the replay test.
	e.recordHistory(t, "continued_as_new", id)
	var seqs []int
	if err := db.Table("timeline_events").Where("work_order_id = ?", id).Order("seq").Pluck("seq", &seqs).Error; err != nil {
		t.Fatal(err)
	}
	for i, s := range seqs {
		if s != i {
			t.Fatalf("timeline seqs %v", seqs)
		}
	}
}

// sameClocks compares the clocks a user sees (name, start, due, owner, status).
func sameClocks(a, b []models.Deadline) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if x.Name != y.Name || !x.Start.Equal(y.Start) || !x.DueAt.Equal(y.DueAt) || x.Status != y.Status || x.DueDate != y.DueDate ||
			(x.Owner == nil) != (y.Owner == nil) || (x.Owner != nil && *x.Owner != *y.Owner) {
			return false
		}
	}
	return true
}

// An operator's reset of an order's workflow (issue 16, finding 3): the new run numbers its
// events again from the reset point; they reach the timeline and the read-model (not dropped
// as repeats of the old run's numbers), and the old run's events from there on leave the
// timeline.
func TestResetEventsReachTheReadModel(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, envOptions{})
	_, id := e.badOrder(t, "sz-ft-tax", "")
	e.waitState(t, id, models.StateDispatched)
	e.ok(t, "ft-officer", id, "signed", map[string]any{"action": "sign"})
	e.ok(t, "ft-officer", id, "signed", map[string]any{"action": "callback", "reached": false, "method": "phone"})

	ctx := context.Background()
	wid := intake.WorkflowID(id)
	it := temporalClient.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var firstTask int64
	for it.HasNext() && firstTask == 0 {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if ev.EventType == enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED {
			firstTask = ev.EventId
		}
	}
	// Back to the order's first workflow task (its dispatch), without the actions after it.
	_, err := temporalClient.ResetWorkflowExecution(ctx, &workflowservice.ResetWorkflowExecutionRequest{
		Namespace:                 "default",
		WorkflowExecution:         &commonpb.WorkflowExecution{WorkflowId: wid},
		Reason:                    "issue 16 test: operator reset",
		WorkflowTaskFinishEventId: firstTask,
		RequestId:                 uuid.NewString(),
		// Reapply nothing after the reset point (ResetReapplyType NONE is deprecated).
		ResetReapplyExcludeTypes: []enumspb.ResetReapplyExcludeType{enumspb.RESET_REAPPLY_EXCLUDE_TYPE_SIGNAL,
			enumspb.RESET_REAPPLY_EXCLUDE_TYPE_UPDATE, enumspb.RESET_REAPPLY_EXCLUDE_TYPE_NEXUS},
	})
	if err != nil {
		t.Fatalf("reset: %v", err)
	}
	eventually(t, 20*time.Second, func() (bool, string) {
		o := e.order(t, id)
		return o.State == models.StateDispatched && o.Version == 1, fmt.Sprintf("read-model %s v%d, want dispatched v1", o.State, o.Version)
	})
	e.ok(t, "ft-officer", id, "returned", map[string]any{"action": "return", "reason": "不属于本单位"})
	if o := e.order(t, id); o.State != models.StateReturned || o.Version != 2 {
		t.Errorf("read-model %s v%d after the action, want returned v2", o.State, o.Version)
	}
	if got := strings.Join(types(e.timeline(t, "sz-auditor", id)), ","); got != "opened,dispatched,return" {
		t.Errorf("timeline %s, want opened,dispatched,return", got)
	}
}
