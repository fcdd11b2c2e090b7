package stats_test

import (
	"context"
	"fmt"
	"strings"
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

// TestSplitPeriod: a period is cut into its whole calendar months and the days at its edges.
func TestSplitPeriod(t *testing.T) {
	type days = [][2]string
	cases := []struct {
		from, to string
		days     days
		months   [2]string
	}{
		{"2024-12-01", "2024-12-31", nil, [2]string{"2024-12", "2024-12"}},
		{"2024-12-01", "2025-01-31", nil, [2]string{"2024-12", "2025-01"}},
		{"2024-02-01", "2024-02-29", nil, [2]string{"2024-02", "2024-02"}}, // a leap February
		{"2025-02-01", "2025-02-28", nil, [2]string{"2025-02", "2025-02"}},
		{"2024-02-01", "2024-02-28", days{{"2024-02-01", "2024-02-28"}}, [2]string{}},
		{"2024-11-20", "2025-02-10", days{{"2024-11-20", "2024-11-30"}, {"2025-02-01", "2025-02-10"}}, [2]string{"2024-12", "2025-01"}},
		{"2024-11-30", "2025-01-01", days{{"2024-11-30", "2024-11-30"}, {"2025-01-01", "2025-01-01"}}, [2]string{"2024-12", "2024-12"}},
		{"2024-12-02", "2024-12-31", days{{"2024-12-02", "2024-12-31"}}, [2]string{}},
		{"2024-12-15", "2025-01-14", days{{"2024-12-15", "2025-01-14"}}, [2]string{}},
		{"2025-01-10", "2025-01-10", days{{"2025-01-10", "2025-01-10"}}, [2]string{}},
		{"2025-01-31", "2025-01-01", days{{"2025-01-31", "2025-01-01"}}, [2]string{}}, // reversed: nothing, as before
		{"2025-02-01", "2025-02-30", days{{"2025-02-01", "2025-02-30"}}, [2]string{}}, // not a day: compared as text, as before
		{"2025-1-01", "2025-03-31", days{{"2025-1-01", "2025-03-31"}}, [2]string{}},
	}
	for _, c := range cases {
		d, m := stats.SplitPeriod(stats.Period{From: c.from, To: c.to})
		if fmt.Sprint(d) != fmt.Sprint(c.days) || m != c.months {
			t.Errorf("%s..%s: days %v months %v, want %v %v", c.from, c.to, d, m, c.days, c.months)
		}
	}
}

// The periods the monthly reader is held to the daily oracle on: starting and ending mid-month,
// spanning several months and a new year, whole months, single days, months without data,
// several years, and a reversed period.
var monthlyPeriods = []stats.Period{
	{From: "2024-11-18", To: "2025-03-03"},
	{From: "2024-12-01", To: "2024-12-31"},
	{From: "2024-12-01", To: "2025-01-31"},
	{From: "2024-11-01", To: "2025-02-28"},
	{From: "2024-11-20", To: "2024-12-31"},
	{From: "2024-12-01", To: "2025-01-15"},
	{From: "2024-12-15", To: "2025-01-14"},
	{From: "2025-01-05", To: "2025-01-20"},
	{From: "2025-02-01", To: "2025-02-27"},
	{From: "2025-02-02", To: "2025-02-28"},
	{From: "2024-11-30", To: "2025-03-01"},
	{From: "2025-01-10", To: "2025-01-10"},
	{From: "2025-01-01", To: "2025-01-01"},
	{From: "2024-01-01", To: "2025-12-31"},
	{From: "2023-12-15", To: "2026-01-15"},
	{From: "2025-01-31", To: "2025-01-01"},
}

var monthlyScopes = []store.Scope{
	{Subtrees: []string{"/"}},
	{Subtrees: []string{"/gd/sz/"}},
	{Subtrees: []string{"/gd/sz/sz-ns/"}},
	{Exact: []string{"/gd/sz/sz-ft/sz-ft-tax/"}},
	{Exact: []string{"/gd/sz/sz-ft/sz-ft-amr/"}, Subtrees: []string{"/gd/sz/sz-ns/"}},
}

// sameAsDaily checks the readers against the daily-only oracle (the readers before the monthly
// rollup) for every period and scope, and the month rows against the sums of the daily rows.
func sameAsDaily(t *testing.T, db *store.DB, when string) {
	t.Helper()
	ctx := context.Background()
	for _, scope := range monthlyScopes {
		for _, p := range monthlyPeriods {
			got, err := stats.Units(ctx, db, scope, p)
			if err != nil {
				t.Fatal(err)
			}
			want, err := stats.UnitsDaily(ctx, db, scope, p)
			if err != nil {
				t.Fatal(err)
			}
			if a, b := js(t, got), js(t, want); a != b {
				t.Fatalf("%s: units %v %v:\nmonthly %s\ndaily   %s", when, scope, p, a, b)
			}
			for _, g := range []string{"month", "day"} {
				got, err := stats.Trend(ctx, db, scope, p, g)
				if err != nil {
					t.Fatal(err)
				}
				want, err := stats.TrendDaily(ctx, db, scope, p, g)
				if err != nil {
					t.Fatal(err)
				}
				if a, b := js(t, got), js(t, want); a != b {
					t.Fatalf("%s: trend by %s %v %v:\nmonthly %s\ndaily   %s", when, g, scope, p, a, b)
				}
			}
		}
	}
	monthRowsMatchDays(t, db, when)
}

var (
	ratingCols = "a_vs, a_s, a_bs, a_d, a_vd, d_vs, d_s, d_bs, d_d, d_vd, bad, excluded"
	orderCols  = "orders, real_name, called_back, called_back_real_name, rectified, explained, appealed, upheld, rejected, closed, on_time, overdue, overdue_days, supervised, handled, handling_days"
)

// monthRowsMatchDays: every month row is the sum of its unit's (and path's) daily rows of that
// month, and there is no month row without daily rows.
func monthRowsMatchDays(t *testing.T, db *store.DB, when string) {
	t.Helper()
	for _, tb := range []struct{ monthly, daily, where, cols string }{
		{"stats_ratings_monthly", "stats_ratings_daily", "WHERE dim = 'unit'", ratingCols},
		{"stats_orders_monthly", "stats_orders_daily", "", orderCols},
	} {
		var sumCols []string
		for _, c := range strings.Split(tb.cols, ", ") {
			sumCols = append(sumCols, "SUM("+c+")")
		}
		want := storetest.QueryLines(t, db, `SELECT substr(day, 1, 7), unit_id, unit_path, `+strings.Join(sumCols, ", ")+` FROM `+tb.daily+` `+tb.where+
			` GROUP BY substr(day, 1, 7), unit_id, unit_path ORDER BY 1, 2, 3`)
		got := storetest.QueryLines(t, db, `SELECT month, unit_id, unit_path, `+tb.cols+` FROM `+tb.monthly+` ORDER BY 1, 2, 3`)
		if len(want) == 0 {
			t.Fatalf("%s: no daily rows in %s", when, tb.daily)
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s: %s is not the sum of %s:\nmonthly\n%s\ndaily sums\n%s", when, tb.monthly, tb.daily, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// TestMonthlyRollupReadsAsDaily: the readers, which read whole months from the monthly rollup
// and the edges of a period from the daily rows, answer exactly what the daily rows alone
// answered, for periods of every shape, on both databases — after the first pass, after
// ratings are added, an order is closed and a rating excluded, and after days are rolled again.
// Whole months are read from the month rows (a month row changed by hand shows in a whole
// month and not in a period that only misses its first day), and recomputing a day of that
// month sets its month rows right again.
func TestMonthlyRollupReadsAsDaily(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		roller, _ := rolledUp(t, db, 31, 500, time.Date(2024, 11, 18, 0, 0, 0, 0, calendar.Zone()), 105*24*time.Hour)
		dec := stats.Period{From: "2024-12-01", To: "2024-12-31"}
		jan := stats.Period{From: "2025-01-01", To: "2025-01-31"}
		all := store.Scope{Subtrees: []string{"/"}}
		totals := func(p stats.Period) (stats.Ratings, stats.Orders) {
			t.Helper()
			u, err := stats.Units(ctx, db, all, p)
			if err != nil {
				t.Fatal(err)
			}
			return stats.Total(u)
		}
		r0, o0 := totals(stats.Period{From: "2024-11-01", To: "2025-03-31"})
		if r0.Total == 0 || r0.Default.Total() == 0 || r0.Excluded == 0 || o0.Orders == 0 || o0.Closed == 0 || o0.Handled == 0 || o0.Overdue == 0 {
			t.Fatalf("degenerate data: %+v %+v", r0, o0)
		}
		sameAsDaily(t, db, "first pass")

		// Whole months come from the month rows.
		tax := "/gd/sz/sz-ft/sz-ft-tax/"
		one := store.Scope{Exact: []string{tax}}
		before, err := stats.Units(ctx, db, one, dec)
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(`UPDATE stats_ratings_monthly SET a_vs = a_vs + 1000 WHERE month = '2024-12' AND unit_path = ?`, tax).Error; err != nil {
			t.Fatal(err)
		}
		bumped, err := stats.Units(ctx, db, one, dec)
		if err != nil {
			t.Fatal(err)
		}
		if bumped[0].Ratings.Active.VerySatisfied != before[0].Ratings.Active.VerySatisfied+1000 {
			t.Fatalf("December of %s is not read from its month row: %d very satisfied, %d before the row was changed",
				tax, bumped[0].Ratings.Active.VerySatisfied, before[0].Ratings.Active.VerySatisfied)
		}
		partial := stats.Period{From: "2024-12-02", To: "2024-12-31"}
		got, _ := stats.Units(ctx, db, one, partial)
		want, _ := stats.UnitsDaily(ctx, db, one, partial)
		if js(t, got) != js(t, want) {
			t.Fatalf("a partial month is not read from the daily rows: %s, daily %s", js(t, got), js(t, want))
		}
		var day string
		if err := db.Raw(`SELECT MIN(day) FROM stats_ratings_daily WHERE dim = 'unit' AND unit_path = ? AND day LIKE '2024-12-%'`, tax).Scan(&day).Error; err != nil || day == "" {
			t.Fatalf("a December day of %s: %q %v", tax, day, err)
		}
		if err := roller.RecomputeDay(ctx, day); err != nil {
			t.Fatal(err)
		}
		sameAsDaily(t, db, "after recomputing "+day)

		// Changes: more ratings across the new year, an order of January closed, a rating of
		// December excluded (an upheld appeal).
		rd0, _ := totals(dec)
		statstest.Generate(t, db, 32, 150, time.Date(2024, 12, 20, 0, 0, 0, 0, calendar.Zone()), 20*24*time.Hour)
		if _, err := roller.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		rd1, _ := totals(dec)
		if rd1.Total <= rd0.Total {
			t.Fatalf("added ratings do not show in December: %d ratings, %d before", rd1.Total, rd0.Total)
		}
		sameAsDaily(t, db, "after ratings added")
		var wo models.WorkOrder
		if err := db.Where("state <> ? AND opened_at >= ? AND opened_at < ?", models.StateClosed,
			time.Date(2025, 1, 1, 0, 0, 0, 0, calendar.Zone()), time.Date(2025, 2, 1, 0, 0, 0, 0, calendar.Zone())).Order("id").First(&wo).Error; err != nil {
			t.Fatal(err)
		}
		var seq int
		if err := db.Raw(`SELECT COALESCE(MAX(seq), 0) FROM timeline_events WHERE work_order_id = ?`, wo.ID).Scan(&seq).Error; err != nil {
			t.Fatal(err)
		}
		at := wo.OpenedAt.Add(72 * time.Hour)
		for i, typ := range []string{"review", "record_feedback"} {
			ev := models.TimelineEvent{ID: fmt.Sprintf("%s/close/%d", wo.WorkflowID, i), WorkOrderID: wo.ID, Seq: seq + 1 + i, At: at.Add(time.Duration(i) * time.Hour),
				Actor: "test", Type: typ, Data: models.NewJSON(map[string]any{"approve": true, "satisfaction": "satisfied"})}
			if err := db.Create(&ev).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := db.Table("work_orders").Where("id = ?", wo.ID).Updates(map[string]any{"state": models.StateClosed, "updated_at": time.Now().UTC()}).Error; err != nil {
			t.Fatal(err)
		}
		var e models.Evaluation
		if err := db.Where("bad AND NOT excluded AND rated_at >= ? AND rated_at < ?", time.Date(2024, 12, 1, 0, 0, 0, 0, calendar.Zone()),
			time.Date(2025, 1, 1, 0, 0, 0, 0, calendar.Zone())).Order("id").First(&e).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Model(&models.Evaluation{}).Where("id = ?", e.ID).Updates(map[string]any{"excluded": true, "excluded_at": time.Now().UTC()}).Error; err != nil {
			t.Fatal(err)
		}
		_, oj0 := totals(jan)
		if _, err := roller.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		rd2, _ := totals(dec)
		_, oj1 := totals(jan)
		if rd2.Excluded <= rd1.Excluded || rd2.Total >= rd1.Total || oj1.Closed != oj0.Closed+1 {
			t.Fatalf("the changes do not show in whole months: December excluded %d→%d, ratings %d→%d; January closed orders %d→%d",
				rd1.Excluded, rd2.Excluded, rd1.Total, rd2.Total, oj0.Closed, oj1.Closed)
		}
		sameAsDaily(t, db, "after changes")

		// Rolled again: a pass with nothing new (its safety window), and days recomputed by hand
		// at both ends of a month and of the year.
		if _, err := roller.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		for _, d := range []string{"2024-11-30", "2024-12-01", "2024-12-31", "2025-01-01", "2025-02-28"} {
			if err := roller.RecomputeDay(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		sameAsDaily(t, db, "rolled again")
	})
}

// TestDayRecomputeUpdatesItsMonth: a rating excluded after its day was rolled changes its
// month's rows at the next pass, and the whole month then answers what the raw rows answer.
func TestDayRecomputeUpdatesItsMonth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		roller, cals := rolledUp(t, db, 41, 200, time.Date(2025, 3, 1, 0, 0, 0, 0, calendar.Zone()), 60*24*time.Hour)
		monthSums := func() (excluded, bad int64) {
			t.Helper()
			var r struct{ Excluded, Bad int64 }
			if err := db.Raw(`SELECT COALESCE(SUM(excluded), 0) AS excluded, COALESCE(SUM(bad), 0) AS bad FROM stats_ratings_monthly WHERE month = '2025-03'`).Scan(&r).Error; err != nil {
				t.Fatal(err)
			}
			return r.Excluded, r.Bad
		}
		x0, b0 := monthSums()
		excludeOneOfMarch(t, db)
		if _, err := roller.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		x1, b1 := monthSums()
		if x1 != x0+1 || b1 != b0-1 {
			t.Fatalf("March's month rows after the exclusion: excluded %d→%d, bad %d→%d; want +1 and -1", x0, x1, b0, b1)
		}
		scope := store.Scope{Subtrees: []string{"/gd/"}}
		march := stats.Period{From: "2025-03-01", To: "2025-03-31"}
		got, err := stats.Units(ctx, db, scope, march)
		if err != nil {
			t.Fatal(err)
		}
		want, err := stats.FromRaw(ctx, db, cals, scope, march)
		if err != nil {
			t.Fatal(err)
		}
		if a, b := js(t, got), js(t, want); a != b {
			t.Fatalf("March from the month rows and from the raw rows differ:\nmonthly %s\nraw     %s", a, b)
		}
		monthRowsMatchDays(t, db, "after the exclusion")
	})
}

// TestConcurrentRecomputeOfOneMonth: the days of one month recomputed at once (several workers'
// passes) leave month rows that are the sums of the final daily rows.
func TestConcurrentRecomputeOfOneMonth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		statstest.Seed(t, db)
		statstest.Generate(t, db, 51, 150, time.Date(2025, 3, 1, 0, 0, 0, 0, calendar.Zone()), 8*24*time.Hour)
		roller := &stats.Roller{DB: db, Calendars: calendardb.NewCache(db, 0)}
		days := []string{"2025-03-01", "2025-03-02", "2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06", "2025-03-07", "2025-03-08"}
		errs := make(chan error, len(days))
		for _, d := range days {
			go func() { errs <- roller.RecomputeDay(ctx, d) }()
		}
		var failed []error
		for range days {
			if err := <-errs; err != nil {
				failed = append(failed, err)
			}
		}
		if len(failed) > 0 {
			t.Fatal(failed)
		}
		monthRowsMatchDays(t, db, "after concurrent recomputes")
	})
}

// TestKeptSums: every unit's statistics answered from kept sums are those summed afresh; they
// stay kept while the rollups' generation stands (a hand edit of a month row, which no roller
// makes, is not seen: the answer is the kept one), and a recomputed day (an exclusion, then a
// pass) is served at the next request. Without the generation, or without Kept, one of the
// three fails.
func TestKeptSums(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		roller, _ := rolledUp(t, db, 43, 200, time.Date(2025, 3, 1, 0, 0, 0, 0, calendar.Zone()), 60*24*time.Hour)
		scope := store.Scope{Subtrees: []string{"/gd/"}}
		march := stats.Period{From: "2025-03-01", To: "2025-03-31"}
		kept := stats.NewKept()
		answer := func(what string) string {
			t.Helper()
			got, err := stats.UnitsKept(ctx, db, scope, march, kept)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			return js(t, got)
		}
		fresh := func(what string) string {
			t.Helper()
			got, err := stats.Units(ctx, db, scope, march)
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			return js(t, got)
		}
		first := answer("first")
		if want := fresh("first"); first != want {
			t.Fatalf("kept answer differs from a fresh one:\nkept  %s\nfresh %s", first, want)
		}
		// A month row changed behind the roller's back: the generation stands, so the kept
		// sums are served (and the database alone now says otherwise).
		if err := db.Exec(`UPDATE stats_ratings_monthly SET bad = bad + 1000 WHERE month = '2025-03'`).Error; err != nil {
			t.Fatal(err)
		}
		if again := answer("after a hand edit"); again != first || kept.Summed() != 1 {
			t.Fatalf("after a hand edit of the month rows: summed %d times, answer changed %v; want the kept answer (summed once)", kept.Summed(), again != first)
		}
		if fresh("after a hand edit") == first {
			t.Fatal("the hand edit changed nothing: the test does not test")
		}
		// An exclusion of March, then the roller's pass: the next answer is the new one.
		excludeOneOfMarch(t, db)
		if _, err := roller.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		after := answer("after the exclusion")
		if after == first || after != fresh("after the exclusion") || kept.Summed() != 2 {
			t.Fatalf("after an exclusion and a pass: summed %d times, changed %v, equal to fresh %v; want summed twice, the fresh answer", kept.Summed(), after != first, after == fresh("again"))
		}
	})
}

// rolledUp seeds the organisation, generates n ratings from start over span with seed, and
// runs the roller's first pass over them.
func rolledUp(t *testing.T, db *store.DB, seed uint64, n int, start time.Time, span time.Duration) (*stats.Roller, *calendardb.Cache) {
	t.Helper()
	statstest.Seed(t, db)
	statstest.Generate(t, db, seed, n, start, span)
	cals := calendardb.NewCache(db, 0)
	roller := &stats.Roller{DB: db, Calendars: cals}
	if _, err := roller.Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
	return roller, cals
}

// excludeOneOfMarch excludes a bad rating of March 2025 whose cases are all of one unit, so
// that it moves the unit figures by exactly one (as an upheld appeal does).
func excludeOneOfMarch(t *testing.T, db *store.DB) {
	t.Helper()
	var id string
	if err := db.Raw(`SELECT e.id FROM evaluations e JOIN evaluation_cases ec ON ec.evaluation_id = e.id JOIN service_cases sc ON sc.case_no = ec.case_no
		WHERE e.bad AND NOT e.excluded AND e.rated_at >= ? AND e.rated_at < ?
		GROUP BY e.id HAVING COUNT(DISTINCT sc.unit_id) = 1 ORDER BY e.id LIMIT 1`,
		time.Date(2025, 3, 1, 0, 0, 0, 0, calendar.Zone()), time.Date(2025, 4, 1, 0, 0, 0, 0, calendar.Zone())).Scan(&id).Error; err != nil || id == "" {
		t.Fatalf("a bad rating of March: %q %v", id, err)
	}
	if err := db.Model(&models.Evaluation{}).Where("id = ?", id).Updates(map[string]any{"excluded": true, "excluded_at": time.Now().UTC()}).Error; err != nil {
		t.Fatal(err)
	}
}
