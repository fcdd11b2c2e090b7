package apitest

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"redress/store"
	"redress/store/storetest"
)

// oidcSignIn runs the browser's part of a sign-in: our login endpoint (with the deep link
// next, "" for none), the provider's authorize endpoint, then our callback with the provider's
// answer and the flow cookie. It returns the hand-off (see handOffOf). tamper edits the
// callback query first.
func oidcSignIn(t *testing.T, e *env, next string, tamper func(url.Values)) url.Values {
	t.Helper()
	login := "/api/v1/auth/oidc/login"
	if next != "" {
		login += "?next=" + url.QueryEscape(next)
	}
	res := e.do(t, request{method: "GET", path: login})
	wantStatus(t, res, http.StatusFound)
	var flow, nextCookie string
	for _, c := range (&http.Response{Header: res.header}).Cookies() {
		if c.Name == "redress_oidc" {
			flow = c.Value
			if !c.HttpOnly {
				t.Error("the flow cookie must be HttpOnly")
			}
		}
		if c.Name == "redress_oidc_next" {
			nextCookie = c.Value
		}
	}
	if flow == "" {
		t.Fatal("no flow cookie")
	}
	authURL, err := url.Parse(res.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"state", "nonce", "code_challenge"} {
		if authURL.Query().Get(p) == "" {
			t.Fatalf("authorize URL lacks %s: %s", p, authURL)
		}
	}
	if authURL.Query().Get("code_challenge_method") != "S256" {
		t.Fatalf("PKCE method: %s", authURL)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	pr, err := client.Get(authURL.String())
	if err != nil {
		t.Fatal(err)
	}
	if err := pr.Body.Close(); err != nil {
		t.Fatalf("close the provider's answer: %v", err)
	}
	back, err := url.Parse(pr.Header.Get("Location"))
	if err != nil || pr.StatusCode != http.StatusFound {
		t.Fatalf("provider answered %d %s", pr.StatusCode, pr.Header.Get("Location"))
	}
	q := back.Query()
	if tamper != nil {
		tamper(q)
	}
	cookies := "redress_oidc=" + flow
	if nextCookie != "" {
		cookies += "; redress_oidc_next=" + nextCookie
	}
	cb := e.do(t, request{method: "GET", path: "/api/v1/auth/oidc/callback?" + q.Encode(), header: map[string]string{"Cookie": cookies}})
	return handOffOf(t, cb)
}

// handOffOf reads the callback's answer. A refusal goes to the UI's callback page with the
// error code: {"error": code}. A sign-in sets the HttpOnly session cookie and redirects
// straight to the deep link, with the token in no URL: {"location", "token" (the session
// cookie's), "expires_at" (the signed-in marker cookie's)}.
func handOffOf(t *testing.T, cb response) url.Values {
	t.Helper()
	wantStatus(t, cb, http.StatusFound)
	loc := cb.header.Get("Location")
	if frag, ok := strings.CutPrefix(loc, "/#/auth/callback?"); ok {
		v, err := url.ParseQuery(frag)
		if err != nil {
			t.Fatal(err)
		}
		if v.Has("token") {
			t.Errorf("the hand-off %q carries the token in the URL", loc)
		}
		return v
	}
	v := url.Values{"location": {loc}}
	for _, c := range (&http.Response{Header: cb.header}).Cookies() {
		switch c.Name {
		case "redress_session":
			v.Set("token", c.Value)
			if !c.HttpOnly {
				t.Error("the session cookie must be HttpOnly")
			}
		case "redress_signed_in":
			v.Set("expires_at", c.Value)
		}
	}
	if tok := v.Get("token"); tok == "" || strings.Contains(loc, tok) || strings.Contains(loc, "token") {
		t.Errorf("hand-off to %q: want a session cookie and no token in the URL (cookies %v)", loc, cb.header.Values("Set-Cookie"))
	}
	return v
}

func TestOIDCSignIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, prov := newMatrixEnv(t, db)

		// A user who exists: our own token, and the roles claim mapped (unknown entries skipped).
		prov.SignInAs(map[string]any{"preferred_username": "ft-officer",
			"redress_roles": []string{"officer@sz-ft-tax", "unit_leader@sz-ft-tax", "officer@no-such-unit", "king@sz"}})
		v := oidcSignIn(t, e, "/orders/0f3c?tab=timeline", nil)
		if v.Get("token") == "" || v.Get("error") != "" || v.Get("location") != "/#/orders/0f3c?tab=timeline" {
			t.Fatalf("hand-off %v", v)
		}
		if _, err := time.Parse(time.RFC3339, v.Get("expires_at")); err != nil {
			t.Fatalf("expires_at %q", v.Get("expires_at"))
		}
		me := e.do(t, request{method: "GET", path: "/api/v1/me", auth: "Bearer " + v.Get("token")})
		wantStatus(t, me, 200)
		var who struct {
			Login string
			Roles []struct{ Role string }
		}
		me.decode(t, &who)
		if who.Login != "ft-officer" || len(who.Roles) != 2 {
			t.Fatalf("signed in as %+v", who)
		}
		if n := e.count(t, "audit_log", "action = ? AND login = ? AND outcome = ?", "oidc_sign_in", "ft-officer", "ok"); n != 1 {
			t.Errorf("%d audited sign-ins", n)
		}

		for _, tc := range []struct {
			name   string
			claims map[string]any
			tamper func(url.Values)
			setup  func()
			code   string
		}{
			{"unknown user", map[string]any{"preferred_username": "nobody"}, nil, nil, "unknown_user"},
			{"no login claim", map[string]any{"email": "x@example.org"}, nil, nil, "sign_in_failed"},
			{"state mismatch", map[string]any{"preferred_username": "ft-officer"}, func(q url.Values) { q.Set("state", "forged") }, nil, "sign_in_failed"},
			{"code replayed or forged", map[string]any{"preferred_username": "ft-officer"}, func(q url.Values) { q.Set("code", "forged") }, nil, "sign_in_failed"},
			{"nonce mismatch", map[string]any{"preferred_username": "ft-officer"}, nil, func() { prov.TamperNonce = true }, "sign_in_failed"},
			{"wrong audience", map[string]any{"preferred_username": "ft-officer"}, nil, func() { prov.TamperNonce, prov.WrongAudience = false, true }, "sign_in_failed"},
			{"provider refuses", nil, nil, func() { prov.WrongAudience = false }, "provider_refused"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if tc.setup != nil {
					tc.setup()
				}
				prov.SignInAs(tc.claims)
				v := oidcSignIn(t, e, "", tc.tamper)
				if v.Get("token") != "" || v.Get("error") != tc.code {
					t.Fatalf("hand-off %v, want error %s", v, tc.code)
				}
			})
		}

		// A disabled user cannot sign in.
		wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/admin/users/ft-officer/disable", login: "sz-admin"}), 200)
		// A deep link that is not one of the UI's pages lands on the home page.
		for _, next := range []string{"//evil.example/x", "https://evil.example", "/orders/<script>"} {
			prov.SignInAs(map[string]any{"preferred_username": "sz-admin"})
			if v := oidcSignIn(t, e, next, nil); v.Get("location") != "/#/" {
				t.Errorf("next %q: hand-off to %q, want /#/", next, v.Get("location"))
			}
		}

		prov.SignInAs(map[string]any{"preferred_username": "ft-officer"})
		if v := oidcSignIn(t, e, "", nil); v.Get("error") != "unknown_user" {
			t.Fatalf("disabled user signed in: %v", v)
		}
	})
}

func TestAccountAdministration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		post := func(login, path string, body any) response {
			return e.do(t, request{method: "POST", path: path, login: login, body: body})
		}
		// An administrator grants within their subtree, never above it, never sysadmin.
		wantError(t, post("sz-admin", "/api/v1/admin/users", map[string]any{"login": "x1", "name": "X",
			"roles": []map[string]string{{"role": "sysadmin", "unit": "sz"}}}), 403, "role_not_grantable", "")
		wantError(t, post("sz-admin", "/api/v1/admin/users", map[string]any{"login": "x1", "name": "X",
			"roles": []map[string]string{{"role": "officer", "unit": "gd"}}}), 422, "unknown_unit", "roles[0].unit")
		wantError(t, post("sz-admin", "/api/v1/admin/users", map[string]any{"login": "x1", "name": "X"}), 422, "roles_required", "roles")
		wantStatus(t, post("sz-admin", "/api/v1/admin/users", map[string]any{"login": "x1", "name": "X",
			"roles": []map[string]string{{"role": "officer", "unit": "sz-ns-tax"}}}), 201)
		wantError(t, post("sz-admin", "/api/v1/admin/users", map[string]any{"login": "x1", "name": "X",
			"roles": []map[string]string{{"role": "officer", "unit": "sz-ns-tax"}}}), 409, "user_exists", "")
		wantError(t, post("sz-admin", "/api/v1/admin/users/x1/roles", map[string]string{"role": "administrator", "unit": "gd"}), 422, "unknown_unit", "unit")
		wantStatus(t, post("sz-admin", "/api/v1/admin/users/x1/roles", map[string]string{"role": "unit_leader", "unit": "sz-ns-tax"}), 201)

		// Users above the administrator are invisible to them; a sysadmin sees everyone.
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/admin/users/gd-admin", login: "sz-admin"}), 404, "not_found", "")
		wantError(t, post("sz-admin", "/api/v1/admin/users/gd-admin/disable", nil), 404, "not_found", "")
		wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/admin/users/gd-admin", login: "sysadmin"}), 200)
		var list adminList
		e.do(t, request{method: "GET", path: "/api/v1/admin/users?page_size=200", login: "sz-admin"}).decode(t, &list)
		for _, u := range list.Items {
			if u.Login == "gd-admin" || u.Login == "sysadmin" || u.Login == "channel" {
				t.Errorf("sz-admin lists %s", u.Login)
			}
		}
		// A user holding roles outside the administrator's subtree is visible but not theirs
		// to disable.
		wantStatus(t, post("sysadmin", "/api/v1/admin/users/x1/roles", map[string]string{"role": "auditor", "unit": "gd"}), 201)
		wantError(t, post("sz-admin", "/api/v1/admin/users/x1/disable", nil), 403, "user_not_manageable", "")
		wantError(t, post("sysadmin", "/api/v1/admin/users/sysadmin/disable", nil), 409, "cannot_disable_self", "")

		// A disabled user's token stops working at once; enabling restores it.
		tok := e.token(t, "ns-officer")
		wantStatus(t, post("sz-admin", "/api/v1/admin/users/ns-officer/disable", nil), 200)
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/me", auth: "Bearer " + tok}), 401, "unauthorized", "")
		wantStatus(t, post("sz-admin", "/api/v1/admin/users/ns-officer/enable", nil), 200)
		wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/me", auth: "Bearer " + tok}), 200)

		// Withdrawing a role.
		wantStatus(t, e.do(t, request{method: "DELETE", path: "/api/v1/admin/users/x1/roles/unit_leader/sz-ns-tax", login: "sz-admin"}), 200)
		wantError(t, e.do(t, request{method: "DELETE", path: "/api/v1/admin/users/x1/roles/auditor/gd", login: "sz-admin"}), 404, "not_found", "")
	})
}

type adminList struct {
	Items []struct {
		Login    string
		Disabled bool
	}
	Total int64
}

// TestPolicyEditingAcrossServers: two api servers on one database; a policy edit through one
// takes effect in the other by the revision poll; administrators stay inside their subtree.
func TestPolicyEditingAcrossServers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := newEnv(t, db, envOptions{})
		b := newEnv(t, db, envOptions{})
		line := map[string]string{"subject": "officer", "domain": "/gd/sz/sz-ft/*", "route": "/api/v1/exports/work-orders", "method": "GET"}
		// ft-officer may not export yet, on either server.
		for _, e := range []*env{a, b} {
			wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/exports/work-orders", login: "ft-officer"}), 403)
		}
		// sz-admin may not touch global lines or another subtree, nor grant sysadmin's routes.
		wantError(t, a.do(t, request{method: "POST", path: "/api/v1/admin/policies", login: "sz-admin",
			body: map[string]string{"subject": "officer", "domain": "*", "route": "/api/v1/exports/work-orders", "method": "GET"}}), 403, "outside_subtree", "")
		wantError(t, a.do(t, request{method: "POST", path: "/api/v1/admin/policies", login: "sz-admin",
			body: map[string]string{"subject": "officer", "domain": "/gd/*", "route": "/api/v1/exports/work-orders", "method": "GET"}}), 403, "outside_subtree", "")
		wantError(t, a.do(t, request{method: "POST", path: "/api/v1/admin/policies", login: "sz-admin",
			body: map[string]string{"subject": "officer", "domain": "/gd/sz/*", "route": "/api/v1/audit-log", "method": "GET"}}), 403, "permission_not_held", "")
		wantError(t, a.do(t, request{method: "POST", path: "/api/v1/admin/policies", login: "sz-admin",
			body: map[string]string{"subject": "sysadmin", "domain": "/gd/sz/*", "route": "/api/v1/exports/work-orders", "method": "GET"}}), 403, "subject_not_grantable", "")
		wantError(t, a.do(t, request{method: "POST", path: "/api/v1/admin/policies", login: "sz-admin",
			body: map[string]string{"subject": "officer", "domain": "/gd/sz/*", "route": "/api/v1/nothing", "method": "GET"}}), 422, "unknown_route", "route")
		wantError(t, a.do(t, request{method: "DELETE", path: "/api/v1/admin/policies?subject=sysadmin&domain=*&route=/api/v1/admin/policies&method=POST", login: "sysadmin"}), 409, "would_lock_out", "")

		wantStatus(t, a.do(t, request{method: "POST", path: "/api/v1/admin/policies", login: "sz-admin", body: line}), 201)
		wantError(t, a.do(t, request{method: "POST", path: "/api/v1/admin/policies", login: "sz-admin", body: line}), 409, "policy_exists", "")
		wantStatus(t, a.do(t, request{method: "GET", path: "/api/v1/exports/work-orders", login: "ft-officer"}), 200)
		eventually(t, 5*time.Second, func() (bool, string) {
			r := b.do(t, request{method: "GET", path: "/api/v1/exports/work-orders", login: "ft-officer"})
			return r.status == 200, "server b still answers " + r.String()
		})
		// ns-officer is outside the line's domain.
		wantStatus(t, b.do(t, request{method: "GET", path: "/api/v1/exports/work-orders", login: "ns-officer"}), 403)

		q := url.Values{}
		for k, v := range line {
			q.Set(k, v)
		}
		wantStatus(t, b.do(t, request{method: "DELETE", path: "/api/v1/admin/policies?" + q.Encode(), login: "sz-admin"}), 204)
		eventually(t, 5*time.Second, func() (bool, string) {
			r := a.do(t, request{method: "GET", path: "/api/v1/exports/work-orders", login: "ft-officer"})
			return r.status == 403, "server a still answers " + r.String()
		})
	})
}

// TestAuditLog: entries name the acting unit and action; auditors read their subtree's,
// export them as CSV, and nobody can alter them.
func TestAuditLog(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		// A refused request of sz-admin's subtree and one of gd-admin's.
		e.do(t, request{method: "POST", path: "/api/v1/admin/users/gd-admin/disable", login: "sz-admin"})
		e.do(t, request{method: "POST", path: "/api/v1/admin/users/nobody/disable", login: "gd-admin"})
		var page struct {
			Items []struct {
				Login    string `json:"login"`
				UnitPath string `json:"unit_path"`
				Action   string `json:"action"`
			}
			Total int64
		}
		e.do(t, request{method: "GET", path: "/api/v1/audit-log?action=" + url.QueryEscape("POST /api/v1/admin/users/:login/disable"), login: "sz-auditor"}).decode(t, &page)
		if page.Total != 1 || page.Items[0].Login != "sz-admin" || page.Items[0].UnitPath != "/gd/sz/" {
			t.Fatalf("sz-auditor sees %+v", page)
		}
		e.do(t, request{method: "GET", path: "/api/v1/audit-log?login=gd-admin", login: "sz-auditor"}).decode(t, &page)
		if page.Total != 0 {
			t.Fatalf("sz-auditor sees gd-admin's entries: %+v", page)
		}
		e.do(t, request{method: "GET", path: "/api/v1/audit-log?login=gd-admin", login: "sysadmin"}).decode(t, &page)
		if page.Total != 1 {
			t.Fatalf("sysadmin sees %+v", page)
		}
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/audit-log?from=yesterday", login: "sz-auditor"}), 422, "invalid_from", "from")

		res := e.do(t, request{method: "GET", path: "/api/v1/audit-log/export", login: "sz-auditor"})
		wantStatus(t, res, 200)
		lines := strings.Split(strings.TrimSpace(string(res.body)), "\n")
		if lines[0] != "id,at,request_id,login,roles,unit_path,method,path,action,target,status,outcome" || len(lines) < 2 {
			t.Fatalf("export: %q", res.body)
		}
		// No entry of gd-admin's (the login column); sz-admin's refused attempt on gd-admin
		// names gd-admin as its target, which is sz-admin's own entry.
		for _, l := range lines[1:] {
			if f := strings.Split(l, ","); len(f) > 3 && f[3] == "gd-admin" {
				t.Errorf("export holds another subtree's entry: %s", l)
			}
		}

		// Append-only: the database refuses updates and deletes.
		if err := db.Exec("UPDATE audit_log SET login = 'x'").Error; err == nil {
			t.Error("audit_log accepted an UPDATE")
		}
		if err := db.Exec("DELETE FROM audit_log").Error; err == nil {
			t.Error("audit_log accepted a DELETE")
		}
	})
}
