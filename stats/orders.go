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
	// BreachedBy and SupervisedBy are the owners (unit paths) whose clocks were breached or
	// who were supervised; "" is the order's own unit (events recorded before owners were).
	// The administration's delay is charged to the administration, a misrouting unit's to
	// that unit, and the evaluator's silence to nobody.
	BreachedBy   map[string]bool
	SupervisedBy map[string]bool
}

// ownerOf reads the owner path of a breach or supervision event ("" for the order's unit);
// ok=false for the evaluator, whose silence is nobody's lateness.
func ownerOf(data map[string]any) (string, bool) {
	if k, _ := data["owner_kind"].(string); k == "evaluator" {
		return "", false
	}
	if n, _ := data["deadline"].(string); n == "feedback" {
		return "", false
	}
	p, _ := data["owner_path"].(string)
	return p, true
}

// Charged reports the owners an order's timeliness figures go to, the order's own unit
// (unitPath) resolved: for each, whether it breached and whether it was supervised.
func (f OrderFacts) Charged(unitPath string) map[string][2]bool {
	out := map[string][2]bool{}
	key := func(p string) string {
		if p == "" {
			return unitPath
		}
		return p
	}
	for p := range f.BreachedBy {
		c := out[key(p)]
		c[0] = true
		out[key(p)] = c
	}
	for p := range f.SupervisedBy {
		c := out[key(p)]
		c[1] = true
		out[key(p)] = c
	}
	return out
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
			if p, ok := ownerOf(e.Data); ok {
				f.Breached = true
				if f.BreachedBy == nil {
					f.BreachedBy = map[string]bool{}
				}
				f.BreachedBy[p] = true
			}
		case "supervision", "escalate":
			p, ok := ownerOf(e.Data)
			if e.Type == "escalate" {
				p, ok = "", true
			}
			if ok {
				f.Supervised = true
				if f.SupervisedBy == nil {
					f.SupervisedBy = map[string]bool{}
				}
				f.SupervisedBy[p] = true
			}
		}
	}
	return f
}

// AddCharge adds to o what an order charges to an owner that does not hold it (the
// administration for its own stages, a unit that misrouted the order): overdue and overdue
// days when it breached, supervised when it was supervised.
func (o *Orders) AddCharge(breached, supervised bool, overdueDays int) {
	if breached {
		o.Overdue++
		o.OverdueDays += overdueDays
	}
	if supervised {
		o.Supervised++
	}
}

// WorkingDays counts working days between two instants on a unit's calendar.
type WorkingDays func(ctx context.Context, unitPath string, from, to time.Time) (int, error)

// AddOrder adds one order's facts to o, the figures of the unit holding it (unitPath).
// Rectified and explained count orders whose result was approved with that disposition; on
// time counts handled orders whose unit never breached a deadline of its own; overdue,
// overdue days and supervised count only what is charged to this unit (the rest goes to the
// other owners through AddCharge). The handling time runs from the order's opening to the
// approval of its result, in working days of the unit's calendar.
func (o *Orders) AddOrder(ctx context.Context, f OrderFacts, unitPath string, openedAt time.Time, overdueDays int, wd WorkingDays) error {
	charged := f.Charged(unitPath)[unitPath]
	f.Breached, f.Supervised = charged[0], charged[1]
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
