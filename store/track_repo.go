package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"redress/models"
)

// TrackingLink is an evaluator's tracking link as stored (notify.TrackingToken's row): the
// hash of the token sent by SMS and the order it shows.
type TrackingLink struct {
	TokenHash   string `gorm:"primaryKey"`
	WorkOrderID string
	EventID     string
	CreatedAt   time.Time
}

// TableName is notify's tracking-token table.
func (TrackingLink) TableName() string { return "tracking_tokens" }

// Tracking reads on behalf of the holder of a tracking link, whose only scope is the one
// order the link was sent for.
type Tracking struct{ DB *DB }

// Link returns the link whose token hashes to tokenHash; ErrNotFound for an unknown one.
func (r Tracking) Link(ctx context.Context, tokenHash string) (TrackingLink, error) {
	var l TrackingLink
	err := r.DB.WithContext(ctx).Where("token_hash = ?", tokenHash).Take(&l).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return l, fmt.Errorf("tracking link: %w", ErrNotFound)
	}
	if err != nil {
		return l, fmt.Errorf("tracking link: %w", err)
	}
	return l, nil
}

// TrackedOrder is the link's order with its unit's name.
type TrackedOrder struct {
	models.WorkOrder
	UnitName string
}

// Order returns the link's order and its events (in order); nothing of any other order.
func (r Tracking) Order(ctx context.Context, l TrackingLink) (TrackedOrder, []models.TimelineEvent, error) {
	var row TrackedOrder
	err := r.DB.WithContext(ctx).Table("work_orders").
		Select("work_orders.*, units.name AS unit_name").
		Joins("LEFT JOIN units ON units.id = work_orders.unit_id").
		Where("work_orders.id = ?", l.WorkOrderID).Take(&row).Error
	if err != nil {
		return row, nil, err
	}
	var evs []models.TimelineEvent
	if err := r.DB.WithContext(ctx).Where("work_order_id = ?", l.WorkOrderID).Order("seq").Find(&evs).Error; err != nil {
		return row, nil, err
	}
	return row, evs, nil
}

// Newest reports whether l is the newest link of its order (after a reopening the
// evaluator is sent a new one, and only that one takes feedback).
func (r Tracking) Newest(ctx context.Context, l TrackingLink) (bool, error) {
	var newest TrackingLink
	if err := r.DB.WithContext(ctx).Where("work_order_id = ?", l.WorkOrderID).
		Order("created_at DESC, event_id DESC").Take(&newest).Error; err != nil {
		return false, err
	}
	return newest.TokenHash == l.TokenHash, nil
}
