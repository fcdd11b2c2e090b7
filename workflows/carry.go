package workflows

import (
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"redress/activities/activitydefs"
)

// Continue-as-new (issue 16, finding 1). An order's history grows with every action; Temporal
// terminates a workflow whose history passes its limits (50 MB or 51 200 events), which leaves
// the order frozen for good. Between actions, when the server suggests it or the history
// passes the order's own budget, the workflow hands its whole state to a new run of itself
// (same workflow id, a fresh history): nothing a user sees changes across it — the sequence
// numbers of the timeline go on, the clocks keep their starts, pauses, owners and due instants
// (the new run arms its timers from them), breaches, levels, reopenings, the callback state,
// the pending extension, the appeal draft, who acted for the unit and the workflow versions the
// order already took.

// ContinueAsNewChange is the version id of continue-as-new: taken only at the moment an order
// passes its budget, so that the histories of orders run by older workers (which may be longer
// than the budget) replay without it.
const ContinueAsNewChange = "continue-as-new"

// HistoryEventBudget and HistoryBytesBudget bound one run's history: past either (or when the
// server suggests it) the order continues as new between actions. Well below Temporal's own
// limits, so that even one more large action cannot reach them. Variables so that tests can
// set a small budget; never changed in production.
var (
	HistoryEventBudget = 5000
	HistoryBytesBudget = 4 << 20
)

// OrderState is the state of an order that outlives one action: the workflow keeps it embedded
// (workOrder), saves it before a step to undo a failed one, and carries it whole into its next
// run. One list of fields serves all three, so nothing can be carried that is not restored.
// The JSON names are what older runs wrote: never change them (TestCarriedStateRestoresIdentically).
type OrderState struct {
	// Snapshot is what the state query answers: state, unit, supervision level, sequence.
	Snapshot Snapshot            `json:"snapshot"`
	Policy   activitydefs.Policy `json:"policy"` // the policy of the unit that holds the order
	// Deadlines are the order's clocks, superseded ones included (never deleted).
	Deadlines []*deadline `json:"deadlines"`
	Breaches  int         `json:"breaches,omitempty"` // deadlines breached so far (a second one means listed supervision)
	// Recompute is the reason of a calendar change whose recomputation is pending.
	Recompute string            `json:"recompute,omitempty"`
	Levels    map[string]string `json:"levels,omitempty"` // the rating's level per indicator
	Kinds     map[string]string `json:"kinds,omitempty"`  // indicator → kind, as ResolveDispatch found it (nil: older orders)
	Excluded  map[string]bool   `json:"excluded,omitempty"`
	// RealName: the evaluator gave their name, so they are called back and told.
	RealName bool `json:"real_name,omitempty"`
	Reopens  int  `json:"reopens,omitempty"`
	// CalledBack: the evaluator was reached (or an administrator recorded an exception) by the
	// unit holding the order; CallbackAttempts counts that unit's attempts.
	CalledBack       bool `json:"called_back,omitempty"`
	CallbackAttempts int  `json:"callback_attempts,omitempty"`
	Extension        *int `json:"extension,omitempty"` // days of a pending extension request
	// ClosedAt is when the order last closed (the reopen window runs from here).
	ClosedAt time.Time `json:"closed_at"`
	// Local: the order's activities run as local activities (exec).
	Local  bool       `json:"local,omitempty"`
	Actors unitActors `json:"actors,omitempty"` // who acted on the order as its unit (separation of duties)
	// Draft is an officer's appeal waiting for the unit leader's submission (called_back only).
	Draft *ActionRequest `json:"draft,omitempty"`
	// ClockOwnersVersion is the ClockOwnersChange version the order runs with (0: recorded
	// before it).
	ClockOwnersVersion int `json:"v"`
	// StageBreaches counts breaches per owner path and stage ("path|stage"), OwnerLevels the
	// supervision level standing against each owner path, ManualLevel the level raised by
	// escalate: escalation is per owner and stage, not per order.
	StageBreaches map[string]int `json:"stage_breaches,omitempty"`
	OwnerLevels   map[string]int `json:"owner_levels,omitempty"`
	ManualLevel   int            `json:"manual_level,omitempty"`
	// Ending: the reopen window is over and the workflow is finishing; a reopening is refused.
	Ending bool `json:"ending,omitempty"`
	// Versions are the workflow versions the order took (workflow.GetVersion): a new run
	// keeps them, so an order never changes its path by continuing.
	Versions map[string]int `json:"versions,omitempty"`
	// Repeats counts the repeatable actions taken in the stage RepeatState (limits.go).
	Repeats     map[string]int `json:"repeats,omitempty"`
	RepeatState string         `json:"repeat_state,omitempty"`
	// Runs counts the runs before this one.
	Runs int `json:"runs,omitempty"`
	// Failed is the last step_failed message recorded by the clockwork (not repeated).
	Failed string `json:"failed,omitempty"`
}

// carry is the state the order hands on (to a saved copy, or to its next run).
func (w *workOrder) carry() OrderState { return w.OrderState }

// restore takes a carried state back whole; its clocks are armed again.
func (w *workOrder) restore(st OrderState) {
	w.OrderState = st
	w.dirty = true
}

// saved is a deep copy of the order's state, taken before a step so that a step that fails
// half-way can be undone (nothing half-applied stays).
type saved []byte

func (w *workOrder) save() (saved, error) {
	b, err := json.Marshal(w.carry())
	if err != nil {
		return nil, fmt.Errorf("save order state: %w", err)
	}
	return b, nil
}

// rollback puts the saved state back; the sequence number never goes back (events recorded
// before the failure stay recorded).
func (w *workOrder) rollback(s saved) error {
	var st OrderState
	if err := json.Unmarshal(s, &st); err != nil {
		return fmt.Errorf("restore order state: %w", err)
	}
	seq := w.Snapshot.Seq
	w.restore(st)
	if seq > w.Snapshot.Seq {
		w.Snapshot.Seq = seq
	}
	return nil
}

// version is workflow.GetVersion remembered in the order's state: a run continued from
// another answers what the order took before.
func (w *workOrder) version(ctx workflow.Context, id string, max workflow.Version) int {
	if v, ok := w.Versions[id]; ok {
		return v
	}
	v := int(workflow.GetVersion(ctx, id, workflow.DefaultVersion, max))
	if w.Versions == nil {
		w.Versions = map[string]int{}
	}
	w.Versions[id] = v
	return v
}

// overBudget reports whether the run's history should end here: the server suggests it, or it
// passed the order's own budget.
func overBudget(ctx workflow.Context) bool {
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() > HistoryEventBudget ||
		info.GetCurrentHistorySize() > HistoryBytesBudget
}

// continueAsNew ends the run with the order's state handed to the next, once no action is
// being applied and every accepted update has answered (none is lost with the run).
func (w *workOrder) continueAsNew(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return !w.busy && workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	st := w.carry()
	st.Runs++
	return workflow.NewContinueAsNewError(ctx, WorkOrderName, WorkOrderInput{WorkOrderID: w.input.WorkOrderID, Local: w.Local, State: &st})
}
