package activities_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/sdk/temporal"
	"gorm.io/gorm"

	"redress/activities"
	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// newOrder stores a rating and its work order in the given state (no workflow behind it).
func newOrder(t *testing.T, db *store.DB, state string) string {
	t.Helper()
	now := time.Now().UTC()
	evID, woID := uuid.NewString(), uuid.NewString()
	lv := models.NewJSON(map[string]string{"overall": models.Dissatisfied})
	if err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&models.Evaluation{ID: evID, EvaluationID: "E-" + evID, Channel: "pc", Overall: models.Dissatisfied,
			Levels: lv, Bad: true, Tags: models.NewJSON([]string{}), RatedAt: now, ReceivedAt: now, RequestHash: "h"}).Error; err != nil {
			return err
		}
		return tx.Create(&models.WorkOrder{ID: woID, EvaluationID: evID, WorkflowID: "wf-" + woID, State: state,
			CaseNos: models.NewJSON([]string{"C"}), Overall: models.Dissatisfied, Levels: lv, OpenedAt: now,
			Deadlines: models.NewJSON([]models.Deadline{})}).Error
	}); err != nil {
		t.Fatal(err)
	}
	return woID
}

// A replayed local activity that carries a different event under the same workflow, run and
// sequence number fails loudly (event_conflict, not retried) instead of being dropped in
// silence (issue 16, finding 3); the same event again changes nothing.
func TestRecordEventConflictFailsLoudly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		woID := newOrder(t, db, models.StateDispatched)
		a := &activities.Activities{DB: db}
		at := time.Now().UTC()
		ev := activities.Event{WorkOrderID: woID, WorkflowID: "wf-" + woID, RunID: "run-1", Seq: 2, At: at, Actor: "ft-officer",
			Type: "sign", Data: map[string]any{}, Row: activities.Row{State: models.StateSigned}}
		for i := 0; i < 2; i++ {
			if err := a.RecordEvent(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
		}
		phantom := ev
		phantom.Type, phantom.Data, phantom.Row = "return", map[string]any{"reason": "不归我"}, activities.Row{State: models.StateReturned}
		err := a.RecordEvent(context.Background(), phantom)
		var app *temporal.ApplicationError
		if !errors.As(err, &app) || app.Type() != activities.ErrEventConflict || !app.NonRetryable() {
			t.Fatalf("a different event under the same key: %v, want a non-retryable %s", err, activities.ErrEventConflict)
		}
		var types []string
		db.Table("timeline_events").Where("work_order_id = ?", woID).Pluck("type", &types)
		if len(types) != 1 || types[0] != "sign" {
			t.Errorf("timeline %v", types)
		}
	})
}

// After an operator's reset, the new run numbers its events again from the reset point: they
// are stored (not dropped as repeats), the old run's events from there on are superseded (kept,
// not shown), and the read-model follows the new run (issue 16, finding 3).
func TestRecordEventAfterReset(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		woID := newOrder(t, db, models.StateDispatched)
		a := &activities.Activities{DB: db}
		at := time.Now().UTC()
		rec := func(run string, seq int, typ, state string) {
			t.Helper()
			ev := activities.Event{WorkOrderID: woID, WorkflowID: "wf-" + woID, RunID: run, Seq: seq, At: at.Add(time.Duration(seq) * time.Second),
				Actor: "x", Type: typ, Data: map[string]any{}, Row: activities.Row{State: state}}
			if err := a.RecordEvent(context.Background(), ev); err != nil {
				t.Fatal(err)
			}
		}
		rec("run-1", 1, "dispatched", models.StateDispatched)
		rec("run-1", 2, "sign", models.StateSigned)
		rec("run-1", 3, "callback", models.StateSigned)
		// An evidence upload beside the workflow (api's attachments) after the callback: a fact
		// outside the workflow, which no reset takes back.
		evidence := models.TimelineEvent{ID: "wf-" + woID + "/evidence/a1", WorkOrderID: woID, Seq: 3, At: at.Add(4 * time.Second),
			Actor: "ft-officer", Type: models.EventEvidenceAdded, Data: models.NewJSON(map[string]any{"filename": "a.png"})}
		if err := db.Create(&evidence).Error; err != nil {
			t.Fatal(err)
		}
		// Reset to after the dispatch: the new run's second event is a return.
		rec("run-2", 2, "return", models.StateReturned)
		evs, err := store.Timeline(context.Background(), db, woID)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range evs {
			got = append(got, e.Type)
		}
		if want := []string{"dispatched", "return", models.EventEvidenceAdded}; !slices.Equal(got, want) {
			t.Errorf("timeline after reset %v, want %v", got, want)
		}
		var n int64
		db.Table("timeline_events").Where("work_order_id = ? AND superseded", woID).Count(&n)
		if n != 2 {
			t.Errorf("%d superseded events, want 2 (kept for the record)", n)
		}
		var wo models.WorkOrder
		db.Where("id = ?", woID).Take(&wo)
		if wo.State != models.StateReturned || wo.Version != 2 {
			t.Errorf("read-model %s v%d, want returned v2", wo.State, wo.Version)
		}
		rec("run-2", 3, "rule_return", models.StateDispatched)
		db.Where("id = ?", woID).Take(&wo)
		if wo.State != models.StateDispatched || wo.Version != 3 {
			t.Errorf("read-model %s v%d, want dispatched v3", wo.State, wo.Version)
		}
	})
}

// A workflow task retried after a worker died between its local activity's write and the
// task's completion runs the same handler again with a later workflow.Now(): the same event
// with a later time and due dates computed from it. That is the same event, not a conflict
// (the production-topology test's kill -9 of a worker turned it into step_failed, and the
// officer's action into 500 action_failed); the first write stands.
func TestRecordEventRetriedTaskIsTheSameEvent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		woID := newOrder(t, db, models.StateDispatched)
		a := &activities.Activities{DB: db}
		at := time.Now().UTC().Truncate(time.Millisecond)
		ev := activities.Event{WorkOrderID: woID, WorkflowID: "wf-" + woID, RunID: "run-1", Seq: 2, At: at, Actor: "ft-officer",
			Type: "sign", Data: map[string]any{"due_at": at.Add(24 * time.Hour).Format(time.RFC3339)},
			Row: activities.Row{State: models.StateSigned}}
		if err := a.RecordEvent(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
		retried := ev
		retried.At = at.Add(11 * time.Second)
		retried.Data = map[string]any{"due_at": retried.At.Add(24 * time.Hour).Format(time.RFC3339)}
		if err := a.RecordEvent(context.Background(), retried); err != nil {
			t.Fatalf("the same event written again by a retried workflow task: %v", err)
		}
		var ats []time.Time
		db.Table("timeline_events").Where("work_order_id = ?", woID).Pluck("at", &ats)
		if len(ats) != 1 || !ats[0].Equal(at) {
			t.Errorf("timeline times %v, want the first write's %v only", ats, at)
		}
	})
}
