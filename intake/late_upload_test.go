package intake_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"redress/apperr"
	"redress/calendar"
	"redress/calendar/calendardb"
	"redress/intake"
	"redress/models"
	"redress/orgfile"
	"redress/pii"
	"redress/store"
	"redress/store/storetest"
)

// cst reads a China time "2026-03-05 10:00".
func cst(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation("2006-01-02 15:04", s, calendar.Zone())
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// lateFixture: cases of sz-ft-tax (default policy: window 7 natural days, grace 3) and of
// sz-ns-tax (policy grace 0), completed 2026-03-02 10:00, so the windows close at 24:00 of
// 03-09 and sz-ft-tax's grace ends at 24:00 of 03-12.
func lateFixture(t *testing.T, db *store.DB, now *time.Time) *intake.Service {
	t.Helper()
	ctx := context.Background()
	seedDemo(t, db)
	var ns models.Unit
	if err := db.Where("code = ?", "sz-ns-tax").First(&ns).Error; err != nil {
		t.Fatal(err)
	}
	zero := 0
	if err := db.Create(&models.Policy{UnitID: ns.ID, Doc: models.NewJSON(models.PolicyDoc{LateUploadGrace: &models.Budget{NaturalDays: &zero}}),
		CreatedAt: time.Now(), UpdatedAt: time.Now()}).Error; err != nil {
		t.Fatal(err)
	}
	spec, hk := pii.NewKeySpec("k1")
	box, err := pii.ParseKeys(spec, hk)
	if err != nil {
		t.Fatal(err)
	}
	svc := &intake.Service{DB: db, PII: box, Now: func() time.Time { return *now }}
	done := cst(t, "2026-03-02 10:00")
	*now = done.Add(time.Hour)
	for _, c := range []struct{ no, unit string }{
		{"L-SINGLE", "sz-ft-tax"}, {"L-BULK", "sz-ft-tax"}, {"L-AFTER", "sz-ft-tax"}, {"L-AFTER-BULK", "sz-ft-tax"},
		{"L-UNRATED", "sz-ft-tax"}, {"L-RATED-LATE", "sz-ft-tax"}, {"L-NOGRACE", "sz-ns-tax"},
	} {
		if _, _, err := svc.RegisterCase(ctx, store.Scope{Subtrees: []string{"/"}}, intake.CaseRequest{CaseNo: c.no,
			ServiceItem: intake.ServiceItem{Code: "x", Name: "x"}, Unit: c.unit, Channel: "pc", CompletedAt: &done}); err != nil {
			t.Fatal(err)
		}
	}
	return svc
}

func rating(id, caseNo string, ratedAt time.Time) intake.EvaluationRequest {
	return intake.EvaluationRequest{EvaluationID: id, CaseNos: []string{caseNo}, Channel: "terminal",
		Levels: map[string]string{"overall": models.Satisfied}, RatedAt: &ratedAt}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	e, ok := apperr.As(err)
	if !ok || e.Code != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

// TestLateUpload (issue 15, finding 8): a rating given inside the window and uploaded after
// it closed is accepted, single or bulk, within the policy's late_upload_grace (default 3
// natural days), with rated_at and received_at both stored; after the grace, or with a grace
// of 0, it is refused rating_window_closed, as is a rating given after the window. The
// default-rating job waits for the grace.
func TestLateUpload(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var now time.Time
		svc := lateFixture(t, db, &now)
		scope := store.Scope{Subtrees: []string{"/"}}
		ratedAt := cst(t, "2026-03-05 09:30") // inside the window

		// Two and a half days after the window closed: within the grace.
		now = cst(t, "2026-03-12 12:00")
		if _, created, err := svc.SubmitEvaluation(ctx, scope, rating("late-1", "L-SINGLE", ratedAt)); err != nil || !created {
			t.Fatalf("late upload within the grace: created %v, %v", created, err)
		}
		res, err := svc.SubmitEvaluations(ctx, scope, intake.BulkEvaluationsRequest{Evaluations: []intake.EvaluationRequest{rating("late-2", "L-BULK", ratedAt)}})
		if err != nil || len(res) != 1 || res[0].Status != http.StatusCreated {
			t.Fatalf("bulk late upload within the grace: %+v %v", res, err)
		}
		var stored []models.Evaluation
		db.Where("evaluation_id IN ?", []string{"late-1", "late-2"}).Find(&stored)
		if len(stored) != 2 {
			t.Fatalf("stored %d late uploads", len(stored))
		}
		for _, e := range stored {
			if !e.RatedAt.Equal(ratedAt) || !e.ReceivedAt.Equal(now) {
				t.Errorf("%s: rated_at %s received_at %s, want %s and %s", e.EvaluationID, e.RatedAt, e.ReceivedAt, ratedAt, now)
			}
		}
		// Given after the window: refused whenever it arrives.
		_, _, err = svc.SubmitEvaluation(ctx, scope, rating("late-after-window", "L-RATED-LATE", cst(t, "2026-03-10 08:00")))
		wantCode(t, err, "rating_window_closed")
		// A policy without grace refuses the late upload.
		_, _, err = svc.SubmitEvaluation(ctx, scope, rating("late-nograce", "L-NOGRACE", ratedAt))
		wantCode(t, err, "rating_window_closed")

		// Inside the grace the default-rating job leaves the unrated case alone (a late upload
		// may still come); the no-grace unit's case gets its default.
		run, err := svc.ApplyDefaultRatings(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n := countDefaults(t, db, "L-UNRATED"); n != 0 {
			t.Errorf("default given inside the grace (%+v)", run)
		}
		if n := countDefaults(t, db, "L-NOGRACE"); n != 1 {
			t.Errorf("no-grace case has %d defaults, want 1 (%+v)", n, run)
		}

		// Ten minutes after the grace ended (24:00 of 03-12 plus 5 minutes of skew): refused.
		now = cst(t, "2026-03-13 00:10")
		_, _, err = svc.SubmitEvaluation(ctx, scope, rating("late-3", "L-AFTER", ratedAt))
		wantCode(t, err, "rating_window_closed")
		res, err = svc.SubmitEvaluations(ctx, scope, intake.BulkEvaluationsRequest{Evaluations: []intake.EvaluationRequest{rating("late-4", "L-AFTER-BULK", ratedAt)}})
		if err != nil || len(res) != 1 || res[0].Status != http.StatusUnprocessableEntity || res[0].Error == nil || res[0].Error.Code != "rating_window_closed" {
			t.Fatalf("bulk late upload after the grace: %+v %v", res, err)
		}
		if _, err := svc.ApplyDefaultRatings(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if n := countDefaults(t, db, "L-UNRATED"); n != 1 {
			t.Errorf("after the grace the unrated case has %d defaults, want 1", n)
		}
		if n := countDefaults(t, db, "L-SINGLE"); n != 0 {
			t.Errorf("a case rated late got a default too")
		}
	})
}

func countDefaults(t *testing.T, db *store.DB, caseNo string) int64 {
	t.Helper()
	var n int64
	if err := db.Table("evaluation_cases").Joins("JOIN evaluations ON evaluations.id = evaluation_cases.evaluation_id").
		Where("evaluation_cases.case_no = ? AND evaluations.channel = ?", caseNo, models.ChannelDefault).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// seedDemo applies the demo organisation and the shipped working-day calendar.
func seedDemo(t testing.TB, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	if _, err := orgfile.Apply(ctx, db, orgfile.Demo()); err != nil {
		t.Fatal(err)
	}
	if _, err := calendardb.EnsureShipped(ctx, db); err != nil {
		t.Fatal(err)
	}
}
