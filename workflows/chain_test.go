package workflows

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"redress/activities"
	"redress/models"
	notify "redress/notify/message"
)

// lastOf returns the last event of a type.
func (e *env) lastOf(t *testing.T, typ string) activities.Event {
	t.Helper()
	evs := e.find(typ, "")
	if len(evs) == 0 {
		var got []string
		for _, ev := range e.events {
			got = append(got, ev.Type)
		}
		t.Fatalf("no %s event in %v", typ, got)
	}
	return evs[len(evs)-1]
}

// msgTo finds the message of an event to a role (or "evaluator").
func msgTo(ev activities.Event, who string) *notify.Message {
	for i, m := range ev.Notify {
		if (who == "evaluator" && m.Kind == notify.KindEvaluator) || m.Role == who {
			return &ev.Notify[i]
		}
	}
	return nil
}

var (
	signStep     = step{req: ActionRequest{Action: "sign", Caller: officer}, wantState: models.StateSigned}
	callbackStep = step{req: ActionRequest{Action: "callback", Caller: officer, Reached: yes(), Method: "phone"}, wantState: models.StateCalledBack}
	rectifyNow   = step{req: ActionRequest{Action: "dispose", Caller: officer, True: yes(), Reasonable: yes(), Disposition: "rectify_now", Measures: "已当场办结"}, wantState: models.StateReviewing}
	approve      = step{req: ActionRequest{Action: "review", Caller: admin, Approve: yes(), Note: "同意"}, wantState: models.StateFeedback}
)

// Rows of the actions table that TestWholeChain and TestPendingDispatchReturnAppealReassign do
// not walk, each with the timeline and clocks it must leave.
func TestActionRows(t *testing.T) {
	t.Run("return rejected: the receiver keeps the order and its sign clock", func(t *testing.T) {
		e := newEnv(t, &ftTax)
		e.run(t, []step{
			{req: ActionRequest{Action: "return", Caller: officer, Reason: "非本单位"}, wantState: models.StateReturned},
			{req: ActionRequest{Action: "rule_return", Caller: officer, Accept: no(), Reason: "x"}, wantErr: ErrForbidden},
			{req: ActionRequest{Action: "rule_return", Caller: admin, Accept: no()}, wantErr: ErrInvalid},
			{req: ActionRequest{Action: "rule_return", Caller: admin, Accept: yes(), Reason: "改派"}, wantErr: ErrInvalid}, // no to_unit
			{req: ActionRequest{Action: "rule_return", Caller: admin, Accept: no(), Reason: "确属本单位"}, wantState: models.StateDispatched},
			signStep,
		})
		ruled := e.lastOf(t, "rule_return")
		if ruled.Data["charged_to"] != "receiver" || ruled.Row.Unit != nil {
			t.Errorf("ruling %+v", ruled.Data)
		}
		sign := dueOf(t, ruled, DLSign)
		disp := dueOf(t, e.events[0], DLSign)
		if sign.MetAt != nil || !sign.Start.Equal(disp.Start) || !sign.DueAt.Equal(disp.DueAt) {
			t.Errorf("sign clock after a refused return %+v, at dispatch %+v", sign, disp)
		}
		if d := dueOf(t, e.lastOf(t, "sign"), DLSign); d.MetAt == nil {
			t.Errorf("sign clock not met by signing: %+v", d)
		}
		if m := msgTo(e.lastOf(t, "return"), models.RoleAdministrator); m == nil || m.Template != "returned" || m.UnitPath != szAdmin.Path {
			t.Errorf("return message to the administration: %+v", e.lastOf(t, "return").Notify)
		}
	})

	t.Run("return accepted: misrouting charged, the new unit's clocks start fresh", func(t *testing.T) {
		e := newEnv(t, &ftTax)
		e.runAt(t, time.Hour, []step{
			{req: ActionRequest{Action: "return", Caller: officer, Reason: "非本单位"}, wantState: models.StateReturned},
			{req: ActionRequest{Action: "rule_return", Caller: admin, Accept: yes(), ToUnit: nsTax.Code, Reason: "改派南山"}, wantState: models.StateDispatched},
		})
		ruled := e.lastOf(t, "rule_return")
		if ruled.Data["charged_to"] != "misrouting" || ruled.Data["from_unit"] != ftTax.Code || ruled.Data["misrouted_since"] == nil {
			t.Errorf("ruling data %+v", ruled.Data)
		}
		if cb := dueOf(t, ruled, DLCallback); !cb.Start.Equal(ruled.At) {
			t.Errorf("the new unit's callback clock starts %s, not at the ruling %s", cb.Start, ruled.At)
		}
		if m := msgTo(ruled, models.RoleOfficer); m == nil || m.UnitPath != nsTax.Path || m.Template != "new_order" {
			t.Errorf("new unit not told: %+v", ruled.Notify)
		}
	})

	t.Run("waive_callback: only an administrator, recorded as an exception", func(t *testing.T) {
		e := newEnv(t, &ftTax)
		e.run(t, []step{
			signStep,
			{req: ActionRequest{Action: "callback", Caller: officer, Reached: no(), Method: "phone", Note: "无人接听"}, wantState: models.StateSigned},
			{req: ActionRequest{Action: "callback", Caller: officer, Reached: no(), Method: "sms"}, wantState: models.StateSigned},
			{req: ActionRequest{Action: "dispose", Caller: officer, True: yes(), Reasonable: yes(), Disposition: "rectify_now", Measures: "x"}, wantErr: ErrWrongState},
			{req: ActionRequest{Action: "waive_callback", Caller: officer, Note: "联系不上"}, wantErr: ErrForbidden},
			{req: ActionRequest{Action: "waive_callback", Caller: admin}, wantErr: ErrInvalid},
			{req: ActionRequest{Action: "waive_callback", Caller: admin, Note: "三次未接通，同意免回访"}, wantState: models.StateCalledBack},
			rectifyNow,
		})
		w := e.lastOf(t, "waive_callback")
		if w.Data["exception"] != true || fmt.Sprint(w.Data["attempts_before"]) != "2" || w.Actor != "sz-admin" {
			t.Errorf("waiver %+v", w)
		}
		if cbs := e.find("callback", ""); len(cbs) != 2 || fmt.Sprint(cbs[1].Data["attempt"]) != "2" || cbs[0].Data["reached"] != false {
			t.Errorf("callback attempts %+v", cbs)
		}
	})

	t.Run("review send-back continues the rectification clock", func(t *testing.T) {
		e := newEnv(t, &ftTax)
		e.SetStartTime(time.Date(2026, 11, 2, 9, 0, 0, 0, cst))
		e.runAt(t, 24*time.Hour, []step{
			signStep, callbackStep, // Wed 11-04: rectification clock starts
			{req: ActionRequest{Action: "dispose", Caller: officer, True: yes(), Reasonable: yes(), Disposition: "ledger", Plan: "整改", CommittedDate: "2026-11-18"}, wantState: models.StateRectifying},
			{req: ActionRequest{Action: "complete", Caller: officer, Measures: "已整改"}, wantState: models.StateReviewing},
			{req: ActionRequest{Action: "review", Caller: admin, Approve: no(), Note: "整改不到位"}, wantState: models.StateCalledBack},
			{req: ActionRequest{Action: "dispose", Caller: officer, True: yes(), Reasonable: yes(), Disposition: "rectify_now", Measures: "重新整改"}, wantState: models.StateReviewing},
		})
		first := dueOf(t, e.find("dispose", "")[0], DLRectify)
		back := dueOf(t, e.lastOf(t, "review"), DLRectify)
		if back.MetAt != nil || !back.Start.Equal(first.Start) || back.DueDate != first.DueDate {
			t.Errorf("after send-back %+v, first %+v", back, first)
		}
		if d := dueOf(t, e.lastOf(t, "review"), DLReview); d.MetAt == nil {
			t.Errorf("review clock not met: %+v", d)
		}
	})

	t.Run("reopen within the policy's limit only", func(t *testing.T) {
		e := newEnv(t, &ftTax)
		e.run(t, []step{
			signStep, callbackStep, rectifyNow, approve,
			{req: ActionRequest{Action: "record_feedback", Caller: officer, Satisfaction: models.Dissatisfied}, wantState: models.StateClosed},
			{req: ActionRequest{Action: "reopen", Caller: officer, Note: "x"}, wantErr: ErrForbidden},
			{req: ActionRequest{Action: "reopen", Caller: admin, Note: "群众不满意"}, wantState: models.StateCalledBack},
			rectifyNow, approve,
			{req: ActionRequest{Action: "record_feedback", Caller: officer, Satisfaction: models.Dissatisfied}, wantState: models.StateClosed},
			{req: ActionRequest{Action: "reopen", Caller: admin, Note: "再次"}, wantErr: ErrWrongState},
		})
		if m := msgTo(e.find("record_feedback", "")[0], models.RoleAdministrator); m == nil || m.Template != "dissatisfied" {
			t.Errorf("dissatisfied feedback does not reach the administration: %+v", e.find("record_feedback", "")[0].Notify)
		}
		if n := len(e.find("reopen", "")); n != 1 {
			t.Errorf("%d reopenings", n)
		}
	})

	t.Run("escalate raises to listed supervision and tells auditors", func(t *testing.T) {
		e := newEnv(t, &ftTax)
		e.run(t, []step{
			{req: ActionRequest{Action: "escalate", Caller: officer, Note: "x"}, wantErr: ErrForbidden},
			{req: ActionRequest{Action: "escalate", Caller: supervisor}, wantErr: ErrInvalid},
			{req: ActionRequest{Action: "escalate", Caller: supervisor, Note: "请加快"}, wantState: models.StateDispatched},
			{req: ActionRequest{Action: "escalate", Caller: admin, Note: "挂牌"}, wantState: models.StateDispatched},
			{req: ActionRequest{Action: "escalate", Caller: admin, Note: "仍挂牌"}, wantState: models.StateDispatched},
		})
		esc := e.find("escalate", "")
		levels := []int{1, 2, 2}
		for i, ev := range esc {
			if fmt.Sprint(ev.Data["supervision_level"]) != fmt.Sprint(levels[i]) || *ev.Row.SupervisionLevel != levels[i] {
				t.Errorf("escalation %d: %+v", i, ev.Data)
			}
		}
		if msgTo(esc[0], models.RoleAuditor) != nil || msgTo(esc[0], models.RoleUnitLeader) == nil || msgTo(esc[0], models.RoleSupervisor) == nil {
			t.Errorf("督办 recipients %+v", esc[0].Notify)
		}
		if msgTo(esc[1], models.RoleAuditor) == nil {
			t.Errorf("挂牌督办 recipients %+v", esc[1].Notify)
		}
	})

	t.Run("reassign restarts the clocks for the new unit", func(t *testing.T) {
		e := newEnv(t, &ftTax)
		e.runAt(t, 6*time.Hour, []step{
			signStep,
			{req: ActionRequest{Action: "reassign", Caller: officer, ToUnit: nsTax.Code, Reason: "x"}, wantErr: ErrForbidden},
			{req: ActionRequest{Action: "reassign", Caller: supervisor, ToUnit: nsTax.Code, Reason: "实为南山办理"}, wantState: models.StateDispatched},
			{req: ActionRequest{Action: "callback", Caller: nsOfficer, Reached: yes(), Method: "phone"}, wantErr: ErrWrongState},
			{req: ActionRequest{Action: "sign", Caller: nsOfficer}, wantState: models.StateSigned},
			{req: ActionRequest{Action: "dispose", Caller: nsOfficer, True: yes(), Reasonable: yes(), Disposition: "explain", Explanation: "x"}, wantErr: ErrWrongState},
		})
		re := e.lastOf(t, "reassign")
		for _, name := range []string{DLSign, DLCallback} {
			d := lastDueOf(t, re, name)
			if !d.Start.Equal(re.At) || d.MetAt != nil {
				t.Errorf("%s after reassign: %+v (reassigned at %s)", name, d, re.At)
			}
		}
		if re.Row.Unit == nil || re.Row.Unit.Code != nsTax.Code || !re.Row.ClearStaff || re.Data["from_unit"] != ftTax.Code {
			t.Errorf("reassign row %+v data %+v", re.Row, re.Data)
		}
	})

	t.Run("appeal only against ratings of staff conduct; upheld excludes the rating", func(t *testing.T) {
		e := newEnvD(t, activities.Dispatch{Unit: &ftTax, Admin: szAdmin, RealName: true,
			Levels: map[string]string{"overall": models.VeryDissatisfied, "efficiency": models.Dissatisfied}})
		e.run(t, []step{signStep, callbackStep,
			{req: ActionRequest{Action: "dispose", Caller: officer, True: no(), Reasonable: no(), Disposition: "appeal", AppealReason: "mistaken", Evidence: "x"}, wantErr: ErrInvalid},
		})
		e2 := newEnv(t, &ftTax)
		e2.run(t, []step{signStep, callbackStep,
			// The officer drafts; the state stays until the unit leader submits.
			{req: ActionRequest{Action: "dispose", Caller: officer, True: no(), Reasonable: no(), Disposition: "appeal", AppealReason: "malicious", Evidence: "录像"}, wantState: models.StateCalledBack},
			{req: ActionRequest{Action: "submit_appeal", Caller: officer}, wantErr: ErrForbidden},
			{req: ActionRequest{Action: "submit_appeal", Caller: leader}, wantState: models.StateAppealing},
			{req: ActionRequest{Action: "decide_appeal", Caller: officer, Upheld: yes()}, wantErr: ErrForbidden},
			{req: ActionRequest{Action: "decide_appeal", Caller: admin, Upheld: yes(), Note: "恶意差评属实"}, wantState: models.StateReviewing},
			approve,
		})
		up := e2.lastOf(t, "decide_appeal")
		if up.Data["rating_excluded"] != true {
			t.Errorf("upheld appeal %+v", up.Data)
		}
		if m := msgTo(up, "evaluator"); m == nil || m.Template != "appeal_upheld" || !m.Track {
			t.Errorf("evaluator not told of the upheld appeal: %+v", up.Notify)
		}
		if d := dueOf(t, up, DLRectify); d.MetAt == nil {
			t.Errorf("rectification clock open after an upheld appeal: %+v", d)
		}
	})
}

// The evaluator answers through the tracking link: only in feedback, once; a dissatisfied
// answer reaches the administration. Without an answer the order closes at the feedback
// deadline and says so.
func TestFeedback(t *testing.T) {
	t.Run("through the tracking link", func(t *testing.T) {
		e := newEnv(t, &ftTax)
		e.run(t, []step{
			{feedback: &EvaluatorFeedback{Satisfaction: models.Satisfied}, wantErr: ErrWrongState},
			signStep, callbackStep, rectifyNow, approve,
			{feedback: &EvaluatorFeedback{Satisfaction: "great"}, wantErr: ErrInvalid},
			{feedback: &EvaluatorFeedback{Satisfaction: models.Dissatisfied, Comment: "还是没解决"}, wantState: models.StateClosed},
			{feedback: &EvaluatorFeedback{Satisfaction: models.Satisfied}, wantErr: ErrWrongState},
			{req: ActionRequest{Action: "record_feedback", Caller: officer, Satisfaction: models.Satisfied}, wantErr: ErrWrongState},
		})
		fb := e.lastOf(t, "evaluator_feedback")
		if fb.Actor != "evaluator" || fb.Data["satisfaction"] != models.Dissatisfied || fb.Data["by"] != "tracking_link" || fb.Row.State != models.StateClosed {
			t.Errorf("feedback event %+v", fb)
		}
		if m := msgTo(fb, models.RoleAdministrator); m == nil || m.Template != "dissatisfied" {
			t.Errorf("administration not told: %+v", fb.Notify)
		}
		if d := dueOf(t, fb, DLFeedback); d.MetAt == nil {
			t.Errorf("feedback clock not met: %+v", d)
		}
		rev := e.lastOf(t, "review")
		if m := msgTo(rev, "evaluator"); m == nil || m.Template != "feedback" || !m.Track || m.Channel != notify.ChannelSMS {
			t.Errorf("approval does not send the outcome with a tracking link: %+v", rev.Notify)
		}
	})

	t.Run("no answer before the deadline closes the order", func(t *testing.T) {
		e := newEnv(t, &ftTax)
		e.SetStartTime(time.Date(2026, 11, 2, 9, 0, 0, 0, cst))
		e.run(t, []step{signStep, callbackStep, rectifyNow, approve})
		closed := e.lastOf(t, "closed_without_feedback")
		due := dueOf(t, e.lastOf(t, "review"), DLFeedback)
		// 7 natural days from Mon 11-02 (approved minutes after 09:00): ends 24:00 on 11-09.
		if due.DueDate != "2026-11-09" || !closed.At.Equal(due.DueAt) || closed.Row.State != models.StateClosed || closed.Data["feedback"] != "none_received" {
			t.Errorf("closed %+v at %s; feedback due %+v", closed.Data, closed.At, due)
		}
		if len(e.find("supervision", DLFeedback)) != 0 {
			t.Error("a missing evaluator answer raised supervision")
		}
	})
}

// Who is told of what, with the data a message needs.
func TestNotificationsOnEvents(t *testing.T) {
	e := newEnv(t, &ftTax)
	start := time.Date(2026, 9, 30, 10, 0, 0, 0, cst)
	e.SetStartTime(start)
	e.run(t, []step{signStep})
	disp := e.events[0]
	off, lead := msgTo(disp, models.RoleOfficer), msgTo(disp, models.RoleUnitLeader)
	if off == nil || lead == nil || off.Template != "new_order" || off.UnitPath != ftTax.Path || off.Params["due"] != "2026-10-01 10:00" || off.Params["unit"] != ftTax.Name {
		t.Fatalf("dispatch messages %+v", disp.Notify)
	}
	if got := fmt.Sprint(disp.Data["notified"]); !strings.Contains(got, "officer@"+ftTax.Path) {
		t.Errorf("timeline does not say who was told: %v", got)
	}
	sign := e.lastOf(t, "sign")
	if m := msgTo(sign, "evaluator"); m == nil || m.Template != "callback_notice" || m.Params["due"] != "2026-10-10 24:00" || !m.Track {
		t.Errorf("callback notice %+v", sign.Notify)
	}
	// Nobody calls back: reminder to the unit, 督办 to leader + supervisors, 挂牌督办 adds auditors.
	rem := e.find("reminder", DLCallback)
	if len(rem) != 1 || msgTo(rem[0], models.RoleOfficer) == nil || rem[0].Notify[0].Template != "reminder" || rem[0].Notify[0].Params["deadline"] != "回访" {
		t.Fatalf("reminders %+v", rem)
	}
	sups := e.find("supervision", DLCallback)
	if len(sups) == 0 {
		t.Fatal("no supervision of the callback deadline")
	}
	first := sups[0]
	if fmt.Sprint(first.Data["level"]) != "1" || msgTo(first, models.RoleUnitLeader) == nil || msgTo(first, models.RoleSupervisor) == nil || msgTo(first, models.RoleAuditor) != nil || msgTo(first, models.RoleOfficer) != nil {
		t.Errorf("督办 %+v → %+v", first.Data, first.Notify)
	}
	if len(sups) > 1 {
		if listed := sups[1]; fmt.Sprint(listed.Data["level"]) != "2" || msgTo(listed, models.RoleAuditor) == nil {
			t.Errorf("挂牌督办 %+v → %+v", listed.Data, listed.Notify)
		}
	}

	// Anonymous ratings send no SMS; a pending order's messages go to the administration.
	a := newEnvD(t, activities.Dispatch{Admin: szAdmin, Reason: "unknown_unit", Levels: map[string]string{"overall": models.Dissatisfied}})
	a.run(t, []step{
		{req: ActionRequest{Action: "dispatch", Caller: admin, ToUnit: ftTax.Code}, wantState: models.StateDispatched},
		signStep,
	})
	if m := msgTo(a.events[0], models.RoleAdministrator); m == nil || m.Template != "pending_dispatch" || m.UnitPath != szAdmin.Path {
		t.Errorf("pending dispatch message %+v", a.events[0].Notify)
	}
	if m := msgTo(a.lastOf(t, "sign"), "evaluator"); m != nil {
		t.Errorf("SMS to an anonymous evaluator: %+v", m)
	}
	if m := msgTo(a.lastOf(t, "dispatch"), models.RoleOfficer); m == nil || m.UnitPath != ftTax.Path {
		t.Errorf("manual dispatch message %+v", a.lastOf(t, "dispatch").Notify)
	}
}

// lastDueOf is the live clock of a stage: a stage restarted after it was met (a reassignment)
// lists the old clock too, for the record.
func lastDueOf(t *testing.T, ev activities.Event, name string) models.Deadline {
	t.Helper()
	var out *models.Deadline
	for i, d := range ev.Row.Deadlines {
		if d.Name == name {
			out = &ev.Row.Deadlines[i]
		}
	}
	if out == nil {
		t.Fatalf("event %s has no %s deadline", ev.Type, name)
	}
	return *out
}
