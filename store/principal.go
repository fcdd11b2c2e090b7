package store

import (
	"context"
	"fmt"
	"time"

	"redress/models"
)

// UserWithGrants loads a user by login together with the roles they hold, in one query: every
// authenticated request needs both, and the intake benchmark (BENCHMARKS.md) showed the
// request's time going to sequential database round trips, of which this saves one. ok=false
// when no user has the login.
func UserWithGrants(ctx context.Context, db *DB, login string) (u models.User, grants []Grant, ok bool, err error) {
	type row struct {
		ID        int64
		Login     string
		Name      string
		Disabled  bool
		CreatedAt time.Time
		UpdatedAt time.Time
		Role      *string
		UnitID    *int64
		UnitCode  *string
		UnitName  *string
		UnitPath  *string
	}
	var rows []row
	// Scanned by hand: every authenticated request runs this, and GORM's reflective Scan cost
	// as much CPU as the query itself (BENCHMARKS.md, point 1).
	rs, err := db.WithContext(ctx).Raw(`SELECT users.id, users.login, users.name, users.disabled, users.created_at, users.updated_at,
		role_assignments.role, units.id AS unit_id, units.code AS unit_code, units.name AS unit_name, units.path AS unit_path
		FROM users
		LEFT JOIN role_assignments ON role_assignments.user_id = users.id
		LEFT JOIN units ON units.id = role_assignments.unit_id
		WHERE users.login = ?
		ORDER BY role_assignments.id`, login).Rows()
	if err != nil {
		return models.User{}, nil, false, fmt.Errorf("user %q with grants: %w", login, err)
	}
	defer rs.Close()
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.ID, &r.Login, &r.Name, &r.Disabled, &r.CreatedAt, &r.UpdatedAt, &r.Role, &r.UnitID, &r.UnitCode, &r.UnitName, &r.UnitPath); err != nil {
			return models.User{}, nil, false, fmt.Errorf("user %q with grants: %w", login, err)
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return models.User{}, nil, false, fmt.Errorf("user %q with grants: %w", login, err)
	}
	if len(rows) == 0 {
		return models.User{}, nil, false, nil
	}
	r := rows[0]
	grants = make([]Grant, 0, len(rows))
	u = models.User{ID: r.ID, Login: r.Login, Name: r.Name, Disabled: r.Disabled, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for _, r := range rows {
		if r.Role == nil || r.UnitID == nil {
			continue // a user without roles: the LEFT JOIN's one empty row
		}
		grants = append(grants, Grant{Role: *r.Role, UnitID: *r.UnitID, UnitCode: deref(r.UnitCode), UnitName: deref(r.UnitName), UnitPath: deref(r.UnitPath)})
	}
	return u, grants, true, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
