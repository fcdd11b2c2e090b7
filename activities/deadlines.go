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

	"go.temporal.io/sdk/activity"
	"gorm.io/gorm"

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

// ComputeDeadline turns a budget, a start and pauses into a due instant with the unit's
// working-day calendar, and places the reminder where the policy's share of the budget is left.
//
// A budget that cannot be computed (a policy stored before budgets were bounded, issue 17
// finding 3: 100 000 000 working days) used to retry forever out of sight: the order stuck in
// pending_dispatch with no unit, invisible to everyone, and fixing the policy did not free
// it, because every retry computed the budget of the policy read before. Now each attempt
// falls back on the unit's current policy for the stage, and while neither computes, the
// error is recorded on the order (deadline_error, in Chinese) with the order placed in its
// administration's view; the next attempt after the policy is fixed (at most a minute
// later: the activities' retry interval) computes the new budget and clears the error.
func (a *Activities) ComputeDeadline(ctx context.Context, s DeadlineSpec) (DeadlineCalc, error) {
	out, err := a.computeDeadline(ctx, s)
	if err == nil || s.WorkOrderID == "" || errors.Is(err, errCalendarLoad) {
		if err == nil && s.WorkOrderID != "" && (retried(ctx) || s.Retry) {
			if cerr := a.setDeadlineError(ctx, s, ""); cerr != nil {
				return DeadlineCalc{}, cerr
			}
		}
		return out, err
	}
	if p, perr := a.LoadPolicy(ctx, s.UnitPath); perr == nil {
		if nb, ok := p.Deadlines[s.Name]; ok && !sameBudget(nb, s.Budget) {
			s2 := s
			s2.Budget = nb
			if out2, err2 := a.computeDeadline(ctx, s2); err2 == nil {
				out2.Budget = &nb
				if cerr := a.setDeadlineError(ctx, s, ""); cerr != nil {
					return DeadlineCalc{}, cerr
				}
				return out2, nil
			}
		}
	}
	if rerr := a.setDeadlineError(ctx, s, deadlineErrorText(s)); rerr != nil {
		return DeadlineCalc{}, errors.Join(err, rerr)
	}
	return DeadlineCalc{}, err
}

// errCalendarLoad marks a failure to read the calendar (the database), not the budget's.
var errCalendarLoad = errors.New("calendar")

// retried reports whether this is a retry of the activity (a first attempt has no error to
// clear; not an activity at all in direct calls).
func retried(ctx context.Context) bool {
	return activity.IsActivity(ctx) && activity.GetInfo(ctx).Attempt > 1
}

func sameBudget(a, b models.Budget) bool {
	eq := func(x, y *int) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return eq(a.WorkingDays, b.WorkingDays) && eq(a.NaturalDays, b.NaturalDays) && eq(a.Hours, b.Hours) &&
		(a.Duration == nil) == (b.Duration == nil) && (a.Duration == nil || *a.Duration == *b.Duration)
}

// setDeadlineError records (or, with "", clears) why the order's deadline cannot be computed.
// An order not yet dispatched has no unit on its row and was seen by nobody: it is placed in
// its administration's view (the manual-dispatch queue's place) so that it is not lost.
func (a *Activities) setDeadlineError(ctx context.Context, s DeadlineSpec, text string) error {
	q := a.DB.WithContext(ctx).Model(&models.WorkOrder{}).Where("id = ?", s.WorkOrderID)
	upd := map[string]any{"deadline_error": text}
	if text == "" {
		q = q.Where("deadline_error <> ''")
	} else if place := s.AdminPath; place != "" || s.UnitPath != "" {
		if place == "" {
			place = s.UnitPath
		}
		upd["unit_path"] = gorm.Expr("CASE WHEN unit_path = '' THEN ? ELSE unit_path END", place)
	}
	if err := q.UpdateColumns(upd).Error; err != nil {
		return fmt.Errorf("deadline %s: record the error on order %s: %w", s.Name, s.WorkOrderID, err)
	}
	return nil
}

// stageNames are the stages as the administrators' pages name them.
var stageNames = map[string]string{
	"sign": "签收", "callback": "回访", "rectify": "整改", "appeal_decision": "申诉审核", "review": "复核",
	"feedback": "反馈", "dispatch": "派发", "ruling": "裁定",
}

// deadlineErrorText says in Chinese which deadline cannot be computed and what to do.
func deadlineErrorText(s DeadlineSpec) string {
	stage := stageNames[s.Name]
	if stage == "" {
		stage = s.Name
	}
	var budget string
	switch b := s.Budget; {
	case b.WorkingDays != nil:
		budget = fmt.Sprintf("%d 个工作日", *b.WorkingDays)
	case b.NaturalDays != nil:
		budget = fmt.Sprintf("%d 个自然日", *b.NaturalDays)
	case b.Hours != nil:
		budget = fmt.Sprintf("%d 小时", *b.Hours)
	case b.Duration != nil:
		budget = "时长 " + *b.Duration
	default:
		budget = "未设置"
	}
	return fmt.Sprintf("无法计算%s期限：适用政策的%s时限（%s）超出可计算范围。请管理员修正本单位或上级单位的时限政策，修正后工单将自动继续办理。", stage, stage, budget)
}

func (a *Activities) computeDeadline(ctx context.Context, s DeadlineSpec) (DeadlineCalc, error) {
	b, err := calendar.BudgetFromModel(s.Budget)
	if err != nil {
		// The same budget fails the same way on every retry: said once, not retried.
		return DeadlineCalc{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf("deadline %s: %v", s.Name, err), ErrDeadlineInvalid, err)
	}
	cal, err := a.Calendars.Calendar(ctx, s.UnitPath)
	if err != nil {
		return DeadlineCalc{}, fmt.Errorf("deadline %s: %w: %w", s.Name, errCalendarLoad, err)
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
