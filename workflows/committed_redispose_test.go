package workflows

import (
	"testing"
	"time"

	"redress/models"
)

// TestCommittedClockEndsWithItsLedger (issue 15, committed dates): a review that sends a
// ledger's completion back reopens the unit's committed date, as the ledger stands. When the
// unit then disposes anew otherwise — explains, rectifies at once, or the leader appeals — the
// ledger and its promise are gone: the committed clock must not run on, breach at 24:00 of the
// promised day and bring the unit 督办 for an order that waits for the administration's review,
// the evaluator's feedback or the administration's ruling on the appeal.
func TestCommittedClockEndsWithItsLedger(t *testing.T) {
	for _, c := range []struct {
		name  string
		again []step
	}{
		{"explain", []step{{req: ActionRequest{Action: "dispose", Caller: officer, True: no(), Reasonable: no(), Disposition: "explain", Explanation: "无法律依据"}, wantState: models.StateReviewing}}},
		{"rectify_now", []step{rectifyNow}},
		{"appeal", []step{{req: ActionRequest{Action: "dispose", Caller: leader, True: no(), Reasonable: no(), Disposition: "appeal", AppealReason: "mistaken", Evidence: "录像"}, wantState: models.StateAppealing}}},
		// The officer's draft changes no clock; the leader's submission replaces the ledger.
		{"appeal drafted and submitted", []step{
			{req: ActionRequest{Action: "dispose", Caller: officer, True: no(), Reasonable: no(), Disposition: "appeal", AppealReason: "mistaken", Evidence: "录像"}, wantState: models.StateCalledBack},
			{req: ActionRequest{Action: "submit_appeal", Caller: leader}, wantState: models.StateAppealing}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := ownersEnv(t, &ftTax, ownersPolicy())
			e.SetStartTime(time.Date(2026, 11, 2, 9, 0, 0, 0, cst)) // rectification due 2026-11-16
			e.run(t, append([]step{signStep, callbackStep,
				{req: ActionRequest{Action: "dispose", Caller: officer, True: yes(), Reasonable: yes(), Disposition: "ledger", Plan: "整改", CommittedDate: "2026-11-05"}, wantState: models.StateRectifying},
				{req: ActionRequest{Action: "complete", Caller: officer, Measures: "已整改"}, wantState: models.StateReviewing},
				{req: ActionRequest{Action: "review", Caller: admin, Approve: no(), Note: "整改不到位"}, wantState: models.StateCalledBack},
			}, c.again...))
			if b := e.find("deadline_breached", DLCommitted); len(b) != 0 {
				t.Errorf("the abandoned ledger's committed date breached at %s after the unit disposed as %s", b[0].At.In(cst), c.name)
			}
			if s := e.find("supervision", DLCommitted); len(s) != 0 {
				t.Errorf("督办 of the abandoned ledger's committed date: %+v", s[0].Notify)
			}
			last := e.events[len(e.events)-1]
			for _, d := range last.Row.Deadlines {
				if d.Name == DLCommitted && !d.Superseded && d.MetAt == nil {
					t.Errorf("committed clock open after the new disposition (%s): %+v", last.Type, d)
				}
			}
		})
	}
}
