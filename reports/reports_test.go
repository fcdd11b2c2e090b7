package reports_test

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"redress/calendar"
	"redress/calendar/calendardb"
	"redress/clock"
	"redress/models"
	"redress/reports"
	"redress/stats"
	"redress/stats/statstest"
	"redress/store"
	"redress/store/storetest"
)

func TestMonthlyReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		statstest.Seed(t, db)
		statstest.Generate(t, db, 5, 150, time.Date(2025, 9, 1, 0, 0, 0, 0, calendar.Zone()), 29*24*time.Hour)
		if _, err := (&stats.Roller{DB: db, Calendars: calendardb.NewCache(db, 0)}).Pass(ctx); err != nil {
			t.Fatal(err)
		}
		var sz models.Unit
		if err := db.Where("code = ?", "sz").Take(&sz).Error; err != nil {
			t.Fatal(err)
		}
		r, err := reports.Create(ctx, db, sz, "2025-09", reports.TriggerOnDemand, "sz-admin")
		if err != nil {
			t.Fatal(err)
		}
		got, err := reports.Get(ctx, db, store.Scope{Subtrees: []string{"/gd/sz/"}}, r.ID)
		if err != nil || got.Size != len(got.Content) || got.Size == 0 {
			t.Fatalf("get: %v size %d", err, got.Size)
		}
		if _, err := reports.Get(ctx, db, store.Scope{Exact: []string{"/gd/sz/sz-ns/sz-ns-tax/"}}, r.ID); err == nil {
			t.Fatal("a report outside the caller's scope was served")
		}
		f, err := excelize.OpenReader(bytes.NewReader(got.Content))
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"Summary", "Ranking", "Worst items", "Overdue orders", "Supervision"}
		if sheets := f.GetSheetList(); len(sheets) != len(want) {
			t.Fatalf("sheets %v", sheets)
		}
		rows, err := f.GetRows("Ranking")
		if err != nil || len(rows) < 3 {
			t.Fatalf("ranking rows: %v %d", err, len(rows))
		}
		checkFigures(t, db, f)
		// The zip's directory names every part: a chart is a part of its own.
		if !bytes.Contains(got.Content, []byte("xl/charts/chart1.xml")) {
			t.Fatal("the workbook has no chart")
		}
		over, _ := f.GetRows("Overdue orders")
		var overdue []struct {
			ID          string
			OverdueDays int
		}
		db.Table("work_orders").Select("id, overdue_days").
			Where("overdue_days > 0 AND opened_at >= ? AND opened_at < ?", stats.DayStart("2025-09-01"), stats.DayStart("2025-10-01")).
			Order("overdue_days DESC, id").Scan(&overdue)
		if len(over)-1 != len(overdue) || len(overdue) == 0 {
			t.Fatalf("overdue sheet has %d orders, the month %d", len(over)-1, len(overdue))
		}
		for i, w := range overdue {
			if row := over[i+1]; row[0] != w.ID || row[4] != strconv.Itoa(w.OverdueDays) {
				t.Errorf("overdue sheet row %d: %v, want order %s with %d overdue days", i+1, row, w.ID, w.OverdueDays)
			}
		}

		// The schedule is idempotent: a second run makes nothing new.
		for i := 0; i < 2; i++ {
			if _, err := reports.Scheduled(ctx, db, "2025-09"); err != nil {
				t.Fatal(err)
			}
		}
		var count int64
		db.Model(&reports.Report{}).Where("trigger = ?", reports.TriggerSchedule).Count(&count)
		var admins int64
		db.Model(&models.Unit{}).Where("kind = ?", "administration").Count(&admins)
		if count != admins {
			t.Fatalf("%d scheduled reports for %d administrations", count, admins)
		}
	})
}

// checkFigures holds the workbook's figures against the raw rows: the month's work orders and
// bad reviews under Shenzhen counted straight from the tables, each ranked unit's orders
// counted under its own path, and the ranking ordered by score. A report that only had the
// right sheets and row counts would pass nothing here.
func checkFigures(t *testing.T, db *store.DB, f *excelize.File) {
	t.Helper()
	from, to := stats.DayStart("2025-09-01"), stats.DayStart("2025-10-01")
	summary := map[string]string{}
	rows, err := f.GetRows("Summary")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if len(r) >= 2 {
			summary[r[0]] = r[1]
		}
	}
	num := func(what, s string) float64 {
		t.Helper()
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			t.Fatalf("%s: %q is not a number", what, s)
		}
		return v
	}
	var orders int64
	if err := db.Table("work_orders").Where("unit_path LIKE ? AND opened_at >= ? AND opened_at < ?", "/gd/sz/%", from, to).Count(&orders).Error; err != nil {
		t.Fatal(err)
	}
	if got := num("Work orders", summary["Work orders"]); orders == 0 || got != float64(orders) {
		t.Errorf("Summary says %v work orders; the month has %d under /gd/sz/", got, orders)
	}

	rank, err := f.GetRows("Ranking")
	if err != nil {
		t.Fatal(err)
	}
	var sumOrders, sumRatings, sumBad float64
	prev := 1e9
	for i, r := range rank[1:] {
		if len(r) < 10 {
			t.Fatalf("ranking row %d is short: %v", i+1, r)
		}
		if r[0] != strconv.Itoa(i+1) {
			t.Errorf("ranking row %d has rank %s", i+1, r[0])
		}
		score := -1.0
		if r[7] != "" {
			score = num("Score", r[7])
		}
		if score > prev {
			t.Errorf("ranking row %d (%s) scores %v, above the row before (%v)", i+1, r[2], score, prev)
		}
		prev = score
		var path string
		if err := db.Table("units").Select("path").Where("code = ?", r[2]).Scan(&path).Error; err != nil || path == "" {
			t.Fatalf("ranked unit %q: %v", r[2], err)
		}
		var n int64
		db.Table("work_orders").Where("unit_path LIKE ? AND opened_at >= ? AND opened_at < ?", path+"%", from, to).Count(&n)
		if got := num("Orders", r[9]); got != float64(n) {
			t.Errorf("ranking row %s says %v orders; the month has %d under %s", r[2], got, n, path)
		}
		sumOrders += num("Orders", r[9])
		sumRatings += num("Ratings", r[3])
		sumBad += num("Bad", r[8])
	}
	for _, c := range []struct {
		key string
		sum float64
	}{{"Work orders", sumOrders}, {"Ratings (adopted)", sumRatings}, {"Bad reviews", sumBad}} {
		if got := num(c.key, summary[c.key]); got != c.sum {
			t.Errorf("Summary %s is %v; the ranked units add up to %v", c.key, got, c.sum)
		}
	}
	if num("Bad reviews", summary["Bad reviews"]) == 0 {
		t.Error("the month's report counts no bad review")
	}
}

// TestReportOverdueDaysLive (issue 15, finding 3): an order whose sign clock ran ten natural
// days past its due instant, with nobody acting since (stored overdue_days still 0), is listed
// on the report's overdue sheet with its live overdue days, as the order page shows them.
func TestReportOverdueDaysLive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		statstest.Seed(t, db)
		now := time.Now()
		statstest.Generate(t, db, 7, 20, now.AddDate(0, 0, -12), time.Hour)
		var wo models.WorkOrder
		if err := db.Where("unit_path LIKE ?", "/gd/sz/%").Order("id").Take(&wo).Error; err != nil {
			t.Fatal(err)
		}
		due := now.AddDate(0, 0, -10)
		ds := []models.Deadline{{Name: "sign", Budget: "1d", Unit: "natural_days", Start: due.AddDate(0, 0, -1), DueAt: due,
			DueDate: due.In(calendar.Zone()).Format(time.DateOnly)}}
		if err := db.Model(&models.WorkOrder{}).Where("id = ?", wo.ID).
			Updates(map[string]any{"deadlines": models.NewJSON(ds), "overdue_days": 0, "next_due_at": due.UTC(), "state": models.StateDispatched}).Error; err != nil {
			t.Fatal(err)
		}
		var sz models.Unit
		if err := db.Where("code = ?", "sz").Take(&sz).Error; err != nil {
			t.Fatal(err)
		}
		content, err := reports.Build(ctx, db, sz, now.In(calendar.Zone()).AddDate(0, 0, -12).Format("2006-01"))
		if err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(bytes.NewReader(content))
		if err != nil {
			t.Fatal(err)
		}
		rows, err := f.GetRows("Overdue orders")
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows[1:] {
			if r[0] == wo.ID {
				// The order page's count (clock.NaturalDays, Asia/Shanghai days), not the stored 0.
				if want := strconv.Itoa(clock.NaturalDays(due, time.Now())); r[4] != want {
					t.Errorf("order %s listed with %s overdue days, want %s (live)", wo.ID, r[4], want)
				}
				return
			}
		}
		t.Errorf("order %s, 10 days past its sign deadline, is not on the overdue sheet: %v", wo.ID, rows)
	})
}
