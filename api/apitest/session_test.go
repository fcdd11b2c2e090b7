package apitest

import (
	"net/http"
	"strings"
	"testing"

	"redress/store"
	"redress/store/storetest"
)

// TestBrowserSession: signing in sets the session as an HttpOnly, SameSite=Strict cookie (a
// script cannot read it; every tab of the browser sends it) with a CSRF cookie beside it; the
// cookie authenticates reads, a state-changing request needs the X-CSRF-Token header matching
// the CSRF cookie, a stale cookie reads as signed out, and logout clears both. Bearer tokens
// work as before.
func TestBrowserSession(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{dev: true})
		r := e.do(t, request{method: "POST", path: "/api/v1/auth/demo-login", body: map[string]any{"login": "ft-officer"}})
		wantStatus(t, r, http.StatusOK)
		cookies := (&http.Response{Header: r.header}).Cookies()
		var session, csrf *http.Cookie
		for _, c := range cookies {
			switch c.Name {
			case "redress_session":
				session = c
			case "redress_csrf":
				csrf = c
			}
		}
		if session == nil || csrf == nil {
			t.Fatalf("sign-in set cookies %v; want redress_session and redress_csrf", cookies)
		}
		if !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/" || session.Expires.IsZero() {
			t.Errorf("session cookie %+v: want HttpOnly, SameSite=Strict, Path=/, an expiry", session)
		}
		if csrf.HttpOnly || csrf.SameSite != http.SameSiteStrictMode || len(csrf.Value) < 32 {
			t.Errorf("csrf cookie %+v: want readable by the page, SameSite=Strict, a long random value", csrf)
		}
		jar := "redress_session=" + session.Value + "; redress_csrf=" + csrf.Value

		// Reads: the cookie alone signs the request in.
		me := e.do(t, request{method: "GET", path: "/api/v1/me", header: map[string]string{"Cookie": jar}})
		wantStatus(t, me, http.StatusOK)
		if !strings.Contains(string(me.body), `"ft-officer"`) {
			t.Errorf("GET /me with the cookie: %s", me)
		}
		// Writes: refused without the CSRF header, or with another value; accepted with it.
		mark := func(h map[string]string) response {
			return e.do(t, request{method: "POST", path: "/api/v1/notifications/read", body: map[string]any{"all": true}, header: h})
		}
		wantError(t, mark(map[string]string{"Cookie": jar}), http.StatusForbidden, "csrf_failed", "")
		wantError(t, mark(map[string]string{"Cookie": jar, "X-CSRF-Token": strings.Repeat("0", 64)}), http.StatusForbidden, "csrf_failed", "")
		if r := mark(map[string]string{"Cookie": jar, "X-CSRF-Token": csrf.Value}); r.status >= 400 {
			t.Errorf("a cookie write with the CSRF header: %s", r)
		}
		// A bearer token needs no CSRF header (no browser sends it by itself).
		if r := e.do(t, request{method: "POST", path: "/api/v1/notifications/read", login: "ft-officer", body: map[string]any{"all": true}}); r.status >= 400 {
			t.Errorf("a bearer write: %s", r)
		}
		// A stale cookie reads as signed out: public routes answer, the others 401.
		stale := map[string]string{"Cookie": "redress_session=not-a-token; redress_csrf=x"}
		wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/indicators", header: stale}), http.StatusOK)
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/me", header: stale}), http.StatusUnauthorized, "unauthorized", "")

		// Logout clears both cookies.
		out := e.do(t, request{method: "POST", path: "/api/v1/auth/logout", header: map[string]string{"Cookie": jar, "X-CSRF-Token": csrf.Value}})
		wantStatus(t, out, http.StatusNoContent)
		cleared := map[string]bool{}
		for _, c := range (&http.Response{Header: out.header}).Cookies() {
			if c.MaxAge < 0 && c.Value == "" {
				cleared[c.Name] = true
			}
		}
		if !cleared["redress_session"] || !cleared["redress_csrf"] {
			t.Errorf("logout cleared %v; want both cookies", cleared)
		}
	})
}
