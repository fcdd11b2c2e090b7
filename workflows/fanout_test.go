package workflows

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"redress/activities"
)

// The calendar fan-out pages through the open orders, signals each once, and continues as
// new past its page budget with its cursor (issue 16, finding 5).
func TestCalendarFanOutPagesAndContinues(t *testing.T) {
	oldPage, oldPages := fanOutPage, fanOutPages
	fanOutPage, fanOutPages = 2, 2
	t.Cleanup(func() { fanOutPage, fanOutPages = oldPage, oldPages })
	orders := []string{"a", "b", "c", "d", "e"}
	run := func(in FanOutInput) (map[string]int, *testsuite.TestWorkflowEnvironment) {
		var s testsuite.WorkflowTestSuite
		s.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
		e := s.NewTestWorkflowEnvironment()
		a := &activities.Activities{}
		e.RegisterActivity(a)
		e.OnActivity(a.OpenOrders, mock.Anything, mock.Anything).Return(func(_ context.Context, p activities.OrdersPage) ([]activities.OrderRef, error) {
			var out []activities.OrderRef
			for _, id := range orders {
				if id > p.After && len(out) < p.Limit {
					out = append(out, activities.OrderRef{ID: id, WorkflowID: "work-order-" + id})
				}
			}
			return out, nil
		})
		signalled := map[string]int{}
		e.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", RecomputeSignal, mock.Anything).Return(
			func(_, workflowID, _, _ string, _ any) error {
				signalled[workflowID]++
				return nil
			})
		e.ExecuteWorkflow(CalendarFanOut, in)
		return signalled, e
	}
	got, e := run(FanOutInput{Reason: "calendar changed"})
	var can *workflow.ContinueAsNewError
	if err := e.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("first run: %v, want continue-as-new after two pages", err)
	}
	var next FanOutInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
		t.Fatal(err)
	}
	if next.After != "d" || next.Signalled != 4 || len(got) != 4 {
		t.Fatalf("first run signalled %v, continues with %+v", got, next)
	}
	rest, e2 := run(next)
	if err := e2.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := e2.GetWorkflowResult(&n); err != nil || n != 5 {
		t.Fatalf("result %d %v", n, err)
	}
	for id, c := range rest {
		got[id] += c
	}
	for _, id := range orders {
		if got["work-order-"+id] != 1 {
			t.Errorf("order %s signalled %d times", id, got["work-order-"+id])
		}
	}
}
