package store_test

import (
	"context"
	"testing"

	"redress/orgfile"
	"redress/store"
	"redress/store/storetest"
)

// TestUserWithGrants: the one-query principal lookup answers what the user and role tables
// hold: every grant with its unit, none for a user without roles, ok=false for no user.
func TestUserWithGrants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := orgfile.Apply(ctx, db, orgfile.Demo()); err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("INSERT INTO users (login, name) VALUES ('norole', 'x')").Error; err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			login  string
			ok     bool
			grants int
		}{{"ft-officer", true, 1}, {"sz-admin", true, 1}, {"norole", true, 0}, {"nobody", false, 0}} {
			u, gs, ok, err := store.UserWithGrants(ctx, db, c.login)
			if err != nil {
				t.Fatal(err)
			}
			if ok != c.ok || len(gs) != c.grants || (ok && u.Login != c.login) {
				t.Errorf("%s: ok=%v user=%q grants=%v; want ok=%v and %d grants", c.login, ok, u.Login, gs, c.ok, c.grants)
			}
			if !ok {
				continue
			}
			want, err := store.GrantsOf(ctx, db, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			for i := range want {
				if gs[i] != want[i] {
					t.Errorf("%s: grant %d = %+v, want %+v", c.login, i, gs[i], want[i])
				}
			}
		}
	})
}
