package scheme_test

import (
	"testing"

	"redress/authz"
	"redress/models"
	"redress/scheme"
	"redress/store"
)

// domainOf writes a span as a route permission's domain (authz/default.csv's patterns).
func domainOf(s scheme.Span) string {
	switch s.Reach {
	case scheme.ReachEverywhere:
		return "*"
	case scheme.ReachSubtree:
		return s.Base + "*"
	}
	return s.Base
}

// The three users of the rule of jurisdiction give the same answer for every role held on a
// unit, asked about that unit, a child, a sibling (one whose path starts with the unit's
// code), the parent and a unit of another tree: the data layer's scope (store.ScopeFor, its
// Covers and the SQL of Apply come from the same spans), the work-order checks
// (scheme.MayAct, which the workflow's validators call) and the Casbin model of the route
// permissions (authz), given a rule on the span the role covers.
func TestThreeUsersAgreeOnJurisdiction(t *testing.T) {
	enf, err := authz.NewEnforcer()
	if err != nil {
		t.Fatal(err)
	}
	const grant = "/gd/sz/"
	paths := map[string]string{
		"same":    grant,
		"child":   "/gd/sz/sz-ft/",
		"sibling": "/gd/szx/",
		"parent":  "/gd/",
		"other":   "/zj/hz/",
	}
	for _, role := range models.Roles {
		route := "/probe/" + role
		if _, err := enf.AddPolicy(role, domainOf(scheme.GrantSpan(role, grant)), route, "GET"); err != nil {
			t.Fatal(err)
		}
		for rel, path := range paths {
			want := scheme.GrantCovers(role, grant, path)
			scope := store.ScopeFor([]store.Grant{{Role: role, UnitPath: grant}}, role).Covers(path)
			act := scheme.MayAct(scheme.Caller{Grants: []scheme.Grant{{Role: role, UnitPath: grant}}}, []string{role}, path)
			// Casbin's request domain is the unit the role is held on; the rule's domain is what
			// the role covers: ask whether a role held on path falls in the grant's span.
			casbin, err := enf.Enforce(role, path, route, "GET")
			if err != nil {
				t.Fatal(err)
			}
			if scope != want || act != want || casbin != want {
				t.Errorf("%s on %s, %s unit %s: GrantCovers %v, store scope %v, MayAct %v, Casbin %v",
					role, grant, rel, path, want, scope, act, casbin)
			}
		}
	}
	// Which relations each reach covers, so that the agreement above is not agreement on
	// "nothing": a unit role its unit, a subtree role its subtree, the sysadmin everything.
	wantCovered := map[scheme.Reach][]string{
		scheme.ReachUnit:       {"same"},
		scheme.ReachSubtree:    {"same", "child"},
		scheme.ReachEverywhere: {"same", "child", "sibling", "parent", "other"},
	}
	for _, role := range models.Roles {
		var got []string
		for _, rel := range []string{"same", "child", "sibling", "parent", "other"} {
			if scheme.GrantCovers(role, grant, paths[rel]) {
				got = append(got, rel)
			}
		}
		if want := wantCovered[scheme.RoleReach(role)]; len(got) != len(want) {
			t.Errorf("%s covers %v, want %v", role, got, want)
		}
	}
}
