package intake

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"redress/apperr"
	"redress/models"
	"redress/store"
)

// CaseRequest is the body of POST /service-cases.
type CaseRequest struct {
	CaseNo      string      `json:"case_no"`
	ServiceItem ServiceItem `json:"service_item"`
	Unit        string      `json:"unit"`
	Staff       string      `json:"staff,omitempty"`
	Channel     string      `json:"channel"`
	CompletedAt *time.Time  `json:"completed_at"`
	Applicant   Person      `json:"applicant"`
}

// ServiceItem is the kind of business of a case.
type ServiceItem struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// CaseResult answers a case registration.
type CaseResult struct {
	ID     string `json:"id"`
	CaseNo string `json:"case_no"`
}

func (r *CaseRequest) validate(now time.Time) error {
	if err := requiredText("case_no", r.CaseNo, MaxCaseNo); err != nil {
		return err
	}
	if !codeRe.MatchString(r.CaseNo) {
		return apperr.Invalid("case_no", "invalid_case_no", "case_no may hold letters, digits and . _ : / - only")
	}
	if err := requiredText("service_item.code", r.ServiceItem.Code, MaxCaseNo); err != nil {
		return err
	}
	if err := requiredText("service_item.name", r.ServiceItem.Name, MaxItemName); err != nil {
		return err
	}
	if err := requiredText("unit", r.Unit, 64); err != nil {
		return err
	}
	if !models.IsChannel(r.Channel) {
		return apperr.Invalid("channel", "invalid_channel", "channel must be one of %v", models.Channels)
	}
	if r.CompletedAt == nil {
		return apperr.Invalid("completed_at", "required", "completed_at is required (RFC 3339)")
	}
	if r.CompletedAt.After(now.Add(clockSkew)) {
		return apperr.Invalid("completed_at", "in_future", "completed_at is in the future")
	}
	return r.Applicant.validate("applicant")
}

// RegisterCase stores a completed service case. Re-posting the same case_no with the same
// content is a no-op (created=false); with other content it is a conflict. The unit must be
// inside the caller's scope, and an unknown or out-of-scope unit answers the same error.
func (s *Service) RegisterCase(ctx context.Context, scope store.Scope, r CaseRequest) (CaseResult, bool, error) {
	if err := r.validate(s.now()); err != nil {
		return CaseResult{}, false, err
	}
	completed := r.CompletedAt.UTC().Truncate(time.Microsecond)
	var unit models.Unit
	if err := s.DB.WithContext(ctx).Where("code = ?", r.Unit).First(&unit).Error; err != nil || !scope.Covers(unit.Path) {
		if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
			return CaseResult{}, false, fmt.Errorf("register case %s: unit: %w", r.CaseNo, err)
		}
		return CaseResult{}, false, apperr.Invalid("unit", "unknown_unit", "unit %q is not known", r.Unit)
	}
	var staffID *string
	if r.Staff != "" {
		var st models.Staff
		if err := s.DB.WithContext(ctx).Where("id = ? AND unit_id = ?", r.Staff, unit.ID).First(&st).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return CaseResult{}, false, apperr.Invalid("staff", "unknown_staff", "staff %q is not known in unit %q", r.Staff, r.Unit)
			}
			return CaseResult{}, false, fmt.Errorf("register case %s: staff: %w", r.CaseNo, err)
		}
		staffID = &st.ID
	}
	// The content hash covers what the client sent (identity in clear, never stored), so a
	// retry compares equal and a changed case is detected.
	content := hashJSON([]any{r.ServiceItem, r.Unit, r.Staff, r.Channel, completed.Format(time.RFC3339Nano), r.Applicant})
	c := models.ServiceCase{
		ID:                uuid.NewString(),
		CaseNo:            r.CaseNo,
		ItemCode:          r.ServiceItem.Code,
		ItemName:          r.ServiceItem.Name,
		UnitID:            unit.ID,
		StaffID:           staffID,
		Channel:           r.Channel,
		CompletedAt:       completed,
		ApplicantName:     s.PII.Seal(r.Applicant.Name),
		ApplicantPhone:    s.PII.Seal(r.Applicant.Phone),
		ApplicantIDNumber: s.PII.Seal(r.Applicant.IDNumber),
		ApplicantIDHash:   s.PII.Hash("id", r.Applicant.IDNumber),
		ContentHash:       content,
		CreatedAt:         s.now(),
	}
	err := s.DB.WithContext(ctx).Create(&c).Error
	if err == nil {
		return CaseResult{ID: c.ID, CaseNo: c.CaseNo}, true, nil
	}
	if !isDuplicate(err) {
		return CaseResult{}, false, fmt.Errorf("register case %s: %w", r.CaseNo, err)
	}
	var existing models.ServiceCase
	if err := s.DB.WithContext(ctx).Where("case_no = ?", r.CaseNo).First(&existing).Error; err != nil {
		return CaseResult{}, false, fmt.Errorf("register case %s: reload: %w", r.CaseNo, err)
	}
	if existing.ContentHash != content {
		return CaseResult{}, false, apperr.Conflict("case_conflict", "case %q is already registered with other content", r.CaseNo)
	}
	return CaseResult{ID: existing.ID, CaseNo: existing.CaseNo}, false, nil
}
