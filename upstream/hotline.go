package upstream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"redress/apperr"
	"redress/codes"
	"redress/models"
	"redress/store"
)

// Ticket is a work order forwarded to 12345.
type Ticket struct {
	WorkOrderID string    `gorm:"primaryKey" json:"work_order_id"`
	MessageID   string    `json:"message_id"`
	UnitPath    string    `json:"-"`
	ForwardedBy string    `json:"forwarded_by"`
	ForwardedAt time.Time `json:"forwarded_at"`
	Note        string    `json:"note"`
	Status      string    `json:"status"` // forwarded, then the platform's last status
	ExternalID  string    `json:"external_id"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// TableName names the tickets table.
func (Ticket) TableName() string { return "hotline_tickets" }

// Result is one result the 12345 platform sent back.
type Result struct {
	ResultID    string    `gorm:"primaryKey" json:"result_id"`
	WorkOrderID string    `json:"work_order_id"`
	ExternalID  string    `json:"external_id"`
	Status      string    `json:"status"`
	Result      string    `json:"result"`
	BodyHash    string    `json:"-"`
	ReceivedAt  time.Time `json:"received_at"`
}

// TableName names the results table.
func (Result) TableName() string { return "hotline_results" }

// ForwardPayload is what the 12345 platform receives. The evaluator's identity stays here: the
// platform gets the order, not the person (identity reaches no third party without consent).
type ForwardPayload struct {
	Type         string            `json:"type"` // "hotline_forward"
	MessageID    string            `json:"message_id"`
	WorkOrderID  string            `json:"work_order_id"`
	EvaluationID string            `json:"evaluation_id"`
	Unit         string            `json:"unit"`
	CaseNos      []string          `json:"case_nos"`
	Level        int               `json:"level"`
	Levels       map[string]string `json:"levels"`
	Comment      string            `json:"comment"`
	OpenedAt     time.Time         `json:"opened_at"`
	Note         string            `json:"note"`
	CallbackPath string            `json:"callback_path"`
}

// Forward queues a work order for the 12345 platform, once: a second forward is a conflict.
// The order must be of a unit the caller's administrator or supervisor grants cover, else it
// is not found; the caller is recorded as who forwarded it.
func (s Service) Forward(ctx context.Context, c store.Caller, orderID, note string) (Ticket, error) {
	scope, by := c.Scope(models.RoleAdministrator, models.RoleSupervisor), c.Login
	var wo models.WorkOrder
	q := s.DB.WithContext(ctx).Where("id = ?", orderID)
	if err := scope.Apply(q, "unit_path").Take(&wo).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return Ticket{}, apperr.NotFound("work order")
	} else if err != nil {
		return Ticket{}, fmt.Errorf("forward %s: %w", orderID, err)
	}
	var ev struct{ EvaluationID string }
	if err := s.DB.WithContext(ctx).Table("evaluations").Select("evaluation_id").Where("id = ?", wo.EvaluationID).Take(&ev).Error; err != nil {
		return Ticket{}, fmt.Errorf("forward %s: evaluation: %w", orderID, err)
	}
	var unit models.Unit
	if err := s.DB.WithContext(ctx).Where("path = ?", wo.UnitPath).Take(&unit).Error; err != nil {
		return Ticket{}, fmt.Errorf("forward %s: unit: %w", orderID, err)
	}
	lvl, err := codes.LevelToGB(wo.Overall)
	if err != nil {
		return Ticket{}, fmt.Errorf("forward %s: level: %w", orderID, err)
	}
	now := time.Now().UTC()
	p := ForwardPayload{Type: "hotline_forward", MessageID: "hotline:" + wo.ID, WorkOrderID: wo.ID, EvaluationID: ev.EvaluationID,
		Unit: unit.Code, CaseNos: wo.CaseNos.V, Level: lvl, Levels: wo.Levels.V, Comment: wo.Comment, OpenedAt: wo.OpenedAt.UTC(),
		Note: note, CallbackPath: "/api/v1/hotline/results"}
	body, _ := json.Marshal(p)
	t := Ticket{WorkOrderID: wo.ID, MessageID: p.MessageID, UnitPath: wo.UnitPath, ForwardedBy: by, ForwardedAt: now,
		Note: note, Status: "forwarded", UpdatedAt: now}
	err = s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Ticket{}).Where("work_order_id = ?", wo.ID).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return apperr.Conflict("already_forwarded", "the work order was already forwarded to 12345")
		}
		if err := tx.Create(&t).Error; err != nil {
			return err
		}
		return Enqueue(tx, Message{ID: p.MessageID, Target: TargetHotline, Kind: "hotline_forward", SubjectID: wo.ID,
			UnitPath: wo.UnitPath, Payload: string(body)})
	})
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return Ticket{}, err
		}
		if errors.Is(err, gorm.ErrDuplicatedKey) {
			return Ticket{}, apperr.Conflict("already_forwarded", "the work order was already forwarded to 12345")
		}
		return Ticket{}, fmt.Errorf("forward %s: %w", orderID, err)
	}
	return t, nil
}

// ResultIn is the body of the 12345 platform's callback.
type ResultIn struct {
	ResultID    string `json:"result_id"`
	WorkOrderID string `json:"work_order_id"`
	ExternalID  string `json:"external_id"`
	Status      string `json:"status"`
	Result      string `json:"result"`
}

// ResultStatuses the platform may send.
var ResultStatuses = map[string]bool{"accepted": true, "in_progress": true, "handled": true, "closed": true, "rejected": true}

// Receive stores a result once. The same result_id with the same content again answers
// created=false; with other content it is a conflict.
func (s Service) Receive(ctx context.Context, in ResultIn, raw []byte) (Result, bool, error) {
	switch {
	case in.ResultID == "" || len(in.ResultID) > 128:
		return Result{}, false, apperr.Invalid("result_id", "required", "result_id is required (at most 128 characters)")
	case in.WorkOrderID == "":
		return Result{}, false, apperr.Invalid("work_order_id", "required", "work_order_id is required")
	case !ResultStatuses[in.Status]:
		return Result{}, false, apperr.Invalid("status", "invalid_status", "status must be accepted, in_progress, handled, closed or rejected")
	case len(in.Result) > 4000 || len(in.ExternalID) > 128:
		return Result{}, false, apperr.Invalid("result", "too_long", "result or external_id is too long")
	}
	h := sha256.Sum256(raw)
	hash := hex.EncodeToString(h[:])
	var out Result
	created := false
	err := s.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var prev Result
		err := tx.Where("result_id = ?", in.ResultID).Take(&prev).Error
		if err == nil {
			if prev.BodyHash != hash {
				return apperr.Conflict("result_conflict", "result_id %q was already used for a different result", in.ResultID)
			}
			out = prev
			return nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return err
		}
		var t Ticket
		if err := tx.Where("work_order_id = ?", in.WorkOrderID).Take(&t).Error; errors.Is(err, gorm.ErrRecordNotFound) {
			return apperr.NotFound("forwarded work order")
		} else if err != nil {
			return err
		}
		now := time.Now().UTC()
		out = Result{ResultID: in.ResultID, WorkOrderID: in.WorkOrderID, ExternalID: in.ExternalID, Status: in.Status,
			Result: in.Result, BodyHash: hash, ReceivedAt: now}
		if err := tx.Create(&out).Error; err != nil {
			return err
		}
		created = true
		upd := map[string]any{"status": in.Status, "updated_at": now}
		if in.ExternalID != "" {
			upd["external_id"] = in.ExternalID
		}
		return tx.Model(&Ticket{}).Where("work_order_id = ?", in.WorkOrderID).Updates(upd).Error
	})
	if err != nil {
		if _, ok := apperr.As(err); ok {
			return Result{}, false, err
		}
		if errors.Is(err, gorm.ErrDuplicatedKey) { // a concurrent duplicate won the race
			return s.Receive(ctx, in, raw)
		}
		return Result{}, false, fmt.Errorf("hotline result %s: %w", in.ResultID, err)
	}
	return out, created, nil
}

// TicketOf answers an order's 12345 ticket and results, of an order in the caller's staff
// scope (store.StaffRoles); any other is not found.
func (s Service) TicketOf(ctx context.Context, c store.Caller, orderID string) (Ticket, []Result, error) {
	scope := c.Scope(store.StaffRoles...)
	var t Ticket
	q := s.DB.WithContext(ctx).Where("work_order_id = ?", orderID)
	if err := scope.Apply(q, "unit_path").Take(&t).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return t, nil, apperr.NotFound("12345 ticket")
	} else if err != nil {
		return t, nil, fmt.Errorf("ticket %s: %w", orderID, err)
	}
	var rs []Result
	if err := s.DB.WithContext(ctx).Where("work_order_id = ?", orderID).Order("received_at, result_id").Find(&rs).Error; err != nil {
		return t, nil, fmt.Errorf("ticket %s: results: %w", orderID, err)
	}
	return t, rs, nil
}
