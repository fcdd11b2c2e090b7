package store

import (
	"context"
	"fmt"
	"time"

	"redress/models"
)

// Receipts reads on behalf of the holder of a service receipt's QR code, whose only scope is
// the one case the code was printed for.
type Receipts struct{ DB *DB }

// ReceiptCase is a case as its receipt's rating page needs it.
type ReceiptCase struct {
	CaseNo      string
	ItemName    string
	UnitName    string
	UnitPath    string
	CompletedAt time.Time
	ClosesAt    *time.Time
	Applicant   string
	Phone       string
	IDNumber    string
}

// Case returns the receipt's case; ErrNotFound when there is none.
func (r Receipts) Case(ctx context.Context, caseNo string) (ReceiptCase, error) {
	var rows []ReceiptCase
	err := r.DB.WithContext(ctx).Table("service_cases").
		Select("service_cases.case_no, service_cases.item_name, units.name AS unit_name, units.path AS unit_path, "+
			"service_cases.completed_at, service_cases.rating_closes_at AS closes_at, service_cases.applicant_name AS applicant, service_cases.applicant_phone AS phone, "+
			"service_cases.applicant_id_number AS id_number").
		Joins("JOIN units ON units.id = service_cases.unit_id").
		Where("service_cases.case_no = ?", caseNo).Limit(1).Scan(&rows).Error
	if err != nil {
		return ReceiptCase{}, err
	}
	if len(rows) == 0 {
		return ReceiptCase{}, fmt.Errorf("service case: %w", ErrNotFound)
	}
	return rows[0], nil
}

// Rating returns the evaluation stored under evaluationID (the receipt's own), nil when
// the case is not rated through it yet.
func (r Receipts) Rating(ctx context.Context, evaluationID string) (*models.Evaluation, error) {
	var evs []models.Evaluation
	if err := r.DB.WithContext(ctx).Where("evaluation_id = ?", evaluationID).Limit(1).Find(&evs).Error; err != nil {
		return nil, err
	}
	if len(evs) == 0 {
		return nil, nil
	}
	return &evs[0], nil
}
