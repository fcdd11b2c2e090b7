// Package activities holds the side effects of the work-order workflow: resolving the
// responsible unit (谁办理、谁负责), and writing each transition to the append-only timeline and
// the work order's read-model, idempotently (an event is keyed by workflow, run and sequence
// number, so a retried or replayed activity adds nothing). The Activities struct carries the
// dependencies; the worker registers its methods under the names of activities/activitydefs,
// which also holds their arguments and results (aliased here), so that workflow code
// schedules them without linking this package and its storage (issue 20).
package activities

import "redress/activities/activitydefs"

// The activities' arguments and results (see activitydefs).
type (
	UnitRef      = activitydefs.UnitRef
	Dispatch     = activitydefs.Dispatch
	Exclusion    = activitydefs.Exclusion
	Row          = activitydefs.Row
	Event        = activitydefs.Event
	Policy       = activitydefs.Policy
	Pause        = activitydefs.Pause
	DeadlineSpec = activitydefs.DeadlineSpec
	DeadlineCalc = activitydefs.DeadlineCalc
	OrderRef     = activitydefs.OrderRef
	OrdersPage   = activitydefs.OrdersPage
)

// The error types of the activities' non-retryable failures (see activitydefs).
const (
	ErrUnknownUnit     = activitydefs.ErrUnknownUnit
	ErrDeadlineInvalid = activitydefs.ErrDeadlineInvalid
	ErrEventConflict   = activitydefs.ErrEventConflict
)
