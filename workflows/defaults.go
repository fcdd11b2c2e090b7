package workflows

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"redress/activities/activitydefs"
	"redress/models"
)

// Default ratings (系统默认评价): a Temporal Schedule starts DefaultRatings every
// DefaultRatingsEvery; the workflow runs one activity that gives every case whose rating
// window closed unrated the policy's default rating. The activity works from the database's
// state, so missed runs (the worker or Temporal down) cost nothing: the next run catches up.
// Overlapping runs are skipped by the schedule, and would be harmless anyway (idempotent).
const (
	DefaultRatingsName     = "DefaultRatings"
	DefaultRatingsSchedule = "redress-default-ratings"
	DefaultRatingsEvery    = 15 * time.Minute
)

// DefaultRatingsInput tunes a run; zero values take the defaults.
type DefaultRatingsInput struct {
	Batch int `json:"batch,omitempty"`
}

// DefaultRatings applies the due default ratings and answers what it did.
func DefaultRatings(ctx workflow.Context, in DefaultRatingsInput) (models.DefaultRun, error) {
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 10 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute, MaximumAttempts: 10},
	})
	var run models.DefaultRun
	if err := activitydefs.ApplyDefaultRatings.Run(actx, workflow.ExecuteActivity, in.Batch).Get(ctx, &run); err != nil {
		return run, fmt.Errorf("default ratings: %w", err)
	}
	return run, nil
}

// EnsureDefaultRatingsSchedule creates the schedule once; one that exists is left as it is
// (every worker calls this on start). CatchupWindow lets Temporal run a missed action after
// its own downtime; the job's state-based query catches up the rest.
func EnsureDefaultRatingsSchedule(ctx context.Context, c client.Client, taskQueue string) error {
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:            DefaultRatingsSchedule,
		Spec:          client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: DefaultRatingsEvery}}},
		Overlap:       enums.SCHEDULE_OVERLAP_POLICY_SKIP,
		CatchupWindow: 24 * time.Hour,
		Action: &client.ScheduleWorkflowAction{
			ID:        DefaultRatingsSchedule,
			Workflow:  DefaultRatingsName,
			Args:      []any{DefaultRatingsInput{}},
			TaskQueue: taskQueue,
		},
	})
	var exists *serviceerror.AlreadyExists
	if err == nil || errors.Is(err, temporal.ErrScheduleAlreadyRunning) || errors.As(err, &exists) {
		return nil
	}
	return fmt.Errorf("default ratings schedule: %w", err)
}
