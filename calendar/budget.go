package calendar

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"redress/models"
)

// Unit is the kind of a budget, named as in the API.
type Unit string

// The budget kinds.
const (
	WorkingDays Unit = "working_days"
	NaturalDays Unit = "natural_days"
	Hours       Unit = "hours"
	Duration    Unit = "duration"
)

// Limits keep a typo such as 100000 days from looping through a calendar or overflowing a
// time.Duration; no real deadline comes near them.
const (
	maxDays  = 36600      // about 100 years
	maxHours = 24 * 36600 // about 100 years
)

// Budget is exactly one of N working days, N natural days, N hours, or the Go duration D.
type Budget struct {
	Unit Unit
	N    int64         // days or hours; unused for Duration
	D    time.Duration // Duration only
	// ExtendToWorkingDay (natural days only): a period whose last day is a rest day ends on the
	// next working day instead. Policy, default off (e.g. off for the rating window).
	ExtendToWorkingDay bool
}

// WorkingDaysBudget is n working days.
func WorkingDaysBudget(n int64) Budget { return Budget{Unit: WorkingDays, N: n} }

// NaturalDaysBudget is n natural days.
func NaturalDaysBudget(n int64) Budget { return Budget{Unit: NaturalDays, N: n} }

// HoursBudget is n exact hours.
func HoursBudget(n int64) Budget { return Budget{Unit: Hours, N: n} }

// DurationBudget is the exact duration d.
func DurationBudget(d time.Duration) Budget { return Budget{Unit: Duration, D: d} }

// Validate checks the kind and range: days ≥ 0 (0 means the same day), hours and durations > 0.
func (b Budget) Validate() error {
	switch b.Unit {
	case WorkingDays, NaturalDays:
		if b.N < 0 || b.N > maxDays {
			return fmt.Errorf("calendar: %s %d: want 0 to %d", b.Unit, b.N, maxDays)
		}
	case Hours:
		if b.N <= 0 || b.N > maxHours {
			return fmt.Errorf("calendar: hours %d: want 1 to %d", b.N, maxHours)
		}
	case Duration:
		if b.D <= 0 || b.D > maxHours*time.Hour {
			return fmt.Errorf("calendar: duration %s: want more than 0 and at most %dh", b.D, maxHours)
		}
	default:
		return fmt.Errorf("calendar: budget unit %q: want working_days, natural_days, hours or duration", b.Unit)
	}
	if b.ExtendToWorkingDay && b.Unit != NaturalDays {
		return fmt.Errorf("calendar: extend to working day applies to natural_days only, not %s", b.Unit)
	}
	return nil
}

// String renders the budget as in the API ("3 working_days", "90s duration").
func (b Budget) String() string {
	if b.Unit == Duration {
		return b.D.String() + " duration"
	}
	s := strconv.FormatInt(b.N, 10) + " " + string(b.Unit)
	if b.ExtendToWorkingDay {
		s += " (extended to a working day)"
	}
	return s
}

// ParseBudget reads the query form of GET /calendar/deadline: unit working_days, natural_days
// or hours with an integer value, or duration with a Go duration such as "90s".
func ParseBudget(unit, value string) (Budget, error) {
	var b Budget
	switch Unit(unit) {
	case WorkingDays, NaturalDays, Hours:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return Budget{}, fmt.Errorf("calendar: budget %q: want a whole number of %s", value, unit)
		}
		b = Budget{Unit: Unit(unit), N: n}
	case Duration:
		d, err := time.ParseDuration(value)
		if err != nil {
			return Budget{}, fmt.Errorf("calendar: budget %q: want a Go duration such as \"90s\"", value)
		}
		b = DurationBudget(d)
	default:
		return Budget{}, fmt.Errorf("calendar: budget unit %q: want working_days, natural_days, hours or duration", unit)
	}
	return b, b.Validate()
}

// BudgetFromModel converts the organisation file's budget (exactly one field set).
func BudgetFromModel(m models.Budget) (Budget, error) {
	var out []Budget
	if m.WorkingDays != nil {
		out = append(out, WorkingDaysBudget(int64(*m.WorkingDays)))
	}
	if m.NaturalDays != nil {
		out = append(out, NaturalDaysBudget(int64(*m.NaturalDays)))
	}
	if m.Hours != nil {
		out = append(out, HoursBudget(int64(*m.Hours)))
	}
	if m.Duration != nil {
		d, err := time.ParseDuration(*m.Duration)
		if err != nil {
			return Budget{}, fmt.Errorf("calendar: duration %q: %w", *m.Duration, err)
		}
		out = append(out, DurationBudget(d))
	}
	if len(out) != 1 {
		return Budget{}, errors.New("calendar: budget needs exactly one of working_days, natural_days, hours, duration")
	}
	return out[0], out[0].Validate()
}

// Pause is an interval during which the clock stands still; To is zero while it is open.
type Pause struct {
	From time.Time
	To   time.Time
}

// Result is a computed deadline.
type Result struct {
	// DueDate is the last day allowed, YYYY-MM-DD in China Standard Time; empty when Paused.
	DueDate string `json:"due_date,omitempty"`
	// DueAt is the instant the deadline passes (24:00 of DueDate for day budgets), in UTC; zero
	// when Paused.
	DueAt time.Time `json:"due_at,omitzero"`
	// CalendarVersion identifies the calendar data used (see the package documentation).
	CalendarVersion string `json:"calendar_version"`
	// Paused is true when an open pause began before the deadline passed: there is no due
	// instant until the pause ends.
	Paused bool `json:"paused"`
}
