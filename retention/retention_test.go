package retention_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"redress/apperr"
	"redress/calendar"
	"redress/calendar/calendardb"
	"redress/models"
	"redress/retention"
	"redress/stats"
	"redress/stats/statstest"
	"redress/store"
	"redress/store/storetest"
)

// snapshot is every column of every evaluation except the erased ones, every work order and
// the timeline, so the test sees that erasure changes exactly the personal columns.
func snapshot(t *testing.T, db *store.DB) string {
	t.Helper()
	var evs []map[string]any
	if err := db.Table("evaluations").Omit("evaluator_name", "evaluator_phone", "evaluator_id_number", "evaluator_phone_hash", "evaluator_id_hash").
		Select("id, evaluation_id, channel, overall, levels, bad, tags, comment, rated_at, received_at, request_hash, work_order_id, excluded").
		Order("id").Find(&evs).Error; err != nil {
		t.Fatal(err)
	}
	var wos []map[string]any
	if err := db.Table("work_orders").Order("id").Find(&wos).Error; err != nil {
		t.Fatal(err)
	}
	var n int64
	db.Table("timeline_events").Count(&n)
	b, _ := json.Marshal([]any{evs, wos, n})
	return string(b)
}

func figures(t *testing.T, db *store.DB) string {
	t.Helper()
	units, err := stats.Units(context.Background(), db, store.Scope{Subtrees: []string{"/"}}, stats.Period{From: "2025-07-01", To: "2025-09-30"})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(units)
	return string(b)
}

// recompute recomputes every day of the generated span, as a later rollup might.
func recompute(t *testing.T, db *store.DB) {
	t.Helper()
	r := &stats.Roller{DB: db, Calendars: calendardb.NewCache(db, 0)}
	for d := time.Date(2025, 7, 31, 0, 0, 0, 0, calendar.Zone()); d.Before(time.Date(2025, 8, 25, 0, 0, 0, 0, calendar.Zone())); d = d.AddDate(0, 0, 1) {
		if err := r.RecomputeDay(context.Background(), d.Format(time.DateOnly)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRetention: on both databases, the retention pass erases exactly the evaluator's name,
// phone and ID number (and neutralises their hashes) of ratings whose period has ended —
// not of open orders, not within the reopen window of a closed one — while every other
// column, the orders, the timelines and the statistics (also recomputed) stay the same.
func TestRetention(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		statstest.Seed(t, db)
		statstest.Generate(t, db, 21, 120, time.Date(2025, 8, 1, 0, 0, 0, 0, calendar.Zone()), 20*24*time.Hour)
		// Personal data on every rating; the ID hash on the real-name ones.
		if err := db.Exec(`UPDATE evaluations SET evaluator_name = 'v1.k.name', evaluator_phone = 'v1.k.phone', evaluator_id_number = 'v1.k.id',
			evaluator_id_hash = CASE WHEN evaluator_phone_hash <> '' THEN 'idh-' || id ELSE '' END`).Error; err != nil {
			t.Fatal(err)
		}
		// The applicants of the cases (service_cases) carry name, phone and ID number too.
		if err := db.Exec(`UPDATE service_cases SET applicant_name = 'v1.k.aname', applicant_phone = 'v1.k.aphone',
			applicant_id_number = 'v1.k.aid', applicant_id_hash = 'aidh-' || id`).Error; err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC().Add(400 * 24 * time.Hour) // long after everything was received
		var closed []string
		db.Table("work_orders").Where("state = ?", models.StateClosed).Order("id").Pluck("id", &closed)
		if len(closed) < 3 {
			t.Fatalf("generator gave %d closed orders", len(closed))
		}
		// A split theme rating (migration 00021): the rating of closed[1] has a second order,
		// for another unit, still open. Its first order (evaluations.work_order_id) being
		// closed long ago must not let its data go while the second order runs.
		var split models.WorkOrder
		if err := db.Where("id = ?", closed[1]).Take(&split).Error; err != nil {
			t.Fatal(err)
		}
		var other models.Unit
		if err := db.Where("path <> ? AND path LIKE '/gd/%'", split.UnitPath).Order("id").Take(&other).Error; err != nil {
			t.Fatal(err)
		}
		split.ID, split.WorkflowID, split.State = closed[1]+"-b", split.WorkflowID+"-b", models.StateRectifying
		split.UnitID, split.UnitPath = &other.ID, other.Path
		if err := db.Create(&split).Error; err != nil {
			t.Fatal(err)
		}
		var open int64
		db.Table("work_orders").Where("state <> ?", models.StateClosed).Count(&open)
		if open == 0 {
			t.Fatalf("generator gave no open orders")
		}
		// One order closed 20 days ago (inside the 30-day reopen window), the rest 40 days ago.
		db.Table("work_orders").Where("state = ?", models.StateClosed).Update("updated_at", now.Add(-40*24*time.Hour))
		db.Table("work_orders").Where("id = ?", closed[0]).Update("updated_at", now.Add(-20*24*time.Hour))
		// The cases whose applicants must keep their data: those of a rating that keeps its own.
		var casesKeptWant []string
		db.Table("evaluation_cases").Where("evaluation_id IN (SELECT evaluation_id FROM work_orders WHERE state <> ? OR id = ?)", models.StateClosed, closed[0]).
			Distinct("case_no").Order("case_no").Pluck("case_no", &casesKeptWant)
		var totalCases int64
		db.Table("service_cases").Count(&totalCases)
		if _, err := (&stats.Roller{DB: db, Calendars: calendardb.NewCache(db, 0)}).Pass(ctx); err != nil {
			t.Fatal(err)
		}
		before, figBefore := snapshot(t, db), figures(t, db)
		var total, realName int64
		db.Table("evaluations").Count(&total)
		db.Table("evaluations").Where("evaluator_phone_hash <> ''").Count(&realName)

		// The default period (180 days) has not ended 100 days after receipt.
		e0 := &retention.Eraser{DB: db, Now: func() time.Time { return time.Now().Add(100 * 24 * time.Hour) }}
		if res, err := e0.Pass(ctx); err != nil || res.Erased != 0 {
			t.Fatalf("erased before the default period ended: %+v %v", res, err)
		}

		e := &retention.Eraser{DB: db, After: 7 * 24 * time.Hour, Batch: 7, Now: func() time.Time { return now }}
		res, err := e.Pass(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// Ratings with an open order (the split one's second order included) and the one in
		// its reopen window keep their data.
		var keptWant []string
		db.Table("evaluations").Where("id IN (SELECT evaluation_id FROM work_orders WHERE state <> ? OR id = ?)", models.StateClosed, closed[0]).Order("id").Pluck("id", &keptWant)
		want := total - int64(len(keptWant))
		if int64(res.Erased) != want {
			t.Fatalf("erased %d ratings, want %d", res.Erased, want)
		}
		var kept []string
		db.Table("evaluations").Where("evaluator_name <> ''").Order("id").Pluck("id", &kept)
		if fmt.Sprint(kept) != fmt.Sprint(keptWant) {
			t.Fatalf("kept %v, want %v", kept, keptWant)
		}
		if want := int64(len(casesKeptWant)); totalCases-int64(res.Applicants) != want {
			t.Fatalf("erased %d applicants of %d cases, want %d kept", res.Applicants, totalCases, want)
		}
		var casesKept []string
		db.Table("service_cases").Where("applicant_name <> ''").Order("case_no").Pluck("case_no", &casesKept)
		if fmt.Sprint(casesKept) != fmt.Sprint(casesKeptWant) {
			t.Fatalf("applicants kept %v, want %v", casesKept, casesKeptWant)
		}
		var badCases int64
		db.Table("service_cases").Where("applicant_name = '' AND (applicant_phone <> '' OR applicant_id_number <> '' OR applicant_id_hash NOT IN ('', 'erased'))").Count(&badCases)
		if badCases != 0 {
			t.Fatalf("%d erased cases still hold the applicant's phone, ID or a searchable hash", badCases)
		}
		var bad int64
		db.Table("evaluations").Where("evaluator_name = '' AND (evaluator_phone <> '' OR evaluator_id_number <> '' OR evaluator_phone_hash NOT IN ('', 'erased') OR evaluator_id_hash NOT IN ('', 'erased'))").Count(&bad)
		if bad != 0 {
			t.Fatalf("%d erased rows still hold phone, ID or a searchable hash", bad)
		}
		var stillReal int64
		db.Table("evaluations").Where("evaluator_phone_hash <> ''").Count(&stillReal)
		if stillReal != realName {
			t.Fatalf("real-name ratings %d, were %d: erasure must not turn them anonymous", stillReal, realName)
		}
		if after := snapshot(t, db); after != before {
			t.Fatal("erasure changed other columns, orders or timelines")
		}
		if got := figures(t, db); got != figBefore {
			t.Fatalf("statistics changed:\n%s\n%s", figBefore, got)
		}
		recompute(t, db)
		if got := figures(t, db); got != figBefore {
			t.Fatalf("recomputed statistics changed:\n%s\n%s", figBefore, got)
		}
		var logged int64
		db.Table("pii_access_log").Where("login = 'system' AND reason LIKE 'retention%'").Count(&logged)
		if logged != want+int64(res.Applicants) {
			t.Fatalf("%d erasures logged, want %d ratings and %d cases", logged, want, res.Applicants)
		}
		if res, err := e.Pass(ctx); err != nil || res.Erased != 0 || res.Applicants != 0 {
			t.Fatalf("second pass %+v %v", res, err)
		}

		// On request: an open order's rating is refused (409), outside the scope is unknown
		// (404); a closed order's rating in the reopen window is erased now, and logged.
		var openEval, windowEval string
		db.Table("evaluations").Where("work_order_id IN (SELECT id FROM work_orders WHERE state <> ?)", models.StateClosed).Limit(1).Pluck("id", &openEval)
		db.Table("evaluations").Where("work_order_id = ?", closed[0]).Pluck("id", &windowEval)
		var u models.Unit
		db.Raw(`SELECT u.* FROM units u JOIN service_cases sc ON sc.unit_id = u.id JOIN evaluation_cases ec ON ec.case_no = sc.case_no WHERE ec.evaluation_id = ? LIMIT 1`, windowEval).Scan(&u)
		admin := retention.Actor{Login: "sz-admin", Role: "administrator", UnitPath: "/gd/sz/"}
		sz := store.Scope{Subtrees: []string{"/gd/sz/"}}
		err = retention.EraseOnRequest(ctx, db, sz, openEval, admin, "本人申请删除", now)
		if ae, ok := apperr.As(err); !ok || ae.Code != "order_open" {
			t.Fatalf("erase of an open order's rating: %v", err)
		}
		err = retention.EraseOnRequest(ctx, db, store.Scope{Subtrees: []string{"/nowhere/"}}, windowEval, admin, "本人申请删除", now)
		if ae, ok := apperr.As(err); !ok || ae.Status != 404 {
			t.Fatalf("erase outside the scope: %v", err)
		}
		// The split rating: its first order closed long ago, its second still open.
		err = retention.EraseOnRequest(ctx, db, store.Scope{Subtrees: []string{"/"}}, split.EvaluationID, admin, "本人申请删除", now)
		if ae, ok := apperr.As(err); !ok || ae.Code != "order_open" {
			t.Fatalf("erase of a split rating with an order still open: %v", err)
		}
		if err := retention.EraseOnRequest(ctx, db, sz, windowEval, admin, "", now); err == nil {
			t.Fatal("erase without a reason")
		}
		if err := retention.EraseOnRequest(ctx, db, sz, windowEval, admin, "本人申请删除", now); err != nil {
			t.Fatalf("erase on request (unit %s): %v", u.Path, err)
		}
		var name string
		db.Table("evaluations").Where("id = ?", windowEval).Pluck("evaluator_name", &name)
		if name != "" {
			t.Fatal("on-request erase left the name")
		}
		db.Table("pii_access_log").Where("login = 'sz-admin' AND subject_id = ? AND reason LIKE 'on request%'", windowEval).Count(&logged)
		if logged != 1 {
			t.Fatal("on-request erase not logged")
		}
		if err := retention.EraseOnRequest(ctx, db, sz, "no-such", admin, "x", now); !errors.Is(err, err) || err == nil {
			t.Fatal("unknown evaluation erased")
		}
	})
}
