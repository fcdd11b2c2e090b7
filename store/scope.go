package store

import (
	"slices"
	"strings"

	"gorm.io/gorm"

	"redress/scheme"
)

// Grant is one role a caller holds on one unit.
type Grant struct {
	Role     string `json:"role"`
	UnitID   int64  `json:"-"`
	UnitCode string `json:"unit_code"`
	UnitName string `json:"unit_name"`
	UnitPath string `json:"unit_path"`
}

// Covers reports whether the grant reaches a unit with the given path (scheme.GrantCovers).
func (g Grant) Covers(path string) bool { return scheme.GrantCovers(g.Role, g.UnitPath, path) }

// Scope is the set of units a caller may see for a purpose, as SQL-ready path prefixes.
type Scope struct {
	Exact    []string // unit paths seen alone
	Subtrees []string // unit paths seen with their whole subtree
}

// ScopeFor collects the units that the caller's grants of any of the roles cover, as the
// scheme's rule of jurisdiction says (scheme.GrantSpan): a grant reaching everywhere is the
// subtree of the root "/", a subtree role its unit's subtree, a unit role its unit.
func ScopeFor(grants []Grant, roles ...string) Scope {
	var s Scope
	for _, g := range grants {
		if !slices.Contains(roles, g.Role) {
			continue
		}
		sp := scheme.GrantSpan(g.Role, g.UnitPath)
		switch {
		case sp.Reach != scheme.ReachEverywhere && !sp.Covers(sp.Base):
			continue // a grant on no unit covers nothing (not, in SQL, every path)
		case sp.Reach == scheme.ReachEverywhere:
			s.Subtrees = append(s.Subtrees, "/") // every unit, in every tree
		case sp.Reach == scheme.ReachSubtree:
			s.Subtrees = append(s.Subtrees, sp.Base)
		default:
			s.Exact = append(s.Exact, sp.Base)
		}
	}
	return s
}

// Empty reports whether the scope reaches nothing.
func (s Scope) Empty() bool { return len(s.Exact) == 0 && len(s.Subtrees) == 0 }

// Covers reports whether path is inside the scope: in one of its spans (scheme.Span.Covers,
// the same rule as the SQL of Apply).
func (s Scope) Covers(path string) bool {
	for _, p := range s.Exact {
		if (scheme.Span{Reach: scheme.ReachUnit, Base: p}).Covers(path) {
			return true
		}
	}
	for _, p := range s.Subtrees {
		if (scheme.Span{Reach: scheme.ReachSubtree, Base: p}).Covers(path) {
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
