package scheme

import (
	"strings"

	"redress/models"
)

// Reach is how far something held on a unit extends: a role a user holds there, or a route
// permission's domain (package authz).
type Reach int

// The reaches, narrowest first.
const (
	ReachUnit       Reach = iota // that unit alone (officer, unit leader)
	ReachSubtree                 // the unit and every unit below it (administrator, supervisor, auditor, integration)
	ReachEverywhere              // every unit, in every tree (sysadmin)
)

// RoleReach is how far a role held on a unit reaches: the sysadmin everywhere; the
// administration's roles, and integration (a channel system registered on a jurisdiction
// posts the cases of all its units), the unit's subtree; the unit's own staff that unit alone.
func RoleReach(role string) Reach {
	switch role {
	case models.RoleSysadmin:
		return ReachEverywhere
	case models.RoleAdministrator, models.RoleSupervisor, models.RoleAuditor, models.RoleIntegration:
		return ReachSubtree
	}
	return ReachUnit
}

// CoversSubtree reports whether a staff role held on a unit covers the unit's whole subtree
// (administrator, supervisor, auditor, sysadmin) rather than that unit alone. Integration is
// no staff role: it reaches a subtree (RoleReach) but is not counted here.
func CoversSubtree(role string) bool {
	return RoleReach(role) != ReachUnit && role != models.RoleIntegration
}

// Span is a reach anchored at a unit path: the units a grant, or a route permission's
// domain, covers.
type Span struct {
	Reach Reach
	Base  string // the unit path it is held on ("" for ReachEverywhere, or covering nothing)
}

// Covers reports whether the unit at path lies in the span. It is the one rule of
// jurisdiction: the data layer's scopes (store.ScopeFor), the work-order checks (MayAct: who
// may act on an order, and where an order may be sent) and the Casbin model's domain matching
// (authz) all decide with it, so they cannot drift apart. No unit has the empty path, and
// a span on the empty path (other than everywhere) covers nothing.
func (s Span) Covers(path string) bool {
	switch {
	case path == "":
		return false
	case s.Reach == ReachEverywhere:
		return true
	case s.Base == "":
		return false
	case s.Reach == ReachSubtree:
		return strings.HasPrefix(path, s.Base)
	}
	return path == s.Base
}

// GrantSpan is what a role held on the unit at unitPath covers.
func GrantSpan(role, unitPath string) Span { return Span{Reach: RoleReach(role), Base: unitPath} }

// GrantCovers reports whether a role held on the unit at grantPath reaches the unit at path.
func GrantCovers(role, grantPath, path string) bool { return GrantSpan(role, grantPath).Covers(path) }

// DomainSpan reads a route permission's domain (authz/default.csv): "*" everywhere,
// "/gd/sz/*" the subtree of /gd/sz/, "/gd/sz/" that unit alone. As Casbin's keyMatch did
// before, whatever follows the first "*" is ignored.
func DomainSpan(domain string) Span {
	base, _, wild := strings.Cut(domain, "*")
	switch {
	case !wild:
		return Span{Reach: ReachUnit, Base: domain}
	case base == "":
		return Span{Reach: ReachEverywhere}
	}
	return Span{Reach: ReachSubtree, Base: base}
}

// DomainCovers reports whether a route permission's domain covers the unit at path (the
// domain of a request: the unit on which the caller holds the role it asks with).
func DomainCovers(path, domain string) bool { return DomainSpan(domain).Covers(path) }
