package reports_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"redress/calendar"
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
		if _, err := (&stats.Roller{DB: db, Calendars: calendar.NewCache(db, 0)}).Pass(ctx); err != nil {
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
		// The zip's directory names every part: a chart is a part of its own.
		if !bytes.Contains(got.Content, []byte("xl/charts/chart1.xml")) {
			t.Fatal("the workbook has no chart")
		}
		over, _ := f.GetRows("Overdue orders")
		var n int64
		db.Table("work_orders").Where("overdue_days > 0 AND opened_at >= ? AND opened_at < ?", stats.DayStart("2025-09-01"), stats.DayStart("2025-10-01")).Count(&n)
		if int64(len(over)-1) != n {
			t.Fatalf("overdue sheet has %d orders, the month %d", len(over)-1, n)
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
