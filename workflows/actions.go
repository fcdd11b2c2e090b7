package workflows

import (
	"strings"

	"redress/models"
)

// Grant is a role held on a unit, as the API passes it with an action.
type Grant struct {
	Role     string `json:"role"`
	UnitPath string `json:"unit_path"`
}

// Caller is who asks for an action.
type Caller struct {
	Login  string  `json:"login"`
	Grants []Grant `json:"grants"`
}

// ActionRequest is the argument of the "action" update: the action of API.md's table with
// its fields (only those the action uses are read).
type ActionRequest struct {
	Action string `json:"action"`
	Caller Caller `json:"caller"`

	ToUnit        string `json:"to_unit,omitempty"`
	Reason        string `json:"reason,omitempty"`
	Accept        *bool  `json:"accept,omitempty"`
	Reached       *bool  `json:"reached,omitempty"`
	Method        string `json:"method,omitempty"`
	Note          string `json:"note,omitempty"`
	True          *bool  `json:"true,omitempty"`
	Reasonable    *bool  `json:"reasonable,omitempty"`
	Disposition   string `json:"disposition,omitempty"`
	Measures      string `json:"measures,omitempty"`
	Plan          string `json:"plan,omitempty"`
	CommittedDate string `json:"committed_date,omitempty"`
	Explanation   string `json:"explanation,omitempty"`
	AppealReason  string `json:"appeal_reason,omitempty"`
	Evidence      string `json:"evidence,omitempty"`
	Days          *int   `json:"days,omitempty"`
	Approve       *bool  `json:"approve,omitempty"`
	Upheld        *bool  `json:"upheld,omitempty"`
	Satisfaction  string `json:"satisfaction,omitempty"`
	Comment       string `json:"comment,omitempty"`
}

// ActionResult is what an accepted action answers.
type ActionResult struct {
	State string `json:"state"`
	Seq   int    `json:"seq"`
}

// rule is one row of API.md's actions table.
type rule struct {
	roles []string
	from  []string // nil: any open state
}

var (
	unitStaff    = []string{models.RoleOfficer, models.RoleUnitLeader}
	openStates   = []string{models.StatePendingDispatch, models.StateDispatched, models.StateReturned, models.StateSigned, models.StateCalledBack, models.StateRectifying, models.StateAppealing, models.StateReviewing, models.StateFeedback}
	beforeReview = []string{models.StatePendingDispatch, models.StateDispatched, models.StateReturned, models.StateSigned, models.StateCalledBack, models.StateRectifying, models.StateAppealing}
)

// rules is API.md's actions table; the validator refuses anything outside it.
var rules = map[string]rule{
	"dispatch":    {[]string{models.RoleAdministrator}, []string{models.StatePendingDispatch}},
	"sign":        {unitStaff, []string{models.StateDispatched}},
	"return":      {unitStaff, []string{models.StateDispatched}},
	"rule_return": {[]string{models.RoleAdministrator}, []string{models.StateReturned}},
	"callback":    {unitStaff, []string{models.StateSigned, models.StateCalledBack}},
	// An administrator's recorded exception lets an order go on without a reached callback
	// (e.g. the evaluator cannot be reached, or left no contact).
	"waive_callback":    {[]string{models.RoleAdministrator}, []string{models.StateSigned}},
	"dispose":           {unitStaff, []string{models.StateCalledBack}},
	"progress":          {unitStaff, []string{models.StateRectifying}},
	"complete":          {unitStaff, []string{models.StateRectifying}},
	"request_extension": {[]string{models.RoleUnitLeader}, []string{models.StateRectifying}},
	"decide_extension":  {[]string{models.RoleAdministrator, models.RoleSupervisor}, []string{models.StateRectifying}},
	"decide_appeal":     {[]string{models.RoleAdministrator}, []string{models.StateAppealing}},
	"review":            {[]string{models.RoleAdministrator}, []string{models.StateReviewing}},
	"record_feedback":   {unitStaff, []string{models.StateFeedback}},
	"escalate":          {[]string{models.RoleSupervisor, models.RoleAdministrator}, openStates},
	"reassign":          {[]string{models.RoleSupervisor, models.RoleAdministrator}, beforeReview},
	"reopen":            {[]string{models.RoleAdministrator}, []string{models.StateClosed}},
}

// Actions lists the action names, for the API's validation and the UI.
func Actions() []string {
	out := make([]string, 0, len(rules))
	for k := range rules {
		out = append(out, k)
	}
	return out
}

// mayAct reports whether one of the caller's grants gives an allowed role over the unit.
// Unit roles (officer, unit leader) act on their own unit only; the others on their subtree.
func mayAct(c Caller, roles []string, unitPath string) bool {
	if unitPath == "" {
		return false
	}
	for _, g := range c.Grants {
		for _, r := range roles {
			if g.Role != r {
				continue
			}
			if models.CoversSubtree(r) {
				if strings.HasPrefix(unitPath, g.UnitPath) {
					return true
				}
			} else if unitPath == g.UnitPath {
				return true
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// AllowedActions lists what the caller may do now, for the UI to show exactly those forms.
func AllowedActions(state, unitPath string, c Caller) []string {
	var out []string
	for _, name := range actionOrder {
		r := rules[name]
		if contains(r.from, state) && mayAct(c, r.roles, unitPath) {
			out = append(out, name)
		}
	}
	return out
}

// actionOrder is the table's order, for stable lists.
var actionOrder = []string{"dispatch", "sign", "return", "rule_return", "callback", "waive_callback", "dispose", "progress", "complete", "request_extension", "decide_extension", "decide_appeal", "review", "record_feedback", "escalate", "reassign", "reopen"}
