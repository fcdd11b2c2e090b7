package workflows

import (
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"redress/activities"
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

// OrderState is the state an order carries into its next run: everything in workOrder that
// outlives one action.
type OrderState struct {
	Snapshot         Snapshot          `json:"snapshot"`
	Policy           activities.Policy `json:"policy"`
	Deadlines        []*deadline       `json:"deadlines"`
	Breaches         int               `json:"breaches,omitempty"`
	Recompute        string            `json:"recompute,omitempty"`
	Levels           map[string]string `json:"levels,omitempty"`
	Kinds            map[string]string `json:"kinds,omitempty"`
	Excluded         map[string]bool   `json:"excluded,omitempty"`
	RealName         bool              `json:"real_name,omitempty"`
	Reopens          int               `json:"reopens,omitempty"`
	CalledBack       bool              `json:"called_back,omitempty"`
	CallbackAttempts int               `json:"callback_attempts,omitempty"`
	Extension        *int              `json:"extension,omitempty"`
	ClosedAt         time.Time         `json:"closed_at"`
	Local            bool              `json:"local,omitempty"`
	Actors           unitActors        `json:"actors,omitempty"`
	Draft            *ActionRequest    `json:"draft,omitempty"`
	V                int               `json:"v"`
	StageBreaches    map[string]int    `json:"stage_breaches,omitempty"`
	OwnerLevels      map[string]int    `json:"owner_levels,omitempty"`
	ManualLevel      int               `json:"manual_level,omitempty"`
	Ending           bool              `json:"ending,omitempty"`
	// Versions are the workflow versions the order took (workflow.GetVersion): a new run
	// keeps them, so an order never changes its path by continuing.
	Versions map[string]int `json:"versions,omitempty"`
	// Repeats counts the repeatable actions taken in the current stage (RepeatState).
	Repeats     map[string]int `json:"repeats,omitempty"`
	RepeatState string         `json:"repeat_state,omitempty"`
	// Runs counts the runs before this one.
	Runs int `json:"runs,omitempty"`
	// Failed is the last step_failed message recorded by the clockwork (not repeated).
	Failed string `json:"failed,omitempty"`
}

func (w *workOrder) carry() OrderState {
	return OrderState{
		Snapshot: w.s, Policy: w.policy, Deadlines: w.dls, Breaches: w.breaches, Recompute: w.recompute,
		Levels: w.levels, Kinds: w.kinds, Excluded: w.excluded, RealName: w.realName, Reopens: w.reopens,
		CalledBack: w.calledBack, CallbackAttempts: w.callbackAttempts, Extension: w.extension,
		ClosedAt: w.closedAt, Local: w.local, Actors: w.actors, Draft: w.draft, V: w.v,
		StageBreaches: w.stageBreaches, OwnerLevels: w.ownerLevels, ManualLevel: w.manualLevel,
		Ending: w.ending, Versions: w.versions, Repeats: w.repeats, RepeatState: w.repeatState,
		Runs: w.runs, Failed: w.failed,
	}
}

func (w *workOrder) restore(st OrderState) {
	w.s, w.policy, w.dls, w.breaches, w.recompute = st.Snapshot, st.Policy, st.Deadlines, st.Breaches, st.Recompute
	w.levels, w.kinds, w.excluded, w.realName, w.reopens = st.Levels, st.Kinds, st.Excluded, st.RealName, st.Reopens
	w.calledBack, w.callbackAttempts, w.extension = st.CalledBack, st.CallbackAttempts, st.Extension
	w.closedAt, w.local, w.actors, w.draft, w.v = st.ClosedAt, st.Local, st.Actors, st.Draft, st.V
	w.stageBreaches, w.ownerLevels, w.manualLevel = st.StageBreaches, st.OwnerLevels, st.ManualLevel
	w.ending, w.versions, w.repeats, w.repeatState = st.Ending, st.Versions, st.Repeats, st.RepeatState
	w.runs, w.failed = st.Runs, st.Failed
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
	seq := w.s.Seq
	w.restore(st)
	if seq > w.s.Seq {
		w.s.Seq = seq
	}
	return nil
}

// version is workflow.GetVersion remembered in the order's state: a run continued from
// another answers what the order took before.
func (w *workOrder) version(ctx workflow.Context, id string, max workflow.Version) int {
	if v, ok := w.versions[id]; ok {
		return v
	}
	v := int(workflow.GetVersion(ctx, id, workflow.DefaultVersion, max))
	if w.versions == nil {
		w.versions = map[string]int{}
	}
	w.versions[id] = v
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
	return workflow.NewContinueAsNewError(ctx, WorkOrderName, WorkOrderInput{WorkOrderID: w.in.WorkOrderID, Local: w.local, State: &st})
}
