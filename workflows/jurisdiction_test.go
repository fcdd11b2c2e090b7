package workflows

import (
	"slices"
	"strings"
	"testing"

	"redress/activities"
	"redress/models"
	"redress/scheme"
)

// gzTax is a real unit of another city (广州) under the same province.
var gzTax = activities.UnitRef{ID: 20, Code: "gd-gz-tax", Name: "广州市税务局", Path: "/gd/gd-gz/gd-gz-tax/"}

// Issue 15 finding 1: a target outside the caller's reach is refused in the validator,
// before anything is applied; reassigning to the holding unit is refused too.
func TestTargetsWithinJurisdiction(t *testing.T) {
	tests := []struct {
		name string
		from *activities.UnitRef // nil: the order waits in the administration's queue
		step step
	}{
		{"supervisor of sz reassigns to another city", &ftTax, step{req: ActionRequest{Action: "reassign", Caller: supervisor,
			ToUnit: gzTax.Code, ToUnitPath: gzTax.Path, Reason: "跨市"}, wantErr: ErrForbidden, wantCode: ErrTargetOutOfScope, sync: true}},
		{"administrator of sz dispatches to another city", nil, step{req: ActionRequest{Action: "dispatch", Caller: admin,
			ToUnit: gzTax.Code, ToUnitPath: gzTax.Path}, wantErr: ErrForbidden, wantCode: ErrTargetOutOfScope, sync: true}},
		{"same-unit reassign", &ftTax, step{req: ActionRequest{Action: "reassign", Caller: supervisor,
			ToUnit: ftTax.Code, ToUnitPath: ftTax.Path, Reason: "原地改派"}, wantErr: ErrInvalid, wantCode: "same_unit", sync: true}},
		{"a path that is not the unit's", &ftTax, step{req: ActionRequest{Action: "reassign", Caller: supervisor,
			// The validator sees a path within reach; the worker's own reading of the unit
			// disagrees, so the handler refuses before anything moves.
			ToUnit: nsTax.Code, ToUnitPath: "/gd/sz/sz-ns/other/", Reason: "x"}, wantErr: ErrForbidden, wantCode: ErrTargetOutOfScope}},
		{"too long a reason", &ftTax, step{req: ActionRequest{Action: "reassign", Caller: supervisor,
			ToUnit: nsTax.Code, ToUnitPath: nsTax.Path, Reason: strings.Repeat("理", MaxTextLength+1)}, wantErr: ErrInvalid, wantCode: "too_long", sync: true}},
		{"too long a note on any action", &ftTax, step{req: ActionRequest{Action: "sign", Caller: officer,
			Note: strings.Repeat("x", MaxTextLength+1)}, wantErr: ErrInvalid, wantCode: "too_long", sync: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *env
			if tt.from == nil {
				e = newEnv(t, nil)
			} else {
				e = newEnv(t, tt.from)
			}
			e.run(t, []step{tt.step})
			// Nothing was applied: no action's event follows where the order first went.
			var got []string
			for _, ev := range e.events {
				if slices.Contains(scheme.Actions(), ev.Type) {
					got = append(got, ev.Type)
				}
			}
			if len(got) != 0 {
				t.Errorf("events %v recorded for a refused action", got)
			}
		})
	}
	// Within reach the same actions go through.
	e := newEnv(t, &ftTax)
	e.run(t, []step{{req: ActionRequest{Action: "reassign", Caller: supervisor, ToUnit: nsTax.Code, ToUnitPath: nsTax.Path, Reason: "南山办理"}, wantState: models.StateDispatched}})
	e2 := newEnv(t, nil)
	e2.run(t, []step{{req: ActionRequest{Action: "dispatch", Caller: admin, ToUnit: ftTax.Code, ToUnitPath: ftTax.Path}, wantState: models.StateDispatched}})
}

// Officers draft an appeal; the unit leader submits it (DESIGN.md's role table). The draft
// moves no clock; the submission starts the appeal decision's.
func TestAppealDraftAndSubmission(t *testing.T) {
	e := newEnv(t, &ftTax)
	e.run(t, []step{signStep, callbackStep,
		{req: ActionRequest{Action: "submit_appeal", Caller: leader}, wantErr: ErrWrongState}, // no draft yet
		{req: ActionRequest{Action: "dispose", Caller: officer, True: no(), Reasonable: no(), Disposition: "appeal", AppealReason: "malicious", Evidence: "录像"}, wantState: models.StateCalledBack},
		{req: ActionRequest{Action: "submit_appeal", Caller: officer}, wantErr: ErrForbidden},
		{req: ActionRequest{Action: "submit_appeal", Caller: leader, Note: "同意申诉"}, wantState: models.StateAppealing},
	})
	draft := e.lastOf(t, "appeal_drafted")
	if draft.Row.Disposition == nil || *draft.Row.Disposition != "appeal_draft" || draft.Row.State != models.StateCalledBack {
		t.Errorf("draft row %+v", draft.Row)
	}
	for _, d := range draft.Row.Deadlines {
		if d.Name == DLRectify || d.Name == DLAppealDecision {
			t.Errorf("a draft started clock %s", d.Name)
		}
	}
	sub := e.lastOf(t, "submit_appeal")
	if sub.Data["appeal_reason"] != "malicious" || sub.Data["evidence"] != "录像" || sub.Data["drafted_by"] != officer.Login {
		t.Errorf("submission %+v", sub.Data)
	}
	if d := dueOf(t, sub, DLRectify); !d.Paused {
		t.Errorf("rectify during the appeal: %+v", d)
	}
	dueOf(t, sub, DLAppealDecision)
}
