package intake

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"redress/apperr"
	"redress/store"
)

// FlagView is a fraud flag with its rating (identity masked) as administrators and auditors
// see it.
type FlagView struct {
	FraudFlag
	Rating EvaluationView `json:"rating"`
}

// ListFlags lists the fraud flags in scope, newest first; status filters (open, upheld,
// dismissed; empty for all).
func (s *Service) ListFlags(ctx context.Context, scope store.Scope, status string, page, size int) ([]FlagView, int64, error) {
	switch status {
	case "", FlagOpen, FlagUpheld, FlagDismissed:
	default:
		return nil, 0, apperr.Invalid("status", "invalid_status", "status is open, upheld or dismissed")
	}
	if size <= 0 || size > 200 {
		size = 50
	}
	if page <= 0 {
		page = 1
	}
	q := scope.Apply(s.DB.WithContext(ctx).Model(&FraudFlag{}), "unit_path")
	if status != "" {
		q = q.Where("status = ?", status)
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("fraud flags: count: %w", err)
	}
	var flags []FraudFlag
	if err := q.Order("created_at DESC, id").Offset((page - 1) * size).Limit(size).Find(&flags).Error; err != nil {
		return nil, 0, fmt.Errorf("fraud flags: %w", err)
	}
	out := make([]FlagView, 0, len(flags))
	for _, f := range flags {
		v, err := s.evaluationView(ctx, f.EvaluationID)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, FlagView{FraudFlag: f, Rating: v})
	}
	return out, total, nil
}

func (s *Service) evaluationView(ctx context.Context, id string) (EvaluationView, error) {
	var r evalRow
	if err := s.DB.WithContext(ctx).Table("evaluations").Where("id = ?", id).Take(&r).Error; err != nil {
		return EvaluationView{}, fmt.Errorf("evaluation %s: %w", id, err)
	}
	var cs []string
	if err := s.DB.WithContext(ctx).Table("evaluation_cases").Where("evaluation_id = ?", id).Order("case_no").Pluck("case_no", &cs).Error; err != nil {
		return EvaluationView{}, fmt.Errorf("evaluation %s: cases: %w", id, err)
	}
	return EvaluationView{
		ID: r.ID, EvaluationID: r.EvaluationID, Kind: r.Kind, FollowUpOf: r.FollowUpOf, Channel: r.Channel,
		Levels: r.Levels.V, Bad: r.Bad, Excluded: r.Excluded, Comment: r.Comment, RatedAt: r.RatedAt,
		CaseNos: cs, WorkOrderID: r.WorkOrderID,
		Evaluator: MaskPerson(s.PII, r.EvaluatorName, r.EvaluatorPhone, r.EvaluatorIDNumber),
	}, nil
}

// RulingRequest is an administrator's ruling on a flag: upheld (the rating is fraudulent and
// leaves the statistics) or not (dismissed: the rating stays counted).
type RulingRequest struct {
	Upheld *bool  `json:"upheld"`
	Note   string `json:"note"`
}

// RuleFlag records the ruling once; a flag already ruled answers 409. An upheld flag marks its
// rating excluded (not adopted) in the same transaction; the rating itself is never deleted.
func (s *Service) RuleFlag(ctx context.Context, scope store.Scope, id, by string, r RulingRequest) (FlagView, error) {
	if r.Upheld == nil {
		return FlagView{}, apperr.Invalid("upheld", "required", "upheld (true or false) is required")
	}
	note := strings.TrimSpace(r.Note)
	if note == "" {
		return FlagView{}, apperr.Invalid("note", "required", "a ruling needs a note")
	}
	if utf8.RuneCountInString(note) > 1000 {
		return FlagView{}, apperr.Invalid("note", "too_long", "note is longer than 1000 characters")
	}
	var f FraudFlag
	if err := scope.Apply(s.DB.WithContext(ctx).Where("id = ?", id), "unit_path").Limit(1).Find(&f).Error; err != nil {
		return FlagView{}, fmt.Errorf("rule flag %s: %w", id, err)
	}
	if f.ID == "" {
		return FlagView{}, apperr.NotFound("fraud flag")
	}
	status := FlagDismissed
	if *r.Upheld {
		status = FlagUpheld
	}
	now := s.now()
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(&FraudFlag{}).Where("id = ? AND status = ?", id, FlagOpen).
			Updates(map[string]any{"status": status, "ruled_by": by, "ruled_at": now, "ruling_note": note})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.Conflict("already_ruled", "the flag has been ruled already")
		}
		if !*r.Upheld {
			return nil
		}
		return tx.Table("evaluations").Where("id = ?", f.EvaluationID).
			Updates(map[string]any{"excluded": true, "excluded_at": now}).Error
	})
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return FlagView{}, err
		}
		return FlagView{}, fmt.Errorf("rule flag %s: %w", id, err)
	}
	f.Status, f.RuledBy, f.RuledAt, f.RulingNote = status, by, &now, note
	v, err := s.evaluationView(ctx, f.EvaluationID)
	if err != nil {
		return FlagView{}, err
	}
	return FlagView{FraudFlag: f, Rating: v}, nil
}
