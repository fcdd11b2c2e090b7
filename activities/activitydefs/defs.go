// Package activitydefs is what the workflows and the worker agree on about each activity: the
// name it is registered and recorded under, and the types of its arguments and result. The
// workflows schedule an activity by its definition here (LoadPolicy.Run(ctx, run, unitPath)),
// which checks the argument and result types at compile time; the worker registers the
// method of activities.Activities that does the work under the definition's name. The
// activities themselves touch the database, and workflow code must never link storage
// (issue 20): this package imports none.
//
// The names are the method names under which the worker registered the activities before
// this package existed; they are recorded in every workflow history and never change.
package activitydefs

import (
	"context"
	"reflect"
	"time"

	"go.temporal.io/sdk/workflow"

	"redress/models"
)

// Def is an activity's definition: its registered name and the function type the worker must
// register under it.
type Def interface {
	Name() string
	// Signature is func(context.Context, arguments…) (result, error), or
	// func(context.Context, arguments…) error for an activity that answers nothing.
	Signature() reflect.Type
}

// all lists every definition, in the order declared (All).
var all []Def

// All lists every activity definition: every name a workflow can schedule.
func All() []Def { return append([]Def(nil), all...) }

// Runner schedules an activity by name with the options set on ctx: workflow.ExecuteActivity,
// workflow.ExecuteLocalActivity, or a workflow's own choice between them.
type Runner func(ctx workflow.Context, activity any, args ...any) workflow.Future

// Func is an activity taking an A and answering an R.
type Func[A, R any] struct{ name string }

// Proc is an activity taking an A and answering only whether it succeeded.
type Proc[A any] struct{ name string }

// Func3 is an activity taking an A, a B and a C and answering an R.
type Func3[A, B, C, R any] struct{ name string }

func define[D Def](d D) D {
	all = append(all, d)
	return d
}

var (
	ctxType = reflect.TypeFor[context.Context]()
	errType = reflect.TypeFor[error]()
)

// Name is the name the activity is registered and recorded under.
func (d Func[A, R]) Name() string { return d.name }

// Signature is func(context.Context, A) (R, error).
func (d Func[A, R]) Signature() reflect.Type {
	return reflect.FuncOf([]reflect.Type{ctxType, reflect.TypeFor[A]()}, []reflect.Type{reflect.TypeFor[R](), errType}, false)
}

// Run schedules the activity with a.
func (d Func[A, R]) Run(ctx workflow.Context, run Runner, a A) Future[R] {
	return Future[R]{run(ctx, d.name, a)}
}

// Name is the name the activity is registered and recorded under.
func (d Proc[A]) Name() string { return d.name }

// Signature is func(context.Context, A) error.
func (d Proc[A]) Signature() reflect.Type {
	return reflect.FuncOf([]reflect.Type{ctxType, reflect.TypeFor[A]()}, []reflect.Type{errType}, false)
}

// Run schedules the activity with a.
func (d Proc[A]) Run(ctx workflow.Context, run Runner, a A) Done {
	return Done{run(ctx, d.name, a)}
}

// Name is the name the activity is registered and recorded under.
func (d Func3[A, B, C, R]) Name() string { return d.name }

// Signature is func(context.Context, A, B, C) (R, error).
func (d Func3[A, B, C, R]) Signature() reflect.Type {
	in := []reflect.Type{ctxType, reflect.TypeFor[A](), reflect.TypeFor[B](), reflect.TypeFor[C]()}
	return reflect.FuncOf(in, []reflect.Type{reflect.TypeFor[R](), errType}, false)
}

// Run schedules the activity with a, b and c.
func (d Func3[A, B, C, R]) Run(ctx workflow.Context, run Runner, a A, b B, c C) Future[R] {
	return Future[R]{run(ctx, d.name, a, b, c)}
}

// Future is the result of a scheduled activity that answers an R.
type Future[R any] struct{ f workflow.Future }

// Get waits for the activity and decodes its result into *into (as workflow.Future.Get: into
// what is there, so a decoded result leaves fields it does not carry as they were).
func (f Future[R]) Get(ctx workflow.Context, into *R) error { return f.f.Get(ctx, into) }

// Done is the completion of a scheduled activity that answers nothing.
type Done struct{ f workflow.Future }

// Get waits for the activity.
func (d Done) Get(ctx workflow.Context) error { return d.f.Get(ctx, nil) }

// The activities. The work-order workflow runs the first nine, the scheduled workflows the
// rest.
var (
	// MarkStarted notes that a work order's workflow exists (by work order id).
	MarkStarted = define(Proc[string]{"MarkStarted"})
	// ResolveDispatch decides the responsible unit of a work order (by id).
	ResolveDispatch = define(Func[string, Dispatch]{"ResolveDispatch"})
	// ResolveUnit looks a unit up by code.
	ResolveUnit = define(Func[string, UnitRef]{"ResolveUnit"})
	// LoadPolicy reads the effective scheme policy of the unit at a path.
	LoadPolicy = define(Func[string, Policy]{"LoadPolicy"})
	// ComputeDeadline turns a budget, a start and pauses into a due instant.
	ComputeDeadline = define(Func[DeadlineSpec, DeadlineCalc]{"ComputeDeadline"})
	// OverdueDays counts the working days by which a deadline (unit path, due instant) was
	// missed at an instant.
	OverdueDays = define(Func3[string, time.Time, time.Time, int]{"OverdueDays"})
	// RecordEvent appends an event to the timeline and applies it to the read-model.
	RecordEvent = define(Proc[Event]{"RecordEvent"})
	// ExcludeRating marks a work order's cases of its rating as not adopted (by id).
	ExcludeRating = define(Proc[string]{"ExcludeRating"})
	// ExcludeIndicators records the indicators an upheld appeal does not adopt.
	ExcludeIndicators = define(Proc[Exclusion]{"ExcludeIndicators"})

	// OpenOrders lists a page of open work orders (the calendar fan-out).
	OpenOrders = define(Func[OrdersPage, []OrderRef]{"OpenOrders"})
	// GenerateMonthlyReports makes the scheduled reports of a month ("2006-01") and answers how
	// many jurisdictions have one.
	GenerateMonthlyReports = define(Func[string, int]{"GenerateMonthlyReports"})
	// ApplyDefaultRatings gives the due default ratings, at most a batch of them.
	ApplyDefaultRatings = define(Func[int, models.DefaultRun]{"ApplyDefaultRatings"})
)
