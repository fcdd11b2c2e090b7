package activities

import (
	"context"
	"errors"
	"fmt"
	"go.temporal.io/sdk/temporal"
	"math"
	"time"

	"go.temporal.io/sdk/activity"
	"gorm.io/gorm"

	"redress/calendar"
	"redress/models"
	"redress/scheme"
	"redress/store"
)

// LoadPolicy returns the effective policy of the unit at unitPath (store.EffectivePolicy:
// the nearest policy on the path wins, stage by stage, over the national defaults). The
// work-order workflow calls it as the activity "LoadPolicy"; its name, argument and result
// are recorded in histories and stay.
func (a *Activities) LoadPolicy(ctx context.Context, unitPath string) (Policy, error) {
	return store.EffectivePolicy(ctx, a.DB, unitPath)
}

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
		if nb, ok := p.Deadlines[s.Name]; ok && !scheme.SameBudget(nb, s.Budget) {
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

// deadlineErrorText says in Chinese which deadline cannot be computed and what to do.
func deadlineErrorText(s DeadlineSpec) string {
	stage := scheme.StageLabel(s.Name)
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
