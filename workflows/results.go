package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"redress/activities/activitydefs"
)

// Monthly reports (定期报告): a Temporal Schedule starts MonthlyReports at 06:00 China time on
// the first day of every month; the workflow makes the report of the month before for every
// administration. Report creation is idempotent per jurisdiction and month, so an overlapping
// or repeated run (a retry, a manual trigger) makes nothing twice.
const (
	MonthlyReportsName     = "MonthlyReports"
	MonthlyReportsSchedule = "redress-monthly-reports"
)

// MonthlyReportsInput names the month (YYYY-MM); empty means the month before the run.
type MonthlyReportsInput struct {
	Month string `json:"month,omitempty"`
}

// MonthlyReports makes the scheduled reports of a month and answers how many jurisdictions
// have one.
func MonthlyReports(ctx workflow.Context, in MonthlyReportsInput) (int, error) {
	month := in.Month
	if month == "" {
		now := workflow.Now(ctx).In(time.FixedZone("CST", 8*3600))
		first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, now.Location())
		month = first.AddDate(0, -1, 0).Format("2006-01")
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 10 * time.Second, BackoffCoefficient: 2, MaximumInterval: 10 * time.Minute},
	})
	var n int
	if err := activitydefs.GenerateMonthlyReports.Run(actx, workflow.ExecuteActivity, month).Get(ctx, &n); err != nil {
		return 0, fmt.Errorf("monthly reports %s: %w", month, err)
	}
	return n, nil
}

// EnsureMonthlyReportsSchedule creates the schedule once; one that exists is left as it is
// (every worker calls this on start).
func EnsureMonthlyReportsSchedule(ctx context.Context, c client.Client, taskQueue string) error {
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: MonthlyReportsSchedule,
		Spec: client.ScheduleSpec{
			CronExpressions: []string{"0 6 1 * *"},
			TimeZoneName:    "Asia/Shanghai",
		},
		Action: &client.ScheduleWorkflowAction{
			ID:        MonthlyReportsSchedule,
			Workflow:  MonthlyReportsName,
			Args:      []any{MonthlyReportsInput{}},
			TaskQueue: taskQueue,
		},
	})
	var exists *serviceerror.AlreadyExists
	if err == nil || errors.Is(err, temporal.ErrScheduleAlreadyRunning) || errors.As(err, &exists) {
		return nil
	}
	return fmt.Errorf("monthly reports schedule: %w", err)
}
