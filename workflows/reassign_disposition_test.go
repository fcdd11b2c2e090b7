package workflows

import (
	"testing"
	"time"

	"redress/models"
)

// TestReassignClearsDisposition (issue 15: the receiver starts clean): an order reassigned
// after the unit disposed of it — an appeal pending, a ledger being worked — reaches the
// receiver undisposed. Before, the read-model kept the old unit's disposition, so the receiver's
// list, the export and the evaluator's tracking page showed 申诉 or 台账 for an order the
// receiver had not even signed.
func TestReassignClearsDisposition(t *testing.T) {
	for _, c := range []struct {
		name    string
		dispose step
	}{
		{"appeal pending", step{req: ActionRequest{Action: "dispose", Caller: leader, True: no(), Reasonable: no(), Disposition: "appeal", AppealReason: "mistaken", Evidence: "录像"}, wantState: models.StateAppealing}},
		{"ledger", step{req: ActionRequest{Action: "dispose", Caller: officer, True: yes(), Reasonable: yes(), Disposition: "ledger", Plan: "整改", CommittedDate: "2026-11-10"}, wantState: models.StateRectifying}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := ownersEnv(t, &ftTax, ownersPolicy())
			e.SetStartTime(time.Date(2026, 11, 2, 9, 0, 0, 0, cst))
			e.run(t, []step{signStep, callbackStep, c.dispose,
				{req: ActionRequest{Action: "reassign", Caller: admin, ToUnit: "sz-ns-tax", Reason: "实为南山办理"}, wantState: models.StateDispatched},
			})
			r := e.lastOf(t, "reassign")
			if r.Row.Disposition == nil || *r.Row.Disposition != "" {
				got := "unchanged"
				if r.Row.Disposition != nil {
					got = *r.Row.Disposition
				}
				t.Errorf("disposition after the reassignment: %s, want none", got)
			}
		})
	}
}
