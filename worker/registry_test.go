package worker

import (
	"reflect"
	"slices"
	"testing"

	"go.temporal.io/sdk/activity"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"redress/activities"
	"redress/activities/activitydefs"
)

// registry records what Register puts on a worker (the workflows are not looked at here).
type registry struct {
	sdkworker.Registry
	activities map[string]any
	unnamed    []any // registered without a name: a struct, or a function under its own name
}

func (r *registry) RegisterWorkflowWithOptions(any, workflow.RegisterOptions) {}

func (r *registry) RegisterActivity(a any) { r.unnamed = append(r.unnamed, a) }

func (r *registry) RegisterActivityWithOptions(a any, o activity.RegisterOptions) {
	if o.Name == "" {
		r.unnamed = append(r.unnamed, a)
		return
	}
	r.activities[o.Name] = a
}

// historyNames are the activity names recorded in the histories of running work orders and
// schedules (the method names the worker registered before issue 20): they never change.
var historyNames = []string{
	"ApplyDefaultRatings", "ComputeDeadline", "ExcludeIndicators", "ExcludeRating", "GenerateMonthlyReports",
	"LoadPolicy", "MarkStarted", "OpenOrders", "OverdueDays", "RecordEvent", "ResolveDispatch", "ResolveUnit",
}

// Every activity a workflow can schedule (activitydefs) is registered by the worker under
// its name, with a function of exactly the definition's argument and result types, and the
// names are those of the histories.
func TestWorkerRegistersEveryActivityDefinition(t *testing.T) {
	r := &registry{activities: map[string]any{}}
	Register(r, &activities.Activities{})
	for _, a := range r.unnamed {
		t.Errorf("activity registered without a definition's name: %T", a)
	}
	var names []string
	for _, d := range activitydefs.All() {
		names = append(names, d.Name())
		fn, ok := r.activities[d.Name()]
		if !ok {
			t.Errorf("activity %s is scheduled by workflows but not registered by the worker", d.Name())
			continue
		}
		if got := reflect.TypeOf(fn); got != d.Signature() {
			t.Errorf("activity %s is registered as %v, its definition is %v", d.Name(), got, d.Signature())
		}
	}
	for name := range r.activities {
		if !slices.Contains(names, name) {
			t.Errorf("activity %s is registered but has no definition", name)
		}
	}
	slices.Sort(names)
	if !slices.Equal(names, historyNames) {
		t.Errorf("activity names %v, histories have %v", names, historyNames)
	}
}
