package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"redress/models"
)

// UserRow is a user with the roles they hold.
type UserRow struct {
	models.User
	Grants []Grant
}

// UserFilter narrows a user list. All lists every user (a sysadmin's view); otherwise only
// users holding a role on a unit inside Scope are listed.
type UserFilter struct {
	All      bool
	Scope    Scope
	Q        string // part of the login or the name
	Page     int
	PageSize int
}

// ListUsers lists users in login order with their roles, and the total.
func ListUsers(ctx context.Context, db *DB, f UserFilter) ([]UserRow, int64, error) {
	q := db.WithContext(ctx).Model(&models.User{})
	if !f.All {
		q = q.Where("users.id IN (?)", usersInScope(db.WithContext(ctx), f.Scope))
	}
	if f.Q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(f.Q) + "%"
		q = q.Where(`(users.login LIKE ? ESCAPE '\' OR users.name LIKE ? ESCAPE '\')`, like, like)
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	var users []models.User
	if err := q.Order("users.login").Offset((f.Page - 1) * f.PageSize).Limit(f.PageSize).Find(&users).Error; err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	out := make([]UserRow, 0, len(users))
	for _, u := range users {
		gs, err := GrantsOf(ctx, db, u.ID)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, UserRow{User: u, Grants: gs})
	}
	return out, total, nil
}

func usersInScope(q *gorm.DB, s Scope) *gorm.DB {
	sub := q.Table("role_assignments").Select("role_assignments.user_id").
		Joins("JOIN units ON units.id = role_assignments.unit_id")
	return s.Apply(sub, "units.path")
}

// FindUser returns a user by login with their roles; ok is false when there is none.
func FindUser(ctx context.Context, db *DB, login string) (UserRow, bool, error) {
	var u models.User
	if err := db.WithContext(ctx).Where("login = ?", login).Limit(1).Find(&u).Error; err != nil {
		return UserRow{}, false, fmt.Errorf("find user %q: %w", login, err)
	}
	if u.ID == 0 {
		return UserRow{}, false, nil
	}
	gs, err := GrantsOf(ctx, db, u.ID)
	if err != nil {
		return UserRow{}, false, err
	}
	return UserRow{User: u, Grants: gs}, true, nil
}

// UnitByCode returns a unit; ok is false when there is none.
func UnitByCode(ctx context.Context, db *DB, code string) (models.Unit, bool, error) {
	var u models.Unit
	if err := db.WithContext(ctx).Where("code = ?", code).Limit(1).Find(&u).Error; err != nil {
		return u, false, fmt.Errorf("unit %q: %w", code, err)
	}
	return u, u.ID != 0, nil
}

// RoleAt is a role to give on a unit.
type RoleAt struct {
	Role   string
	UnitID int64
}

// ErrUserExists reports a login already taken.
var ErrUserExists = errors.New("store: the login exists")

// CreateUser stores a user and their roles in one transaction.
func CreateUser(ctx context.Context, db *DB, login, name string, roles []RoleAt) (models.User, error) {
	u := models.User{Login: login, Name: name}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&u)
		if res.Error != nil {
			return fmt.Errorf("create user %q: %w", login, res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrUserExists
		}
		for _, r := range roles {
			if _, err := addRole(tx, u.ID, r); err != nil {
				return err
			}
		}
		return nil
	})
	return u, err
}

// SetDisabled disables or enables a user; a disabled user's tokens stop working at once,
// because every request reloads the user.
func SetDisabled(ctx context.Context, db *DB, userID int64, disabled bool) error {
	err := db.WithContext(ctx).Model(&models.User{}).Where("id = ?", userID).
		Updates(map[string]any{"disabled": disabled, "updated_at": time.Now().UTC()}).Error
	if err != nil {
		return fmt.Errorf("set user %d disabled=%v: %w", userID, disabled, err)
	}
	return nil
}

// AddRole gives a user a role on a unit; added is false when they held it already.
func AddRole(ctx context.Context, db *DB, userID int64, r RoleAt) (added bool, err error) {
	return addRole(db.WithContext(ctx), userID, r)
}

func addRole(tx *gorm.DB, userID int64, r RoleAt) (bool, error) {
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).
		Create(&models.RoleAssignment{UserID: userID, Role: r.Role, UnitID: r.UnitID})
	if res.Error != nil {
		return false, fmt.Errorf("add role %s on unit %d to user %d: %w", r.Role, r.UnitID, userID, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// RemoveRole withdraws a role; removed is false when the user did not hold it.
func RemoveRole(ctx context.Context, db *DB, userID int64, r RoleAt) (removed bool, err error) {
	res := db.WithContext(ctx).Where("user_id = ? AND role = ? AND unit_id = ?", userID, r.Role, r.UnitID).
		Delete(&models.RoleAssignment{})
	if res.Error != nil {
		return false, fmt.Errorf("remove role %s on unit %d from user %d: %w", r.Role, r.UnitID, userID, res.Error)
	}
	return res.RowsAffected > 0, nil
}

// ReplaceRoles sets a user's roles to exactly roles, in one transaction (sign-in through an
// identity provider whose claims name the roles).
func ReplaceRoles(ctx context.Context, db *DB, userID int64, roles []RoleAt) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("user_id = ?", userID).Delete(&models.RoleAssignment{}).Error; err != nil {
			return fmt.Errorf("clear roles of user %d: %w", userID, err)
		}
		for _, r := range roles {
			if _, err := addRole(tx, userID, r); err != nil {
				return err
			}
		}
		return nil
	})
}
