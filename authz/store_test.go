package authz_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"redress/authz"
	"redress/store"
	"redress/store/storetest"
)

func allowed(t *testing.T, s *authz.Store, sub, dom, obj, act string) bool {
	t.Helper()
	ok, err := s.Enforcer().Enforce(sub, dom, obj, act)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func count(t *testing.T, db *store.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Table(table).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSeedAndEdit: the default policy is seeded once; edits are stored, bump the revision and
// reach a second store on the same database by polling; a removed default line is not
// seeded again.
func TestSeedAndEdit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		defaults, err := authz.DefaultRules()
		if err != nil {
			t.Fatal(err)
		}
		a, err := authz.Open(ctx, db.DB)
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "casbin_rule"); n != int64(len(defaults)) {
			t.Fatalf("seeded %d lines, default.csv has %d", n, len(defaults))
		}
		b, err := authz.Open(ctx, db.DB) // a second api process: seeds nothing more
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "casbin_rule"); n != int64(len(defaults)) {
			t.Fatalf("second open: %d lines", n)
		}
		if !allowed(t, a, "officer", "/gd/sz/sz-ft/sz-ft-tax/", "/api/v1/work-orders", "GET") {
			t.Fatal("officers may list work orders by default")
		}

		r := authz.Rule{Subject: "auditor", Domain: "/gd/sz/*", Route: "/api/v1/me", Method: "POST"}
		if allowed(t, b, r.Subject, "/gd/sz/", r.Route, r.Method) {
			t.Fatal("allowed before the edit")
		}
		rev := b.Revision()
		if err := a.Add(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := a.Add(ctx, r); !errors.Is(err, authz.ErrExists) {
			t.Fatalf("adding twice: %v", err)
		}
		if !allowed(t, a, r.Subject, "/gd/sz/", r.Route, r.Method) {
			t.Fatal("the editing store did not reload at once")
		}
		if allowed(t, a, r.Subject, "/gd/gz/", r.Route, r.Method) {
			t.Fatal("a subtree line must not reach another subtree")
		}
		// b learns of the edit by polling the revision.
		wctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go b.Watch(wctx, 20*time.Millisecond)
		deadline := time.Now().Add(5 * time.Second)
		for !allowed(t, b, r.Subject, "/gd/sz/", r.Route, r.Method) {
			if time.Now().After(deadline) {
				t.Fatal("the second store never reloaded")
			}
			time.Sleep(10 * time.Millisecond)
		}
		if b.Revision() <= rev {
			t.Fatalf("revision %d after the edit, %d before", b.Revision(), rev)
		}
		if err := a.Remove(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := a.Remove(ctx, r); !errors.Is(err, authz.ErrMissing) {
			t.Fatalf("removing twice: %v", err)
		}
		for allowed(t, b, r.Subject, "/gd/sz/", r.Route, r.Method) {
			if time.Now().After(deadline) {
				t.Fatal("the second store never saw the removal")
			}
			time.Sleep(10 * time.Millisecond)
		}

		// A default line an administrator removed stays removed across restarts.
		d := authz.Rule{Subject: defaults[0][0], Domain: defaults[0][1], Route: defaults[0][2], Method: defaults[0][3]}
		if err := a.Remove(ctx, d); err != nil {
			t.Fatal(err)
		}
		if err := authz.SeedDefaults(ctx, db.DB); err != nil {
			t.Fatal(err)
		}
		if has, err := a.Has(ctx, d); err != nil || has {
			t.Fatalf("removed default line came back (has=%v, err=%v)", has, err)
		}
		// A line a newer release ships is added on start: simulate by forgetting one.
		last := defaults[len(defaults)-1]
		l := authz.Rule{Subject: last[0], Domain: last[1], Route: last[2], Method: last[3]}
		if err := a.Remove(ctx, l); err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("DELETE FROM casbin_default_lines WHERE line = ?", l.Line()).Error; err != nil {
			t.Fatal(err)
		}
		if err := authz.SeedDefaults(ctx, db.DB); err != nil {
			t.Fatal(err)
		}
		if has, err := a.Has(ctx, l); err != nil || !has {
			t.Fatalf("new default line not seeded (has=%v, err=%v)", has, err)
		}
	})
}

// TestRetiredDefaults: a line an earlier release seeded and a newer one retires (the staff's
// QR-token lines of issue 17) is removed from an upgraded database on start, once: an
// administrator who adds it back afterwards keeps it.
func TestRetiredDefaults(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		a, err := authz.Open(ctx, db.DB)
		if err != nil {
			t.Fatal(err)
		}
		officerQR := authz.Rule{Subject: "officer", Domain: "*", Route: "/api/v1/service-cases/:case_no/qr", Method: "POST"}
		if has, err := a.Has(ctx, officerQR); err != nil || has {
			t.Fatalf("a fresh database holds the retired line (has=%v, err=%v)", has, err)
		}
		// The database of an earlier release: the line seeded, its retirement not yet done.
		if err := db.Exec("INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES ('p', ?, ?, ?, ?, '', '')",
			officerQR.Subject, officerQR.Domain, officerQR.Route, officerQR.Method).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("DELETE FROM casbin_default_lines WHERE line LIKE 'retired: %'").Error; err != nil {
			t.Fatal(err)
		}
		if err := a.Reload(ctx); err != nil {
			t.Fatal(err)
		}
		if !allowed(t, a, "officer", "/gd/sz/sz-ft/sz-ft-tax/", "/api/v1/service-cases/:case_no/qr", "POST") {
			t.Fatal("the old line does not admit officers")
		}
		b, err := authz.Open(ctx, db.DB) // the new release starts
		if err != nil {
			t.Fatal(err)
		}
		if allowed(t, b, "officer", "/gd/sz/sz-ft/sz-ft-tax/", "/api/v1/service-cases/:case_no/qr", "POST") {
			t.Fatal("the retired line still admits officers after the upgrade")
		}
		if !allowed(t, b, "integration", "/gd/sz/sz-ft/sz-ft-tax/", "/api/v1/service-cases/:case_no/qr", "POST") {
			t.Fatal("the channel lost its QR line")
		}
		// Added back on purpose: the next start keeps it.
		if err := b.Add(ctx, officerQR); err != nil {
			t.Fatal(err)
		}
		if err := authz.SeedDefaults(ctx, db.DB); err != nil {
			t.Fatal(err)
		}
		if has, err := b.Has(ctx, officerQR); err != nil || !has {
			t.Fatalf("a deliberately re-added line was retired again (has=%v, err=%v)", has, err)
		}
	})
}

// TestAdapter exercises the persist.Adapter on the table directly.
func TestAdapter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ad := &authz.Adapter{DB: db.DB}
		rules := [][]string{{"officer", "*", "/a", "GET"}, {"auditor", "/gd/*", "/b", "GET"}}
		if err := ad.AddPolicies("p", "p", rules); err != nil {
			t.Fatal(err)
		}
		if err := ad.AddPolicy("p", "p", rules[0]); err != nil { // duplicate: no-op
			t.Fatal(err)
		}
		if n := count(t, db, "casbin_rule"); n != 2 {
			t.Fatalf("%d rows", n)
		}
		if err := ad.RemoveFilteredPolicy("p", "p", 1, "/gd/*"); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "casbin_rule"); n != 1 {
			t.Fatalf("%d rows after filtered removal", n)
		}
		if err := ad.RemovePolicy("p", "p", rules[0]); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, "casbin_rule"); n != 0 {
			t.Fatalf("%d rows after removal", n)
		}
	})
}

func TestRuleValidate(t *testing.T) {
	for _, tc := range []struct {
		r  authz.Rule
		ok bool
	}{
		{authz.Rule{"officer", "*", "/api/v1/me", "GET"}, true},
		{authz.Rule{"officer", "/gd/sz/*", "/api/v1/me", "GET"}, true},
		{authz.Rule{"officer", "/gd/sz/", "/api/v1/me", "GET"}, true},
		{authz.Rule{"Officer", "*", "/api/v1/me", "GET"}, false},
		{authz.Rule{"officer", "gd/*", "/api/v1/me", "GET"}, false},
		{authz.Rule{"officer", "/gd/../*", "/api/v1/me", "GET"}, false},
		{authz.Rule{"officer", "*", "api", "GET"}, false},
		{authz.Rule{"officer", "*", "/a, b", "GET"}, false},
		{authz.Rule{"officer", "*", "/api/v1/me", "get"}, false},
	} {
		if err := tc.r.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: err %v, want ok=%v", tc.r, err, tc.ok)
		}
	}
	if !(authz.Rule{Domain: "/gd/sz/sz-ft/*"}).WithinSubtree("/gd/sz/") || (authz.Rule{Domain: "*"}).WithinSubtree("/gd/") ||
		(authz.Rule{Domain: "/gd/szx/*"}).WithinSubtree("/gd/sz/") {
		t.Error("WithinSubtree")
	}
}
