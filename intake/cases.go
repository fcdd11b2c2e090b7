package intake

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	// IntakeFailed marks a case whose window intake failed (受理失败): it is stored for the
	// record but opens no rating (a rating of it is refused, and it gets no default rating).
	IntakeFailed bool `json:"intake_failed,omitempty"`
	// ApplicantType is personal (个人) or legal (法人); PromiseKind is promise (承诺件) or
	// immediate (即办件). Both optional: a case that does not say is pushed as 个人 and 承诺件.
	ApplicantType string `json:"applicant_type,omitempty"`
	PromiseKind   string `json:"promise_kind,omitempty"`
}

// ValidApplicantType and ValidPromiseKind check a case's kinds (empty: not stated).
func ValidApplicantType(v string) bool {
	return v == "" || v == models.ApplicantPersonal || v == models.ApplicantLegal
}

// ValidPromiseKind: see ValidApplicantType.
func ValidPromiseKind(v string) bool {
	return v == "" || v == models.PromiseCommitted || v == models.PromiseImmediate
}

// caseRow is a service_cases row with the columns of migration 00004.
type caseRow struct {
	models.ServiceCase `gorm:"embedded"`
	Ratable            bool
	RatingClosesAt     *time.Time
}

func (caseRow) TableName() string { return "service_cases" }

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
	if r.CompletedAt.Before(EarliestCompletion) {
		// A year-1 or 1900 completion would put the case's rating window in the past at once
		// (and skip it); nothing rated under the scheme was completed before it began.
		return apperr.Invalid("completed_at", "too_early", "completed_at is before the 好差评 scheme began (2019-12-01)")
	}
	if !ValidApplicantType(r.ApplicantType) {
		return apperr.Invalid("applicant_type", "invalid_applicant_type", "applicant_type must be %s or %s", models.ApplicantPersonal, models.ApplicantLegal)
	}
	if !ValidPromiseKind(r.PromiseKind) {
		return apperr.Invalid("promise_kind", "invalid_promise_kind", "promise_kind must be %s or %s", models.PromiseCommitted, models.PromiseImmediate)
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
	hashed := []any{r.ServiceItem, r.Unit, r.Staff, r.Channel, completed.Format(time.RFC3339Nano), r.Applicant}
	if r.IntakeFailed {
		// Only when set, so that the hashes of cases stored before the field existed hold.
		hashed = append(hashed, "intake_failed")
	}
	if r.ApplicantType != "" || r.PromiseKind != "" {
		// Likewise only when stated (migration 00024).
		hashed = append(hashed, "kinds:"+r.ApplicantType+"/"+r.PromiseKind)
	}
	content := hashJSON(hashed)
	var closes *time.Time
	if !r.IntakeFailed {
		// The window is frozen at registration (a later policy change does not move it). A
		// calendar that cannot compute it yet (a year not imported) leaves it NULL: the
		// default-rating job fills it in once it can, and says so in its log.
		if t, err := s.WindowCloses(ctx, unit.Path, completed); err != nil {
			slog.WarnContext(ctx, "rating window not computed yet", "case_no", r.CaseNo, "err", err)
		} else {
			closes = &t
		}
	}
	c := caseRow{Ratable: !r.IntakeFailed, RatingClosesAt: closes, ServiceCase: models.ServiceCase{
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
		ApplicantType:     r.ApplicantType,
		PromiseKind:       r.PromiseKind,
	}}
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

// MaxBulkCases bounds one bulk registration; a channel with more sends several requests.
const MaxBulkCases = 500

// BulkCasesRequest is the body of POST /service-cases/bulk.
type BulkCasesRequest struct {
	Cases []CaseRequest `json:"cases"`
}

// BulkCaseResult answers one case of a bulk registration on its own: status 201 (created),
// 200 (identical repeat) or the status of its error, with the error in API.md's shape.
type BulkCaseResult struct {
	Index  int        `json:"index"`
	CaseNo string     `json:"case_no"`
	Status int        `json:"status"`
	ID     string     `json:"id,omitempty"`
	Error  *ItemError `json:"error,omitempty"`
}

// ItemError is API.md's error detail for one item of a bulk answer.
type ItemError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// RegisterCases registers each case of a bulk request independently (no all-or-nothing: a
// refused case does not hold back the others). Only a failure of the database itself aborts
// the whole request, so that the channel retries it (every registration is idempotent).
func (s *Service) RegisterCases(ctx context.Context, scope store.Scope, r BulkCasesRequest) ([]BulkCaseResult, error) {
	if len(r.Cases) == 0 {
		return nil, apperr.Invalid("cases", "required", "cases needs at least one case")
	}
	if len(r.Cases) > MaxBulkCases {
		return nil, apperr.Invalid("cases", "too_many", "at most %d cases in one request", MaxBulkCases)
	}
	out := make([]BulkCaseResult, len(r.Cases))
	for i, c := range r.Cases {
		res, created, err := s.RegisterCase(ctx, scope, c)
		out[i] = BulkCaseResult{Index: i, CaseNo: c.CaseNo}
		if err != nil {
			ae, ok := apperr.As(err)
			if !ok {
				return nil, fmt.Errorf("bulk registration, case %d: %w", i, err)
			}
			ie := &ItemError{Code: ae.Code, Message: ae.Message}
			if ae.Field != "" {
				ie.Field = fmt.Sprintf("cases[%d].%s", i, ae.Field)
			}
			out[i].Status, out[i].Error = ae.Status, ie
			continue
		}
		out[i].ID = res.ID
		out[i].Status = 200
		if created {
			out[i].Status = 201
		}
	}
	return out, nil
}

// Check validates a case as RegisterCase does, without the database.
func (r *CaseRequest) Check(now time.Time) error { return r.validate(now) }
