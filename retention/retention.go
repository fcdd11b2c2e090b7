// Package retention erases evaluators' personal data once its purpose is served (个人信息保护法
// art. 19 and 47): a retention period after the work order closed — never before the reopen
// window has passed (an appeal is decided before an order can close) — or, for a rating that
// opened no order, after it was received. Erasure clears the sealed name, phone and ID number
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
	Erased int `json:"erased"`
}

// Run erases every period until ctx ends.
func (e *Eraser) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if res, err := e.Pass(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("retention", "err", err)
		} else if res.Erased > 0 {
			slog.Info("retention: personal data erased", "evaluations", res.Erased)
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
		err := e.DB.WithContext(ctx).Table("evaluations").
			Where("(evaluator_name <> '' OR evaluator_phone <> '' OR evaluator_id_number <> '' OR evaluator_phone_hash NOT IN ('', ?) OR evaluator_id_hash NOT IN ('', ?))", ErasedHash, ErasedHash).
			Where("received_at < ?", received).
			// A rating with an order waits until the order closed (appeals decided) and the
			// reopen window and the retention period after the close have passed; updated_at of
			// a closed order is its last change, so never earlier than the close.
			Where("(work_order_id IS NULL OR EXISTS (SELECT 1 FROM work_orders w WHERE w.id = evaluations.work_order_id AND w.state = ? AND w.updated_at < ?))", models.StateClosed, closed).
			Order("id").Limit(batch).Pluck("id", &ids).Error
		if err != nil {
			return res, fmt.Errorf("retention: due evaluations: %w", err)
		}
		if len(ids) == 0 {
			return res, nil
		}
		err = e.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := erase(tx, ids); err != nil {
				return err
			}
			return logErasure(tx, now, "system", "retention", "", "", ids, fmt.Sprintf("retention period of %s ended", after))
		})
		if err != nil {
			return res, fmt.Errorf("retention: erase: %w", err)
		}
		res.Erased += len(ids)
		if len(ids) < batch {
			return res, nil
		}
	}
}

func erase(tx *gorm.DB, ids []string) error {
	return tx.Table("evaluations").Where("id IN ?", ids).Updates(map[string]any{
		"evaluator_name": "", "evaluator_phone": "", "evaluator_id_number": "",
		"evaluator_phone_hash": gorm.Expr("CASE WHEN evaluator_phone_hash = '' THEN '' ELSE ? END", ErasedHash),
		"evaluator_id_hash":    gorm.Expr("CASE WHEN evaluator_id_hash = '' THEN '' ELSE ? END", ErasedHash),
	}).Error
}

// logErasure records each erasure in the personal-data access log (never pruned by retention).
func logErasure(tx *gorm.DB, at time.Time, login, role, unitPath, requestID string, ids []string, reason string) error {
	rows := make([]map[string]any, 0, len(ids))
	for _, id := range ids {
		rows = append(rows, map[string]any{"id": uuid.NewString(), "at": at, "login": login, "role": role, "unit_path": unitPath,
			"subject": "evaluation", "subject_id": id, "work_order_id": "", "fields": "erase:evaluator_name,evaluator_phone,evaluator_id_number",
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
	var ev struct {
		ID          string
		WorkOrderID *string
	}
	// The evaluation's units: those of its cases.
	err := db.WithContext(ctx).Table("evaluations").Select("id, work_order_id").Where("id = ? OR evaluation_id = ?", evaluationID, evaluationID).Take(&ev).Error
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
	if ev.WorkOrderID != nil {
		var state string
		if err := db.WithContext(ctx).Table("work_orders").Where("id = ?", *ev.WorkOrderID).Pluck("state", &state).Error; err != nil {
			return fmt.Errorf("erase %s: order: %w", evaluationID, err)
		}
		if state != models.StateClosed {
			return apperr.Conflict("order_open", "the work order is still open: the evaluator's contact is needed until it closes")
		}
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := erase(tx, []string{ev.ID}); err != nil {
			return err
		}
		return logErasure(tx, now.UTC(), by.Login, by.Role, by.UnitPath, by.RequestID, []string{ev.ID}, "on request: "+reason)
	})
}
