package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"redress/activities"
	"redress/workflows"
)

func TestMonthlyReportsMonth(t *testing.T) {
	cases := []struct {
		name  string
		start time.Time
		in    string
		want  string
	}{
		{"scheduled on the first, China time", time.Date(2025, 9, 30, 22, 0, 0, 0, time.UTC), "", "2025-09"},
		{"january makes december", time.Date(2026, 1, 1, 6, 0, 0, 0, time.FixedZone("CST", 8*3600)), "", "2025-12"},
		{"explicit month", time.Date(2026, 5, 3, 0, 0, 0, 0, time.UTC), "2026-02", "2026-02"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var s testsuite.WorkflowTestSuite
			env := s.NewTestWorkflowEnvironment()
			env.SetStartTime(c.start)
			var a *activities.Activities
			env.RegisterActivity(a)
			env.OnActivity(a.GenerateMonthlyReports, mock.Anything, c.want).Return(3, nil).Once()
			env.ExecuteWorkflow(workflows.MonthlyReports, workflows.MonthlyReportsInput{Month: c.in})
			if err := env.GetWorkflowError(); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := env.GetWorkflowResult(&n); err != nil || n != 3 {
				t.Fatalf("result %d %v", n, err)
			}
			env.AssertExpectations(t)
		})
	}
}
