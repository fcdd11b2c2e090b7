package workflows

import (
	"fmt"
	"testing"

	"redress/activities"
	"redress/models"
	notify "redress/notify/message"
)

// TestUpheldAppealExcludesOnlyStaff (issue 15, finding 4): a rating with attitude, efficiency
// and platform all bad, appealed and upheld, loses only its staff indicator; the order goes
// back to the unit (called_back) for the process and platform complaints, the timeline says
// what was excluded and what remains, the administration is notified (通报), and the staff
// part cannot be appealed a second time.
func TestUpheldAppealExcludesOnlyStaff(t *testing.T) {
	leaderAppeal := step{req: ActionRequest{Action: "dispose", Caller: leader, True: no(), Reasonable: no(), Disposition: "appeal", AppealReason: "malicious", Evidence: "录像"}, wantState: models.StateAppealing}
	e := newEnvD(t, activities.Dispatch{Unit: &ftTax, Admin: szAdmin, RealName: true,
		Levels: map[string]string{"overall": models.VeryDissatisfied, "attitude": models.VeryDissatisfied,
			"efficiency": models.Dissatisfied, "platform": models.Dissatisfied},
		Kinds: map[string]string{"overall": "overall", "attitude": "staff", "efficiency": "process", "platform": "platform"}})
	e.run(t, []step{signStep, callbackStep, leaderAppeal,
		{req: ActionRequest{Action: "decide_appeal", Caller: admin, Upheld: yes(), Note: "态度问题系误评"}, wantState: models.StateCalledBack},
		// The staff part is gone: no second appeal.
		{req: ActionRequest{Action: "dispose", Caller: leader, True: no(), Reasonable: no(), Disposition: "appeal", AppealReason: "mistaken", Evidence: "x"}, wantErr: ErrInvalid},
		rectifyNow, approve,
	})
	up := e.lastOf(t, "decide_appeal")
	if up.Row.State != models.StateCalledBack || up.Data["rating_excluded"] != false ||
		fmt.Sprint(up.Data["excluded_indicators"]) != "[attitude]" || fmt.Sprint(up.Data["remaining_indicators"]) != "[efficiency platform]" {
		t.Errorf("upheld appeal: state %s data %+v", up.Row.State, up.Data)
	}
	if len(e.exclusions) != 1 || fmt.Sprint(e.exclusions[0].Indicators) != "[attitude]" || e.exclusions[0].WorkOrderID != "wo-1" {
		t.Errorf("exclusions %+v, want attitude only", e.exclusions)
	}
	if m := msgTo(up, models.RoleAdministrator); m == nil || m.Template != "appeal_upheld_notice" || m.UnitPath != szAdmin.Path {
		t.Errorf("administration not notified (通报): %+v", up.Notify)
	}
	if m := msgTo(up, models.RoleOfficer); m == nil || m.Template != "appeal_upheld_partly" {
		t.Errorf("unit not told to go on: %+v", up.Notify)
	}
	if d := dueOf(t, up, DLRectify); d.MetAt != nil || d.Paused {
		t.Errorf("rectification clock after a partly upheld appeal: %+v, want running", d)
	}
	if n := len(e.find("dispose", "")); n != 2 {
		t.Errorf("%d dispositions, want the appeal and the rectification", n)
	}
}

// TestUpheldAppealStaffOnlyNotifiesAdministration: an upheld appeal of a rating whose only bad
// indicators are overall and staff excludes the whole rating (as before) and is notified to
// the administration (通报) as well as to the evaluator.
func TestUpheldAppealStaffOnlyNotifiesAdministration(t *testing.T) {
	e := newEnv(t, &ftTax)
	e.run(t, []step{signStep, callbackStep,
		{req: ActionRequest{Action: "dispose", Caller: leader, True: no(), Reasonable: no(), Disposition: "appeal", AppealReason: "malicious", Evidence: "录像"}, wantState: models.StateAppealing},
		{req: ActionRequest{Action: "decide_appeal", Caller: admin, Upheld: yes(), Note: "恶意差评属实"}, wantState: models.StateReviewing},
	})
	up := e.lastOf(t, "decide_appeal")
	if up.Data["rating_excluded"] != true || len(e.exclusions) != 0 {
		t.Errorf("upheld appeal %+v, exclusions %+v", up.Data, e.exclusions)
	}
	m := msgTo(up, models.RoleAdministrator)
	if m == nil || m.Template != "appeal_upheld_notice" || m.Params["indicators"] != "服务态度" {
		t.Errorf("administration not notified (通报): %+v", up.Notify)
	}
	if msgTo(up, "evaluator") == nil {
		t.Errorf("evaluator not told: %+v", up.Notify)
	}
	if _, ok := notify.Templates["appeal_upheld_notice"]; !ok {
		t.Error("no template appeal_upheld_notice")
	}
}

// TestCustomStaffIndicatorAppealable: a jurisdiction's own indicator of kind staff
// (staff_attitude) can be appealed; one of kind process cannot.
func TestCustomStaffIndicatorAppealable(t *testing.T) {
	appeal := ActionRequest{Action: "dispose", Caller: leader, True: no(), Reasonable: no(), Disposition: "appeal", AppealReason: "mistaken", Evidence: "录像"}
	e := newEnvD(t, activities.Dispatch{Unit: &ftTax, Admin: szAdmin, RealName: true,
		Levels: map[string]string{"overall": models.Dissatisfied, "staff_attitude": models.VeryDissatisfied},
		Kinds:  map[string]string{"overall": "overall", "staff_attitude": "staff"}})
	e.run(t, []step{signStep, callbackStep, {req: appeal, wantState: models.StateAppealing}})
	e2 := newEnvD(t, activities.Dispatch{Unit: &ftTax, Admin: szAdmin, RealName: true,
		Levels: map[string]string{"overall": models.Dissatisfied, "window_wait": models.VeryDissatisfied},
		Kinds:  map[string]string{"overall": "overall", "window_wait": "process"}})
	e2.run(t, []step{signStep, callbackStep, {req: appeal, wantErr: ErrInvalid}})
}
