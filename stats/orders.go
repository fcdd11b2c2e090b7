package stats

import (
	"context"
	"fmt"
	"time"
)

// TimelineEvent is the part of a timeline event that the order figures read.
type TimelineEvent struct {
	Type string
	At   time.Time
	Data map[string]any
}

// OrderFacts are what one work order contributes to the figures, read from its timeline.
type OrderFacts struct {
	RealName bool
	// CalledBack: a callback that reached the evaluator is recorded.
	CalledBack bool
	// Disposition is the last one chosen (rectify_now, ledger, explain, appeal).
	Disposition string
	Appealed    bool
	Upheld      bool
	Rejected    bool
	// Handled: the administration approved the unit's result (review approve); HandledAt when.
	Handled    bool
	HandledAt  time.Time
	Closed     bool
	Breached   bool
	Supervised bool
}

// Facts reads an order's timeline, oldest first. A reopened order counts by its latest result:
// a reopen clears the handled, closed and disposition facts it had.
func Facts(realName bool, events []TimelineEvent) OrderFacts {
	f := OrderFacts{RealName: realName}
	for _, e := range events {
		switch e.Type {
		case "callback":
			if b, _ := e.Data["reached"].(bool); b {
				f.CalledBack = true
			}
		case "dispose":
			d, _ := e.Data["disposition"].(string)
			f.Disposition = d
			if d == "appeal" {
				f.Appealed = true
			}
		case "submit_appeal":
			// A unit leader's submission of an officer's draft (the draft itself, event
			// appeal_drafted, is no appeal yet).
			f.Disposition, f.Appealed = "appeal", true
		case "decide_appeal":
			if b, _ := e.Data["upheld"].(bool); b {
				f.Upheld, f.Rejected = true, false
			} else {
				f.Rejected, f.Upheld = true, false
			}
		case "review":
			if b, _ := e.Data["approve"].(bool); b && !f.Handled {
				f.Handled, f.HandledAt = true, e.At
			}
		case "record_feedback", "closed_without_feedback":
			f.Closed = true
		case "reopen":
			f.Handled, f.Closed, f.HandledAt = false, false, time.Time{}
		case "deadline_breached":
			f.Breached = true
		case "supervision", "escalate":
			f.Supervised = true
		}
	}
	return f
}

// WorkingDays counts working days between two instants on a unit's calendar.
type WorkingDays func(ctx context.Context, unitPath string, from, to time.Time) (int, error)

// AddOrder adds one order's facts to o. Rectified and explained count orders whose result was
// approved with that disposition; on time counts handled orders that never breached a
// deadline; overdue counts every order that breached one. The handling time runs from the
// order's opening to the approval of its result, in working days of the unit's calendar.
func (o *Orders) AddOrder(ctx context.Context, f OrderFacts, unitPath string, openedAt time.Time, overdueDays int, wd WorkingDays) error {
	o.Orders++
	if f.RealName {
		o.RealName++
		if f.CalledBack {
			o.CalledBackRealName++
		}
	}
	if f.CalledBack {
		o.CalledBack++
	}
	if f.Handled {
		switch f.Disposition {
		case "rectify_now", "ledger":
			o.Rectified++
		case "explain":
			o.Explained++
		}
	}
	if f.Appealed {
		o.Appealed++
	}
	if f.Upheld {
		o.Upheld++
	}
	if f.Rejected {
		o.Rejected++
	}
	if f.Closed {
		o.Closed++
	}
	if f.Breached {
		o.Overdue++
		o.OverdueDays += overdueDays
	} else if f.Handled {
		o.OnTime++
	}
	if f.Supervised {
		o.Supervised++
	}
	if f.Handled {
		n, err := wd(ctx, unitPath, openedAt, f.HandledAt)
		if err != nil {
			return fmt.Errorf("handling time: %w", err)
		}
		o.Handled++
		o.HandlingWorkingDays += n
	}
	return nil
}
