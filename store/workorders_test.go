package store_test

import (
	"context"
	"testing"
	"time"

	"redress/calendar"
	"redress/migrations"
	"redress/stats/statstest"
	"redress/store"
	"redress/store/storetest"
)

// TestMarkWorkflowStartedDoesNotWaitForTheDisk: the started flag, a hint the reconciler can
// restore, commits with synchronous_commit off on PostgreSQL, and only its own transaction
// does: the next write on the same connection waits for the disk again. A trigger notes the
// setting each update of a work order ran under.
func TestMarkWorkflowStartedDoesNotWaitForTheDisk(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		statstest.Seed(t, db)
		statstest.Generate(t, db, 3, 200, time.Date(2025, 8, 1, 0, 0, 0, 0, calendar.Zone()), 24*time.Hour)
		var ids []string
		if err := db.Table("work_orders").Order("id").Limit(2).Pluck("id", &ids).Error; err != nil || len(ids) != 2 {
			t.Fatalf("two generated work orders: %v %v", ids, err)
		}
		exec := func(q string, args ...any) {
			t.Helper()
			if err := db.Exec(q, args...).Error; err != nil {
				t.Fatal(err)
			}
		}
		exec("UPDATE work_orders SET workflow_started = false")
		pg := db.Dialect == migrations.Postgres
		if pg {
			sqlDB, err := db.DB.DB()
			if err != nil {
				t.Fatal(err)
			}
			sqlDB.SetMaxOpenConns(1) // every statement below on one connection
			exec("CREATE TABLE commit_modes (seq serial, mode text)")
			exec(`CREATE FUNCTION note_commit_mode() RETURNS trigger AS $$ BEGIN
				INSERT INTO commit_modes (mode) VALUES (current_setting('synchronous_commit')); RETURN NEW; END $$ LANGUAGE plpgsql`)
			exec("CREATE TRIGGER note_commit_mode BEFORE UPDATE ON work_orders FOR EACH ROW EXECUTE FUNCTION note_commit_mode()")
		}
		if err := store.MarkWorkflowStarted(ctx, db, ids[0]); err != nil {
			t.Fatal(err)
		}
		var started []string
		if err := db.Table("work_orders").Where("workflow_started").Pluck("id", &started).Error; err != nil {
			t.Fatal(err)
		}
		if len(started) != 1 || started[0] != ids[0] {
			t.Fatalf("orders flagged started: %v, want only %s", started, ids[0])
		}
		if !pg {
			return
		}
		exec("UPDATE work_orders SET updated_at = updated_at WHERE id = ?", ids[1])
		var modes []string
		if err := db.Table("commit_modes").Order("seq").Pluck("mode", &modes).Error; err != nil {
			t.Fatal(err)
		}
		if len(modes) != 2 || modes[0] != "off" || modes[1] != "on" {
			t.Fatalf("synchronous_commit of the flag's update and of the next write: %v, want [off on]", modes)
		}
	})
}
