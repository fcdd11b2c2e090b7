package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"redress/migrations"
	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// A list's total and its page are read from one snapshot: an order written between the two
// statements (here by a callback after the count, the window TestInboxScoping once hit under
// load) is in both or in neither, never on the page but missing from the total. PostgreSQL
// only: SQLite has one writer and its read transaction is a snapshot by construction.
func TestListOrdersCountAndPageOneSnapshot(t *testing.T) {
	db := storetest.Open(t, migrations.Postgres)
	ctx := context.Background()
	path := "/snap-" + uuid.NewString()[:8] + "/"
	add := func(g *gorm.DB) error {
		now := time.Now().UTC()
		evID, woID := uuid.NewString(), uuid.NewString()
		lv := models.NewJSON(map[string]string{"overall": models.Dissatisfied})
		return g.Transaction(func(tx *gorm.DB) error {
			if err := tx.Create(&models.Evaluation{ID: evID, EvaluationID: "E-" + evID, Channel: "pc", Overall: models.Dissatisfied,
				Levels: lv, Bad: true, Tags: models.NewJSON([]string{}), RatedAt: now, ReceivedAt: now, RequestHash: "h"}).Error; err != nil {
				return err
			}
			return tx.Create(&models.WorkOrder{ID: woID, EvaluationID: evID, WorkflowID: "wf-" + woID, State: models.StateDispatched,
				UnitPath: path, CaseNos: models.NewJSON([]string{"C"}), Overall: models.Dissatisfied, Levels: lv, OpenedAt: now,
				Deadlines: models.NewJSON([]models.Deadline{})}).Error
		})
	}
	for i := 0; i < 2; i++ {
		if err := add(db.DB); err != nil {
			t.Fatal(err)
		}
	}
	// Another connection's writer, run once right after the list's first statement (the count).
	writer := db.Session(&gorm.Session{NewDB: true, Context: ctx})
	var once sync.Once
	armed := false
	var addErr error
	if err := db.Callback().Query().After("gorm:query").Register("test:write-between", func(g *gorm.DB) {
		if armed {
			once.Do(func() { addErr = add(writer) })
		}
	}); err != nil {
		t.Fatal(err)
	}
	armed = true
	rows, total, err := store.ListOrders(ctx, db, store.Scope{Subtrees: []string{path}}, store.OrderFilter{Page: 1, PageSize: 20, Now: time.Now()})
	armed = false
	if err != nil || addErr != nil {
		t.Fatalf("list: %v; write between: %v", err, addErr)
	}
	if int(total) != len(rows) {
		t.Errorf("total %d beside a page of %d orders (one snapshot must give both)", total, len(rows))
	}
}
