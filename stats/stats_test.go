package stats_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"redress/calendar"
	"redress/calendar/calendardb"
	"redress/models"
	"redress/stats"
	"redress/stats/statstest"
	"redress/store"
	"redress/store/storetest"
)

func TestFormulas(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		name               string
		r                  stats.Ratings
		rate, score, activ *float64
	}{
		{"none", stats.Ratings{}, nil, nil, nil},
		{"all very satisfied", stats.Ratings{Active: stats.LevelCounts{VerySatisfied: 4}}, f(1), f(10), f(1)},
		{"mixed with defaults", stats.Ratings{Active: stats.LevelCounts{VerySatisfied: 1, Satisfied: 1, BasicallySatisfied: 1, Dissatisfied: 1},
			Default: stats.LevelCounts{BasicallySatisfied: 4}}, f(0.75), f(6.75), f(0.5)},
		{"only defaults", stats.Ratings{Default: stats.LevelCounts{BasicallySatisfied: 3}}, nil, nil, f(0)},
		{"one of three", stats.Ratings{Active: stats.LevelCounts{Satisfied: 1, VeryDissatisfied: 2}}, f(0.3333), f(2.67), f(1)},
	}
	eq := func(a, b *float64) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.r.Derive()
			if !eq(c.r.SatisfactionRate, c.rate) || !eq(c.r.Score, c.score) || !eq(c.r.ActiveRate, c.activ) {
				t.Fatalf("rate %v score %v active %v", show(c.r.SatisfactionRate), show(c.r.Score), show(c.r.ActiveRate))
			}
		})
	}
}

func show(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// TestRollupsAgreeWithRaw generates ratings and orders over two months, runs the rollup job,
// and checks the figures from the rollups equal those recomputed from the raw rows — and
// that a rating excluded later (upheld appeal) moves both alike after the next pass.
func TestRollupsAgreeWithRaw(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		statstest.Seed(t, db)
		from := time.Date(2025, 3, 1, 0, 0, 0, 0, calendar.Zone())
		bad := statstest.Generate(t, db, 1, 300, from, 55*24*time.Hour)
		if bad == 0 {
			t.Fatal("the generator made no bad reviews")
		}
		cals := calendardb.NewCache(db, 0)
		roller := &stats.Roller{DB: db, Calendars: cals}
		days, err := roller.Pass(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(days) < 40 {
			t.Fatalf("rollup recomputed %d days, want the ~55 generated", len(days))
		}
		scope := store.Scope{Subtrees: []string{"/gd/sz/"}}
		check := func(p stats.Period) []stats.UnitFigures {
			t.Helper()
			got, err := stats.Units(ctx, db, scope, p)
			if err != nil {
				t.Fatal(err)
			}
			want, err := stats.FromRaw(ctx, db, cals, scope, p)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := js(t, got), js(t, want); a != b {
				t.Fatalf("rollups and raw differ for %v:\nrollup %s\nraw    %s", p, a, b)
			}
			return got
		}
		p, _ := stats.MonthPeriod("2025-03")
		units := check(p)
		total, orders := stats.Total(units)
		if total.Total == 0 || total.Default.Total() == 0 || orders.Orders == 0 || orders.Handled == 0 || orders.Overdue == 0 {
			t.Fatalf("degenerate data: %+v %+v", total, orders)
		}
		check(stats.Period{From: "2025-03-10", To: "2025-04-20"})

		// A later exclusion (upheld appeal) changes an old day: the next pass must see it.
		var e models.Evaluation
		if err := db.Where("bad AND NOT excluded AND rated_at < ?", time.Date(2025, 3, 31, 0, 0, 0, 0, time.UTC)).Order("id").First(&e).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Model(&models.Evaluation{}).Where("id = ?", e.ID).Updates(map[string]any{"excluded": true, "excluded_at": time.Now().UTC()}).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := roller.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		after := check(p)
		ta, _ := stats.Total(after)
		if ta.Excluded != total.Excluded+1 || ta.Bad != total.Bad-1 {
			t.Fatalf("exclusion not reflected: excluded %d→%d bad %d→%d", total.Excluded, ta.Excluded, total.Bad, ta.Bad)
		}

		// A second pass with nothing new recomputes only the safety window and changes nothing.
		if _, err := roller.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		check(p)

		// Dimensions: every dimension's active ratings add up to the units' when no rating
		// spans units (channels) and staff/items cover every rating at least once.
		for _, dim := range []string{stats.DimStaff, stats.DimItem, stats.DimChannel} {
			rows, err := stats.ByDim(ctx, db, scope, dim, p)
			if err != nil {
				t.Fatal(err)
			}
			sum := 0
			for _, r := range rows {
				sum += r.Ratings.Total + r.Ratings.Excluded
			}
			if sum < ta.Total+ta.Excluded {
				t.Fatalf("%s: %d ratings, fewer than the units' %d", dim, sum, ta.Total+ta.Excluded)
			}
		}
		tr, err := stats.Trend(ctx, db, scope, stats.Period{From: "2025-03-01", To: "2025-04-30"}, "month")
		if err != nil {
			t.Fatal(err)
		}
		if len(tr) != 2 || tr[0].Period != "2025-03" || tr[0].Ratings.Total != ta.Total {
			t.Fatalf("trend (units' total %d) %s", ta.Total, js(t, tr))
		}

		// Scope: an officer's single unit sees only that unit.
		one, err := stats.Units(ctx, db, store.Scope{Exact: []string{"/gd/sz/sz-ft/sz-ft-tax/"}}, p)
		if err != nil || len(one) != 1 || one[0].Code != "sz-ft-tax" {
			t.Fatalf("scoped units: %v %+v", err, one)
		}
	})
}

func TestAlarms(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		statstest.Seed(t, db)
		from := time.Date(2025, 5, 1, 0, 0, 0, 0, calendar.Zone())
		statstest.Generate(t, db, 7, 120, from, 20*24*time.Hour)
		if _, err := (&stats.Roller{DB: db, Calendars: calendardb.NewCache(db, 0)}).Pass(ctx); err != nil {
			t.Fatal(err)
		}
		scope := store.Scope{Subtrees: []string{"/gd/"}}
		// Make one unit's ratings all good: it must be flagged, the others not.
		if err := db.Exec(`DELETE FROM stats_ratings_daily WHERE bad > 0 OR excluded > 0`).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(`UPDATE stats_ratings_daily SET bad = 1 WHERE unit_path <> ? AND dim = 'unit'`, "/gd/sz/sz-ft/sz-ft-tax/").Error; err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			pol  stats.AlarmPolicy
			want int
		}{
			{"off", stats.AlarmPolicy{}, 0},
			{"volume too low", stats.AlarmPolicy{Days: 30, MinRatings: 100000}, 0},
			{"flagged", stats.AlarmPolicy{Days: 30, MinRatings: 5}, 1},
		}
		for _, c := range cases {
			got, err := stats.Alarms(ctx, db, scope, "2025-05-25", c.pol)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != c.want || (c.want == 1 && got[0].Code != "sz-ft-tax") {
				t.Fatalf("%s: %+v", c.name, got)
			}
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

// The background rollup and a publication may recompute the same day at once; neither fails
// and the day holds one set of rows.
func TestConcurrentRecomputeOfOneDay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		statstest.Seed(t, db)
		from := time.Date(2025, 3, 1, 0, 0, 0, 0, calendar.Zone())
		statstest.Generate(t, db, 2, 60, from, 24*time.Hour)
		roller := &stats.Roller{DB: db, Calendars: calendardb.NewCache(db, 0)}
		errs := make(chan error, 6)
		for i := 0; i < 6; i++ {
			go func() { errs <- roller.RecomputeDay(ctx, "2025-03-01") }()
		}
		for i := 0; i < 6; i++ {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		var dup int64
		if err := db.Raw(`SELECT COUNT(*) FROM (SELECT day, dim, unit_id, dim_key FROM stats_ratings_daily GROUP BY day, dim, unit_id, dim_key HAVING COUNT(*) > 1) d`).Scan(&dup).Error; err != nil {
			t.Fatal(err)
		}
		if dup != 0 {
			t.Fatalf("%d duplicated rollup rows", dup)
		}
	})
}

// A pass re-reads the last minute of its safety window, and the whole of it every Lag/2: a
// rating committed late is recomputed into its day by the next pass when it was received
// within the minute, by the next whole pass when up to Lag ago, and not by the passes between.
// The days are those of Asia/Shanghai at the instant the rating was made, to the second.
func TestRollupLateCommits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		statstest.Seed(t, db)
		statstest.Generate(t, db, 7, 10, time.Date(2025, 8, 1, 0, 0, 0, 0, calendar.Zone()), 24*time.Hour)
		// The clock is fixed (noon in Shanghai) so that no pass crosses a midnight, when the
		// roller also reads every overdue order.
		now := time.Date(2026, 6, 10, 4, 0, 0, 0, time.UTC)
		roller := &stats.Roller{DB: db, Calendars: calendardb.NewCache(db, 0), Lag: 10 * time.Minute, Recent: time.Minute,
			Now: func() time.Time { return now }}
		exec := func(q string, args ...any) {
			t.Helper()
			if err := db.Exec(q, args...).Error; err != nil {
				t.Fatal(err)
			}
		}
		exec("UPDATE work_orders SET updated_at = ?", time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC))
		exec("UPDATE evaluations SET received_at = ?", now.Add(-time.Hour))
		pass := func(want ...string) {
			t.Helper()
			days, err := roller.Pass(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if js(t, days) != js(t, want) {
				t.Fatalf("the pass at %s recomputed %v, want %v", now.Format(time.TimeOnly), days, want)
			}
		}
		pass("2025-08-01") // the first pass reads the whole window
		var ids []string
		if err := db.Table("evaluations").Order("id").Pluck("id", &ids).Error; err != nil || len(ids) < 2 {
			t.Fatalf("%d ratings: %v", len(ids), err)
		}
		// Ratings committed after that pass: half received 20 s before it and made in the last
		// second of 2 August in Shanghai, half received almost Lag before it and made at the
		// first instant of 3 August there.
		exec("UPDATE evaluations SET received_at = ?, rated_at = ? WHERE id IN ?", now.Add(-20*time.Second),
			time.Date(2025, 8, 2, 23, 59, 59, 0, calendar.Zone()), ids[:len(ids)/2])
		exec("UPDATE evaluations SET received_at = ?, rated_at = ? WHERE id IN ?", now.Add(-9*time.Minute-40*time.Second),
			time.Date(2025, 8, 3, 0, 0, 0, 0, calendar.Zone()), ids[len(ids)/2:])
		now = now.Add(10 * time.Second)
		pass("2025-08-02")
		now = now.Add(4*time.Minute + 40*time.Second)
		pass("2025-08-02") // a regular pass: the minute before its mark, not the older ones
		now = now.Add(10 * time.Second)
		pass("2025-08-02", "2025-08-03") // the whole window, Lag/2 after the last
	})
}
