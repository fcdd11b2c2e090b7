package bench

import (
	"context"
	"testing"
	"time"

	"redress/stats"
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
			url := storetest.URL(t, d)
			db, err := store.Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = db.Close() }() // the test's own database
			if _, err := db.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
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
