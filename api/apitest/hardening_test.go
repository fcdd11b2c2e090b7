package apitest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"redress/api"
	"redress/migrations"
	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// Issue 17: hardening against strangers and bad input. Each test here failed on the code
// before the fix.

// TestBadTextRefused (finding 6): NUL bytes and invalid UTF-8 in the query, the path and the
// body answer 422 at decoding on both databases, anonymous routes included (PostgreSQL
// answered 500), and a JSON array body names the body (finding 9).
func TestBadTextRefused(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		past := time.Now().Add(-time.Hour).Format(time.RFC3339)
		qrCase := uniq("QR")
		e.postCase(t, qrCase, "sz-ft-tax", "S0001")
		rate := "/api/v1/rate/" + e.srv.RateToken(qrCase)
		cases := []struct {
			name  string
			req   request
			field string
		}{
			{"NUL in an anonymous query", request{method: "GET", path: "/api/v1/public/results?month=2026-11&jurisdiction=a%00"}, "jurisdiction"},
			{"invalid UTF-8 in an anonymous query", request{method: "GET", path: "/api/v1/public/results?month=2026-11&jurisdiction=%ff%fe"}, "jurisdiction"},
			{"NUL in a signed-in query", request{method: "GET", path: "/api/v1/work-orders?unit=sz%00", login: "sz-admin"}, "unit"},
			{"NUL in a path parameter", request{method: "GET", path: "/api/v1/work-orders/a%00b", login: "sz-admin"}, "path"},
			{"NUL in an anonymous path parameter", request{method: "GET", path: "/api/v1/track/x%00y"}, "path"},
			{"escaped NUL in a body", request{method: "POST", path: "/api/v1/service-cases", login: "channel",
				body: `{"case_no":"N\u0000UL","service_item":{"code":"T01","name":"税务登记"},"unit":"sz-ft-tax","channel":"window_device","completed_at":"` + past + `"}`}, "body"},
			{"escaped NUL in an anonymous body", request{method: "POST", path: rate, body: `{"levels":{"overall":"satisfied"},"comment":"a\u0000"}`}, "body"},
			{"invalid UTF-8 in a body", request{method: "POST", path: "/api/v1/service-cases", login: "channel",
				body: []byte("{\"case_no\":\"\xff\xfe\",\"unit\":\"sz-ft-tax\"}")}, "body"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				wantError(t, e.do(t, c.req), http.StatusUnprocessableEntity, "invalid_text", c.field)
			})
		}
		if n := e.count(t, "service_cases", "case_no LIKE ?", "N%UL"); n != 0 {
			t.Errorf("%d cases stored with a NUL", n)
		}
		if n := e.count(t, "evaluations", "1=1"); n != 0 {
			t.Errorf("%d ratings stored", n)
		}
		t.Run("an escaped backslash before u0000 is text, not NUL", func(t *testing.T) {
			r := e.do(t, request{method: "POST", path: "/api/v1/service-cases", login: "channel",
				body: `{"case_no":"BS-1","service_item":{"code":"T01","name":"a\\u0000b"},"unit":"sz-ft-tax","channel":"window_device","completed_at":"` + past + `"}`})
			if r.status == http.StatusUnprocessableEntity && strings.Contains(string(r.body), "invalid_text") {
				t.Fatalf("refused: %s", r)
			}
		})
		t.Run("an array body names the body", func(t *testing.T) {
			wantError(t, e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: `[]`}),
				http.StatusUnprocessableEntity, "invalid_type", "body")
		})
	})
}

// TestSmallHardening (finding 9): a directory under /assets, security headers, the bearer
// scheme's case, client-chosen request ids, completed_at bounds and /metrics behind a token.
func TestSmallHardening(t *testing.T) {
	db := storetest.Open(t, migrations.SQLite)
	e := newEnv(t, db, envOptions{metricsToken: "metrics-secret-token"})

	t.Run("a directory is not found", func(t *testing.T) {
		for _, p := range []string{"/assets/js", "/assets/js/", "/assets/css"} {
			wantError(t, e.do(t, request{method: "GET", path: p}), http.StatusNotFound, "not_found", "")
		}
	})
	t.Run("security headers", func(t *testing.T) {
		for _, p := range []string{"/", "/assets/js/main.js", "/api/v1/me", "/api/v1/no-such"} {
			r := e.do(t, request{method: "GET", path: p})
			csp := r.header.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
				t.Errorf("%s: CSP %q", p, csp)
			}
			if r.header.Get("X-Frame-Options") != "DENY" || r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("%s: headers %v", p, r.header)
			}
		}
	})
	t.Run("the bearer scheme is case-insensitive", func(t *testing.T) {
		for _, scheme := range []string{"bearer", "BEARER", "Bearer"} {
			wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/me", auth: scheme + " " + e.token(t, "sz-admin")}), http.StatusOK)
		}
	})
	t.Run("client-chosen request ids are sanitised", func(t *testing.T) {
		for id, keep := range map[string]bool{
			"abc-123_x.y":              true,
			"=HYPERLINK(\"http://x\")": false,
			strings.Repeat("a", 65):    false,
			"a b":                      false,
			"中文":                       false,
		} {
			r := e.do(t, request{method: "GET", path: "/healthz", header: map[string]string{"X-Request-ID": id}})
			got := r.header.Get("X-Request-Id")
			if (got == id) != keep || got == "" {
				t.Errorf("X-Request-ID %q answered %q", id, got)
			}
		}
	})
	t.Run("completed_at is bounded", func(t *testing.T) {
		for _, at := range []time.Time{time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2019, 11, 30, 0, 0, 0, 0, time.UTC)} {
			wantError(t, e.do(t, request{method: "POST", path: "/api/v1/service-cases", login: "channel", body: caseBody(uniq("OLD"), "sz-ft-tax", "", at)}),
				http.StatusUnprocessableEntity, "too_early", "completed_at")
		}
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/service-cases", login: "channel", body: caseBody(uniq("NEW"), "sz-ft-tax", "", time.Now().Add(time.Hour))}),
			http.StatusUnprocessableEntity, "in_future", "completed_at")
	})
	t.Run("metrics need their token", func(t *testing.T) {
		wantError(t, e.do(t, request{method: "GET", path: "/metrics"}), http.StatusUnauthorized, "unauthorized", "")
		wantError(t, e.do(t, request{method: "GET", path: "/metrics", auth: "Bearer " + e.token(t, "sz-admin")}), http.StatusUnauthorized, "unauthorized", "")
		r := e.do(t, request{method: "GET", path: "/metrics", auth: "Bearer metrics-secret-token"})
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(string(r.body), "redress_http_requests_total") {
			t.Errorf("metrics: %.200s", r.body)
		}
	})
}

// TestIdempotencyKeyReused (finding 9): the same Idempotency-Key with another action answers
// 422 idempotency_key_reused (it answered 200 and did nothing); the same request again is
// still applied once.
func TestIdempotencyKeyReused(t *testing.T) {
	db := storetest.Open(t, migrations.SQLite)
	e := newEnv(t, db, envOptions{})
	_, id := e.badOrder(t, "sz-ft-tax", "S0001")
	e.waitState(t, id, models.StateDispatched)
	wantStatus(t, e.act(t, "ft-officer", id, "k-1", map[string]any{"action": "sign"}), http.StatusOK)
	wantStatus(t, e.act(t, "ft-officer", id, "k-1", map[string]any{"action": "sign"}), http.StatusOK)
	wantError(t, e.act(t, "ft-officer", id, "k-1", map[string]any{"action": "callback", "reached": true, "method": "phone", "note": "已回访"}),
		http.StatusUnprocessableEntity, "idempotency_key_reused", "Idempotency-Key")
	if wo := e.order(t, id); wo.State != models.StateSigned {
		t.Errorf("state %q", wo.State)
	}
	// Another caller's keys are their own.
	_, other := e.badOrder(t, "sz-ft-tax", "S0001")
	e.waitState(t, other, models.StateDispatched)
	wantError(t, e.act(t, "ft-officer", other, "k-1", map[string]any{"action": "sign"}),
		http.StatusUnprocessableEntity, "idempotency_key_reused", "Idempotency-Key")
	wantStatus(t, e.act(t, "ft-officer", other, "k-2", map[string]any{"action": "sign"}), http.StatusOK)
}

// TestRateLimits (finding 5): anonymous requests are limited per address, sign-in per address
// and per login with a lockout, and refused anonymous traffic writes no audit row each.
func TestRateLimits(t *testing.T) {
	db := storetest.Open(t, migrations.SQLite)
	t.Run("anonymous", func(t *testing.T) {
		e := newEnv(t, db, envOptions{limits: &api.Limits{Anonymous: 0.001, AnonymousBurst: 5, SignIn: 1e6, SignInBurst: 1e6}})
		var limited int
		for i := 0; i < 12; i++ {
			r := e.do(t, request{method: "GET", path: "/api/v1/public/results?month=2026-11"})
			if r.status == http.StatusTooManyRequests {
				limited++
				wantError(t, r, http.StatusTooManyRequests, "too_many_requests", "")
			}
		}
		if limited != 7 {
			t.Errorf("%d of 12 anonymous requests limited, want 7", limited)
		}
		// Signed-in callers are not limited by the anonymous budget.
		wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/me", login: "sz-admin"}), http.StatusOK)
	})
	t.Run("refused anonymous traffic is not audited row by row", func(t *testing.T) {
		e := newEnv(t, db, envOptions{})
		before := e.count(t, "audit_log", "login = ?", "")
		for i := 0; i < 30; i++ {
			wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/evaluations", body: `{}`}), http.StatusUnauthorized)
			wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/no-such-route", body: `{}`}), http.StatusNotFound)
		}
		if after := e.count(t, "audit_log", "login = ?", ""); after != before {
			t.Errorf("%d audit rows for refused anonymous requests", after-before)
		}
		r := e.do(t, request{method: "GET", path: "/metrics"})
		if !strings.Contains(string(r.body), `redress_http_refused_anonymous_total{route="/api/v1/evaluations",status="unauthorized"} 30`) {
			t.Errorf("no aggregate count of the refused requests")
		}
		// A signed-in refusal is still audited.
		wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "ns-officer", body: `{}`}), http.StatusForbidden)
		if n := e.count(t, "audit_log", "login = ? AND status = ?", "ns-officer", 403); n != 1 {
			t.Errorf("%d audit rows of the signed-in refusal", n)
		}
	})
	t.Run("sign-in", func(t *testing.T) {
		e := newEnv(t, db, envOptions{dev: true, limits: &api.Limits{Anonymous: 1e6, AnonymousBurst: 1e6, SignIn: 1e6, SignInBurst: 1e6, LockoutAfter: 3, LockoutBase: time.Hour}})
		for i := 0; i < 3; i++ {
			wantError(t, e.do(t, request{method: "POST", path: "/api/v1/auth/demo-login", body: map[string]string{"login": "no-such-user"}}), http.StatusUnprocessableEntity, "unknown_user", "login")
		}
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/auth/demo-login", body: map[string]string{"login": "no-such-user"}}), http.StatusTooManyRequests, "sign_in_locked", "")
		wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/auth/demo-login", body: map[string]string{"login": "sz-admin"}}), http.StatusOK)

		slow := newEnv(t, db, envOptions{dev: true, limits: &api.Limits{Anonymous: 1e6, AnonymousBurst: 1e6, SignIn: 0.001, SignInBurst: 2}})
		for i := 0; i < 2; i++ {
			wantStatus(t, slow.do(t, request{method: "POST", path: "/api/v1/auth/demo-login", body: map[string]string{"login": "sz-admin"}}), http.StatusOK)
		}
		wantError(t, slow.do(t, request{method: "POST", path: "/api/v1/auth/demo-login", body: map[string]string{"login": "ft-officer"}}), http.StatusTooManyRequests, "too_many_sign_ins", "")
	})
}

// TestDemoSignInOnlyDemoPeople (finding 7): the password-less demo sign-in admits the demo
// organisation's people only: not the integration login, not a user an administrator created.
func TestDemoSignInOnlyDemoPeople(t *testing.T) {
	db := storetest.Open(t, migrations.SQLite)
	e := newEnv(t, db, envOptions{dev: true})
	wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/admin/users", login: "sz-admin",
		body: map[string]any{"login": "real-person", "name": "王五", "roles": []map[string]string{{"role": "officer", "unit": "sz-ft-tax"}}}}), http.StatusCreated)
	for _, login := range []string{"channel", "real-person"} {
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/auth/demo-login", body: map[string]string{"login": login}}),
			http.StatusUnprocessableEntity, "unknown_user", "login")
	}
	wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/auth/demo-login", body: map[string]string{"login": "ft-officer"}}), http.StatusOK)
	r := e.do(t, request{method: "GET", path: "/api/v1/auth/demo-users"})
	if strings.Contains(string(r.body), `"real-person"`) || strings.Contains(string(r.body), `"channel"`) {
		t.Errorf("demo users list %s", r.body)
	}
}

// TestNoSelfGrant (finding 4): an administrator cannot grant themselves a role (they could
// become the unit's officer, act and reveal the evaluator's phone); another may.
func TestNoSelfGrant(t *testing.T) {
	db := storetest.Open(t, migrations.SQLite)
	e := newEnv(t, db, envOptions{})
	for _, login := range []string{"sz-admin", "gd-admin"} {
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/admin/users/" + login + "/roles", login: login,
			body: map[string]any{"role": "officer", "unit": "sz-ft-tax"}}), http.StatusForbidden, "cannot_grant_self", "")
	}
	if n := e.count(t, "role_assignments", "user_id IN (SELECT id FROM users WHERE login IN (?, ?))", "sz-admin", "gd-admin"); n != 2 {
		t.Errorf("%d roles held by the two administrators, want their own 2", n)
	}
	wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/admin/users/sz-admin/roles", login: "gd-admin",
		body: map[string]any{"role": "officer", "unit": "sz-ft-tax"}}), http.StatusCreated)
}

// TestIdentityNormalised (finding 2): the spellings of one mobile number and the case of an
// ID number's check letter are one person: the masked search finds every rating of theirs
// (before, "+86 137-0013-7000" and "13700137000" were two people), and an 18-character ID
// number with a wrong GB 11643 check character is refused.
func TestIdentityNormalised(t *testing.T) {
	db := storetest.Open(t, migrations.SQLite)
	e := newEnv(t, db, envOptions{})
	spellings := []string{"13700137000", "+86 137-0013-7000", "0086 13700137000", "1-3700137000"}
	for i, phone := range spellings {
		c := uniq("PH")
		e.postCase(t, c, "sz-ft-tax", "S0001")
		b := evalBody(uniq("EPH"), []string{c}, models.Satisfied, time.Now().Add(-time.Minute))
		b["evaluator"] = map[string]any{"name": evaluatorName, "phone": phone}
		if i == 0 {
			b["evaluator"] = map[string]any{"name": evaluatorName, "phone": phone, "id_number": "11010519491231002x"}
		}
		wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: b}), http.StatusCreated)
	}
	var found struct {
		Total int `json:"total"`
	}
	r := e.do(t, request{method: "GET", path: "/api/v1/evaluations?phone=%2B8613700137000", login: "sz-admin"})
	wantStatus(t, r, http.StatusOK)
	r.decode(t, &found)
	if found.Total != len(spellings) {
		t.Errorf("search by another spelling found %d of %d ratings: %s", found.Total, len(spellings), r)
	}
	if n := e.count(t, "evaluations", "evaluator_phone_hash <> ''"); n != int64(len(spellings)) {
		t.Fatalf("%d ratings with a phone", n)
	}
	var hashes []string
	if err := db.Table("evaluations").Distinct("evaluator_phone_hash").Where("evaluator_phone_hash <> ''").Pluck("evaluator_phone_hash", &hashes).Error; err != nil || len(hashes) != 1 {
		t.Errorf("%d distinct phone hashes (%v), want 1", len(hashes), err)
	}
	r = e.do(t, request{method: "GET", path: "/api/v1/evaluations?id_number=11010519491231002X", login: "sz-admin"})
	r.decode(t, &found)
	if found.Total != 1 {
		t.Errorf("search by upper-case X: %s", r)
	}
	c := uniq("PH")
	e.postCase(t, c, "sz-ft-tax", "S0001")
	b := evalBody(uniq("EPH"), []string{c}, models.Satisfied, time.Now().Add(-time.Minute))
	b["evaluator"] = map[string]any{"name": evaluatorName, "id_number": "110105194912310021"}
	wantError(t, e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: b}), http.StatusUnprocessableEntity, "invalid_id_number", "evaluator.id_number")
}
