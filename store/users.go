package store

import (
	"context"
	"fmt"
)

// GrantsOf returns the roles a user holds, with their units.
func GrantsOf(ctx context.Context, db *DB, userID int64) ([]Grant, error) {
	var gs []Grant
	err := db.WithContext(ctx).Table("role_assignments").
		Select("role_assignments.role, units.id AS unit_id, units.code AS unit_code, units.name AS unit_name, units.path AS unit_path").
		Joins("JOIN units ON units.id = role_assignments.unit_id").
		Where("role_assignments.user_id = ?", userID).
		Order("role_assignments.id").Scan(&gs).Error
	if err != nil {
		return nil, fmt.Errorf("grants of user %d: %w", userID, err)
	}
	return gs, nil
}
