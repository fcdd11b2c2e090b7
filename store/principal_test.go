package store_test

import (
	"context"
	"testing"

	"redress/orgfile"
	"redress/store"
	"redress/store/storetest"
)

// TestUsersWithGrants: the one-query principal lookup, asked for several logins at once,
// answers what the user and role tables hold for each: every grant with its unit, none for a
// user without roles, no answer for no user.
func TestUsersWithGrants(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := orgfile.Apply(ctx, db, orgfile.Demo()); err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("INSERT INTO users (login, name) VALUES ('norole', 'x')").Error; err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			login  string
			ok     bool
			grants int
		}{{"ft-officer", true, 1}, {"sz-admin", true, 1}, {"norole", true, 0}, {"nobody", false, 0}}
		var logins []string
		for _, c := range cases {
			logins = append(logins, c.login)
		}
		all, err := store.UsersWithGrants(ctx, db, logins)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cases {
			p, ok := all[c.login]
			u, gs := p.User, p.Grants
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
