package store

import (
	"context"
	"fmt"
	"time"

	"redress/models"
)

// UserGrants is a user with the roles they hold.
type UserGrants struct {
	User   models.User
	Grants []Grant
}

// UsersWithGrants loads the users of several logins with the roles they hold, in one query:
// every authenticated request needs both, and requests that arrive together share it (Batch;
// each request's round trip of its own was the largest read in intake's profile,
// BENCHMARKS.md). Logins without a user are absent from the answer.
func UsersWithGrants(ctx context.Context, db *DB, logins []string) (map[string]UserGrants, error) {
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
	// Scanned by hand: every authenticated request runs this, and GORM's reflective Scan cost
	// as much CPU as the query itself (BENCHMARKS.md, point 1).
	rs, err := db.WithContext(ctx).Raw(`SELECT users.id, users.login, users.name, users.disabled, users.created_at, users.updated_at,
		role_assignments.role, units.id AS unit_id, units.code AS unit_code, units.name AS unit_name, units.path AS unit_path
		FROM users
		LEFT JOIN role_assignments ON role_assignments.user_id = users.id
		LEFT JOIN units ON units.id = role_assignments.unit_id
		WHERE users.login IN ?
		ORDER BY users.id, role_assignments.id`, logins).Rows()
	if err != nil {
		return nil, fmt.Errorf("users %q with grants: %w", logins, err)
	}
	defer rs.Close() //nolint:errcheck // read-only rows: rows.Err() after the loop reports a failed read; Close only frees the connection
	out := map[string]UserGrants{}
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.ID, &r.Login, &r.Name, &r.Disabled, &r.CreatedAt, &r.UpdatedAt, &r.Role, &r.UnitID, &r.UnitCode, &r.UnitName, &r.UnitPath); err != nil {
			return nil, fmt.Errorf("users %q with grants: %w", logins, err)
		}
		p, ok := out[r.Login]
		if !ok {
			p = UserGrants{User: models.User{ID: r.ID, Login: r.Login, Name: r.Name, Disabled: r.Disabled, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt},
				Grants: []Grant{}}
		}
		if r.Role != nil && r.UnitID != nil { // else a user without roles: the LEFT JOIN's one empty row
			p.Grants = append(p.Grants, Grant{Role: *r.Role, UnitID: *r.UnitID, UnitCode: deref(r.UnitCode), UnitName: deref(r.UnitName), UnitPath: deref(r.UnitPath)})
		}
		out[r.Login] = p
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("users %q with grants: %w", logins, err)
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// WithGrants loads the users of several logins with the roles they hold (UsersWithGrants):
// the callers themselves, before there is a caller whose scope could apply.
func (r Users) WithGrants(ctx context.Context, logins []string) (map[string]UserGrants, error) {
	return UsersWithGrants(ctx, r.DB, logins)
}
