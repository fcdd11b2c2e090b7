package bench

import (
	"context"
	"testing"
	"time"

	"redress/calendar"
	"redress/migrations"
	"redress/models"
	"redress/stats"
	"redress/stats/statstest"
	"redress/store"
	"redress/store/storetest"
	"redress/upstream"
)

// TestWaitFeedCaughtUp: a turn waits while the feed's last finished pass began before the
// previous turn ended, gives up with an error after its limit, and goes on once a pass that
// began later has saved its mark — also when that happens while it waits.
func TestWaitFeedCaughtUp(t *testing.T) {
	ctx := context.Background()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			url, db := migrated(t, d)
			turnEnded := time.Now().UTC().Truncate(time.Millisecond)
			if err := stats.SaveMark(ctx, db, upstream.FeedMark, turnEnded.Add(-time.Second)); err != nil {
				t.Fatal(err)
			}
			if err := WaitFeedCaughtUp(ctx, url, turnEnded, 300*time.Millisecond); err == nil {
				t.Fatal("the feed's last pass began before the turn ended, and the wait did not wait")
			}

			done := make(chan error, 1)
			go func() { done <- WaitFeedCaughtUp(ctx, url, turnEnded, time.Minute) }()
			if err := stats.SaveMark(ctx, db, upstream.FeedMark, turnEnded.Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatalf("a pass that began after the turn finished, and the wait: %v", err)
			}
		})
	}
}

// TestWaitOrdersSettled: a turn waits while orders wait for their first stage, gives up after
// its limit, goes on once none waits — also when that happens while it waits — and goes on
// when the number waiting has stopped moving (orders left for an administrator's dispatch).
func TestWaitOrdersSettled(t *testing.T) {
	ctx := context.Background()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			url, db := migrated(t, d)
			statstest.Seed(t, db)
			statstest.Generate(t, db, 3, 40, time.Date(2025, 8, 1, 0, 0, 0, 0, calendar.Zone()), 24*time.Hour)
			var orders []string
			if err := db.WithContext(ctx).Table("work_orders").Order("id").Limit(5).Pluck("id", &orders).Error; err != nil || len(orders) == 0 {
				t.Fatalf("generated orders: %v, %v", orders, err)
			}
			setState := func(state string) {
				t.Helper()
				if err := db.WithContext(ctx).Exec("UPDATE work_orders SET state = CASE WHEN id IN ? THEN ? ELSE ? END", orders, state, models.StateClosed).Error; err != nil {
					t.Fatal(err)
				}
			}
			setState(models.StatePendingDispatch)
			if err := WaitOrdersSettled(ctx, url, time.Hour, 300*time.Millisecond); err == nil {
				t.Fatal("orders waited for their first stage, and the wait did not wait")
			}

			done := make(chan error, 1)
			go func() { done <- WaitOrdersSettled(ctx, url, time.Hour, time.Minute) }()
			setState(models.StateDispatched)
			if err := <-done; err != nil {
				t.Fatalf("no order waits any more, and the wait: %v", err)
			}

			setState(models.StatePendingDispatch)
			if err := WaitOrdersSettled(ctx, url, 500*time.Millisecond, time.Minute); err != nil {
				t.Fatalf("the orders waiting stopped moving, and the wait: %v", err)
			}
		})
	}
}

// migrated creates a test database of dialect d with the schema applied, and answers its URL
// (what the waits open) and the test's own connection to it.
func migrated(t *testing.T, d migrations.Dialect) (string, *store.DB) {
	t.Helper()
	url := storetest.URL(t, d)
	db, err := store.Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() }) // the test's own database
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return url, db
}
