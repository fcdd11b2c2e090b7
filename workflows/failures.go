package workflows

import (
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"redress/activities/activitydefs"
)

// Failures (issue 16, finding 2). Every activity has bounded retries: a transient failure (the
// database away for a moment) is retried for a few minutes, a deterministic one (a budget the
// calendar refuses) is not retried at all (activitydefs.ErrDeadlineInvalid is non-retryable).
// Either way the step that failed is undone — the order stays exactly as it was before it —,
// the failure is recorded on the timeline as step_failed and the administration is told, and
// the order goes on taking actions: nothing holds it busy for ever.

// StepFailedChange is the version id of that handling. Taken only when a step fails: before
// it, activities retried until they succeeded, so no recorded history has a failed one.
const StepFailedChange = "step-failed"

// ErrActionFailed answers an action whose step failed after it was accepted (500
// action_failed); the order is unchanged and takes the next action.
const ErrActionFailed = "action_failed"

// retryAttempts and retryWindow bound an activity's retries: about four minutes of backoff.
const (
	retryAttempts = 12
	retryWindow   = 5 * time.Minute
)

// clockRetry is how long the clockwork (or an order's opening) waits before it tries a failed
// step again: within a minute of an administrator fixing a policy, the order goes on.
const clockRetry = time.Minute

// retryPolicy retries an activity with backoff, a bounded number of times: every activity of
// the order is a short database transaction that is safe to repeat, and a failure that
// outlasts the retries is made visible (stepFailed) instead of holding the order.
func retryPolicy() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{InitialInterval: 200 * time.Millisecond, BackoffCoefficient: 2, MaximumInterval: time.Minute,
		MaximumAttempts: retryAttempts, NonRetryableErrorTypes: []string{activitydefs.ErrDeadlineInvalid}}
}

func activityCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second,
		ScheduleToCloseTimeout: retryWindow, RetryPolicy: retryPolicy()})
}

func localActivityCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{StartToCloseTimeout: 30 * time.Second,
		ScheduleToCloseTimeout: retryWindow, RetryPolicy: retryPolicy()})
}

// refusals are the error types of the workflow's own rules (validate.go): answered as they
// are, never taken for a failure.
var refusals = map[string]bool{ErrForbidden: true, ErrWrongState: true, ErrInvalid: true, ErrNotReady: true,
	ErrReopenWindowClosed: true, ErrTooManyActions: true, ErrActionFailed: true}

// activityFailed reports whether err is an activity that failed for good (retries spent, or a
// non-retryable failure), as opposed to a refusal of the workflow's own rules. A scheduled
// activity's failure arrives as an ActivityError; a local activity's may arrive as the
// activity's own application error (deadline_invalid) or a timeout, unwrapped.
func activityFailed(err error) bool {
	var ae *temporal.ActivityError
	if errors.As(err, &ae) {
		return true
	}
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return !refusals[app.Type()]
	}
	var te *temporal.TimeoutError
	return errors.As(err, &te)
}

// failureCode names a failure for the timeline: the activity's own error type when it gave
// one (deadline_invalid, event_conflict), else temporary_failure.
func failureCode(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) && (app.Type() == activitydefs.ErrDeadlineInvalid || app.Type() == activitydefs.ErrEventConflict) {
		return app.Type()
	}
	return "temporary_failure"
}

// stepFailed handles a step (an action, the evaluator's feedback, an alarm) whose activity
// failed: the order's state goes back to what it was before the step, step_failed is
// recorded with a notice to the administration (once for the same clockwork failure), and the
// error to answer is returned. Orders recorded before StepFailedChange get the error as it was.
func (w *workOrder) stepFailed(ctx workflow.Context, before saved, step string, cause error, user bool) error {
	if !activityFailed(cause) || w.version(ctx, StepFailedChange, 1) != 1 {
		return cause
	}
	if err := w.rollback(before); err != nil {
		return err
	}
	w.retrying = true
	code := failureCode(cause)
	workflow.GetLogger(ctx).Error("work order step failed", "order", w.input.WorkOrderID, "step", step, "code", code, "err", cause)
	if user || w.Failed != step+"|"+code {
		w.Failed = step + "|" + code
		data := map[string]any{"step": step, "code": code}
		msgs := w.toAdmins("step_failed", w.params("step", stepLabel(step)))
		if err := w.record(ctx, "system", "step_failed", data, activitydefs.Row{}, msgs...); err != nil {
			// The database itself is away: the failure stays in the worker's log.
			workflow.GetLogger(ctx).Error("work order step failed: not recorded", "order", w.input.WorkOrderID, "err", err)
		}
	}
	if user {
		return temporal.NewNonRetryableApplicationError("the action could not be completed; the work order is unchanged", ErrActionFailed, nil, code)
	}
	return nil
}

// stepLabel names a step in a message (zh-CN).
func stepLabel(step string) string {
	switch step {
	case "clock":
		return "时限计算"
	case "evaluator_feedback":
		return "评价人反馈"
	}
	if a, ok := specs[step]; ok {
		return a.Label
	}
	return step
}
