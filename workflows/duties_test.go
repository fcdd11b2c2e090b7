package workflows

import (
	"testing"

	"redress/models"
)

// TestSeparationOfDuties (issue 17, finding 4): an administrator who also holds the officer
// role on the order's unit and acted on the order for the unit may not review it; another
// administrator may. Before the rule the same person signed, disposed of and approved.
func TestSeparationOfDuties(t *testing.T) {
	both := Caller{Login: "sz-admin", Grants: []Grant{
		{Role: models.RoleAdministrator, UnitPath: szAdmin.Path},
		{Role: models.RoleOfficer, UnitPath: ftTax.Path},
	}}
	other := Caller{Login: "sz-admin-2", Grants: []Grant{{Role: models.RoleAdministrator, UnitPath: szAdmin.Path}}}
	e := newEnv(t, &ftTax)
	e.run(t, []step{
		{req: ActionRequest{Action: "sign", Caller: both}, wantState: models.StateSigned},
		{req: ActionRequest{Action: "callback", Caller: officer, Reached: yes(), Method: "phone", Note: "听取意见"}, wantState: models.StateCalledBack},
		{req: ActionRequest{Action: "dispose", Caller: officer, True: no(), Reasonable: no(), Disposition: "explain", Explanation: "无法律依据"}, wantState: models.StateReviewing},
		{req: ActionRequest{Action: "review", Caller: both, Approve: yes()}, wantErr: ErrForbidden},
		{req: ActionRequest{Action: "review", Caller: officer, Approve: yes()}, wantErr: ErrForbidden},
		{req: ActionRequest{Action: "review", Caller: other, Approve: yes()}, wantState: models.StateFeedback},
	})
	if err := e.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
}
