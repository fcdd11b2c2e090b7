// The activities' arguments and results, and the error types their failures carry. They are
// recorded in workflow histories as JSON: their fields and tags never change meaning.

package activitydefs

import (
	"time"

	"redress/models"
	"redress/notify/message"
	"redress/scheme"
)

// UnitRef names a unit.
type UnitRef struct {
	ID   int64  `json:"id"`
	Code string `json:"code"`
	Name string `json:"name"`
	Path string `json:"path"`
}

// Dispatch is where a work order goes by 谁办理、谁负责.
type Dispatch struct {
	// Unit is the responsible unit, nil when it cannot be decided (unknown or ambiguous).
	Unit    *UnitRef `json:"unit"`
	StaffID *string  `json:"staff_id"`
	// Admin is the administration whose queue takes the order when Unit is nil, and which
	// rules on returns and reviews results.
	Admin  UnitRef `json:"admin"`
	Reason string  `json:"reason"`
	// Levels of the evaluation (an appeal is only for ratings of staff conduct) and whether the
	// evaluator gave a name (a real-name review needs a reached callback).
	Levels   map[string]string `json:"levels"`
	RealName bool              `json:"real_name"`
	// Kinds gives the kind (overall, staff, process, platform) of each indicator of Levels, from
	// the indicator catalogue of the order's jurisdiction, resolved here so that the workflow
	// decides appeals deterministically. Orders resolved before it existed have none and use
	// the default catalogue's kinds.
	Kinds map[string]string `json:"kinds,omitempty"`
}

// Exclusion names the indicators of a work order's rating that an upheld appeal does not adopt
// (不予采纳): its staff indicators, while process and platform complaints stay counted.
type Exclusion struct {
	WorkOrderID string   `json:"work_order_id"`
	Indicators  []string `json:"indicators"`
}

// Row is what a transition changes in the read-model; nil fields stay as they are.
type Row struct {
	State            string     `json:"state"`
	Disposition      *string    `json:"disposition,omitempty"`
	Unit             *UnitRef   `json:"unit,omitempty"`
	StaffID          *string    `json:"staff_id,omitempty"`
	ClearStaff       bool       `json:"clear_staff,omitempty"`
	DispatchedAt     *time.Time `json:"dispatched_at,omitempty"`
	SupervisionLevel *int       `json:"supervision_level,omitempty"`
	// Deadlines replaces the order's deadline list; NextDueAt is the nearest open one (nil:
	// none); both only when DeadlinesSet.
	DeadlinesSet bool              `json:"deadlines_set,omitempty"`
	Deadlines    []models.Deadline `json:"deadlines,omitempty"`
	NextDueAt    *time.Time        `json:"next_due_at,omitempty"`
	OverdueDays  *int              `json:"overdue_days,omitempty"`
}

// Event is one timeline entry and the read-model change it brings.
type Event struct {
	WorkOrderID string `json:"work_order_id"`
	WorkflowID  string `json:"workflow_id"`
	// RunID is the workflow run recording the event (part of its key; "" in events of
	// histories recorded before issue 16).
	RunID string         `json:"run_id,omitempty"`
	Seq   int            `json:"seq"`
	At    time.Time      `json:"at"`
	Actor string         `json:"actor"`
	Type  string         `json:"type"`
	Data  map[string]any `json:"data"`
	Row   Row            `json:"row"`
	// Notify lists the notifications the event causes; they enter the outbox in the event's
	// transaction, once (a retried or replayed event finds its timeline row and adds nothing).
	Notify []message.Message `json:"notify,omitempty"`
}

// Policy is the effective scheme policy of a unit (scheme.Policy), the LoadPolicy activity's
// result.
type Policy = scheme.Policy

// Pause is an interval during which a deadline's budget does not run; To nil is still open.
type Pause struct {
	From time.Time  `json:"from"`
	To   *time.Time `json:"to,omitempty"`
}

// DeadlineSpec is what a deadline is computed from.
type DeadlineSpec struct {
	Name     string        `json:"name"`
	Budget   models.Budget `json:"budget"`
	Start    time.Time     `json:"start"`
	Pauses   []Pause       `json:"pauses,omitempty"`
	UnitPath string        `json:"unit_path"` // whose calendar (local overrides apply)
	// RemindShare: remind when this share of the budget is left (0 = no reminder).
	RemindShare float64 `json:"remind_share"`
	// WorkOrderID and AdminPath name the order and its administration, so that a deadline
	// that cannot be computed is recorded on the order where the administration sees it
	// (empty in histories recorded before: nothing is recorded).
	WorkOrderID string `json:"work_order_id,omitempty"`
	AdminPath   string `json:"admin_path,omitempty"`
	// Retry: the workflow is trying again a step that failed (issue 16: a budget the calendar
	// refuses fails at once, not retried by the activity), so a success clears the error
	// recorded on the order as a retried attempt's would.
	Retry bool `json:"retry,omitempty"`
}

// DeadlineCalc is a computed deadline. UncoveredYear is set (and the rest empty) when the
// calendar does not cover a year the deadline reaches: the order waits for that year's import.
type DeadlineCalc struct {
	DueAt           time.Time `json:"due_at"`
	DueDate         string    `json:"due_date"`
	RemindAt        time.Time `json:"remind_at"`
	CalendarVersion string    `json:"calendar_version"`
	Paused          bool      `json:"paused"`
	UncoveredYear   int       `json:"uncovered_year,omitempty"`
	// Budget is set when the spec's budget could not be computed and the unit's current
	// policy's could: the order's clock takes it (the policy was fixed while it waited).
	Budget *models.Budget `json:"budget,omitempty"`
}

// ErrDeadlineInvalid is the (non-retryable) failure of a budget that does not parse or that
// the calendar refuses: retrying gives the same answer.
const ErrDeadlineInvalid = "deadline_invalid"

// OrderRef names an open work order and its workflow.
type OrderRef struct {
	ID         string `json:"id"`
	WorkflowID string `json:"workflow_id"`
}

// OrdersPage asks for the next page of open work orders after After (by id), within the unit
// subtrees Units (none: all units).
type OrdersPage struct {
	After string   `json:"after"`
	Limit int      `json:"limit"`
	Units []string `json:"units,omitempty"`
}

// ErrUnknownUnit is returned (non-retryable) when a unit code does not exist.
const ErrUnknownUnit = "unknown_unit"

// ErrEventConflict is the (non-retryable) failure of an event whose key (workflow, run,
// sequence number) already holds a different event: a workflow task retried after a crash
// handled its events in another order. It fails loudly (the step shows step_failed) instead
// of keeping a phantom and silently dropping the real event.
const ErrEventConflict = "event_conflict"
