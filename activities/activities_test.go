package activities_test

import (
	"context"
	"testing"
	"time"

	"redress/activities"
	"redress/models"
	"redress/notify"
	"redress/store"
	"redress/store/storetest"
)

// TestRecordEventOnce: an event recorded twice (an activity retry, a replay) leaves one
// timeline row, one read-model change, one set of outbox rows and one tracking token.
func TestRecordEventOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		now := time.Now().UTC()
		woID := newOrder(t, db, models.StateReviewing)
		a := &activities.Activities{DB: db}
		ev := activities.Event{WorkOrderID: woID, WorkflowID: "wf-" + woID, Seq: 3, At: now, Actor: "sz-admin", Type: "review",
			Data: map[string]any{"approve": true}, Row: activities.Row{State: models.StateFeedback},
			Notify: []notify.Message{
				{Key: "evaluator:feedback", Channel: notify.ChannelSMS, Kind: notify.KindEvaluator, Template: "feedback", Track: true},
				{Key: "staff:officer:/gd/", Channel: notify.ChannelInbox, Kind: notify.KindStaff, UnitPath: "/gd/", Role: "officer", Template: "new_order"},
			}}
		for i := 0; i < 3; i++ {
			if err := a.RecordEvent(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
		}
		for table, want := range map[string]int64{"timeline_events": 1, "notifications": 2, "tracking_tokens": 1} {
			var n int64
			if err := db.Table(table).Where("work_order_id = ?", woID).Count(&n).Error; err != nil {
				t.Fatal(err)
			}
			if n != want {
				t.Errorf("%s: %d rows, want %d", table, n, want)
			}
		}
		var wo models.WorkOrder
		db.Where("id = ?", woID).Take(&wo)
		if wo.State != models.StateFeedback || wo.Version != 3 {
			t.Errorf("read-model %s v%d", wo.State, wo.Version)
		}
	})
}
