package workflows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	tlog "go.temporal.io/sdk/log"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"redress/activities"
	"redress/calendar"
	"redress/calendar/calendardb"
	"redress/migrations"
	"redress/models"
	"redress/store/storetest"
)

var (
	ftTax   = activities.UnitRef{ID: 10, Code: "sz-ft-tax", Name: "福田区税务局", Path: "/gd/sz/sz-ft/sz-ft-tax/"}
	nsTax   = activities.UnitRef{ID: 11, Code: "sz-ns-tax", Name: "南山区税务局", Path: "/gd/sz/sz-ns/sz-ns-tax/"}
	szAdmin = activities.UnitRef{ID: 2, Code: "sz", Name: "深圳市政务服务数据管理局", Path: "/gd/sz/"}

	officer    = Caller{Login: "ft-officer", Grants: []Grant{{Role: models.RoleOfficer, UnitPath: ftTax.Path}}}
	leader     = Caller{Login: "ft-leader", Grants: []Grant{{Role: models.RoleUnitLeader, UnitPath: ftTax.Path}}}
	nsOfficer  = Caller{Login: "ns-officer", Grants: []Grant{{Role: models.RoleOfficer, UnitPath: nsTax.Path}}}
	admin      = Caller{Login: "sz-admin", Grants: []Grant{{Role: models.RoleAdministrator, UnitPath: szAdmin.Path}}}
	supervisor = Caller{Login: "sz-supervisor", Grants: []Grant{{Role: models.RoleSupervisor, UnitPath: szAdmin.Path}}}
	auditor    = Caller{Login: "sz-auditor", Grants: []Grant{{Role: models.RoleAuditor, UnitPath: szAdmin.Path}}}
)

func yes() *bool { b := true; return &b }
func no() *bool  { b := false; return &b }

type fixedCalendar struct{ c *calendar.Calendar }

func (f fixedCalendar) Calendar(context.Context, string) (*calendar.Calendar, error) { return f.c, nil }

// testPolicy is API.md's example policy.
var testPolicy = activities.Policy{
	Unit: "sz",
	Deadlines: map[string]models.Budget{
		"sign": {Hours: intp(24)}, "callback": {WorkingDays: intp(3)}, "rectify": {WorkingDays: intp(10)},
		"appeal_decision": {WorkingDays: intp(5)}, "review": {WorkingDays: intp(3)}, "feedback": {NaturalDays: intp(7)},
	},
	RemindShare: 0.25,
	ReopenLimit: 1,
}

type env struct {
	*testsuite.TestWorkflowEnvironment
	exclusions []activities.Exclusion // ExcludeIndicators calls
	events     []activities.Event
	input      *WorkOrderInput // what the workflow is started with (nil: a new order wo-1)
}

// newEnv runs the workflow with activities that record events instead of writing a
// database; dispatch resolves to unit u (nil: pending dispatch).
func newEnv(t *testing.T, u *activities.UnitRef) *env {
	return newEnvD(t, activities.Dispatch{
		Unit: u, Admin: szAdmin, Reason: "test", RealName: true,
		Levels: map[string]string{"overall": models.VeryDissatisfied, "attitude": models.Dissatisfied},
	})
}

// newEnvD is newEnv with the dispatch decision given whole.
func newEnvD(t *testing.T, disp activities.Dispatch) *env {
	return newEnvDP(t, disp, testPolicy)
}

// newEnvDP is newEnvD with the policy given.
func newEnvDP(t *testing.T, disp activities.Dispatch, policy activities.Policy) *env {
	var s testsuite.WorkflowTestSuite
	s.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	e := &env{TestWorkflowEnvironment: s.NewTestWorkflowEnvironment()}
	cal, err := calendar.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	// Deadlines are computed by the real activity on the real shipped calendar; only the
	// database side is replaced.
	a := &activities.Activities{Calendars: fixedCalendar{cal}}
	e.RegisterActivity(a)
	e.OnActivity(a.MarkStarted, mock.Anything, mock.Anything).Return(nil)
	e.OnActivity(a.ExcludeRating, mock.Anything, mock.Anything).Return(nil)
	e.OnActivity(a.ExcludeIndicators, mock.Anything, mock.Anything).Return(func(_ context.Context, x activities.Exclusion) error {
		e.exclusions = append(e.exclusions, x)
		return nil
	})
	e.OnActivity(a.LoadPolicy, mock.Anything, mock.Anything).Return(policy, nil)
	e.OnActivity(a.ResolveDispatch, mock.Anything, mock.Anything).Return(disp, nil)
	e.OnActivity(a.ResolveUnit, mock.Anything, mock.Anything).Return(
		func(_ context.Context, code string) (activities.UnitRef, error) {
			switch code {
			case ftTax.Code:
				return ftTax, nil
			case nsTax.Code:
				return nsTax, nil
			}
			return activities.UnitRef{}, temporal.NewNonRetryableApplicationError("no unit", activities.ErrUnknownUnit, nil)
		})
	e.OnActivity(a.RecordEvent, mock.Anything, mock.Anything).Return(func(_ context.Context, ev activities.Event) error {
		e.events = append(e.events, ev)
		return nil
	})
	return e
}

// step is one action sent at a moment of the run and the outcome it must have.
type step struct {
	req       ActionRequest
	feedback  *EvaluatorFeedback // sent as the evaluator's feedback update instead of req
	wantState string             // when accepted
	wantErr   string             // error type when refused
	wantCode  string             // the refusal's FieldError code, when given
	sync      bool               // the refusal must come from the validator (nothing applied)
}

// refusedAs checks a refusal's type and code.
func (s step) refusedAs(t *testing.T, i int, err error) {
	t.Helper()
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.Type() != s.wantErr {
		t.Errorf("step %d %s: want %s, got %v", i, s.req.Action, s.wantErr, err)
		return
	}
	if s.wantCode != "" {
		var fe FieldError
		if !ae.HasDetails() || ae.Details(&fe) != nil || fe.Code != s.wantCode {
			t.Errorf("step %d %s: want code %s, got %+v (%v)", i, s.req.Action, s.wantCode, fe, err)
		}
	}
}

func (e *env) run(t *testing.T, steps []step) {
	t.Helper()
	e.runAt(t, time.Minute, steps)
}

// runAt sends step i at (i+1)·gap after the start.
func (e *env) runAt(t *testing.T, gap time.Duration, steps []step) {
	t.Helper()
	for i, s := range steps {
		i, s := i, s
		e.RegisterDelayedCallback(func() {
			name, arg := ActionUpdate, any(s.req)
			if s.feedback != nil {
				name, arg = FeedbackUpdate, *s.feedback
			}
			e.UpdateWorkflow(name, "", &testsuite.TestUpdateCallback{
				OnReject: func(err error) {
					if s.wantErr == "" {
						t.Errorf("step %d %s: rejected: %v", i, s.req.Action, err)
						return
					}
					s.refusedAs(t, i, err)
				},
				OnAccept: func() {},
				OnComplete: func(res any, err error) {
					if s.wantErr != "" {
						// Refusals that need an activity (an unknown unit) come after acceptance.
						if s.sync {
							t.Errorf("step %d %s: accepted, then refused: %v", i, s.req.Action, err)
						}
						s.refusedAs(t, i, err)
						return
					}
					if err != nil {
						t.Errorf("step %d %s: %v", i, s.req.Action, err)
						return
					}
					if got := res.(ActionResult).State; got != s.wantState {
						t.Errorf("step %d %s: state %s, want %s", i, s.req.Action, got, s.wantState)
					}
				},
			}, arg)
		}, time.Duration(i+1)*gap)
	}
	in := WorkOrderInput{WorkOrderID: "wo-1", Local: true}
	if e.input != nil {
		in = *e.input
	}
	e.ExecuteWorkflow(WorkOrder, in)
}

func TestWholeChain(t *testing.T) {
	e := newEnv(t, &ftTax)
	e.run(t, []step{
		{req: ActionRequest{Action: "sign", Caller: nsOfficer}, wantErr: ErrForbidden},
		{req: ActionRequest{Action: "dispatch", Caller: officer, ToUnit: "sz-ft-tax"}, wantErr: ErrForbidden},
		{req: ActionRequest{Action: "callback", Caller: officer, Reached: yes(), Method: "phone"}, wantErr: ErrWrongState},
		{req: ActionRequest{Action: "sign", Caller: officer}, wantState: models.StateSigned},
		{req: ActionRequest{Action: "sign", Caller: officer}, wantErr: ErrWrongState},
		{req: ActionRequest{Action: "callback", Caller: officer, Reached: no(), Method: "phone"}, wantState: models.StateSigned},
		{req: ActionRequest{Action: "callback", Caller: officer, Reached: yes(), Method: "fax"}, wantErr: ErrInvalid},
		{req: ActionRequest{Action: "callback", Caller: officer, Reached: yes(), Method: "phone", Note: "听取意见"}, wantState: models.StateCalledBack},
		{req: ActionRequest{Action: "dispose", Caller: officer, True: yes(), Reasonable: yes(), Disposition: "ledger", Plan: "改造窗口", CommittedDate: time.Now().In(cst).AddDate(0, 0, 2).Format("2006-01-02")}, wantState: models.StateRectifying},
		{req: ActionRequest{Action: "progress", Caller: officer, Note: "已完成一半"}, wantState: models.StateRectifying},
		{req: ActionRequest{Action: "request_extension", Caller: officer, Days: intp(5), Reason: "设备"}, wantErr: ErrForbidden},
		{req: ActionRequest{Action: "request_extension", Caller: leader, Days: intp(5), Reason: "设备"}, wantState: models.StateRectifying},
		{req: ActionRequest{Action: "decide_extension", Caller: supervisor, Approve: yes()}, wantState: models.StateRectifying},
		{req: ActionRequest{Action: "complete", Caller: officer, Measures: "窗口已改造"}, wantState: models.StateReviewing},
		{req: ActionRequest{Action: "review", Caller: auditor, Approve: yes()}, wantErr: ErrForbidden},
		{req: ActionRequest{Action: "review", Caller: admin, Approve: yes()}, wantState: models.StateFeedback},
		{req: ActionRequest{Action: "record_feedback", Caller: officer, Satisfaction: "very_happy"}, wantErr: ErrInvalid},
		{req: ActionRequest{Action: "record_feedback", Caller: officer, Satisfaction: models.Satisfied}, wantState: models.StateClosed},
		{req: ActionRequest{Action: "reopen", Caller: admin, Note: "群众仍不满意"}, wantState: models.StateCalledBack},
		{req: ActionRequest{Action: "dispose", Caller: officer, True: no(), Reasonable: no(), Disposition: "explain", Explanation: "无法律依据"}, wantState: models.StateReviewing},
		{req: ActionRequest{Action: "review", Caller: admin, Approve: yes()}, wantState: models.StateFeedback},
		{req: ActionRequest{Action: "record_feedback", Caller: leader, Satisfaction: models.BasicallySatisfied}, wantState: models.StateClosed},
	})
	if !e.IsWorkflowCompleted() {
		t.Fatal("workflow did not finish after the reopen window")
	}
	if err := e.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	// dispatched + one event per accepted action, numbered without gaps from 1.
	if len(e.events) != 1+14 {
		t.Errorf("events: %d", len(e.events))
	}
	for i, ev := range e.events {
		if ev.Seq != i+1 {
			t.Fatalf("event %d has seq %d", i, ev.Seq)
		}
	}
	if e.events[0].Type != "dispatched" || e.events[0].Row.Unit.Code != ftTax.Code {
		t.Errorf("first event: %+v", e.events[0])
	}
}

func TestPendingDispatchReturnAppealReassign(t *testing.T) {
	e := newEnv(t, nil)
	e.run(t, []step{
		{req: ActionRequest{Action: "sign", Caller: officer}, wantErr: ErrForbidden}, // not its order yet
		{req: ActionRequest{Action: "dispatch", Caller: admin, ToUnit: "nowhere"}, wantErr: ErrInvalid},
		{req: ActionRequest{Action: "dispatch", Caller: admin, ToUnit: nsTax.Code}, wantState: models.StateDispatched},
		{req: ActionRequest{Action: "return", Caller: nsOfficer}, wantErr: ErrInvalid},
		{req: ActionRequest{Action: "return", Caller: nsOfficer, Reason: "非本单位办理"}, wantState: models.StateReturned},
		{req: ActionRequest{Action: "rule_return", Caller: admin, Accept: yes(), ToUnit: ftTax.Code, Reason: "改派福田"}, wantState: models.StateDispatched},
		{req: ActionRequest{Action: "sign", Caller: nsOfficer}, wantErr: ErrForbidden},
		{req: ActionRequest{Action: "sign", Caller: officer}, wantState: models.StateSigned},
		{req: ActionRequest{Action: "escalate", Caller: supervisor, Note: "加快"}, wantState: models.StateSigned},
		{req: ActionRequest{Action: "callback", Caller: officer, Reached: yes(), Method: "sms"}, wantState: models.StateCalledBack},
		{req: ActionRequest{Action: "dispose", Caller: officer, True: no(), Reasonable: no(), Disposition: "appeal", AppealReason: "malicious", Evidence: "录像"}, wantState: models.StateCalledBack},
		{req: ActionRequest{Action: "submit_appeal", Caller: leader}, wantState: models.StateAppealing},
		{req: ActionRequest{Action: "decide_appeal", Caller: admin, Upheld: no(), Note: "证据不足"}, wantState: models.StateCalledBack},
		{req: ActionRequest{Action: "reassign", Caller: supervisor, ToUnit: nsTax.Code, Reason: "实为南山办理"}, wantState: models.StateDispatched},
		{req: ActionRequest{Action: "sign", Caller: nsOfficer}, wantState: models.StateSigned},
	})
	var snap Snapshot
	v, err := e.QueryWorkflow(StateQuery)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Get(&snap); err != nil {
		t.Fatal(err)
	}
	if snap.Unit == nil || snap.Unit.Code != nsTax.Code || snap.SupervisionLevel < 1 || snap.State != models.StateSigned {
		t.Errorf("snapshot: %+v", snap)
	}
	if e.events[0].Type != "pending_dispatch" || e.events[0].Row.Unit.Path != szAdmin.Path {
		t.Errorf("first event: %+v", e.events[0])
	}
}

func intp(n int) *int { return &n }

var cst = time.FixedZone("CST", 8*3600)

func (e *env) find(typ string, deadline string) []activities.Event {
	var out []activities.Event
	for _, ev := range e.events {
		if ev.Type == typ && (deadline == "" || ev.Data["deadline"] == deadline) {
			out = append(out, ev)
		}
	}
	return out
}

func dueOf(t *testing.T, ev activities.Event, name string) models.Deadline {
	t.Helper()
	// The stage's current clock: superseded ones stay in the rows for the record.
	for _, d := range ev.Row.Deadlines {
		if d.Name == name && !d.Superseded {
			return d
		}
	}
	t.Fatalf("event %s has no %s deadline: %+v", ev.Type, name, ev.Row.Deadlines)
	return models.Deadline{}
}

// A rating dispatched the day before 国庆 2026: the callback's 3 working days skip the week of
// holidays and end on the adjusted working Saturday 10-10; nobody acts, so the reminders, the
// breaches and both levels of supervision follow at their instants.
func TestDeadlinesAcrossNationalDay(t *testing.T) {
	e := newEnv(t, &ftTax)
	start := time.Date(2026, 9, 30, 10, 0, 0, 0, cst)
	e.SetStartTime(start)
	e.ExecuteWorkflow(WorkOrder, WorkOrderInput{WorkOrderID: "wo-1", Local: true})

	disp := e.events[0]
	cb := dueOf(t, disp, DLCallback)
	if cb.DueDate != "2026-10-10" || !cb.DueAt.Equal(time.Date(2026, 10, 11, 0, 0, 0, 0, cst)) || cb.Unit != "working_days" || cb.Budget != "3" {
		t.Errorf("callback deadline: %+v", cb)
	}
	if cb.CalendarVersion == "" {
		t.Error("no calendar version")
	}
	sign := dueOf(t, disp, DLSign)
	if !sign.DueAt.Equal(start.Add(24 * time.Hour)) {
		t.Errorf("sign deadline: %+v", sign)
	}
	if disp.Row.NextDueAt == nil || !disp.Row.NextDueAt.Equal(sign.DueAt) {
		t.Errorf("next due: %v", disp.Row.NextDueAt)
	}

	want := []struct {
		typ, deadline string
		at            time.Time
		level         int
	}{
		{"reminder", DLSign, start.Add(18 * time.Hour), 0},
		{"deadline_breached", DLSign, start.Add(24 * time.Hour), 0},
		{"supervision", DLSign, start.Add(24 * time.Hour), 1},
		{"deadline_breached", DLSign, start.Add(48 * time.Hour), 0},
		{"supervision", DLSign, start.Add(48 * time.Hour), 2},
		{"reminder", DLCallback, time.Date(2026, 10, 10, 0, 0, 0, 0, cst), 0},
		{"deadline_breached", DLCallback, time.Date(2026, 10, 11, 0, 0, 0, 0, cst), 0},
	}
	var got []activities.Event
	got = append(got, e.events[1:]...)
	for i, w := range want {
		if i >= len(got) {
			t.Fatalf("only %d events after dispatch, want %d: %+v", len(got), len(want), got)
		}
		g := got[i]
		if g.Type != w.typ || g.Data["deadline"] != w.deadline || !g.At.Equal(w.at) {
			t.Errorf("event %d: %s %v at %s, want %s %s at %s", i, g.Type, g.Data["deadline"], g.At.In(cst), w.typ, w.deadline, w.at)
		}
		if w.level != 0 && fmt.Sprint(g.Data["level"]) != fmt.Sprint(w.level) {
			t.Errorf("event %d: level %v, want %d", i, g.Data["level"], w.level)
		}
	}
	last := e.events[len(e.events)-1]
	if *last.Row.SupervisionLevel != 2 || last.Row.NextDueAt == nil {
		t.Errorf("read-model after breaches: level %d next %v", *last.Row.SupervisionLevel, last.Row.NextDueAt)
	}
}

// An appeal stops the rectification clock; a rejected appeal resumes it, and the due date moves
// by the working days the appeal took. An approved extension moves it again.
func TestAppealPausesAndExtensionMovesRectify(t *testing.T) {
	e := newEnv(t, &ftTax)
	// Monday 2026-11-02 09:00; one step a day.
	e.SetStartTime(time.Date(2026, 11, 2, 9, 0, 0, 0, cst))
	e.runAt(t, 24*time.Hour, []step{
		{req: ActionRequest{Action: "sign", Caller: officer}, wantState: models.StateSigned},                                                                                                        // Tue 11-03
		{req: ActionRequest{Action: "callback", Caller: officer, Reached: yes(), Method: "phone"}, wantState: models.StateCalledBack},                                                               // Wed 11-04
		{req: ActionRequest{Action: "dispose", Caller: leader, True: no(), Reasonable: no(), Disposition: "appeal", AppealReason: "mistaken", Evidence: "录音"}, wantState: models.StateAppealing},    // Thu 11-05: the unit leader appeals directly
		{req: ActionRequest{Action: "progress", Caller: officer, Note: "x"}, wantErr: ErrWrongState},                                                                                                // Fri 11-06
		{req: ActionRequest{Action: "progress", Caller: officer, Note: "x"}, wantErr: ErrWrongState},                                                                                                // Sat 11-07
		{req: ActionRequest{Action: "progress", Caller: officer, Note: "x"}, wantErr: ErrWrongState},                                                                                                // Sun 11-08
		{req: ActionRequest{Action: "decide_appeal", Caller: admin, Upheld: no(), Note: "证据不足"}, wantState: models.StateCalledBack},                                                                 // Mon 11-09
		{req: ActionRequest{Action: "dispose", Caller: officer, True: yes(), Reasonable: yes(), Disposition: "ledger", Plan: "整改", CommittedDate: "2026-11-20"}, wantState: models.StateRectifying}, // Tue 11-10
		{req: ActionRequest{Action: "request_extension", Caller: leader, Days: intp(3), Reason: "采购"}, wantState: models.StateRectifying},                                                           // Wed 11-11
		{req: ActionRequest{Action: "decide_extension", Caller: admin, Approve: yes()}, wantState: models.StateRectifying},                                                                          // Thu 11-12
		{req: ActionRequest{Action: "decide_extension", Caller: admin, Approve: yes()}, wantErr: ErrWrongState},                                                                                     // Fri 11-13: none pending
	})
	rect := func(ev activities.Event) models.Deadline { return dueOf(t, ev, DLRectify) }
	appeal := e.find("dispose", "")[0]
	if d := rect(appeal); !d.Paused || d.DueDate != "2026-11-19" {
		// Started Thu 11-05: 10 working days end Thu 11-19; paused at once.
		t.Errorf("rectify at appeal: %+v", d)
	}
	decided := e.find("decide_appeal", "")[0]
	// Paused Thu 11-05 09:00 → Mon 11-09 09:00: working days Fri 11-06 and Mon 11-09 were
	// inside the pause, so the due date moves two working days, to Mon 11-23.
	if d := rect(decided); d.Paused || d.DueDate != "2026-11-23" {
		t.Errorf("rectify after rejected appeal: %+v", d)
	}
	if d := dueOf(t, decided, DLAppealDecision); d.MetAt == nil {
		t.Errorf("appeal decision deadline not met: %+v", d)
	}
	ext := e.find("decide_extension", "")[0]
	if d := rect(ext); d.DueDate != "2026-11-26" || d.Budget != "13" {
		t.Errorf("rectify after extension: %+v", d)
	}
}

// A deadline that reaches a year the calendar does not cover is not guessed: the order waits
// without that clock, and when the year is imported the recompute signal sets it, with a
// timeline event saying what moved and why.
func TestUncoveredYearThenImport(t *testing.T) {
	db := storetest.Open(t, migrations.SQLite)
	ctx := context.Background()
	if _, err := calendardb.EnsureShipped(ctx, db); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, &ftTax)
	// Real calendars from the database, reloaded on every call.
	var a *activities.Activities
	e.OnActivity(a.ComputeDeadline, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, s activities.DeadlineSpec) (activities.DeadlineCalc, error) {
			real := &activities.Activities{Calendars: calendardb.NewCache(db, 0)}
			return real.ComputeDeadline(ctx, s)
		})
	e.SetStartTime(time.Date(2026, 12, 29, 10, 0, 0, 0, cst))
	y2027 := `{"year":2027,"papers":["test notice"],"days":[{"name":"元旦","date":"2027-01-01","isOffDay":true}]}`
	e.RegisterDelayedCallback(func() {
		if _, err := calendardb.ImportHolidayCN(ctx, db, strings.NewReader(y2027), "test"); err != nil {
			t.Error(err)
		}
		e.SignalWorkflow(RecomputeSignal, "calendar changed (test)")
	}, 2*time.Hour)
	e.ExecuteWorkflow(WorkOrder, WorkOrderInput{WorkOrderID: "wo-1", Local: true})

	disp := e.events[0]
	if cb := dueOf(t, disp, DLCallback); cb.DueDate != "" || !cb.DueAt.IsZero() {
		t.Errorf("callback into 2027 computed without 2027: %+v", cb)
	}
	// The missing year is an explicit status, and the dates are null, never "" or year 1.
	if cb := dueOf(t, disp, DLCallback); cb.Status != models.DeadlineCalendarMissing || cb.MissingYear != 2027 {
		t.Errorf("callback waiting for 2027: status %q year %d", cb.Status, cb.MissingYear)
	} else if b, err := json.Marshal(cb); err != nil || !strings.Contains(string(b), `"due_date":null`) || !strings.Contains(string(b), `"due_at":null`) {
		t.Errorf("callback waiting for 2027 as JSON: %s %v", b, err)
	}
	if disp.Data["uncovered_calendar"] == nil {
		t.Errorf("dispatch event does not say the calendar is missing: %+v", disp.Data)
	}
	rec := e.find("deadlines_recomputed", "")
	if len(rec) != 1 {
		t.Fatalf("recomputed events: %d (%v)", len(rec), e.events)
	}
	// Tue 12-29 → Wed 12-30 (1), Thu 12-31 (2), Fri 2027-01-01 is 元旦, Mon 01-04 (3).
	if cb := dueOf(t, rec[0], DLCallback); cb.DueDate != "2027-01-04" || !strings.Contains(cb.CalendarVersion, "2027.1") || cb.Status != models.DeadlineRunning {
		t.Errorf("callback after import: %+v", cb)
	}
	if rec[0].Data["reason"] != "calendar changed (test)" {
		t.Errorf("reason: %v", rec[0].Data)
	}
}

// An action that reaches the order before its first workflow task has recorded where it went
// (the engine running that task again after a crash) is told to retry, not refused for good.
func TestActionBeforeDispatchIsNotReady(t *testing.T) {
	sign := ActionRequest{Action: "sign", Caller: officer}
	w := &workOrder{OrderState: OrderState{Snapshot: Snapshot{State: models.StatePendingDispatch}}}
	var ae *temporal.ApplicationError
	if err := w.check(sign, time.Now()); !errors.As(err, &ae) || ae.Type() != ErrNotReady {
		t.Fatalf("check before the first record = %v, want %s", err, ErrNotReady)
	}
	w.Snapshot = Snapshot{State: models.StateDispatched, Unit: &ftTax, Admin: szAdmin, Seq: 1}
	if err := w.check(sign, time.Now()); err != nil {
		t.Fatalf("check once dispatched = %v, want nil", err)
	}
}
