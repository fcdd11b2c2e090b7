package store

import (
	"strings"

	"gorm.io/gorm"

	"redress/models"
)

// Grant is one role a caller holds on one unit.
type Grant struct {
	Role     string `json:"role"`
	UnitID   int64  `json:"-"`
	UnitCode string `json:"unit_code"`
	UnitName string `json:"unit_name"`
	UnitPath string `json:"unit_path"`
}

// Covers reports whether the grant reaches a unit with the given path (models.GrantCovers).
func (g Grant) Covers(path string) bool { return models.GrantCovers(g.Role, g.UnitPath, path) }

// Scope is the set of units a caller may see for a purpose, as SQL-ready path prefixes.
type Scope struct {
	Exact    []string // unit paths seen alone
	Subtrees []string // unit paths seen with their whole subtree
}

// ScopeFor collects the units that the caller's grants of any of the roles cover.
func ScopeFor(grants []Grant, roles ...string) Scope {
	var s Scope
	for _, g := range grants {
		for _, r := range roles {
			if g.Role != r {
				continue
			}
			if r == models.RoleSysadmin {
				s.Subtrees = append(s.Subtrees, "/") // every unit, in every tree
			} else if models.ReachesSubtree(r) {
				s.Subtrees = append(s.Subtrees, g.UnitPath)
			} else {
				s.Exact = append(s.Exact, g.UnitPath)
			}
		}
	}
	return s
}

// Empty reports whether the scope reaches nothing.
func (s Scope) Empty() bool { return len(s.Exact) == 0 && len(s.Subtrees) == 0 }

// Covers reports whether path is inside the scope.
func (s Scope) Covers(path string) bool {
	if path == "" {
		return false
	}
	for _, p := range s.Exact {
		if p == path {
			return true
		}
	}
	for _, p := range s.Subtrees {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// Apply restricts a query to rows whose column (a unit path) lies in the scope. An empty
// scope matches nothing.
func (s Scope) Apply(q *gorm.DB, column string) *gorm.DB {
	if s.Empty() {
		return q.Where("1 = 0")
	}
	var (
		conds []string
		args  []any
	)
	if len(s.Exact) > 0 {
		conds = append(conds, column+" IN ?")
		args = append(args, s.Exact)
	}
	for _, p := range s.Subtrees {
		conds = append(conds, column+` LIKE ? ESCAPE '\'`)
		args = append(args, likePrefix(p))
	}
	return q.Where("("+strings.Join(conds, " OR ")+")", args...)
}

// likePrefix escapes LIKE wildcards of a path (codes are [a-z0-9-], but be safe) and adds %.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(p) + "%"
}
