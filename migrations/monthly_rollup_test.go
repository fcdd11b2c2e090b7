package migrations_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"redress/calendar"
	"redress/calendar/calendardb"
	"redress/migrations"
	"redress/stats"
	"redress/stats/statstest"
	"redress/store"
	"redress/store/storetest"
)

// TestMonthlyRollupBackfill: 00026 fills the monthly rollups from the daily rows already there,
// so that a deployment upgraded from 25 answers at once what it answered before (the month
// rows equal those the roller writes, and the month statistics are unchanged), without a pass.
func TestMonthlyRollupBackfill(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		statstest.Seed(t, db)
		statstest.Generate(t, db, 61, 300, time.Date(2025, 1, 20, 0, 0, 0, 0, calendar.Zone()), 70*24*time.Hour)
		if _, err := (&stats.Roller{DB: db, Calendars: calendardb.NewCache(db, 0)}).Pass(ctx); err != nil {
			t.Fatal(err)
		}
		scope := store.Scope{Subtrees: []string{"/"}}
		periods := []stats.Period{{From: "2025-02-01", To: "2025-02-28"}, {From: "2025-01-01", To: "2025-03-31"}, {From: "2025-01-25", To: "2025-03-10"}}
		figures := func() string {
			t.Helper()
			var out []string
			for _, p := range periods {
				u, err := stats.Units(ctx, db, scope, p)
				if err != nil {
					t.Fatal(err)
				}
				tr, err := stats.Trend(ctx, db, scope, p, "month")
				if err != nil {
					t.Fatal(err)
				}
				b, err := json.Marshal([]any{u, tr})
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, string(b))
			}
			return strings.Join(out, "\n")
		}
		monthRows := func() string {
			t.Helper()
			return strings.Join(append(storetest.QueryLines(t, db, "SELECT * FROM stats_ratings_monthly ORDER BY month, unit_id, unit_path"),
				storetest.QueryLines(t, db, "SELECT * FROM stats_orders_monthly ORDER BY month, unit_id, unit_path")...), "\n")
		}
		rolled, before := monthRows(), figures()
		if !strings.Contains(rolled, "2025-02|") {
			t.Fatalf("the roller wrote no month rows for February:\n%s", rolled)
		}
		if err := migrations.DownTo(ctx, db.SQL(), db.Dialect, 25); err != nil {
			t.Fatalf("down to 25: %v", err)
		}
		if _, err := migrations.Up(ctx, db.SQL(), db.Dialect); err != nil {
			t.Fatalf("up from 25: %v", err)
		}
		if got := monthRows(); got != rolled {
			t.Fatalf("the backfilled month rows differ from the roller's:\nbackfill\n%s\nroller\n%s", got, rolled)
		}
		if got := figures(); got != before {
			t.Fatalf("the figures after the upgrade differ:\nafter  %s\nbefore %s", got, before)
		}
	})
}
