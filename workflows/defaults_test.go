package workflows_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"redress/activities"
	"redress/calendar/calendardb"
	"redress/intake"
	"redress/models"
	"redress/orgfile"
	"redress/pii"
	"redress/store"
	"redress/store/storetest"
	"redress/workflows"
)

// TestDefaultRatingsRetries: the workflow passes its batch to the activity, retries a failed
// attempt and answers the activity's report.
func TestDefaultRatingsRetries(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var a *activities.Activities
	env.RegisterActivity(a)
	env.OnActivity(a.ApplyDefaultRatings, mock.Anything, 50).Return(intake.DefaultRun{}, errors.New("database away")).Once()
	env.OnActivity(a.ApplyDefaultRatings, mock.Anything, 50).Return(intake.DefaultRun{Applied: 7}, nil).Once()
	env.ExecuteWorkflow(workflows.DefaultRatings, workflows.DefaultRatingsInput{Batch: 50})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var run intake.DefaultRun
	if err := env.GetWorkflowResult(&run); err != nil || run.Applied != 7 {
		t.Fatalf("result %+v %v", run, err)
	}
	env.AssertExpectations(t)
}

// TestDefaultRatingsAgainstDB: the workflow on the testsuite with the real activity on both
// databases: cases whose 7-day window and late-upload grace have passed get the policy's
// default once; a second run
// (the next schedule tick) adds nothing.
func TestDefaultRatingsAgainstDB(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := orgfile.Apply(ctx, db, orgfile.Demo()); err != nil {
			t.Fatal(err)
		}
		if _, err := calendardb.EnsureShipped(ctx, db); err != nil {
			t.Fatal(err)
		}
		spec, hk := pii.NewKeySpec("k1")
		box, _ := pii.ParseKeys(spec, hk)
		svc := &intake.Service{DB: db, PII: box}
		// 13 and 12 days: the 7-day window and the 3-day late-upload grace have passed; 6: open.
		for i, age := range []int{13, 12, 6} {
			done := time.Now().Add(-time.Duration(age) * 24 * time.Hour)
			if _, _, err := svc.RegisterCase(ctx, store.Scope{Subtrees: []string{"/"}}, intake.CaseRequest{CaseNo: "WF-" + string(rune('A'+i)),
				ServiceItem: intake.ServiceItem{Code: "x", Name: "x"}, Unit: "sz-ns-tax", Channel: "pc", CompletedAt: &done}); err != nil {
				t.Fatal(err)
			}
		}
		a := &activities.Activities{DB: db, Calendars: calendardb.NewCache(db, 0)}
		for i, want := range []int{2, 0} {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			env.RegisterActivity(a)
			env.ExecuteWorkflow(workflows.DefaultRatings, workflows.DefaultRatingsInput{})
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			var run intake.DefaultRun
			if err := env.GetWorkflowResult(&run); err != nil || run.Applied != want {
				t.Fatalf("run %d: %+v %v, want %d applied", i, run, err, want)
			}
		}
		var n int64
		db.Table("evaluations").Where("channel = ? AND overall = ?", models.ChannelDefault, intake.DefaultLevel).Count(&n)
		if n != 2 {
			t.Errorf("%d default ratings", n)
		}
	})
}
