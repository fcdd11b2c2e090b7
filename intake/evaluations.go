package intake

import (
	"context"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"redress/apperr"
	"redress/models"
	"redress/store"
)

// EvaluationRequest is the body of POST /evaluations.
type EvaluationRequest struct {
	EvaluationID string            `json:"evaluation_id"`
	CaseNos      []string          `json:"case_nos"`
	Channel      string            `json:"channel"`
	Levels       map[string]string `json:"levels"`
	Tags         []string          `json:"tags"`
	Comment      string            `json:"comment"`
	RatedAt      *time.Time        `json:"rated_at"`
	Evaluator    Person            `json:"evaluator"`
}

// EvaluationResult answers an evaluation: the same body for a first submission and a retry.
type EvaluationResult struct {
	ID          string  `json:"id"`
	Bad         bool    `json:"bad"`
	WorkOrderID *string `json:"work_order_id"`
}

func (r *EvaluationRequest) validate(now time.Time) error {
	if err := requiredText("evaluation_id", r.EvaluationID, MaxEvalID); err != nil {
		return err
	}
	if !codeRe.MatchString(r.EvaluationID) {
		return apperr.Invalid("evaluation_id", "invalid_evaluation_id", "evaluation_id may hold letters, digits and . _ : / - only")
	}
	if len(r.CaseNos) == 0 {
		return apperr.Invalid("case_nos", "required", "case_nos needs at least one case number")
	}
	if len(r.CaseNos) > MaxCases {
		return apperr.Invalid("case_nos", "too_many", "at most %d cases in one rating", MaxCases)
	}
	seen := map[string]bool{}
	for _, c := range r.CaseNos {
		if c == "" || len(c) > MaxCaseNo || !codeRe.MatchString(c) {
			return apperr.Invalid("case_nos", "invalid_case_no", "case number %q is not valid", c)
		}
		if seen[c] {
			return apperr.Invalid("case_nos", "duplicate_case_no", "case number %q given twice", c)
		}
		seen[c] = true
	}
	if !models.IsChannel(r.Channel) {
		return apperr.Invalid("channel", "invalid_channel", "channel must be one of %v", models.Channels)
	}
	if r.Levels["overall"] == "" {
		return apperr.Invalid("levels.overall", "required", "the overall level is required")
	}
	if len(r.Levels) > MaxIndicators {
		return apperr.Invalid("levels", "too_many", "at most %d indicators", MaxIndicators)
	}
	for k, v := range r.Levels {
		if !indicatorRe.MatchString(k) {
			return apperr.Invalid("levels."+k, "invalid_indicator", "indicator names are lower-case letters, digits and _")
		}
		if !models.IsLevel(v) {
			return apperr.Invalid("levels."+k, "invalid_level", "level must be one of %v", models.Levels)
		}
	}
	if len(r.Tags) > MaxTags {
		return apperr.Invalid("tags", "too_many", "at most %d tags", MaxTags)
	}
	for _, t := range r.Tags {
		if t == "" || utf8.RuneCountInString(t) > MaxTagLen {
			return apperr.Invalid("tags", "invalid_tag", "a tag is 1–%d characters", MaxTagLen)
		}
	}
	if utf8.RuneCountInString(r.Comment) > MaxComment {
		return apperr.Invalid("comment", "too_long", "comment is longer than %d characters", MaxComment)
	}
	if r.RatedAt == nil {
		return apperr.Invalid("rated_at", "required", "rated_at is required (RFC 3339)")
	}
	if r.RatedAt.After(now.Add(clockSkew)) {
		return apperr.Invalid("rated_at", "in_future", "rated_at is in the future")
	}
	return r.Evaluator.validate("evaluator")
}

// bad reports whether any indicator is 不满意 or 非常不满意.
func bad(levels map[string]string) bool {
	for _, v := range levels {
		if models.IsBadLevel(v) {
			return true
		}
	}
	return false
}

// SubmitEvaluation stores an evaluation once. created=false means the same evaluation_id had
// been stored before (the answer is the stored one); other content under that id is a
// conflict. A bad evaluation opens exactly one work order, stored in the same transaction.
func (s *Service) SubmitEvaluation(ctx context.Context, scope store.Scope, r EvaluationRequest) (EvaluationResult, bool, error) {
	now := s.now()
	if err := r.validate(now); err != nil {
		return EvaluationResult{}, false, err
	}
	reqHash := requestHash(r)
	if res, found, err := s.existing(ctx, r.EvaluationID, reqHash); found || err != nil {
		return res, false, err
	}

	var cases []struct {
		CaseNo      string
		CompletedAt time.Time
		Path        string
	}
	if err := s.DB.WithContext(ctx).Table("service_cases").
		Select("service_cases.case_no, service_cases.completed_at, units.path").
		Joins("JOIN units ON units.id = service_cases.unit_id").
		Where("service_cases.case_no IN ?", r.CaseNos).Scan(&cases).Error; err != nil {
		return EvaluationResult{}, false, fmt.Errorf("evaluation %s: cases: %w", r.EvaluationID, err)
	}
	found := map[string]bool{}
	for _, c := range cases {
		if !scope.Covers(c.Path) {
			continue // out of the channel's scope reads as unknown
		}
		found[c.CaseNo] = true
		if r.RatedAt.Before(c.CompletedAt) {
			return EvaluationResult{}, false, apperr.Invalid("rated_at", "before_completion", "rated_at is before case %q was completed", c.CaseNo)
		}
	}
	for _, c := range r.CaseNos {
		if !found[c] {
			return EvaluationResult{}, false, apperr.Invalid("case_nos", "unknown_case", "case %q is not registered", c)
		}
	}

	isBad := bad(r.Levels)
	e := models.Evaluation{
		ID:                 uuid.NewString(),
		EvaluationID:       r.EvaluationID,
		Channel:            r.Channel,
		Overall:            r.Levels["overall"],
		Levels:             models.NewJSON(r.Levels),
		Bad:                isBad,
		Tags:               models.NewJSON(nonNil(r.Tags)),
		Comment:            r.Comment,
		RatedAt:            r.RatedAt.UTC(),
		ReceivedAt:         now,
		EvaluatorName:      s.PII.Seal(r.Evaluator.Name),
		EvaluatorPhone:     s.PII.Seal(r.Evaluator.Phone),
		EvaluatorIDNumber:  s.PII.Seal(r.Evaluator.IDNumber),
		EvaluatorPhoneHash: s.PII.Hash("phone", r.Evaluator.Phone),
		EvaluatorIDHash:    s.PII.Hash("id", r.Evaluator.IDNumber),
		RequestHash:        reqHash,
	}
	var wo *models.WorkOrder
	if isBad {
		id := uuid.NewString()
		e.WorkOrderID = &id
		wo = &models.WorkOrder{
			ID:           id,
			EvaluationID: e.ID,
			WorkflowID:   WorkflowID(id),
			State:        models.StatePendingDispatch,
			CaseNos:      models.NewJSON(r.CaseNos),
			Overall:      e.Overall,
			Levels:       e.Levels,
			Comment:      r.Comment,
			OpenedAt:     now,
			Deadlines:    models.NewJSON([]models.Deadline{}),
			UpdatedAt:    now,
		}
	}
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&e).Error; err != nil {
			return err
		}
		links := make([]models.EvaluationCase, len(r.CaseNos))
		for i, c := range r.CaseNos {
			links[i] = models.EvaluationCase{EvaluationID: e.ID, CaseNo: c}
		}
		if err := tx.Create(&links).Error; err != nil {
			return err
		}
		if wo == nil {
			return nil
		}
		if err := tx.Create(wo).Error; err != nil {
			return err
		}
		return tx.Create(&models.TimelineEvent{
			ID: wo.WorkflowID + "/0", WorkOrderID: wo.ID, Seq: 0, At: now, Actor: "system", Type: "opened",
			Data: models.NewJSON(map[string]any{"evaluation_id": r.EvaluationID, "channel": r.Channel, "case_nos": r.CaseNos}),
		}).Error
	})
	if err != nil {
		if isDuplicate(err) {
			// A concurrent retry of the same request won the race: answer what it stored.
			if res, found, err2 := s.existing(ctx, r.EvaluationID, reqHash); found || err2 != nil {
				return res, false, err2
			}
		}
		return EvaluationResult{}, false, fmt.Errorf("evaluation %s: store: %w", r.EvaluationID, err)
	}
	res := EvaluationResult{ID: e.ID, Bad: isBad, WorkOrderID: e.WorkOrderID}
	if wo != nil && s.Starter != nil {
		// The order is safe in the database; if this start fails, the reconciler retries it.
		if err := s.Starter.StartWorkOrder(ctx, wo.ID); err != nil {
			slog.WarnContext(ctx, "work order stored, workflow start deferred to reconciler", "work_order", wo.ID, "err", err)
		}
	}
	return res, true, nil
}

// requestHash fingerprints what a rating says rather than how it was spelled: rated_at as an
// instant and the cases in any order, so that a client's retry in another zone or order
// compares equal instead of conflicting.
func requestHash(r EvaluationRequest) string {
	t := r.RatedAt.UTC()
	r.RatedAt = &t
	r.CaseNos = sortedCopy(r.CaseNos)
	r.Tags = nonNil(r.Tags)
	return hashJSON(r)
}

// existing returns the stored answer for an evaluation_id, or a conflict if the stored
// submission differs from this one.
func (s *Service) existing(ctx context.Context, evaluationID, reqHash string) (EvaluationResult, bool, error) {
	var e models.Evaluation
	err := s.DB.WithContext(ctx).Select("id", "bad", "work_order_id", "request_hash").
		Where("evaluation_id = ?", evaluationID).Limit(1).Find(&e).Error
	if err != nil {
		return EvaluationResult{}, false, fmt.Errorf("evaluation %s: lookup: %w", evaluationID, err)
	}
	if e.ID == "" {
		return EvaluationResult{}, false, nil
	}
	if e.RequestHash != reqHash {
		return EvaluationResult{}, true, apperr.Conflict("evaluation_conflict", "evaluation_id %q was already used for a different rating", evaluationID)
	}
	return EvaluationResult{ID: e.ID, Bad: e.Bad, WorkOrderID: e.WorkOrderID}, true, nil
}

// WorkflowID derives a work order's workflow id from its id, so that starting it twice is
// refused by Temporal rather than creating a second workflow.
func WorkflowID(workOrderID string) string { return "work-order-" + workOrderID }

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
