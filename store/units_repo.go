package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"redress/models"
)

// UnitListing is a unit as the unit list shows it: its parent's code and whether it has a
// policy of its own.
type UnitListing struct {
	models.Unit
	ParentCode string
	Policies   int
}

// List returns the units the caller's grants of any of roles cover, by path (at most 5000).
func (r Units) List(ctx context.Context, c Caller, roles ...string) ([]UnitListing, error) {
	var rows []UnitListing
	err := c.Scope(roles...).Apply(r.DB.WithContext(ctx).Table("units"), "units.path").
		Select("units.*, p.code AS parent_code, (SELECT COUNT(*) FROM policies WHERE policies.unit_id = units.id) AS policies").
		Joins("LEFT JOIN units p ON p.id = units.parent_id").
		Order("units.path").Limit(5000).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list units: %w", err)
	}
	return rows, nil
}

// StaffMember is a staff member with their unit's code and name.
type StaffMember struct {
	ID, Name, UnitCode, UnitName string
}

// Staff returns one page of the staff of the units in the caller's staff scope (StaffRoles),
// by unit and name, and their total.
func (r Units) Staff(ctx context.Context, c Caller, page, size int) ([]StaffMember, int64, error) {
	q := c.Scope(StaffRoles...).Apply(r.DB.WithContext(ctx).Table("staff").Joins("JOIN units ON units.id = staff.unit_id"), "units.path")
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("list staff: count: %w", err)
	}
	var rows []StaffMember
	err := q.Select("staff.id, staff.name, units.code AS unit_code, units.name AS unit_name").
		Order("units.path, staff.name, staff.id").Offset((page - 1) * size).Limit(size).Scan(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list staff: %w", err)
	}
	return rows, total, nil
}

// ErrUnitExists reports a unit code already taken.
var ErrUnitExists = errors.New("store: the unit code exists")

// The writes below take a unit the caller reached through Reachable with the roles that
// administer it: the unit is the proof of their reach.

// Create adds u below parent; u's parent and path are set from it.
func (r Units) Create(ctx context.Context, parent models.Unit, u models.Unit) (models.Unit, error) {
	u.ParentID, u.Path = &parent.ID, parent.Path+u.Code+"/"
	if err := r.DB.WithContext(ctx).Create(&u).Error; err != nil {
		if errors.Is(err, gorm.ErrDuplicatedKey) || strings.Contains(err.Error(), "UNIQUE") || strings.Contains(err.Error(), "duplicate key") {
			return u, ErrUnitExists
		}
		return u, err
	}
	return u, nil
}

// Update applies the changes (column to value) to the unit.
func (r Units) Update(ctx context.Context, u models.Unit, changes map[string]any) error {
	return r.DB.WithContext(ctx).Model(&models.Unit{}).Where("id = ?", u.ID).Updates(changes).Error
}

// WithParent returns the unit coded code and its parent's code ("" for a root).
func (r Units) WithParent(ctx context.Context, code string) (models.Unit, string, error) {
	var u models.Unit
	if err := r.DB.WithContext(ctx).Where("code = ?", code).First(&u).Error; err != nil {
		return u, "", err
	}
	parent := ""
	if u.ParentID != nil {
		var p models.Unit
		if err := r.DB.WithContext(ctx).Where("id = ?", *u.ParentID).First(&p).Error; err == nil {
			parent = p.Code
		}
	}
	return u, parent, nil
}

// OwnPolicy returns the policy set on the unit itself (ok=false: none; the nearest one above
// applies).
func (r Units) OwnPolicy(ctx context.Context, u models.Unit) (models.Policy, bool, error) {
	var p models.Policy
	if err := r.DB.WithContext(ctx).Where("unit_id = ?", u.ID).Limit(1).Find(&p).Error; err != nil {
		return p, false, err
	}
	return p, p.ID != 0, nil
}

// SetPolicy sets the unit's own policy to doc.
func (r Units) SetPolicy(ctx context.Context, u models.Unit, doc models.PolicyDoc) error {
	now := time.Now().UTC()
	return r.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var p models.Policy
		if err := tx.Where("unit_id = ?", u.ID).Limit(1).Find(&p).Error; err != nil {
			return err
		}
		if p.ID == 0 {
			return tx.Create(&models.Policy{UnitID: u.ID, Doc: models.NewJSON(doc), CreatedAt: now, UpdatedAt: now}).Error
		}
		return tx.Model(&models.Policy{}).Where("id = ?", p.ID).Updates(map[string]any{"doc": models.NewJSON(doc), "updated_at": now}).Error
	})
}
