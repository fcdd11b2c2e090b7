package scheme

import (
	"slices"
	"testing"

	"redress/models"
)

// AllowedActions follows the table: submit_appeal only for the unit leader of an order that
// holds a draft.
func TestAllowedActionsFromTable(t *testing.T) {
	const ftTax = "/gd/sz/sz-ft/sz-ft-tax/"
	officer := Caller{Login: "ft-officer", Grants: []Grant{{Role: models.RoleOfficer, UnitPath: ftTax}}}
	leader := Caller{Login: "ft-leader", Grants: []Grant{{Role: models.RoleUnitLeader, UnitPath: ftTax}}}
	o := OrderView{State: models.StateCalledBack, UnitPath: ftTax}
	if got := AllowedActions(o, leader); slices.Contains(got, "submit_appeal") {
		t.Errorf("without a draft: %v", got)
	}
	o.AppealDraft = true
	if got := AllowedActions(o, leader); !slices.Contains(got, "submit_appeal") || !slices.Contains(got, "dispose") {
		t.Errorf("leader with a draft: %v", got)
	}
	if got := AllowedActions(o, officer); slices.Contains(got, "submit_appeal") {
		t.Errorf("officer with a draft: %v", got)
	}
	// Every action of the table is named once, and every field it names is a request field.
	seen := map[string]bool{}
	fields := map[string]bool{}
	for _, f := range FieldNames() {
		fields[f] = true
	}
	for _, a := range Table() {
		if seen[a.Name] {
			t.Errorf("action %s twice", a.Name)
		}
		seen[a.Name] = true
		if a.Label == "" || len(a.Roles) == 0 || len(a.From) == 0 || len(a.Transitions) == 0 {
			t.Errorf("action %s is incomplete: %+v", a.Name, a)
		}
		for _, f := range a.Fields {
			if !fields[f.Name] || f.Label == "" {
				t.Errorf("action %s: field %s unknown or unlabelled", a.Name, f.Name)
			}
			if f.Type == FieldText && f.MaxLength != MaxTextLength {
				t.Errorf("action %s: text %s without the length limit", a.Name, f.Name)
			}
		}
	}
}
