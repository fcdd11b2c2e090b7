// Package retention erases evaluators' and applicants' personal data once its purpose is served
// (个人信息保护法 art. 19 and 47): a retention period after the work order closed — after the
// last of them for a theme rating split into one order per unit, never before the reopen
// window has passed (an appeal is decided before an order can close) — or, for a rating that
// opened no order, after it was received. A service case's applicant (name, phone and ID number
// in service_cases) goes once the case's rating window has closed and every rating of the case
// is due. Erasure clears the sealed name, phone and ID number
// and replaces their search hashes with a marker that links nothing but still says "this was
// a real-name rating", so ratings, orders, statistics (also when recomputed) and publications
// stay exactly as they were. An administrator may erase one evaluator's data on request; every
// erasure is written to the personal-data access log, which, like the audit log, retention never
// touches (网络安全法 art. 21: logs are kept at least six months).
package retention

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

// DefaultAfter is the default retention period (policy): 180 days.
const DefaultAfter = 180 * 24 * time.Hour

// ReopenWindow is how long a closed order may still be reopened (workflows keep a closed
// order's workflow this long); personal data is never erased before it ends.
const ReopenWindow = 30 * 24 * time.Hour

// MinLogRetention is the shortest time audit and access logs are kept (网络安全法 art. 21).
const MinLogRetention = 183 * 24 * time.Hour

// ErasedHash replaces a search hash of erased data: non-empty (a real-name rating stays one in
// the statistics) but equal to no keyed hash, so nothing finds the person any more.
const ErasedHash = "erased"

// Eraser runs the retention policy.
type Eraser struct {
	DB *store.DB
	// After is the retention period (default DefaultAfter).
	After time.Duration
	Batch int
	Now   func() time.Time
}

func (e *Eraser) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

// Result counts one pass.
type Result struct {
	Erased     int `json:"erased"`
	Applicants int `json:"applicants"`
}

// Run erases every period until ctx ends.
func (e *Eraser) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if res, err := e.Pass(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("retention", "err", err)
		} else if res.Erased > 0 || res.Applicants > 0 {
			slog.Info("retention: personal data erased", "evaluations", res.Erased, "service_cases", res.Applicants)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass erases the personal data of every evaluation whose retention has ended, in batches.
func (e *Eraser) Pass(ctx context.Context) (Result, error) {
	after := e.After
	if after <= 0 {
		after = DefaultAfter
	}
	batch := e.Batch
	if batch <= 0 {
		batch = 500
	}
	now := e.now()
	received := now.Add(-after)
	closed := now.Add(-max(after, ReopenWindow))
	var res Result
	for {
		var ids []string
		q := e.DB.WithContext(ctx).Table("evaluations").
			Where("(evaluator_name <> '' OR evaluator_phone <> '' OR evaluator_id_number <> '' OR evaluator_phone_hash NOT IN ('', ?) OR evaluator_id_hash NOT IN ('', ?))", ErasedHash, ErasedHash)
		if err := dueEvaluations(q, received, closed).Order("id").Limit(batch).Pluck("id", &ids).Error; err != nil {
			return res, fmt.Errorf("retention: due evaluations: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		err := e.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := erase(tx, ids); err != nil {
				return err
			}
			return logErasure(tx, now, "system", "retention", "", "", "evaluation", ids, evaluatorFields, fmt.Sprintf("retention period of %s ended", after))
		})
		if err != nil {
			return res, fmt.Errorf("retention: erase: %w", err)
		}
		res.Erased += len(ids)
		if len(ids) < batch {
			break
		}
	}
	n, err := e.applicants(ctx, now, received, closed, after, batch)
	res.Applicants = n
	return res, err
}

// dueEvaluations narrows q (on evaluations) to the ratings whose retention has ended: received
// before received and, when the rating opened orders, every one of them closed before closed.
// A theme rating split by unit (migration 00021) has one order per unit, and
// evaluations.work_order_id names only the first: the orders are found by their
// evaluation_id, so the rating waits for the last of them. updated_at of a closed order is
// its last change, so never earlier than the close.
func dueEvaluations(q *gorm.DB, received, closed time.Time) *gorm.DB {
	return q.Where("evaluations.received_at < ?", received).
		Where("NOT EXISTS (SELECT 1 FROM work_orders w WHERE w.evaluation_id = evaluations.id AND NOT (w.state = ? AND w.updated_at < ?))", models.StateClosed, closed)
}

// applicants erases the applicant's name, phone and ID number of the service cases (办件)
// whose purpose is served: completed and their rating window closed before the retention
// period, and every rating of the case due as well (an order still open may need to reach
// the applicant of its case).
func (e *Eraser) applicants(ctx context.Context, now, received, closed time.Time, after time.Duration, batch int) (int, error) {
	erased := 0
	for {
		var nos []string
		// The ratings of the case that are not yet due.
		notDue := e.DB.Table("evaluations").Select("1").
			Joins("JOIN evaluation_cases ec ON ec.evaluation_id = evaluations.id").
			Where("ec.case_no = service_cases.case_no").
			Where("NOT (evaluations.received_at < ? AND NOT EXISTS (SELECT 1 FROM work_orders w WHERE w.evaluation_id = evaluations.id AND NOT (w.state = ? AND w.updated_at < ?)))", received, models.StateClosed, closed)
		err := e.DB.WithContext(ctx).Table("service_cases").
			Where("(applicant_name <> '' OR applicant_phone <> '' OR applicant_id_number <> '' OR applicant_id_hash NOT IN ('', ?))", ErasedHash).
			Where("completed_at < ? AND (rating_closes_at IS NULL OR rating_closes_at < ?)", received, received).
			Where("NOT EXISTS (?)", notDue).
			Order("case_no").Limit(batch).Pluck("case_no", &nos).Error
		if err != nil {
			return erased, fmt.Errorf("retention: due applicants: %w", err)
		}
		if len(nos) == 0 {
			return erased, nil
		}
		err = e.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Table("service_cases").Where("case_no IN ?", nos).Updates(map[string]any{
				"applicant_name": "", "applicant_phone": "", "applicant_id_number": "",
				"applicant_id_hash": gorm.Expr("CASE WHEN applicant_id_hash = '' THEN '' ELSE ? END", ErasedHash),
			}).Error; err != nil {
				return err
			}
			return logErasure(tx, now, "system", "retention", "", "", "service_case", nos, applicantFields, fmt.Sprintf("retention period of %s ended", after))
		})
		if err != nil {
			return erased, fmt.Errorf("retention: erase applicants: %w", err)
		}
		erased += len(nos)
		if len(nos) < batch {
			return erased, nil
		}
	}
}

// The fields an erasure clears, as the access log names them.
const (
	evaluatorFields = "erase:evaluator_name,evaluator_phone,evaluator_id_number"
	applicantFields = "erase:applicant_name,applicant_phone,applicant_id_number"
)

func erase(tx *gorm.DB, ids []string) error {
	return tx.Table("evaluations").Where("id IN ?", ids).Updates(map[string]any{
		"evaluator_name": "", "evaluator_phone": "", "evaluator_id_number": "",
		"evaluator_phone_hash": gorm.Expr("CASE WHEN evaluator_phone_hash = '' THEN '' ELSE ? END", ErasedHash),
		"evaluator_id_hash":    gorm.Expr("CASE WHEN evaluator_id_hash = '' THEN '' ELSE ? END", ErasedHash),
	}).Error
}

// logErasure records each erasure in the personal-data access log (never pruned by retention).
func logErasure(tx *gorm.DB, at time.Time, login, role, unitPath, requestID, subject string, ids []string, fields, reason string) error {
	rows := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		rows = append(rows, map[string]any{"id": uuid.NewString(), "at": at, "login": login, "role": role, "unit_path": unitPath,
			"subject": subject, "subject_id": id, "work_order_id": "", "fields": fields,
			"reason": reason, "request_id": requestID})
	}
	return tx.Table("pii_access_log").Create(rows).Error
}

// Actor is the administrator who erases on request.
type Actor struct {
	Login, Role, UnitPath, RequestID string
}

// EraseOnRequest erases one evaluation's evaluator data now, on the evaluator's request (PIPL
// art. 47), within the administrator's scope; an open order keeps its data until it closes
// (the callback and the feedback need it), which the administrator is told.
func EraseOnRequest(ctx context.Context, db *store.DB, scope store.Scope, evaluationID string, by Actor, reason string, now time.Time) error {
	if reason == "" {
		return apperr.Invalid("reason", "reason_required", "say why (the evaluator's request)")
	}
	var ev struct{ ID string }
	// The evaluation's units: those of its cases.
	err := db.WithContext(ctx).Table("evaluations").Select("id").Where("id = ? OR evaluation_id = ?", evaluationID, evaluationID).Take(&ev).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return apperr.NotFound("evaluation")
	}
	if err != nil {
		return fmt.Errorf("erase %s: %w", evaluationID, err)
	}
	var paths []string
	if err := db.WithContext(ctx).Table("evaluation_cases ec").Joins("JOIN service_cases sc ON sc.case_no = ec.case_no").
		Joins("JOIN units u ON u.id = sc.unit_id").Where("ec.evaluation_id = ?", ev.ID).Pluck("u.path", &paths).Error; err != nil {
		return fmt.Errorf("erase %s: units: %w", evaluationID, err)
	}
	covered := false
	for _, p := range paths {
		covered = covered || scope.Covers(p)
	}
	if !covered {
		return apperr.NotFound("evaluation")
	}
	// Every order of the rating: a theme rating split by unit has one per unit.
	var open int64
	if err := db.WithContext(ctx).Table("work_orders").Where("evaluation_id = ? AND state <> ?", ev.ID, models.StateClosed).Count(&open).Error; err != nil {
		return fmt.Errorf("erase %s: orders: %w", evaluationID, err)
	}
	if open > 0 {
		return apperr.Conflict("order_open", "the work order is still open: the evaluator's contact is needed until it closes")
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := erase(tx, []string{ev.ID}); err != nil {
			return err
		}
		return logErasure(tx, now.UTC(), by.Login, by.Role, by.UnitPath, by.RequestID, "evaluation", []string{ev.ID}, evaluatorFields, "on request: "+reason)
	})
}

// OnRequest erases on the evaluator's request on an administrator's behalf: only ratings of
// the units the caller administers, which is decided here, where the rows are erased.
type OnRequest struct{ DB *store.DB }

// Erase erases one evaluation's evaluator data now (EraseOnRequest), within the units the
// caller administers; by says who erases, for the personal-data access log.
func (r OnRequest) Erase(ctx context.Context, c store.Caller, evaluationID string, by Actor, reason string, now time.Time) error {
	return EraseOnRequest(ctx, r.DB, c.Scope(models.RoleAdministrator), evaluationID, by, reason, now)
}
