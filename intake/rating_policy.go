package intake

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"redress/calendar"
	"redress/calendar/calendardb"
	"redress/models"
)

// Rating-policy defaults (DOMAIN.md): a 7-natural-day window after completion, 基本满意 as
// the default rating (Guangdong/Shenzhen), one follow-up rating.
const (
	DefaultWindowDays = 7
	// DefaultLateUploadGraceDays: a rating given inside the window is accepted when it arrives
	// up to 3 natural days after the window's end (finding 8 of issue 15: terminals after an
	// outage).
	DefaultLateUploadGraceDays = 3
	DefaultFollowUpLimit       = 1
	DefaultLevel               = models.BasicallySatisfied
)

// RatingPolicy is the part of the nearest policy the intake needs, defaults filled in.
type RatingPolicy struct {
	Window        models.Budget
	DefaultLevel  string
	FollowUpLimit int
	// LateUploadGrace runs from the window's end; a rating given in the window that arrives
	// within it is accepted.
	LateUploadGrace models.Budget
}

// CalendarSource gives the working-day calendar of a unit (a *calendardb.Cache in production).
type CalendarSource interface {
	Calendar(ctx context.Context, unitPath string) (*calendar.Calendar, error)
}

// calendarCache is the fallback calendar source when the Service was built without one.
var (
	cacheOnce sync.Mutex
	caches    = map[any]*calendardb.Cache{}
)

func (s *Service) calendars() CalendarSource {
	if s.Calendars != nil {
		return s.Calendars
	}
	cacheOnce.Lock()
	defer cacheOnce.Unlock()
	c := caches[s.DB]
	if c == nil {
		c = calendardb.NewCache(s.DB, 0)
		caches[s.DB] = c
	}
	return c
}

// ratingPolicy returns the rating rules of the nearest policy above unitPath; each rule a
// policy leaves out is taken from the next policy up, then from the defaults.
func (s *Service) ratingPolicy(ctx context.Context, unitPath string) (RatingPolicy, error) {
	codes := strings.Split(strings.Trim(unitPath, "/"), "/")
	var rows []struct {
		Path string
		Doc  models.JSON[models.PolicyDoc]
	}
	err := s.DB.WithContext(ctx).Table("policies").
		Select("units.path, policies.doc").
		Joins("JOIN units ON units.id = policies.unit_id").
		Where("units.code IN ?", codes).Scan(&rows).Error
	if err != nil {
		return RatingPolicy{}, fmt.Errorf("rating policy %s: %w", unitPath, err)
	}
	sort.Slice(rows, func(i, j int) bool { return len(rows[i].Path) > len(rows[j].Path) })
	var p RatingPolicy
	windowSet, followSet, graceSet := false, false, false
	for _, r := range rows {
		if !strings.HasPrefix(unitPath, r.Path) {
			continue
		}
		if !windowSet && r.Doc.V.RatingWindow != nil {
			p.Window, windowSet = *r.Doc.V.RatingWindow, true
		}
		if p.DefaultLevel == "" && models.IsLevel(r.Doc.V.DefaultLevel) {
			p.DefaultLevel = r.Doc.V.DefaultLevel
		}
		if !followSet && r.Doc.V.FollowUps != nil && *r.Doc.V.FollowUps >= 0 {
			p.FollowUpLimit, followSet = *r.Doc.V.FollowUps, true
		}
		if !graceSet && r.Doc.V.LateUploadGrace != nil {
			p.LateUploadGrace, graceSet = *r.Doc.V.LateUploadGrace, true
		}
	}
	if !graceSet {
		n := DefaultLateUploadGraceDays
		p.LateUploadGrace = models.Budget{NaturalDays: &n}
	}
	if !windowSet {
		n := DefaultWindowDays
		p.Window = models.Budget{NaturalDays: &n}
	}
	if p.DefaultLevel == "" {
		p.DefaultLevel = DefaultLevel
	}
	if !followSet {
		p.FollowUpLimit = DefaultFollowUpLimit
	}
	return p, nil
}

// WindowCloses computes when the rating window of a case completed at completedAt closes:
// the policy's budget counted by the calendar of the case's unit from the completion (the day
// of completion does not count; natural days end at 24:00 China time), never extended to a
// working day (ExtendToWorkingDay is off for the rating window). Registration freezes it into
// the case; tools that seed cases straight into the database use it to do the same.
func (s *Service) WindowCloses(ctx context.Context, unitPath string, completedAt time.Time) (time.Time, error) {
	p, err := s.ratingPolicy(ctx, unitPath)
	if err != nil {
		return time.Time{}, err
	}
	b, err := calendar.BudgetFromModel(p.Window)
	if err != nil {
		return time.Time{}, fmt.Errorf("rating window of %s: %w", unitPath, err)
	}
	b.ExtendToWorkingDay = false
	cal, err := s.calendars().Calendar(ctx, unitPath)
	if err != nil {
		return time.Time{}, fmt.Errorf("rating window of %s: calendar: %w", unitPath, err)
	}
	res, err := cal.Add(completedAt, b)
	if err != nil {
		return time.Time{}, fmt.Errorf("rating window of %s: %w", unitPath, err)
	}
	return res.DueAt.UTC(), nil
}

// UploadDeadline is when the late-upload grace of a window that closed at closes ends: the
// policy's late_upload_grace counted from the window's end (day budgets count whole days after
// the window's last day, so 3 natural days after a window ending at 24:00 of the 10th end at
// 24:00 of the 13th). A rating given inside the window is accepted until then.
func (s *Service) UploadDeadline(ctx context.Context, unitPath string, closes time.Time) (time.Time, error) {
	p, err := s.ratingPolicy(ctx, unitPath)
	if err != nil {
		return time.Time{}, err
	}
	return s.uploadDeadline(ctx, unitPath, closes, p)
}

func (s *Service) uploadDeadline(ctx context.Context, unitPath string, closes time.Time, p RatingPolicy) (time.Time, error) {
	b, err := calendar.BudgetFromModel(p.LateUploadGrace)
	if err != nil {
		return time.Time{}, fmt.Errorf("late upload grace of %s: %w", unitPath, err)
	}
	b.ExtendToWorkingDay = false
	start := closes
	if b.Unit == calendar.WorkingDays || b.Unit == calendar.NaturalDays {
		// The window ends at 24:00 of its last day: counting starts the day after that day,
		// not the day after the next midnight.
		start = closes.Add(-time.Nanosecond)
	}
	cal, err := s.calendars().Calendar(ctx, unitPath)
	if err != nil {
		return time.Time{}, fmt.Errorf("late upload grace of %s: calendar: %w", unitPath, err)
	}
	res, err := cal.Add(start, b)
	if err != nil {
		return time.Time{}, fmt.Errorf("late upload grace of %s: %w", unitPath, err)
	}
	return res.DueAt.UTC(), nil
}
