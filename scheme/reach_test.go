package scheme

import (
	"testing"

	"github.com/casbin/casbin/v2/util"

	"redress/models"
)

// The one rule of jurisdiction, role by role: where the role is held (grant) and the unit
// asked about (path).
func TestGrantCovers(t *testing.T) {
	const (
		sz    = "/gd/sz/"
		szft  = "/gd/sz/sz-ft/"
		szx   = "/gd/szx/" // a sibling whose path starts with sz's code
		gz    = "/gd/gz/"
		gd    = "/gd/"
		other = "/zj/"
	)
	rows := []struct {
		role, grant, path string
		want              bool
	}{
		// Unit roles: that unit alone.
		{models.RoleOfficer, sz, sz, true},
		{models.RoleOfficer, sz, szft, false},
		{models.RoleOfficer, sz, gd, false},
		{models.RoleOfficer, sz, gz, false},
		{models.RoleUnitLeader, szft, szft, true},
		{models.RoleUnitLeader, szft, sz, false},
		// Subtree roles: the unit and everything below, nothing beside or above.
		{models.RoleAdministrator, sz, sz, true},
		{models.RoleAdministrator, sz, szft, true},
		{models.RoleAdministrator, sz, szx, false},
		{models.RoleAdministrator, sz, gz, false},
		{models.RoleAdministrator, sz, gd, false},
		{models.RoleSupervisor, gd, szft, true},
		{models.RoleSupervisor, gd, other, false},
		{models.RoleAuditor, sz, szft, true},
		{models.RoleAuditor, sz, gd, false},
		{models.RoleIntegration, sz, szft, true},
		{models.RoleIntegration, sz, gz, false},
		// The sysadmin: every unit, in every tree, wherever the grant is.
		{models.RoleSysadmin, sz, other, true},
		{models.RoleSysadmin, "", sz, true},
		// No unit is covered by a grant on no unit, and the empty path is no unit.
		{models.RoleAdministrator, "", sz, false},
		{models.RoleOfficer, "", "", false},
		{models.RoleSysadmin, sz, "", false},
		// Unknown roles reach no further than their unit.
		{"citizen", sz, szft, false},
		{"citizen", sz, sz, true},
	}
	for _, r := range rows {
		if got := GrantCovers(r.role, r.grant, r.path); got != r.want {
			t.Errorf("GrantCovers(%s on %q, %q) = %v, want %v", r.role, r.grant, r.path, got, r.want)
		}
	}
}

func TestCoversSubtree(t *testing.T) {
	want := map[string]bool{models.RoleAdministrator: true, models.RoleSupervisor: true, models.RoleAuditor: true, models.RoleSysadmin: true}
	for _, role := range models.Roles {
		if got := CoversSubtree(role); got != want[role] {
			t.Errorf("CoversSubtree(%s) = %v, want %v", role, got, want[role])
		}
	}
}

// Route permissions' domains are read as Casbin's keyMatch read them before the model called
// DomainCovers: the same answer for every domain a rule may have and every unit a request
// names ("/" for the anonymous and signed-in subjects).
func TestDomainCoversAsKeyMatch(t *testing.T) {
	domains := []string{"*", "/gd/*", "/gd/sz/*", "/gd/sz/", "/gd/", "/gd/sz/sz-ft/*", "/gd/szx/*", "/zj/*"}
	paths := []string{"/", "/gd/", "/gd/sz/", "/gd/sz/sz-ft/", "/gd/szx/", "/gd/gz/", "/zj/", "/zj/hz/"}
	for _, d := range domains {
		for _, p := range paths {
			if got, want := DomainCovers(p, d), util.KeyMatch(p, d); got != want {
				t.Errorf("DomainCovers(%q, %q) = %v, keyMatch says %v", p, d, got, want)
			}
		}
	}
	for d, want := range map[string]Span{
		"*":        {Reach: ReachEverywhere},
		"/gd/sz/*": {Reach: ReachSubtree, Base: "/gd/sz/"},
		"/gd/sz/":  {Reach: ReachUnit, Base: "/gd/sz/"},
	} {
		if got := DomainSpan(d); got != want {
			t.Errorf("DomainSpan(%q) = %+v, want %+v", d, got, want)
		}
	}
}
