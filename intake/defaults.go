package intake

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"gorm.io/gorm"

	"redress/models"
)

// DefaultRun reports one run of the default-rating job (models.DefaultRun: the workflow that
// schedules the job reads it without linking intake's storage).
type DefaultRun = models.DefaultRun

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

	// The same grace and margin as the intake's refusal, so an accepted late upload and a
	// default never meet. The query takes the windows that closed at least the shortest grace
	// of any policy ago; each case is then held to its own policy's grace.
	minGrace, err := s.shortestGrace(ctx)
	if err != nil {
		return run, err
	}
	cutoff := now.Add(-clockSkew - minGrace)
	policies := map[string]RatingPolicy{}
	// Keyset over (rating_closes_at, case_no): cases still in a longer grace are passed over,
	// not read again by the next batch.
	var afterAt time.Time
	afterNo := ""
	for {
		if err := ctx.Err(); err != nil {
			return run, err
		}
		var due []struct {
			CaseNo         string
			RatingClosesAt time.Time
			Path           string
		}
		q := s.DB.WithContext(ctx).Table("service_cases").
			Select("service_cases.case_no, service_cases.rating_closes_at, units.path").
			Joins("JOIN units ON units.id = service_cases.unit_id").
			Where("service_cases.ratable AND service_cases.rating_closes_at <= ?", cutoff).
			Where("NOT EXISTS (SELECT 1 FROM evaluation_cases ec WHERE ec.case_no = service_cases.case_no)")
		if afterNo != "" {
			q = q.Where("(service_cases.rating_closes_at > ? OR (service_cases.rating_closes_at = ? AND service_cases.case_no > ?))", afterAt, afterAt, afterNo)
		}
		err := q.Order("service_cases.rating_closes_at, service_cases.case_no").Limit(batch).Scan(&due).Error
		if err != nil {
			return run, fmt.Errorf("default ratings: due cases: %w", err)
		}
		if len(due) == 0 {
			return run, nil
		}
		for _, c := range due {
			afterAt, afterNo = c.RatingClosesAt, c.CaseNo
			p, ok := policies[c.Path]
			if !ok {
				if p, err = s.ratingPolicy(ctx, c.Path); err != nil {
					return run, err
				}
				policies[c.Path] = p
			}
			until, err := s.uploadDeadline(ctx, c.Path, c.RatingClosesAt, p)
			if err != nil {
				// A calendar year missing for a working-day grace: wait for it rather than
				// cut a late upload short.
				slog.WarnContext(ctx, "default ratings: upload grace cannot be computed", "case_no", c.CaseNo, "err", err)
				continue
			}
			if now.Before(until.Add(clockSkew)) {
				continue // a late upload may still arrive
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

// shortestGrace is a lower bound of every policy's late-upload grace (a day budget counts at
// least its days of 24 hours), the default's included.
func (s *Service) shortestGrace(ctx context.Context) (time.Duration, error) {
	var docs []struct{ Doc models.JSON[models.PolicyDoc] }
	if err := s.DB.WithContext(ctx).Table("policies").Select("doc").Scan(&docs).Error; err != nil {
		return 0, fmt.Errorf("default ratings: policies: %w", err)
	}
	least := time.Duration(DefaultLateUploadGraceDays) * 24 * time.Hour
	for _, d := range docs {
		if d.Doc.V.LateUploadGrace == nil {
			continue
		}
		if g := graceLowerBound(*d.Doc.V.LateUploadGrace); g < least {
			least = g
		}
	}
	return least, nil
}

func graceLowerBound(b models.Budget) time.Duration {
	switch {
	case b.WorkingDays != nil:
		return time.Duration(*b.WorkingDays) * 24 * time.Hour
	case b.NaturalDays != nil:
		return time.Duration(*b.NaturalDays) * 24 * time.Hour
	case b.Hours != nil:
		return time.Duration(*b.Hours) * time.Hour
	case b.Duration != nil:
		if d, err := time.ParseDuration(*b.Duration); err == nil {
			return d
		}
	}
	return 0
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
		return tx.Create(&linkRow{EvaluationCase: models.EvaluationCase{EvaluationID: id, CaseNo: caseNo}, EvaluatorKey: keyDefault, Slot: 0}).Error
	})
	if err != nil {
		if isDuplicate(err) {
			return false, nil
		}
		return false, fmt.Errorf("default rating of %s: %w", caseNo, err)
	}
	return true, nil
}
