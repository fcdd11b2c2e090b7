package intake

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"redress/apperr"
	"redress/models"
	"redress/pii"
	"redress/store"
)

// Personal data: identity is sealed at rest (package pii), found by keyed hash, masked in
// every answer, and read unmasked only through RevealEvaluatorContact, which records who read
// what, when and why in the append-only pii_access_log.

// MaskedPerson is an identity as answers show it (张*, 138****0000).
type MaskedPerson struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	IDNumber string `json:"id_number"`
}

// EvaluationView is a rating as an administrator or auditor sees it: identity masked.
type EvaluationView struct {
	ID           string            `json:"id"`
	EvaluationID string            `json:"evaluation_id"`
	Kind         string            `json:"kind"`
	FollowUpOf   *string           `json:"follow_up_of"`
	Channel      string            `json:"channel"`
	Levels       map[string]string `json:"levels"`
	Bad          bool              `json:"bad"`
	Excluded     bool              `json:"excluded"`
	Comment      string            `json:"comment"`
	RatedAt      time.Time         `json:"rated_at"`
	CaseNos      []string          `json:"case_nos"`
	WorkOrderID  *string           `json:"work_order_id"`
	Evaluator    MaskedPerson      `json:"evaluator"`
}

// SearchQuery finds one person's ratings by phone or ID number (keyed hash; exactly one).
type SearchQuery struct {
	Phone    string
	IDNumber string
	Page     int
	PageSize int
}

// MaskPerson opens and masks sealed identity fields; a value that cannot be opened shows as
// "***" rather than failing the whole answer.
func MaskPerson(box *pii.Box, name, phone, id string) MaskedPerson {
	open := func(s string, mask func(string) string) string {
		v, err := box.Open(s)
		if err != nil {
			return "***"
		}
		return mask(v)
	}
	return MaskedPerson{Name: open(name, pii.MaskName), Phone: open(phone, pii.MaskPhone), IDNumber: open(id, pii.MaskID)}
}

// SearchEvaluations lists the ratings of one person in the caller's scope (a rating is in
// scope when any case it rates is), newest first, masked.
func (s *Service) SearchEvaluations(ctx context.Context, scope store.Scope, q SearchQuery) ([]EvaluationView, int64, error) {
	if (q.Phone == "") == (q.IDNumber == "") {
		return nil, 0, apperr.Invalid("phone", "required", "give exactly one of phone and id_number")
	}
	p := Person{Phone: q.Phone, IDNumber: q.IDNumber}
	field := "phone"
	if q.IDNumber != "" {
		field = "id_number"
	}
	if err := p.validate(""); err != nil {
		return nil, 0, apperr.Invalid(field, "invalid_"+field, "%s is not valid", field)
	}
	q.Phone, q.IDNumber = p.Phone, p.IDNumber // normalised: any spelling finds the person
	if q.PageSize <= 0 || q.PageSize > 100 {
		q.PageSize = 50
	}
	if q.Page <= 0 {
		q.Page = 1
	}
	base := s.DB.WithContext(ctx).Table("evaluations")
	if q.Phone != "" {
		base = base.Where("evaluations.evaluator_phone_hash = ?", s.PII.Hash("phone", q.Phone))
	} else {
		base = base.Where("evaluations.evaluator_id_hash = ?", s.PII.Hash("id", q.IDNumber))
	}
	inScope := scope.Apply(s.DB.Table("evaluation_cases").Select("evaluation_cases.evaluation_id").
		Joins("JOIN service_cases ON service_cases.case_no = evaluation_cases.case_no").
		Joins("JOIN units ON units.id = service_cases.unit_id"), "units.path")
	base = base.Where("evaluations.id IN (?)", inScope)
	var total int64
	if err := base.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("search evaluations: count: %w", err)
	}
	var rows []evalRow
	if err := base.Order("evaluations.received_at DESC, evaluations.id").Offset((q.Page - 1) * q.PageSize).Limit(q.PageSize).Find(&rows).Error; err != nil {
		return nil, 0, fmt.Errorf("search evaluations: %w", err)
	}
	out := make([]EvaluationView, 0, len(rows))
	for _, r := range rows {
		var cs []string
		if err := s.DB.WithContext(ctx).Table("evaluation_cases").Where("evaluation_id = ?", r.ID).Order("case_no").Pluck("case_no", &cs).Error; err != nil {
			return nil, 0, fmt.Errorf("search evaluations: cases: %w", err)
		}
		out = append(out, EvaluationView{
			ID: r.ID, EvaluationID: r.EvaluationID, Kind: r.Kind, FollowUpOf: r.FollowUpOf, Channel: r.Channel,
			Levels: r.Levels.V, Bad: r.Bad, Excluded: r.Excluded, Comment: r.Comment, RatedAt: r.RatedAt,
			CaseNos: cs, WorkOrderID: r.WorkOrderID,
			Evaluator: MaskPerson(s.PII, r.EvaluatorName, r.EvaluatorPhone, r.EvaluatorIDNumber),
		})
	}
	return out, total, nil
}

// Reader is who asks for an unmasked value.
type Reader struct {
	Login     string
	Grants    []store.Grant
	RequestID string
}

// ContactResult is the unmasked callback contact of a work order's evaluator.
type ContactResult struct {
	WorkOrderID string `json:"work_order_id"`
	// Name is the evaluator's name in full: the officer who calls back addresses the evaluator
	// by it (a masked name beside an unmasked number helped nobody), and the read of both is
	// recorded.
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	AccessID string `json:"access_id"`
}

// PIIAccess is one pii_access_log row.
type PIIAccess struct {
	ID          string    `gorm:"primaryKey" json:"id"`
	At          time.Time `json:"at"`
	Login       string    `json:"login"`
	Role        string    `json:"role"`
	UnitPath    string    `json:"unit_path"`
	Subject     string    `json:"subject"`
	SubjectID   string    `json:"subject_id"`
	WorkOrderID string    `json:"work_order_id"`
	Fields      string    `json:"fields"`
	Reason      string    `json:"reason"`
	RequestID   string    `json:"request_id"`
}

// TableName names the access log.
func (PIIAccess) TableName() string { return "pii_access_log" }

// RevealStates are the states in which the evaluator's phone may be read: the unit has signed
// the order and is calling back (DOMAIN.md: a callback officer sees the number only when
// calling).
var RevealStates = []string{models.StateSigned, models.StateCalledBack}

// RevealEvaluatorContact answers the unmasked phone of a work order's evaluator to an officer
// or unit leader of the unit holding the order, only while it is signed or called back, and
// records the read (who, when, why) in the same transaction: no record, no reveal. An order
// outside the caller's unit answers 404 like an unknown one.
func (s *Service) RevealEvaluatorContact(ctx context.Context, who Reader, workOrderID, reason string) (ContactResult, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return ContactResult{}, apperr.Invalid("reason", "required", "say why the number is needed")
	}
	if utf8.RuneCountInString(reason) > 500 {
		return ContactResult{}, apperr.Invalid("reason", "too_long", "reason is longer than 500 characters")
	}
	var wo models.WorkOrder
	if err := s.DB.WithContext(ctx).Where("id = ?", workOrderID).Limit(1).Find(&wo).Error; err != nil {
		return ContactResult{}, fmt.Errorf("reveal contact %s: %w", workOrderID, err)
	}
	role := ""
	for _, g := range who.Grants {
		if (g.Role == models.RoleOfficer || g.Role == models.RoleUnitLeader) && wo.UnitPath != "" && g.UnitPath == wo.UnitPath {
			role = g.Role
			break
		}
	}
	if wo.ID == "" || role == "" || wo.UnitID == nil {
		return ContactResult{}, apperr.NotFound("work order")
	}
	allowed := false
	for _, st := range RevealStates {
		allowed = allowed || wo.State == st
	}
	if !allowed {
		return ContactResult{}, apperr.Conflict("wrong_state", "the evaluator's number is shown only while the order is signed or called back (now %s)", wo.State)
	}
	var e models.Evaluation
	if err := s.DB.WithContext(ctx).Where("id = ?", wo.EvaluationID).First(&e).Error; err != nil {
		return ContactResult{}, fmt.Errorf("reveal contact %s: evaluation: %w", workOrderID, err)
	}
	if e.EvaluatorPhone == "" {
		return ContactResult{}, apperr.Conflict("no_phone", "the evaluator left no phone number (anonymous rating)")
	}
	phone, err := s.PII.Open(e.EvaluatorPhone)
	if err != nil {
		return ContactResult{}, fmt.Errorf("reveal contact %s: %w", workOrderID, err)
	}
	fields := "evaluator.phone"
	name := ""
	if e.EvaluatorName != "" {
		if name, err = s.PII.Open(e.EvaluatorName); err != nil {
			return ContactResult{}, fmt.Errorf("reveal contact %s: name: %w", workOrderID, err)
		}
		fields += ",evaluator.name"
	}
	rec := PIIAccess{ID: uuid.NewString(), At: s.now(), Login: who.Login, Role: role, UnitPath: wo.UnitPath,
		Subject: "evaluation", SubjectID: e.ID, WorkOrderID: wo.ID, Fields: fields, Reason: reason, RequestID: who.RequestID}
	if err := s.DB.WithContext(ctx).Create(&rec).Error; err != nil {
		return ContactResult{}, fmt.Errorf("reveal contact %s: record access: %w", workOrderID, err)
	}
	return ContactResult{WorkOrderID: wo.ID, Name: name, Phone: phone, AccessID: rec.ID}, nil
}

// ListPIIAccess lists the unmasked reads in the scope (by the unit of the order read), newest
// first.
func (s *Service) ListPIIAccess(ctx context.Context, scope store.Scope, page, size int) ([]PIIAccess, int64, error) {
	if size <= 0 || size > 200 {
		size = 50
	}
	if page <= 0 {
		page = 1
	}
	q := scope.Apply(s.DB.WithContext(ctx).Model(&PIIAccess{}), "unit_path")
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("pii access: count: %w", err)
	}
	out := []PIIAccess{}
	if err := q.Order("at DESC, id").Offset((page - 1) * size).Limit(size).Find(&out).Error; err != nil {
		return nil, 0, fmt.Errorf("pii access: %w", err)
	}
	return out, total, nil
}

// StaffIdentityRequest sets the identity hashes of a staff member (for the own-staff fraud
// check); the values themselves are not stored.
type StaffIdentityRequest struct {
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone"`
}

// SetStaffIdentity stores the keyed hashes of a staff member's ID number and phone. The staff
// member must belong to a unit in scope (else 404).
func (s *Service) SetStaffIdentity(ctx context.Context, scope store.Scope, staffID, by string, r StaffIdentityRequest) error {
	if r.IDNumber == "" && r.Phone == "" {
		return apperr.Invalid("id_number", "required", "give id_number, phone or both")
	}
	p := Person{Phone: r.Phone, IDNumber: r.IDNumber}
	if err := p.validate(""); err != nil {
		ae, _ := apperr.As(err)
		return apperr.Invalid(strings.TrimPrefix(ae.Field, "."), ae.Code, "%s", ae.Message)
	}
	r.Phone, r.IDNumber = p.Phone, p.IDNumber
	var st struct {
		ID   string
		Path string
	}
	err := s.DB.WithContext(ctx).Table("staff").Select("staff.id, units.path").
		Joins("JOIN units ON units.id = staff.unit_id").Where("staff.id = ?", staffID).Take(&st).Error
	if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !scope.Covers(st.Path)) {
		return apperr.NotFound("staff member")
	}
	if err != nil {
		return fmt.Errorf("staff identity %s: %w", staffID, err)
	}
	row := map[string]any{"staff_id": staffID, "id_hash": s.PII.Hash("id", r.IDNumber), "phone_hash": s.PII.Hash("phone", r.Phone), "updated_by": by, "updated_at": s.now()}
	return s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Table("staff_identities").Where("staff_id = ?", staffID).Delete(nil).Error; err != nil {
			return err
		}
		return tx.Table("staff_identities").Create(row).Error
	})
}
