package activities_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"redress/activities"
	"redress/calendar/calendardb"
	"redress/intake"
	"redress/models"
	"redress/orgfile"
	"redress/pii"
	"redress/store"
	"redress/store/storetest"
)

// defaultsFixture registers cases completed at the given ages (days) in sz-ft-tax, one of them
// rated and one whose intake failed, on a demo organisation with the shipped calendar.
func defaultsFixture(t *testing.T, db *store.DB, ages []int) *intake.Service {
	t.Helper()
	ctx := context.Background()
	if _, err := orgfile.Apply(ctx, db, orgfile.Demo()); err != nil {
		t.Fatal(err)
	}
	if _, err := calendardb.EnsureShipped(ctx, db); err != nil {
		t.Fatal(err)
	}
	spec, hk := pii.NewKeySpec("k1")
	box, err := pii.ParseKeys(spec, hk)
	if err != nil {
		t.Fatal(err)
	}
	svc := &intake.Service{DB: db, PII: box}
	scope := store.Scope{Subtrees: []string{"/"}}
	reg := func(caseNo string, age int, failed bool) {
		done := time.Now().Add(-time.Duration(age)*24*time.Hour - time.Hour)
		_, _, err := svc.RegisterCase(ctx, scope, intake.CaseRequest{CaseNo: caseNo, ServiceItem: intake.ServiceItem{Code: "x", Name: "x"},
			Unit: "sz-ft-tax", Channel: "pc", CompletedAt: &done, IntakeFailed: failed})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, age := range ages {
		reg("D-"+string(rune('A'+i)), age, false)
	}
	reg("D-FAILED", 30, true)
	reg("D-RATED", 1, false)
	rated := time.Now().Add(-time.Minute)
	if _, _, err := svc.SubmitEvaluation(ctx, scope, intake.EvaluationRequest{EvaluationID: "r1", CaseNos: []string{"D-RATED"}, Channel: "pc",
		Levels: map[string]string{"overall": models.Satisfied}, RatedAt: &rated}); err != nil {
		t.Fatal(err)
	}
	return svc
}

// TestApplyDefaultRatingsCatchesUp: windows that closed days apart (as after a long downtime)
// are all caught up by one run; overlapping runs store each default once; a case still in
// its window, one rated and one whose intake failed get none.
func TestApplyDefaultRatingsCatchesUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		// 13 and 12 days: the 7-day window and the 3-day late-upload grace have both passed.
		defaultsFixture(t, db, []int{30, 20, 13, 12, 3})
		a := &activities.Activities{DB: db, Calendars: calendardb.NewCache(db, 0)}
		ctx := context.Background()
		var wg sync.WaitGroup
		runs := make([]intake.DefaultRun, 3)
		for i := range runs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r, err := a.ApplyDefaultRatings(ctx, 2) // small batches: the loop must continue
				if err != nil {
					t.Error(err)
				}
				runs[i] = r
			}()
		}
		wg.Wait()
		total := 0
		for _, r := range runs {
			total += r.Applied
		}
		if total != 4 {
			t.Errorf("overlapping runs applied %d defaults in all, want 4 (%+v)", total, runs)
		}
		var got []string
		db.Table("evaluation_cases").Joins("JOIN evaluations ON evaluations.id = evaluation_cases.evaluation_id").
			Where("evaluations.channel = ? AND evaluations.kind = ?", models.ChannelDefault, intake.KindDefault).
			Order("evaluation_cases.case_no").Pluck("evaluation_cases.case_no", &got)
		if len(got) != 4 || got[0] != "D-A" || got[3] != "D-D" {
			t.Errorf("defaults for %v, want D-A…D-D", got)
		}
		r, err := a.ApplyDefaultRatings(ctx, 0)
		if err != nil || r.Applied != 0 {
			t.Errorf("a later run %+v %v", r, err)
		}
		var n int64
		db.Table("work_orders").Count(&n)
		if n != 0 {
			t.Errorf("default ratings opened %d work orders", n)
		}
	})
}
