package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"redress/models"
)

// Attachment is a file stored with a work order (evidence of a rectification); the JSON is
// API.md's, the content never in it.
type Attachment struct {
	ID          string    `json:"id"`
	WorkOrderID string    `json:"-"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256" gorm:"column:sha256"`
	Note        string    `json:"note"`
	Content     []byte    `json:"-"`
	UploadedBy  string    `json:"uploaded_by"`
	CreatedAt   time.Time `json:"created_at"`
}

// TableName is the attachments table.
func (Attachment) TableName() string { return "attachments" }

// Attachments reads and writes the files of the work orders in a caller's staff scope.
type Attachments struct{ DB *DB }

// Add stores a file for the order id in the caller's scope. build is given the order and
// the number of files it holds, and returns the attachment and its timeline event (or an
// error, which is returned as it is); both are stored in one transaction, so that there is
// no evidence without its event. ErrNotFound for an order out of scope.
func (r Attachments) Add(ctx context.Context, c Caller, orderID string,
	build func(o OrderRow, held int64) (Attachment, models.TimelineEvent, error)) (Attachment, error) {
	o, err := WorkOrders(r).Get(ctx, c, orderID)
	if err != nil {
		return Attachment{}, err
	}
	var n int64
	if err := r.DB.WithContext(ctx).Model(&Attachment{}).Where("work_order_id = ?", o.ID).Count(&n).Error; err != nil {
		return Attachment{}, fmt.Errorf("count attachments: %w", err)
	}
	a, ev, err := build(o, n)
	if err != nil {
		return Attachment{}, err
	}
	err = r.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&a).Error; err != nil {
			return fmt.Errorf("store attachment: %w", err)
		}
		if err := tx.Create(&ev).Error; err != nil {
			return fmt.Errorf("store attachment: timeline event: %w", err)
		}
		return nil
	})
	return a, err
}

// List returns the files of the order id in the caller's scope (without their content),
// oldest first; ErrNotFound for an order out of scope.
func (r Attachments) List(ctx context.Context, c Caller, orderID string) ([]Attachment, error) {
	o, err := WorkOrders(r).Get(ctx, c, orderID)
	if err != nil {
		return nil, err
	}
	out := []Attachment{}
	if err := r.DB.WithContext(ctx).Omit("content").Where("work_order_id = ?", o.ID).
		Order("created_at, id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list attachments: %w", err)
	}
	return out, nil
}

// Get returns one file of the order id in the caller's scope, with its content: ErrNotFound
// for an order out of scope, ErrNoAttachment for a file the order does not hold.
func (r Attachments) Get(ctx context.Context, c Caller, orderID, id string) (Attachment, error) {
	o, err := WorkOrders(r).Get(ctx, c, orderID)
	if err != nil {
		return Attachment{}, err
	}
	var rows []Attachment
	if err := r.DB.WithContext(ctx).Where("id = ? AND work_order_id = ?", id, o.ID).Limit(1).Find(&rows).Error; err != nil {
		return Attachment{}, fmt.Errorf("read attachment: %w", err)
	}
	if len(rows) == 0 {
		return Attachment{}, ErrNoAttachment
	}
	return rows[0], nil
}

// ErrNoAttachment reports an order in scope without the file asked for.
var ErrNoAttachment = errors.New("store: no such attachment")
