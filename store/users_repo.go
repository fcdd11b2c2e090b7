package store

import (
	"context"
	"fmt"
	"strings"

	"redress/models"
)

// Reach is what a caller administers: everything (a sysadmin) or the subtrees of the units
// on which they are administrator. The route policy has already let their role call the
// route; Reach decides which users and units they reach.
type Reach struct {
	Sys      bool
	Subtrees []string
}

// ReachOf is the caller's reach.
func ReachOf(c Caller) Reach {
	var a Reach
	for _, g := range c.Grants {
		switch g.Role {
		case models.RoleSysadmin:
			a.Sys = true
		case models.RoleAdministrator:
			a.Subtrees = append(a.Subtrees, g.UnitPath)
		}
	}
	return a
}

// Covers reports whether the unit path lies inside the reach.
func (a Reach) Covers(path string) bool {
	if a.Sys {
		return true
	}
	for _, s := range a.Subtrees {
		if path != "" && strings.HasPrefix(path, s) {
			return true
		}
	}
	return false
}

// Sees reports whether a user is visible: a sysadmin sees everyone, an administrator the
// users holding a role inside their subtree.
func (a Reach) Sees(u UserRow) bool {
	if a.Sys {
		return true
	}
	for _, g := range u.Grants {
		if a.Covers(g.UnitPath) {
			return true
		}
	}
	return false
}

// Manages reports whether the user may be disabled or enabled: by a sysadmin anyone, by an
// administrator only users all of whose roles lie in their subtree and who are not sysadmins.
func (a Reach) Manages(u UserRow) bool {
	if a.Sys {
		return true
	}
	if len(u.Grants) == 0 {
		return false
	}
	for _, g := range u.Grants {
		if g.Role == models.RoleSysadmin || !a.Covers(g.UnitPath) {
			return false
		}
	}
	return true
}

// Users administers accounts within a caller's reach.
type Users struct{ DB *DB }

// List returns one page of the users the caller sees, by login, with their roles, and the
// total; q matches part of the login or the name.
func (r Users) List(ctx context.Context, c Caller, q string, page, size int) ([]UserRow, int64, error) {
	a := ReachOf(c)
	return ListUsers(ctx, r.DB, UserFilter{All: a.Sys, Scope: Scope{Subtrees: a.Subtrees}, Q: q, Page: page, PageSize: size})
}

// Visible returns the user login if the caller sees them; ErrNotFound otherwise, so that the
// existence of users out of reach does not leak.
func (r Users) Visible(ctx context.Context, c Caller, login string) (UserRow, error) {
	u, ok, err := FindUser(ctx, r.DB, login)
	if err != nil {
		return u, err
	}
	if !ok || !ReachOf(c).Sees(u) {
		return UserRow{}, fmt.Errorf("user %q: %w", login, ErrNotFound)
	}
	return u, nil
}

// Unit returns the unit coded code if it lies in the caller's reach (a role on it may be
// granted); ErrNotFound otherwise.
func (r Users) Unit(ctx context.Context, c Caller, code string) (models.Unit, error) {
	u, ok, err := UnitByCode(ctx, r.DB, code)
	if err != nil {
		return u, err
	}
	if !ok || !ReachOf(c).Covers(u.Path) {
		return models.Unit{}, fmt.Errorf("unit %q: %w", code, ErrNotFound)
	}
	return u, nil
}

// The writes below take roles on units found with Unit and users found with Visible.

// Create stores a user with their roles (ErrUserExists for a login taken) and returns them.
func (r Users) Create(ctx context.Context, login, name string, roles []RoleAt) (UserRow, error) {
	if _, err := CreateUser(ctx, r.DB, login, name, roles); err != nil {
		return UserRow{}, err
	}
	u, _, err := FindUser(ctx, r.DB, login)
	return u, err
}

// SetDisabled disables or enables the user.
func (r Users) SetDisabled(ctx context.Context, u UserRow, disabled bool) error {
	return SetDisabled(ctx, r.DB, u.ID, disabled)
}

// AddRole gives the user a role and returns them as they now stand; added is false when they
// held it already.
func (r Users) AddRole(ctx context.Context, u UserRow, ra RoleAt) (UserRow, bool, error) {
	added, err := AddRole(ctx, r.DB, u.ID, ra)
	if err != nil || !added {
		return u, added, err
	}
	u, _, err = FindUser(ctx, r.DB, u.Login)
	return u, true, err
}

// RemoveRole withdraws a role and returns the user as they now stand.
func (r Users) RemoveRole(ctx context.Context, u UserRow, ra RoleAt) (UserRow, error) {
	if _, err := RemoveRole(ctx, r.DB, u.ID, ra); err != nil {
		return u, err
	}
	u, _, err := FindUser(ctx, r.DB, u.Login)
	return u, err
}

// Enabled returns the first 200 enabled users by login that keep accepts, with their roles
// (the dev sign-in page's list of demo users).
func (r Users) Enabled(ctx context.Context, keep func(login string) bool) ([]UserRow, error) {
	var users []models.User
	if err := r.DB.WithContext(ctx).Where("NOT disabled").Order("login").Limit(200).Find(&users).Error; err != nil {
		return nil, fmt.Errorf("enabled users: %w", err)
	}
	var out []UserRow
	for _, u := range users {
		if !keep(u.Login) {
			continue
		}
		gs, err := GrantsOf(ctx, r.DB, u.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, UserRow{User: u, Grants: gs})
	}
	return out, nil
}

// ReplaceRoles sets the user's roles to exactly roles: sign-in through an identity
// provider, whose claims are the caller's authority here.
func (r Users) ReplaceRoles(ctx context.Context, u models.User, roles []RoleAt) error {
	return ReplaceRoles(ctx, r.DB, u.ID, roles)
}
