package publish_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"redress/calendar"
	"redress/models"
	"redress/publish"
	"redress/stats"
	"redress/stats/statstest"
	"redress/store"
	"redress/store/storetest"
)

// TestPublishedFiguresRecomputeFromRaw is the definition of done: generate ratings and
// orders, publish a month, recompute the month from the raw ratings and timelines, and find the
// same figures; then a correction makes version 2 while version 1 stays as it was.
func TestPublishedFiguresRecomputeFromRaw(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		statstest.Seed(t, db)
		statstest.Generate(t, db, 3, 250, time.Date(2025, 6, 1, 0, 0, 0, 0, calendar.Zone()), 45*24*time.Hour)
		cals := calendar.NewCache(db, 0)
		roller := &stats.Roller{DB: db, Calendars: cals}
		var sz models.Unit
		if err := db.Where("code = ?", "sz").Take(&sz).Error; err != nil {
			t.Fatal(err)
		}
		now := time.Date(2025, 7, 20, 10, 0, 0, 0, time.UTC)
		if _, err := publish.Publish(ctx, db, roller, sz, "2025-07", "sz-admin", "", now); err == nil {
			t.Fatal("a month that has not ended was published")
		}
		v1, err := publish.Publish(ctx, db, roller, sz, "2025-06", "sz-admin", "first", now)
		if err != nil {
			t.Fatal(err)
		}
		if v1.Version != 1 {
			t.Fatalf("version %d", v1.Version)
		}
		pub, err := publish.Latest(ctx, db, "2025-06", "")
		if err != nil || len(pub.Jurisdictions) != 1 {
			t.Fatalf("latest: %v %+v", err, pub)
		}
		recompute := func() []stats.UnitFigures {
			p, _ := stats.MonthPeriod("2025-06")
			raw, err := stats.FromRaw(ctx, db, cals, store.Scope{Subtrees: []string{sz.Path}}, p)
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}
		first := js(t, pub.Jurisdictions[0].Units)
		if raw := js(t, recompute()); first != raw {
			t.Fatalf("published figures differ from the raw recomputation:\npublished %s\nraw       %s", first, raw)
		}
		total := pub.Jurisdictions[0].Total
		if total.Ratings.Total == 0 || total.Orders.Orders == 0 {
			t.Fatalf("empty month: %+v", total)
		}
		// No personal data in the public answer.
		body := js(t, pub)
		for _, bad := range []string{"evaluator", "phone", "S0001", "staff", "comment", "/gd/"} {
			if strings.Contains(body, bad) {
				t.Fatalf("public results contain %q", bad)
			}
		}

		// A correction: an appeal upheld after publication; version 1 is frozen, version 2
		// has the new figures and again equals the raw data.
		if err := db.Exec(`UPDATE evaluations SET excluded = ?, excluded_at = ? WHERE id = (SELECT MIN(id) FROM evaluations WHERE bad AND NOT excluded AND rated_at >= ? AND rated_at < ?)`,
			true, time.Now().UTC(), time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 29, 0, 0, 0, 0, time.UTC)).Error; err != nil {
			t.Fatal(err)
		}
		v2, err := publish.Publish(ctx, db, roller, sz, "2025-06", "sz-admin", "appeal upheld", now)
		if err != nil || v2.Version != 2 {
			t.Fatalf("correction: %v %+v", err, v2)
		}
		pub2, _ := publish.Latest(ctx, db, "2025-06", "sz")
		if raw := js(t, recompute()); js(t, pub2.Jurisdictions[0].Units) != raw {
			t.Fatal("version 2 differs from the raw recomputation")
		}
		if pub2.Jurisdictions[0].Version != 2 || pub2.Jurisdictions[0].Total.Ratings.Excluded != total.Ratings.Excluded+1 {
			t.Fatalf("latest is not the correction: %+v", pub2.Jurisdictions[0].Total)
		}
		old, err := publish.Version(ctx, db, sz.ID, "2025-06", 1)
		if err != nil || js(t, old.Figures.V.Units) != first {
			t.Fatalf("version 1 changed: %v", err)
		}
		vs, err := publish.Versions(ctx, db, store.Scope{Subtrees: []string{"/gd/"}}, "2025-06")
		if err != nil || len(vs) != 2 || vs[0].Version != 2 {
			t.Fatalf("versions: %v %+v", err, vs)
		}
	})
}

func js(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
