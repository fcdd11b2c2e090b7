package workflows

import "fmt"

// Separation of duties (issue 17, finding 4): whoever acted on an order as its unit — signed
// it, called the evaluator back, disposed of it, rectified it… — does not also review or
// decide it, even when they hold an administrator's or supervisor's role as well (an
// administrator who became the unit's officer for an afternoon could otherwise approve their
// own work).
//
// The rule lives apart from the actions table (which says which role may do what) because it
// is about the person, not the role. It is checked by the update's validator only, never again
// inside the handler: validators do not run when a history replays, so orders recorded before
// the rule replay unchanged, and the set of unit actors only grows, so an action the validator
// accepted stays acceptable while it waits for its turn.

// unitActions are the actions a unit's staff take on their own order.
var unitActions = map[string]bool{
	"sign": true, "return": true, "callback": true, "dispose": true, "progress": true,
	"complete": true, "request_extension": true, "record_feedback": true, "submit_appeal": true,
}

// decisions are the actions that review or decide what the unit did.
var decisions = map[string]bool{
	"review": true, "rule_return": true, "decide_appeal": true, "decide_extension": true, "waive_callback": true,
}

// unitActors records who acted on the order as its unit (handler-local state: it adds no
// command, so it needs no workflow version).
type unitActors map[string]bool

// note records the caller of an applied action.
func (u *unitActors) note(req ActionRequest) {
	if !unitActions[req.Action] || req.Caller.Login == "" {
		return
	}
	if *u == nil {
		*u = unitActors{}
	}
	(*u)[req.Caller.Login] = true
}

// separationOfDuties refuses a review or decision by someone who acted on the order as its
// unit.
func separationOfDuties(actors unitActors, req ActionRequest) error {
	if decisions[req.Action] && actors[req.Caller.Login] {
		return refuse(ErrForbidden, fmt.Sprintf("you acted on this work order for its unit, so you may not %s it: another person decides (separation of duties)", req.Action))
	}
	return nil
}
