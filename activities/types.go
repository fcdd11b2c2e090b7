// Package activities holds the side effects of the work-order workflow: resolving the
// responsible unit (谁办理、谁负责), and writing each transition to the append-only timeline and
// the work order's read-model, idempotently (an event is keyed by workflow, run and sequence
// number, so a retried or replayed activity adds nothing). The Activities struct carries the
// dependencies; the workflow calls its methods.
package activities

import (
	"time"

	"redress/models"
	"redress/notify"
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
	Notify []notify.Message `json:"notify,omitempty"`
}
