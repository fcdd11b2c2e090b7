package activities

import (
	"context"
	"errors"
	"fmt"
	"go.temporal.io/sdk/temporal"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"redress/calendar"
	"redress/models"
)

// DefaultBudgets are the national defaults used where no policy on the unit's path sets a
// stage (DOMAIN.md: callback 3 working days, rectification 10 working days).
var DefaultBudgets = map[string]models.Budget{
	"sign":            {WorkingDays: intp(1)},
	"callback":        {WorkingDays: intp(3)},
	"rectify":         {WorkingDays: intp(10)},
	"appeal_decision": {WorkingDays: intp(5)},
	"review":          {WorkingDays: intp(3)},
	"feedback":        {NaturalDays: intp(7)},
	// The administration's own stages: the manual-dispatch queue and the ruling on a return.
	"dispatch": {WorkingDays: intp(1)},
	"ruling":   {WorkingDays: intp(1)},
}

// DefaultReopenWindow is how long a closed order may be reopened where no policy says
// (reopen_window).
var DefaultReopenWindow = models.Budget{NaturalDays: intp(30)}

func intp(n int) *int { return &n }

// Policy is the part of the nearest policy a work order needs, defaults filled in.
type Policy struct {
	Unit        string                   `json:"unit"` // code of the unit whose policy applies ("" = defaults)
	Deadlines   map[string]models.Budget `json:"deadlines"`
	RemindShare float64                  `json:"remind_share"` // remind when this share of the budget is left
	ReopenLimit int                      `json:"reopen_limit"`
	// ReopenWindow is how long after closing an order may be reopened (nil in policies loaded
	// before the window was policy: 30 natural days).
	ReopenWindow *models.Budget `json:"reopen_window,omitempty"`
}

// LoadPolicy returns the policy of the nearest unit on the path that has one, with each stage
// the policy leaves out taken from the next policy up, then from the national defaults.
func (a *Activities) LoadPolicy(ctx context.Context, unitPath string) (Policy, error) {
	codes := strings.Split(strings.Trim(unitPath, "/"), "/")
	var rows []struct {
		Code string
		Path string
		Doc  models.JSON[models.PolicyDoc]
	}
	err := a.DB.WithContext(ctx).Table("policies").
		Select("units.code, units.path, policies.doc").
		Joins("JOIN units ON units.id = policies.unit_id").
		Where("units.code IN ?", codes).Scan(&rows).Error
	if err != nil {
		return Policy{}, fmt.Errorf("load policy %s: %w", unitPath, err)
	}
	// Nearest first: the longest path is the deepest unit.
	sort.Slice(rows, func(i, j int) bool { return len(rows[i].Path) > len(rows[j].Path) })
	p := Policy{Deadlines: map[string]models.Budget{}, RemindShare: -1, ReopenLimit: -1}
	for _, r := range rows {
		if !strings.HasPrefix(unitPath, r.Path) {
			continue
		}
		if p.Unit == "" {
			p.Unit = r.Code
		}
		for name, b := range r.Doc.V.Deadlines {
			if _, set := p.Deadlines[name]; !set {
				p.Deadlines[name] = b
			}
		}
		if p.RemindShare < 0 && r.Doc.V.RemindBefore != "" {
			if f, err := parsePercent(r.Doc.V.RemindBefore); err == nil {
				p.RemindShare = f
			}
		}
		if p.ReopenLimit < 0 && r.Doc.V.ReopenLimit != nil {
			p.ReopenLimit = *r.Doc.V.ReopenLimit
		}
		if p.ReopenWindow == nil && r.Doc.V.ReopenWindow != nil {
			rw := *r.Doc.V.ReopenWindow
			p.ReopenWindow = &rw
		}
	}
	for name, b := range DefaultBudgets {
		if _, set := p.Deadlines[name]; !set {
			p.Deadlines[name] = b
		}
	}
	if p.RemindShare < 0 {
		p.RemindShare = 0.25
	}
	if p.ReopenLimit < 0 {
		p.ReopenLimit = 1
	}
	if p.ReopenWindow == nil {
		rw := DefaultReopenWindow
		p.ReopenWindow = &rw
	}
	return p, nil
}

func parsePercent(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || f < 0 || f > 100 {
		return 0, fmt.Errorf("bad percentage %q", s)
	}
	return f / 100, nil
}

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
}

// ErrDeadlineInvalid is the (non-retryable) failure of a budget that does not parse or that
// the calendar refuses: retrying gives the same answer.
const ErrDeadlineInvalid = "deadline_invalid"

// ComputeDeadline turns a budget, a start and pauses into a due instant with the unit's
// working-day calendar, and places the reminder where the policy's share of the budget is left.
func (a *Activities) ComputeDeadline(ctx context.Context, s DeadlineSpec) (DeadlineCalc, error) {
	b, err := calendar.BudgetFromModel(s.Budget)
	if err != nil {
		// The same budget fails the same way on every retry: said once, not retried.
		return DeadlineCalc{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("deadline %s: %v", s.Name, err), ErrDeadlineInvalid, err)
	}
	cal, err := a.Calendars.Calendar(ctx, s.UnitPath)
	if err != nil {
		return DeadlineCalc{}, fmt.Errorf("deadline %s: calendar: %w", s.Name, err)
	}
	pauses := make([]calendar.Pause, len(s.Pauses))
	for i, p := range s.Pauses {
		pauses[i] = calendar.Pause{From: p.From}
		if p.To != nil {
			pauses[i].To = *p.To
		}
	}
	res, err := cal.AddWithPauses(s.Start, b, pauses)
	var ync *calendar.YearNotCoveredError
	if errors.As(err, &ync) {
		return DeadlineCalc{UncoveredYear: ync.Year, CalendarVersion: cal.Version()}, nil
	}
	if err != nil {
		// The calendar refuses the budget itself (not a missing year): deterministic.
		return DeadlineCalc{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("deadline %s: %v", s.Name, err), ErrDeadlineInvalid, err)
	}
	out := DeadlineCalc{DueAt: res.DueAt, DueDate: res.DueDate, CalendarVersion: res.CalendarVersion, Paused: res.Paused}
	if res.Paused || s.RemindShare <= 0 {
		return out, nil
	}
	// The reminder goes off when the share is left: for day budgets at the end of the day on
	// which the used part of the budget runs out, for exact budgets at the exact instant.
	switch b.Unit {
	case calendar.WorkingDays, calendar.NaturalDays:
		used := int64(math.Floor(float64(b.N) * (1 - s.RemindShare)))
		if used < 1 || used >= b.N {
			break // too short a budget to warn before the last day; the breach still counts
		}
		rb := b
		rb.N = used
		rr, err := cal.AddWithPauses(s.Start, rb, pauses)
		if err == nil && !rr.Paused {
			out.RemindAt = rr.DueAt
		}
	default:
		total := res.DueAt.Sub(s.Start)
		out.RemindAt = s.Start.Add(time.Duration(float64(total) * (1 - s.RemindShare)))
	}
	return out, nil
}

// OverdueDays counts the working days by which a deadline was missed at the given instant.
func (a *Activities) OverdueDays(ctx context.Context, unitPath string, dueAt, at time.Time) (int, error) {
	cal, err := a.Calendars.Calendar(ctx, unitPath)
	if err != nil {
		return 0, fmt.Errorf("overdue days: %w", err)
	}
	n, err := cal.OverdueDays(dueAt, at)
	var ync *calendar.YearNotCoveredError
	if errors.As(err, &ync) {
		return 0, nil // counted again when the year is imported and the order recomputed
	}
	return n, err
}
