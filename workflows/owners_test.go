package workflows

import (
	"errors"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"redress/activities"
	"redress/models"
	notify "redress/notify/message"
	"redress/stats"
)

// ownersPolicy is testPolicy with the administration's own stages.
func ownersPolicy() activities.Policy {
	p := testPolicy
	p.Deadlines = map[string]models.Budget{}
	for k, v := range testPolicy.Deadlines {
		p.Deadlines[k] = v
	}
	p.Deadlines[DLDispatch] = models.Budget{WorkingDays: intp(1)}
	p.Deadlines[DLRuling] = models.Budget{WorkingDays: intp(1)}
	return p
}

func ownersEnv(t *testing.T, u *activities.UnitRef, p activities.Policy) *env {
	return newEnvDP(t, activities.Dispatch{
		Unit: u, Admin: szAdmin, Reason: "test", RealName: true,
		Levels: map[string]string{"overall": models.VeryDissatisfied, "attitude": models.Dissatisfied},
	}, p)
}

// rowOf returns the deadline rows of a stage in an event, superseded ones included.
func rowsOf(ev activities.Event, name string) []models.Deadline {
	var out []models.Deadline
	for _, d := range ev.Row.Deadlines {
		if d.Name == name {
			out = append(out, d)
		}
	}
	return out
}

// onlyTo fails unless every staff message of the event goes to units under path.
func onlyTo(t *testing.T, ev activities.Event, path string) {
	t.Helper()
	if len(ev.Notify) == 0 {
		t.Errorf("%s %v: nobody told", ev.Type, ev.Data["deadline"])
	}
	for _, m := range ev.Notify {
		if m.Kind == notify.KindStaff && m.UnitPath != path {
			t.Errorf("%s %v: message to %s@%s, want only %s", ev.Type, ev.Data["deadline"], m.Role, m.UnitPath, path)
		}
	}
}

// facts reads the events as the statistics do.
func (e *env) facts() stats.OrderFacts { return e.factsUpTo(len(e.events)) }

// factsUpTo reads the first n events as the statistics do.
func (e *env) factsUpTo(n int) stats.OrderFacts {
	var evs []stats.TimelineEvent
	for _, ev := range e.events[:n] {
		evs = append(evs, stats.TimelineEvent{Type: ev.Type, At: ev.At, Data: ev.Data})
	}
	return stats.Facts(true, evs)
}

// The administration's appeal decision breached: the reminder and the supervision go to the
// administration, never to the unit, and the figures charge the administration.
func TestAppealDecisionBreachChargedToAdministration(t *testing.T) {
	e := ownersEnv(t, &ftTax, ownersPolicy())
	e.SetStartTime(time.Date(2026, 11, 2, 9, 0, 0, 0, cst))
	e.run(t, []step{signStep, callbackStep,
		{req: ActionRequest{Action: "dispose", Caller: leader, True: no(), Reasonable: no(), Disposition: "appeal", AppealReason: "mistaken", Evidence: "录像"}, wantState: models.StateAppealing},
	})
	dl := rowsOf(e.lastOf(t, "dispose"), DLAppealDecision)
	if len(dl) != 1 || dl[0].Owner == nil || dl[0].Owner.Kind != models.OwnerAdministration || dl[0].Owner.Path != szAdmin.Path {
		t.Fatalf("appeal decision clock owner: %+v", dl)
	}
	var reminded, breached, supervised bool
	for _, ev := range e.events {
		if ev.Data["deadline"] != DLAppealDecision {
			continue
		}
		switch ev.Type {
		case "reminder":
			reminded = true
			onlyTo(t, ev, szAdmin.Path)
		case "deadline_breached":
			breached = true
			if ev.Data["owner_kind"] != models.OwnerAdministration {
				t.Errorf("breach owner %v", ev.Data)
			}
		case "supervision":
			supervised = true
			onlyTo(t, ev, szAdmin.Path)
		}
	}
	if !reminded || !breached || !supervised {
		t.Fatalf("appeal decision: reminded %v breached %v supervised %v", reminded, breached, supervised)
	}
	charged := e.facts().Charged(ftTax.Path)
	if c := charged[ftTax.Path]; c[0] || c[1] {
		t.Errorf("the unit is charged the administration's delay: %+v", charged)
	}
	if c := charged[szAdmin.Path]; !c[0] || !c[1] {
		t.Errorf("the administration is not charged its delay: %+v", charged)
	}
}

// A unit that let the sign deadline pass and returned the order keeps its breach; the
// receiver starts at supervision 0 and is not counted overdue. While the return waits, the
// callback clock is paused and the administration's ruling clock runs.
func TestMisroutedReceiverStartsClean(t *testing.T) {
	e := ownersEnv(t, &ftTax, ownersPolicy())
	start := time.Date(2026, 11, 2, 9, 0, 0, 0, cst)
	e.SetStartTime(start)
	e.runAt(t, 30*time.Hour, []step{
		{req: ActionRequest{Action: "return", Caller: officer, Reason: "非本单位"}, wantState: models.StateReturned},
		{req: ActionRequest{Action: "rule_return", Caller: admin, Accept: yes(), ToUnit: nsTax.Code, Reason: "改派南山"}, wantState: models.StateDispatched},
	})
	ret := e.lastOf(t, "return")
	if cb := dueOf(t, ret, DLCallback); !cb.Paused || cb.Status != models.DeadlinePaused {
		t.Errorf("callback clock while the return waits: %+v", cb)
	}
	if r := dueOf(t, ret, DLRuling); r.Owner == nil || r.Owner.Kind != models.OwnerAdministration || r.Status != models.DeadlineRunning {
		t.Errorf("ruling clock: %+v", r)
	}
	ruled := e.lastOf(t, "rule_return")
	if *ruled.Row.SupervisionLevel != 0 || *ruled.Row.OverdueDays != 0 {
		t.Errorf("receiver starts at supervision %d, overdue %d", *ruled.Row.SupervisionLevel, *ruled.Row.OverdueDays)
	}
	signs := rowsOf(ruled, DLSign)
	if len(signs) != 2 {
		t.Fatalf("sign clocks after the ruling: %+v", signs)
	}
	if old := signs[0]; !old.Superseded || old.Owner.Path != ftTax.Path || !old.Overdue || old.Status != models.DeadlineSuperseded {
		t.Errorf("the misrouting unit's sign clock: %+v", old)
	}
	if cur := signs[1]; cur.Superseded || cur.Owner.Path != nsTax.Path || cur.Overdue {
		t.Errorf("the receiver's sign clock: %+v", cur)
	}
	for _, d := range ruled.Row.Deadlines {
		if d.Name == DLCallback && d.Owner.Path == ftTax.Path && !d.Superseded {
			t.Errorf("the misrouting unit's callback clock still runs: %+v", d)
		}
	}
	// As the figures stood at the ruling (the receiver may of course miss its own deadlines
	// later).
	n := 0
	for i, ev := range e.events {
		if ev.Type == "rule_return" {
			n = i + 1
		}
	}
	charged := e.factsUpTo(n).Charged(nsTax.Path)
	if c := charged[nsTax.Path]; c[0] || c[1] {
		t.Errorf("the receiver is charged the misrouting: %+v", charged)
	}
	if c := charged[ftTax.Path]; !c[0] || !c[1] {
		t.Errorf("the misrouting unit is not charged: %+v", charged)
	}
}

// A refused return is told to the unit, and its callback clock runs on from where it stopped.
func TestRefusedReturnToldToUnit(t *testing.T) {
	e := ownersEnv(t, &ftTax, ownersPolicy())
	e.SetStartTime(time.Date(2026, 11, 2, 9, 0, 0, 0, cst))
	e.runAt(t, 20*time.Hour, []step{
		{req: ActionRequest{Action: "return", Caller: officer, Reason: "非本单位"}, wantState: models.StateReturned},
		{req: ActionRequest{Action: "rule_return", Caller: admin, Accept: no(), Reason: "确属本单位"}, wantState: models.StateDispatched},
	})
	ruled := e.lastOf(t, "rule_return")
	if m := msgTo(ruled, models.RoleOfficer); m == nil || m.UnitPath != ftTax.Path || m.Template != "return_refused" {
		t.Errorf("refused return not told to the unit: %+v", ruled.Notify)
	}
	before := dueOf(t, e.events[0], DLCallback)
	after := dueOf(t, ruled, DLCallback)
	if after.Paused || !after.DueAt.After(before.DueAt) {
		t.Errorf("callback clock after the refusal %+v, before the return %+v", after, before)
	}
}

// Sign and callback breaching in the same minute are two stages' first breaches: 督办, not
// 挂牌督办.
func TestTwoStagesBreachingTogetherAreLevelOne(t *testing.T) {
	p := ownersPolicy()
	p.Deadlines[DLSign] = models.Budget{WorkingDays: intp(1)}
	p.Deadlines[DLCallback] = models.Budget{WorkingDays: intp(1)}
	e := ownersEnv(t, &ftTax, p)
	e.SetStartTime(time.Date(2026, 11, 2, 9, 0, 0, 0, cst))
	e.ExecuteWorkflow(WorkOrder, WorkOrderInput{WorkOrderID: "wo-1", Local: true})
	due := time.Date(2026, 11, 4, 0, 0, 0, 0, cst)
	if n := len(e.find("deadline_breached", "")); n < 2 {
		t.Fatalf("breaches: %d", n)
	}
	for _, ev := range e.find("supervision", "") {
		if ev.At.Equal(due) && ev.Data["level"] != 1 {
			t.Errorf("supervision at the double breach: level %v", ev.Data["level"])
		}
	}
	sup := e.find("supervision", "")
	if len(sup) == 0 || !sup[0].At.Equal(due) || sup[0].Data["level"] != 1 {
		t.Fatalf("first supervision: %+v", sup)
	}
}

// The evaluator's silence in the feedback step is nobody's lateness: the order closes without
// a breach, a supervision or an overdue flag.
func TestEvaluatorSilenceIsNotOverdue(t *testing.T) {
	e := ownersEnv(t, &ftTax, ownersPolicy())
	e.SetStartTime(time.Date(2026, 11, 2, 9, 0, 0, 0, cst))
	e.run(t, []step{signStep, callbackStep, rectifyNow, approve})
	closed := e.lastOf(t, "closed_without_feedback")
	for _, ev := range e.events {
		if ev.Data["deadline"] == DLFeedback && ev.Type != "closed_without_feedback" {
			t.Errorf("%s about the evaluator's window: %+v", ev.Type, ev.Data)
		}
	}
	fb := dueOf(t, closed, DLFeedback)
	if fb.Overdue || fb.Owner == nil || fb.Owner.Kind != models.OwnerEvaluator {
		t.Errorf("feedback clock: %+v", fb)
	}
	if *closed.Row.OverdueDays != 0 || *closed.Row.SupervisionLevel != 0 {
		t.Errorf("closed order: overdue %d supervision %d", *closed.Row.OverdueDays, *closed.Row.SupervisionLevel)
	}
	if f := e.facts(); f.Breached || f.Supervised {
		t.Errorf("figures count the evaluator's silence: %+v", f)
	}
}

// The manual-dispatch queue has a clock owned by the administration.
func TestManualDispatchClock(t *testing.T) {
	e := ownersEnv(t, nil, ownersPolicy())
	e.SetStartTime(time.Date(2026, 11, 2, 9, 0, 0, 0, cst))
	e.ExecuteWorkflow(WorkOrder, WorkOrderInput{WorkOrderID: "wo-1", Local: true})
	d := dueOf(t, e.events[0], DLDispatch)
	if d.Owner == nil || d.Owner.Kind != models.OwnerAdministration || d.DueDate != "2026-11-03" {
		t.Fatalf("dispatch clock: %+v", d)
	}
	sup := e.find("supervision", DLDispatch)
	if len(sup) == 0 {
		t.Fatal("no supervision of the manual-dispatch queue")
	}
	onlyTo(t, sup[0], szAdmin.Path)
}

// A committed date must be after today and within the rectification deadline; refused, the
// order is unchanged. An accepted one is a clock of its own, owned by the unit.
func TestCommittedDate(t *testing.T) {
	e := ownersEnv(t, &ftTax, ownersPolicy())
	e.SetStartTime(time.Date(2026, 11, 2, 9, 0, 0, 0, cst)) // rectification due 2026-11-16
	ledger := func(date string) ActionRequest {
		return ActionRequest{Action: "dispose", Caller: officer, True: yes(), Reasonable: yes(), Disposition: "ledger", Plan: "整改", CommittedDate: date}
	}
	e.run(t, []step{signStep, callbackStep,
		{req: ledger("2026-10-01"), wantErr: ErrInvalid},
		{req: ledger("2026-11-02"), wantErr: ErrInvalid},
		{req: ledger("2026-12-31"), wantErr: ErrInvalid},
		{req: ledger("2026-11-10"), wantState: models.StateRectifying},
	})
	disposed := e.find("dispose", "")
	if len(disposed) != 1 {
		t.Fatalf("dispose events: %d (a refused committed date must change nothing)", len(disposed))
	}
	c := dueOf(t, disposed[0], DLCommitted)
	if c.DueDate != "2026-11-10" || c.Owner == nil || c.Owner.Kind != models.OwnerUnit || c.Owner.Path != ftTax.Path {
		t.Errorf("committed clock: %+v", c)
	}
	b := e.find("deadline_breached", DLCommitted)
	if len(b) == 0 || !b[0].At.Equal(time.Date(2026, 11, 11, 0, 0, 0, 0, cst)) {
		t.Fatalf("committed date breach: %+v", b)
	}
	if s := e.find("supervision", DLCommitted); len(s) == 0 {
		t.Error("no supervision of the missed committed date")
	} else {
		onlyTo(t, s[0], ftTax.Path)
	}
}

// The validator's codes for committed dates.
func TestCommittedDateCodes(t *testing.T) {
	now := time.Date(2026, 11, 2, 9, 0, 0, 0, cst)
	w := &workOrder{OrderState: OrderState{ClockOwnersVersion: 1}}
	for _, c := range []struct{ date, due, code string }{
		{"2026-11-01", "", "committed_date_not_future"},
		{"2026-11-02", "", "committed_date_not_future"},
		{"11/10/2026", "", "invalid_date"},
		{"2026-11-17", "2026-11-16", "committed_date_after_deadline"},
		{"2026-11-16", "2026-11-16", ""},
	} {
		err := w.checkCommitted(c.date, now, c.due)
		var ae *temporal.ApplicationError
		var fe FieldError
		if errors.As(err, &ae) && ae.HasDetails() {
			_ = ae.Details(&fe)
		}
		if fe.Code != c.code || (c.code == "") != (err == nil) {
			t.Errorf("%s (due %s): %v (%s), want %q", c.date, c.due, err, fe.Code, c.code)
		}
	}
}

// A reopening starts a rectification clock for the unit; reopening is possible only within
// the policy's reopen_window, and not once the workflow is ending.
func TestReopenStartsClockWithinWindow(t *testing.T) {
	p := ownersPolicy()
	window := models.Budget{Hours: intp(2)}
	p.ReopenWindow = &window
	e := ownersEnv(t, &ftTax, p)
	e.SetStartTime(time.Date(2026, 11, 2, 9, 0, 0, 0, cst))
	e.run(t, []step{signStep, callbackStep, rectifyNow, approve,
		{req: ActionRequest{Action: "record_feedback", Caller: officer, Satisfaction: models.Dissatisfied}, wantState: models.StateClosed},
		{req: ActionRequest{Action: "reopen", Caller: admin, Note: "评价人不满意"}, wantState: models.StateCalledBack},
	})
	re := e.lastOf(t, "reopen")
	rs := rowsOf(re, DLRectify)
	if len(rs) != 2 || !rs[0].Superseded || rs[1].Superseded || rs[1].Status != models.DeadlineRunning ||
		rs[1].Owner == nil || rs[1].Owner.Path != ftTax.Path || !rs[1].Start.Equal(re.At) {
		t.Fatalf("rectification clocks after reopening: %+v", rs)
	}
	if re.Row.NextDueAt == nil {
		t.Error("no clock runs after the reopening")
	}

	reopen := ActionRequest{Action: "reopen", Caller: admin, Note: "x"}
	closedAt := time.Date(2026, 11, 20, 9, 0, 0, 0, cst)
	w := &workOrder{OrderState: OrderState{ClockOwnersVersion: 1, Policy: p, ClosedAt: closedAt, Snapshot: Snapshot{State: models.StateClosed, Unit: &ftTax, Admin: szAdmin, Seq: 9}}}
	if err := w.check(reopen, closedAt.Add(time.Hour)); err != nil {
		t.Errorf("reopen within the window: %v", err)
	}
	var ae *temporal.ApplicationError
	if err := w.check(reopen, closedAt.Add(2*time.Hour)); !errors.As(err, &ae) || ae.Type() != ErrReopenWindowClosed {
		t.Errorf("reopen after the window: %v", err)
	}
	w.Ending = true
	if err := w.check(reopen, closedAt.Add(time.Hour)); !errors.As(err, &ae) || ae.Type() != ErrReopenWindowClosed {
		t.Errorf("reopen while the workflow ends: %v", err)
	}
}
