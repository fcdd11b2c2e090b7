// Package worker runs the Temporal worker of redress: it registers the workflows and the
// activities with their dependencies on the task queue, and runs the reconciler beside them.
// `redress worker` runs it alone; `redress dev` runs it inside the all-in-one process.
package worker

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"redress/activities"
	"redress/engine"
	"redress/store"
	"redress/workflows"
)

// Deps are what the worker needs.
type Deps struct {
	Client         client.Client
	TaskQueue      string
	DB             *store.DB
	ReconcileEvery time.Duration
}

// Register puts the workflows and activities on w (also used by tests' workers).
func Register(w sdkworker.Registry, a *activities.Activities) {
	w.RegisterWorkflowWithOptions(workflows.WorkOrder, workflow.RegisterOptions{Name: workflows.WorkOrderName})
	w.RegisterActivity(a)
}

// Run starts the worker and the reconciler and blocks until ctx ends.
func Run(ctx context.Context, d Deps) error {
	w := sdkworker.New(d.Client, d.TaskQueue, sdkworker.Options{})
	Register(w, &activities.Activities{DB: d.DB})
	if err := w.Start(); err != nil {
		return fmt.Errorf("worker: start: %w", err)
	}
	defer w.Stop()
	st := &engine.Starter{Client: d.Client, TaskQueue: d.TaskQueue, DB: d.DB}
	every := d.ReconcileEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	st.RunReconciler(ctx, every)
	return nil
}
