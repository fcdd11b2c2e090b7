package workflows

import (
	"context"
	"testing"

	"go.temporal.io/sdk/activity"

	"redress/models"
)

// The worker, not the starter, picks the code path (issue 16, finding 4): an order started
// without the old Local flag (as every starter now starts them) runs its activities as local
// activities, because the worker's code says so (version worker-picks-path); histories
// recorded with Local=true or without it replay by the flag (TestReplayRecordedHistories).
func TestWorkerPicksLocalActivities(t *testing.T) {
	e := newEnv(t, &ftTax)
	var local []string
	e.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, _ []any) {
		local = append(local, info.ActivityType.Name)
	})
	e.input = &WorkOrderInput{WorkOrderID: "wo-1"}
	e.run(t, []step{{req: ActionRequest{Action: "sign", Caller: officer}, wantState: models.StateSigned}})
	if len(local) == 0 || local[0] != "MarkStarted" {
		t.Fatalf("local activities %v: the order's activities did not run locally", local)
	}
}
