package workflows

import (
	"fmt"
	"redress/scheme"
	"reflect"
	"unicode/utf8"
)

// Limits on what one order takes (issue 16, finding 1): every action is kept in the
// workflow's history, so free text is bounded (MaxTextLength, checked for every string field
// of every action and by the API before the action is sent) and so is the number of times one
// action is repeated in one stage.

// MaxRepeats is how many times the same action may be taken while the order stays in one
// state (20 callbacks while signed, 20 progress reports while rectifying, 20 escalations…):
// far more than real work needs, few enough that nobody can bloat an order by repetition.
const MaxRepeats = 20

// ErrTooManyActions refuses an action repeated past MaxRepeats in one stage (409).
const ErrTooManyActions = "too_many_actions"

// CheckLengths refuses a request with a free-text field longer than MaxTextLength characters
// (whatever the action): the API calls it before sending the action, the validator again.
func CheckLengths(req ActionRequest) error {
	v := reflect.ValueOf(req)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		if s, ok := v.Field(i).Interface().(string); ok && utf8.RuneCountInString(s) > MaxTextLength {
			name := jsonName(t.Field(i))
			return invalid(name, "too_long", "%s is longer than %d characters", name, MaxTextLength)
		}
	}
	return nil
}

// checkRepeats refuses an action taken MaxRepeats times already in the order's current state.
// Validator only (like separationOfDuties): histories recorded before the limit replay as they
// ran, and an accepted action is never refused afterwards.
func (w *workOrder) checkRepeats(req ActionRequest) error {
	if w.RepeatState == w.Snapshot.State && w.Repeats[req.Action] >= MaxRepeats && staysIn(w.Snapshot.State, w.unitPath(), req) {
		return refuse(ErrTooManyActions, fmt.Sprintf("%s was already taken %d times in this stage (state %s)", req.Action, MaxRepeats, w.Snapshot.State))
	}
	return nil
}

// countRepeat counts an applied action against the state it was taken in; a new state starts
// the count afresh.
func (w *workOrder) countRepeat(from, action string) {
	if w.Snapshot.State != from {
		w.Repeats, w.RepeatState = nil, w.Snapshot.State
		return
	}
	if w.RepeatState != from || w.Repeats == nil {
		w.Repeats, w.RepeatState = map[string]int{}, from
	}
	w.Repeats[action]++
}

// staysIn reports whether the action leaves the order in state (the actions table's
// transition for the request): only such repeats are limited, so that after 20 unanswered
// calls the call that reaches the evaluator still moves the order on.
func staysIn(state, unitPath string, req ActionRequest) bool {
	a, ok := specs[req.Action]
	if !ok {
		return true
	}
	values := requestValues(req)
	for _, t := range a.Transitions {
		if t.When != nil && values[t.When.Field] != t.When.Value {
			continue
		}
		if len(t.Roles) > 0 && !scheme.MayAct(req.Caller, t.Roles, unitPath) {
			continue
		}
		return t.To == "" || t.To == state
	}
	return true
}
