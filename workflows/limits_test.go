package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"

	"redress/activities"
	"redress/calendar"
	"redress/models"
)

// One action repeated in one stage is limited (issue 16, finding 1): the 21st unanswered
// callback and the 21st progress report are refused by the validator (nothing reaches the
// history), while the callback that reaches the evaluator still moves the order on.
func TestRepeatLimitPerStage(t *testing.T) {
	e := newEnv(t, &ftTax)
	steps := []step{{req: ActionRequest{Action: "sign", Caller: officer}, wantState: models.StateSigned}}
	for i := 0; i < MaxRepeats; i++ {
		steps = append(steps, step{req: ActionRequest{Action: "callback", Caller: officer, Reached: no(), Method: "phone"}, wantState: models.StateSigned})
	}
	steps = append(steps,
		step{req: ActionRequest{Action: "callback", Caller: officer, Reached: no(), Method: "phone"}, wantErr: ErrTooManyActions, sync: true},
		step{req: ActionRequest{Action: "callback", Caller: officer, Reached: yes(), Method: "phone"}, wantState: models.StateCalledBack},
		step{req: ActionRequest{Action: "dispose", Caller: officer, True: yes(), Reasonable: yes(), Disposition: "ledger", Plan: "改造",
			CommittedDate: time.Now().In(cst).AddDate(0, 0, 2).Format("2006-01-02")}, wantState: models.StateRectifying})
	for i := 0; i < MaxRepeats; i++ {
		steps = append(steps, step{req: ActionRequest{Action: "progress", Caller: officer, Note: "进展"}, wantState: models.StateRectifying})
	}
	steps = append(steps,
		step{req: ActionRequest{Action: "progress", Caller: officer, Note: "进展"}, wantErr: ErrTooManyActions, sync: true},
		step{req: ActionRequest{Action: "complete", Caller: officer, Measures: "已改造"}, wantState: models.StateReviewing})
	e.runAt(t, time.Minute, steps)
	if n := len(e.find("progress", "")); n != MaxRepeats {
		t.Errorf("progress events: %d, want %d", n, MaxRepeats)
	}
}

// continuedInput reads the input of the run an order continued as.
func continuedInput(t *testing.T, e *env) WorkOrderInput {
	t.Helper()
	var can *workflow.ContinueAsNewError
	if err := e.GetWorkflowError(); !errors.As(err, &can) {
		t.Fatalf("the workflow did not continue as new: completed %v, error %v", e.IsWorkflowCompleted(), err)
	}
	if can.WorkflowType.Name != WorkOrderName {
		t.Fatalf("continued as %q", can.WorkflowType.Name)
	}
	var in WorkOrderInput
	if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &in); err != nil {
		t.Fatal(err)
	}
	if in.State == nil || in.WorkOrderID != "wo-1" {
		t.Fatalf("continued without the order's state: %+v", in)
	}
	return in
}

func rowsJSON(t *testing.T, ev activities.Event) string {
	t.Helper()
	type cmp struct {
		Deadlines []models.Deadline
		Next      *time.Time
		Level     *int
		Overdue   *int
	}
	rows := ev.Row.Deadlines
	for i := range rows {
		// Compare instants, not the zone a JSON round trip leaves them in.
		rows[i].Start, rows[i].DueAt = rows[i].Start.UTC(), rows[i].DueAt.UTC()
	}
	b, err := json.Marshal(cmp{rows, ev.Row.NextDueAt, ev.Row.SupervisionLevel, ev.Row.OverdueDays})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// An order whose history passes its budget continues as new between actions, with its whole
// state (issue 16, finding 1): the next run goes on from the next sequence number, with the
// same clocks (starts, pauses, due instants, owners), the same supervision level, the pending
// extension and the unit's actors (separation of duties), and takes the order to its end.
func TestContinueAsNewCarriesState(t *testing.T) {
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, cst)
	committed := start.AddDate(0, 0, 5).Format("2006-01-02")
	e := ownersEnv(t, &ftTax, ownersPolicy())
	e.SetStartTime(start)
	first := []step{
		{req: ActionRequest{Action: "sign", Caller: officer}, wantState: models.StateSigned},
		{req: ActionRequest{Action: "callback", Caller: officer, Reached: no(), Method: "phone"}, wantState: models.StateSigned},
		{req: ActionRequest{Action: "callback", Caller: officer, Reached: yes(), Method: "phone"}, wantState: models.StateCalledBack},
		{req: ActionRequest{Action: "dispose", Caller: officer, True: yes(), Reasonable: yes(), Disposition: "ledger", Plan: "改造", CommittedDate: committed}, wantState: models.StateRectifying},
		{req: ActionRequest{Action: "escalate", Caller: supervisor, Note: "加快"}, wantState: models.StateRectifying},
		{req: ActionRequest{Action: "request_extension", Caller: leader, Days: intp(3), Reason: "设备"}, wantState: models.StateRectifying},
	}
	// Then the history passes its budget: the run ends between actions.
	e.RegisterDelayedCallback(func() { e.SetCurrentHistoryLength(HistoryEventBudget + 1) }, time.Duration(len(first))*time.Minute+30*time.Second)
	e.run(t, first)
	in := continuedInput(t, e)
	last := e.events[len(e.events)-1]
	if last.Type != "request_extension" {
		t.Fatalf("last event of the first run: %s", last.Type)
	}

	e2 := ownersEnv(t, &ftTax, ownersPolicy())
	e2.input = &in
	e2.SetStartTime(last.At.Add(time.Minute))
	e2.run(t, []step{
		{req: ActionRequest{Action: "progress", Caller: officer, Note: "再报进展"}, wantState: models.StateRectifying},
		// The pending extension is carried: it can be decided in the new run.
		{req: ActionRequest{Action: "decide_extension", Caller: supervisor, Approve: yes()}, wantState: models.StateRectifying},
		{req: ActionRequest{Action: "complete", Caller: officer, Measures: "已改造"}, wantState: models.StateReviewing},
		// The unit's actors are carried: the officer who acted for the unit may not review.
		{req: ActionRequest{Action: "review", Caller: Caller{Login: officer.Login, Grants: admin.Grants}, Approve: yes()}, wantErr: ErrForbidden, sync: true},
		{req: ActionRequest{Action: "review", Caller: admin, Approve: yes()}, wantState: models.StateFeedback},
		{req: ActionRequest{Action: "record_feedback", Caller: officer, Satisfaction: models.Satisfied}, wantState: models.StateClosed},
	})
	if !e2.IsWorkflowCompleted() || e2.GetWorkflowError() != nil {
		t.Fatalf("the continued run did not finish the order: %v", e2.GetWorkflowError())
	}
	if len(e2.events) == 0 || e2.events[0].Type != "progress" {
		t.Fatalf("the continued run began with %+v (it must not dispatch again)", e2.events)
	}
	// The timeline is whole: the sequence goes on without a gap or a repeat.
	all := append(append([]activities.Event{}, e.events...), e2.events...)
	for i, ev := range all {
		if ev.Seq != i+1 {
			t.Fatalf("event %d (%s) has seq %d", i, ev.Type, ev.Seq)
		}
	}
	// Nothing a user sees changed across the run: the clocks, the next due instant, the
	// supervision level and the overdue days of the first event of the new run are those of
	// the last event of the old one.
	if a, b := rowsJSON(t, last), rowsJSON(t, e2.events[0]); a != b {
		t.Errorf("the clocks changed across continue-as-new:\nbefore %s\nafter  %s", a, b)
	}
	if lvl := e2.events[0].Row.SupervisionLevel; lvl == nil || *lvl != 1 {
		t.Errorf("supervision level after continuing: %v", lvl)
	}
	ext := e2.lastOf(t, "decide_extension")
	if before, after := dueOf(t, last, DLRectify).DueAt, dueOf(t, ext, DLRectify).DueAt; !after.After(before) {
		t.Errorf("the carried extension did not move the rectification deadline: %v → %v", before, after)
	}
	if !strings.Contains(rowsJSON(t, last), `"owner"`) {
		t.Errorf("the clocks carry no owner: %s", rowsJSON(t, last))
	}
}

// A budget the calendar refuses fails its step at once (non-retryable), not for ever
// (issue 16, finding 2): the action answers action_failed, the order is exactly as before,
// step_failed is on the timeline with a notice to the administration, and the next action is
// taken at once.
func TestDeterministicFailureIsVisibleAndReleasesTheOrder(t *testing.T) {
	bad := "forever"
	p := testPolicy
	p.Deadlines = map[string]models.Budget{}
	for k, v := range testPolicy.Deadlines {
		p.Deadlines[k] = v
	}
	p.Deadlines[DLRectify] = models.Budget{Duration: &bad}
	e := newEnvDP(t, activities.Dispatch{Unit: &ftTax, Admin: szAdmin, Reason: "test",
		Levels: map[string]string{"overall": models.VeryDissatisfied, "attitude": models.Dissatisfied}}, p)
	e.SetTestTimeout(30 * time.Second)
	// The real computation, without the database (the order's deadline_error is issue 17's,
	// tested against a database in api/apitest).
	cal, err := calendar.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	a := &activities.Activities{Calendars: fixedCalendar{cal}}
	e.OnActivity(a.ComputeDeadline, mock.Anything, mock.Anything).Return(func(ctx context.Context, s activities.DeadlineSpec) (activities.DeadlineCalc, error) {
		s.WorkOrderID, s.Retry = "", false
		return a.ComputeDeadline(ctx, s)
	})
	e.run(t, []step{
		{req: ActionRequest{Action: "sign", Caller: officer}, wantState: models.StateSigned},
		{req: ActionRequest{Action: "callback", Caller: officer, Reached: yes(), Method: "phone"}, wantState: models.StateCalledBack},
		{req: ActionRequest{Action: "dispose", Caller: officer, True: yes(), Reasonable: yes(), Disposition: "rectify_now", Measures: "立改"}, wantErr: ErrActionFailed},
		// Unchanged: still called back, and the next action goes through at once.
		{req: ActionRequest{Action: "escalate", Caller: supervisor, Note: "请处理"}, wantState: models.StateCalledBack},
		{req: ActionRequest{Action: "reassign", Caller: supervisor, ToUnit: nsTax.Code, Reason: "改派"}, wantState: models.StateDispatched},
	})
	f := e.lastOf(t, "step_failed")
	if f.Data["step"] != "dispose" || f.Data["code"] != activities.ErrDeadlineInvalid {
		t.Errorf("step_failed data: %v", f.Data)
	}
	if m := msgTo(f, "administrator"); m == nil || m.Template != "step_failed" {
		t.Errorf("step_failed notifies %+v, want the administration", f.Notify)
	}
	if f.Row.State != models.StateCalledBack || f.Row.Disposition != nil {
		t.Errorf("step_failed row: state %s disposition %v (the order must be as before)", f.Row.State, f.Row.Disposition)
	}
	for _, d := range f.Row.Deadlines {
		if d.Name == DLRectify {
			t.Errorf("a rectification clock was left behind by the failed step: %+v", d)
		}
	}
	if len(e.find("dispose", "")) != 0 {
		t.Error("the failed dispose was recorded")
	}
}
