package intake

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"redress/models"
)

// DefaultRun reports one run of the default-rating job.
type DefaultRun struct {
	WindowsComputed int `json:"windows_computed"` // cases whose window could be computed only now
	Applied         int `json:"applied"`          // default ratings stored
	Pending         int `json:"pending"`          // cases still without a window (calendar missing)
}

// DefaultEvaluationID derives the evaluation_id of a case's default rating, so that a repeated
// or overlapping run stores it once.
func DefaultEvaluationID(caseNo string) string { return "default:" + caseNo }

// ApplyDefaultRatings gives every ratable case whose rating window has closed without any
// rating the policy's default rating (channel "default", kind "default"). It works from the
// state of the database, not from a clock of its own: a run after downtime catches up every
// window that closed meanwhile, and a repeated run finds nothing left. Default ratings never
// open a work order (there is no evaluator to call back) and are not checked for fraud.
// batch bounds the cases handled per query; the run loops until none is left.
func (s *Service) ApplyDefaultRatings(ctx context.Context, batch int) (DefaultRun, error) {
	if batch <= 0 {
		batch = 500
	}
	var run DefaultRun
	now := s.now()
	// Windows that could not be computed at registration (a calendar year missing then).
	var open []struct {
		CaseNo      string
		CompletedAt time.Time
		Path        string
	}
	if err := s.DB.WithContext(ctx).Table("service_cases").
		Select("service_cases.case_no, service_cases.completed_at, units.path").
		Joins("JOIN units ON units.id = service_cases.unit_id").
		Where("service_cases.ratable AND service_cases.rating_closes_at IS NULL").
		Limit(batch).Scan(&open).Error; err != nil {
		return run, fmt.Errorf("default ratings: cases without a window: %w", err)
	}
	for _, c := range open {
		t, err := s.WindowCloses(ctx, c.Path, c.CompletedAt)
		if err != nil {
			run.Pending++
			slog.WarnContext(ctx, "default ratings: rating window cannot be computed", "case_no", c.CaseNo, "err", err)
			continue
		}
		if err := s.DB.WithContext(ctx).Table("service_cases").Where("case_no = ?", c.CaseNo).Update("rating_closes_at", t).Error; err != nil {
			return run, fmt.Errorf("default ratings: window of %s: %w", c.CaseNo, err)
		}
		run.WindowsComputed++
	}

	// The same margin as the intake's refusal, so an accepted late rating and a default
	// never meet.
	cutoff := now.Add(-clockSkew)
	policies := map[string]RatingPolicy{}
	for {
		if err := ctx.Err(); err != nil {
			return run, err
		}
		var due []struct {
			CaseNo         string
			RatingClosesAt time.Time
			Path           string
		}
		err := s.DB.WithContext(ctx).Table("service_cases").
			Select("service_cases.case_no, service_cases.rating_closes_at, units.path").
			Joins("JOIN units ON units.id = service_cases.unit_id").
			Where("service_cases.ratable AND service_cases.rating_closes_at <= ?", cutoff).
			Where("NOT EXISTS (SELECT 1 FROM evaluation_cases ec WHERE ec.case_no = service_cases.case_no)").
			Order("service_cases.rating_closes_at").Limit(batch).Scan(&due).Error
		if err != nil {
			return run, fmt.Errorf("default ratings: due cases: %w", err)
		}
		if len(due) == 0 {
			return run, nil
		}
		for _, c := range due {
			p, ok := policies[c.Path]
			if !ok {
				if p, err = s.ratingPolicy(ctx, c.Path); err != nil {
					return run, err
				}
				policies[c.Path] = p
			}
			stored, err := s.storeDefault(ctx, c.CaseNo, c.Path, c.RatingClosesAt, p.DefaultLevel, now)
			if err != nil {
				return run, err
			}
			if stored {
				run.Applied++
			}
		}
		if len(due) < batch {
			return run, nil
		}
	}
}

// storeDefault stores one case's default rating; false when another run (or a rating) got
// there first.
func (s *Service) storeDefault(ctx context.Context, caseNo, unitPath string, closes time.Time, level string, now time.Time) (bool, error) {
	id := DefaultEvaluationID(caseNo)
	levels := map[string]string{"overall": level}
	e := evalRow{
		Evaluation: models.Evaluation{
			ID:           id, // derived: the primary key itself makes the insert idempotent
			EvaluationID: id,
			Channel:      models.ChannelDefault,
			Overall:      level,
			Levels:       models.NewJSON(levels),
			Tags:         models.NewJSON([]string{}),
			RatedAt:      closes.UTC(),
			ReceivedAt:   now,
			RequestHash:  hashJSON([]any{"default", caseNo, level}),
		},
		Kind:         KindDefault,
		EvaluatorKey: keyDefault,
		UnitPath:     unitPath,
	}
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&e).Error; err != nil {
			return err
		}
		if err := tx.Create(&models.EvaluationCase{EvaluationID: id, CaseNo: caseNo}).Error; err != nil {
			return err
		}
		return tx.Create(&slotRow{CaseNo: caseNo, EvaluatorKey: keyDefault, Slot: 0, EvaluationID: id}).Error
	})
	if err != nil {
		if isDuplicate(err) {
			return false, nil
		}
		return false, fmt.Errorf("default rating of %s: %w", caseNo, err)
	}
	return true, nil
}
