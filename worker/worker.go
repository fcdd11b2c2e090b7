// Package worker runs the Temporal worker of redress: it registers the workflows and the
// activities with their dependencies on the task queue, and runs beside them the reconciler
// (work orders whose workflow never started) and the calendar watcher (open work orders
// recompute their deadlines when the working-day calendar changes).
package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"redress/activities"
	"redress/activities/activitydefs"
	"redress/calendar/calendardb"
	"redress/engine"
	"redress/jobs"
	"redress/notify"
	"redress/store"
	"redress/workflows"
)

// Deps are what the worker needs.
type Deps struct {
	Client         client.Client
	TaskQueue      string
	DB             *store.DB
	ReconcileEvery time.Duration
	// WorkflowCache bounds the workflows kept in memory between their events (0: the SDK's
	// default of 10 000). Orders live for weeks: each cached one holds its state and
	// goroutines, so the cache, not the load, decides how far they grow.
	WorkflowCache int
	// Notify sends the notifications outbox; nil runs no dispatcher in this process.
	Notify *notify.Dispatcher
	// Results runs the statistics rollup, the upstream feed and delivery (issue 8); nil runs
	// none in this process.
	Results *jobs.Results
}

// Register puts the workflows and activities on w (also used by tests' workers).
func Register(w sdkworker.Registry, a *activities.Activities) {
	w.RegisterWorkflowWithOptions(workflows.WorkOrder, workflow.RegisterOptions{Name: workflows.WorkOrderName})
	w.RegisterWorkflowWithOptions(workflows.MonthlyReports, workflow.RegisterOptions{Name: workflows.MonthlyReportsName})
	w.RegisterWorkflowWithOptions(workflows.DefaultRatings, workflow.RegisterOptions{Name: workflows.DefaultRatingsName}) // issue 4
	w.RegisterWorkflowWithOptions(workflows.CalendarFanOut, workflow.RegisterOptions{Name: workflows.CalendarFanOutName}) // issue 16
	for _, r := range Activities(a) {
		w.RegisterActivityWithOptions(r.Fn, activity.RegisterOptions{Name: r.Def.Name()})
	}
}

// Registration is one activity as the worker registers it: its definition (the name the
// workflows schedule) and the method of activities.Activities that does the work.
type Registration struct {
	Def activitydefs.Def
	Fn  any
}

// Activities pairs every activity definition with its method. The names are the methods'
// own, as the worker registered them (by method name) before the definitions existed; the
// test of the worker checks that every definition is here, with the method's exact types.
func Activities(a *activities.Activities) []Registration {
	return []Registration{
		{activitydefs.MarkStarted, a.MarkStarted},
		{activitydefs.ResolveDispatch, a.ResolveDispatch},
		{activitydefs.ResolveUnit, a.ResolveUnit},
		{activitydefs.LoadPolicy, a.LoadPolicy},
		{activitydefs.ComputeDeadline, a.ComputeDeadline},
		{activitydefs.OverdueDays, a.OverdueDays},
		{activitydefs.RecordEvent, a.RecordEvent},
		{activitydefs.ExcludeRating, a.ExcludeRating},
		{activitydefs.ExcludeIndicators, a.ExcludeIndicators},
		{activitydefs.OpenOrders, a.OpenOrders},
		{activitydefs.GenerateMonthlyReports, a.GenerateMonthlyReports},
		{activitydefs.ApplyDefaultRatings, a.ApplyDefaultRatings},
	}
}

// SetWorkflowCache sizes the SDK's workflow cache (n <= 0 leaves the default). The cache is
// one per process and sized when the process's first worker starts: a process that embeds
// the Temporal server (redress dev) must call this before the server starts its own workers.
func SetWorkflowCache(n int) {
	if n > 0 {
		sdkworker.SetStickyWorkflowCacheSize(n)
	}
}

// NewActivities builds the activities over a database.
func NewActivities(db *store.DB) *activities.Activities {
	// Check the calendar's stamp on every computation: deadlines are computed rarely, and a
	// recompute after a calendar change must see the change.
	return &activities.Activities{DB: db, Calendars: calendardb.NewCache(db, 0)}
}

// Run starts the worker, the reconciler, the calendar watcher and the notifications dispatcher
// and blocks until ctx ends.
func Run(ctx context.Context, d Deps) error {
	SetWorkflowCache(d.WorkflowCache)
	// Eight workflow task pollers, not the SDK's two: the SDK splits them between the task
	// queue and this worker's sticky queue, and an officer's action is a workflow task on the
	// sticky queue, so with one poller there actions queued behind each other (BENCHMARKS.md
	// point 3: 34 → 46–50 whole orders a second).
	w := sdkworker.New(d.Client, d.TaskQueue, sdkworker.Options{MaxConcurrentWorkflowTaskPollers: 8})
	acts := NewActivities(d.DB)
	Register(w, acts)
	if err := w.Start(); err != nil {
		return fmt.Errorf("worker: start: %w", err)
	}
	defer w.Stop()
	st := &engine.Starter{Client: d.Client, TaskQueue: d.TaskQueue, DB: d.DB}
	every := d.ReconcileEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	go WatchCalendar(ctx, st, d.TaskQueue, every)
	if d.Notify != nil {
		go d.Notify.Run(ctx)
	}
	if d.Results != nil {
		// Results (issue 8): background jobs and the monthly reports schedule.
		d.Results.Run(ctx, acts.DB, acts.Calendars)
		if err := workflows.EnsureMonthlyReportsSchedule(ctx, d.Client, d.TaskQueue); err != nil {
			slog.Warn("monthly reports schedule", "err", err)
		}
	}
	// Issue 4: default ratings of cases whose rating window closed unrated.
	if err := workflows.EnsureDefaultRatingsSchedule(ctx, d.Client, d.TaskQueue); err != nil {
		slog.Warn("default ratings schedule", "err", err)
	}
	st.RunReconciler(ctx, every)
	return nil
}

// WatchCalendar has the open work orders that a calendar change concerns recompute their
// deadlines when the calendar data changes, from this process or another: a national year
// imported concerns every open order; an override added or removed concerns the orders of the
// units within its scope only (issue 16: a district's holiday does not wake a million orders of
// other provinces). It starts the one fan-out of the change (workflows.CalendarFanOut, keyed by
// the stamps before and after), which every other worker noticing the same change finds
// already started.
func WatchCalendar(ctx context.Context, st *engine.Starter, queue string, every time.Duration) {
	last, err := calendardb.LoadRevisions(ctx, st.DB)
	if err != nil {
		// Unknown: the first revisions read count as a national change (every open order).
		slog.Warn("calendar watcher", "err", err)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		cur, err := calendardb.LoadRevisions(ctx, st.DB)
		if err != nil {
			slog.Warn("calendar watcher", "err", err)
			continue
		}
		from, to := last.Stamp(), cur.Stamp()
		if last.National == "" {
			from = ""
		}
		all, scopes := cur.ChangedSince(last)
		if !all && len(scopes) == 0 {
			continue
		}
		in := workflows.FanOutInput{Reason: "calendar changed (" + to + ")", Units: scopes}
		started, err := workflows.StartCalendarFanOut(ctx, st.Client, queue, from, to, in)
		if err != nil {
			slog.Warn("calendar watcher: start the fan-out", "err", err)
			continue // try again next tick
		}
		slog.Info("calendar changed: open work orders recompute their deadlines", "from", from, "stamp", to, "units", scopes, "all", all, "started_here", started)
		last = cur
	}
}
