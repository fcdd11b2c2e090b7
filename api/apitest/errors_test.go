package apitest

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"redress/auth"
	"redress/store"
	"redress/store/storetest"
)

// TestErrorShape: every refusal, from the router, the body limit, the decoder, the token
// check, the route policy and the domain, answers API.md's error shape with the exact status.
func TestErrorShape(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{bodyLimit: "16K"})
		if err := db.Exec("UPDATE users SET disabled = ? WHERE login = ?", true, "sysadmin").Error; err != nil {
			t.Fatal(err)
		}
		other, _ := auth.NewIssuer([]byte(strings.Repeat("x", 32)), testIssuer, testAudience)
		forged, _, _ := other.Issue("sz-admin", time.Hour)
		wrongAud, _ := auth.NewIssuer(testKey, testIssuer, "somewhere-else")
		audTok, _, _ := wrongAud.Issue("sz-admin", time.Hour)
		wrongIss, _ := auth.NewIssuer(testKey, "someone-else", testAudience)
		issTok, _, _ := wrongIss.Issue("sz-admin", time.Hour)
		past := time.Now().Add(-2 * time.Hour)
		expTok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
			Subject: "sz-admin", Issuer: testIssuer, Audience: jwt.ClaimStrings{testAudience},
			IssuedAt: jwt.NewNumericDate(past), NotBefore: jwt.NewNumericDate(past),
			ExpiresAt: jwt.NewNumericDate(past.Add(time.Hour)),
		}).SignedString(testKey)
		if err != nil {
			t.Fatal(err)
		}
		unknownUser, _, _ := e.issuer.Issue("nobody", time.Hour)

		big := `{"case_no":"` + strings.Repeat("x", 32<<10) + `"}`
		validCase := caseBody("ERR-1", "sz-ft-tax", "", time.Now().Add(-time.Hour))

		cases := []struct {
			name   string
			req    request
			status int
			code   string
			field  string
		}{
			{"unknown path", request{method: "GET", path: "/api/v1/no-such-thing"}, 404, "not_found", ""},
			{"unknown path signed in", request{method: "GET", path: "/api/v1/no-such-thing", login: "sz-admin"}, 404, "not_found", ""},
			{"unknown id-like path", request{method: "GET", path: "/api/v1/work-orders/x/y/z", login: "sz-admin"}, 404, "not_found", ""},
			{"wrong method", request{method: "DELETE", path: "/api/v1/evaluations"}, 405, "method_not_allowed", ""},
			{"wrong method signed in", request{method: "PUT", path: "/api/v1/work-orders", login: "sz-admin"}, 405, "method_not_allowed", ""},
			{"body over limit", request{method: "POST", path: "/api/v1/service-cases", login: "channel", body: big}, 413, "body_too_large", ""},
			{"body over limit chunked", request{method: "POST", path: "/api/v1/service-cases", login: "channel", body: big, chunked: true}, 413, "body_too_large", ""},
			{"malformed json", request{method: "POST", path: "/api/v1/service-cases", login: "channel", body: `{"case_no": `}, 400, "malformed_json", ""},
			{"not json at all", request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: `case_no=1`}, 400, "malformed_json", ""},
			{"trailing data", request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: `{} {}`}, 400, "malformed_json", ""},
			{"empty body", request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: ``}, 400, "empty_body", ""},
			{"wrong content type", request{method: "POST", path: "/api/v1/service-cases", login: "channel", body: validCase, contentType: "text/plain"}, 400, "unsupported_content_type", ""},
			{"form content type", request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: `a=b`, contentType: "application/x-www-form-urlencoded"}, 400, "unsupported_content_type", ""},
			{"unknown field", request{method: "POST", path: "/api/v1/service-cases", login: "channel", body: `{"case_no":"A1","surprise":1}`}, 400, "unknown_field", "surprise"},
			{"wrong type", request{method: "POST", path: "/api/v1/service-cases", login: "channel", body: `{"case_no":123}`}, 422, "invalid_type", "case_no"},
			{"wrong type nested", request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: `{"evaluation_id":"e","levels":"bad"}`}, 422, "invalid_type", "levels"},
			{"no token", request{method: "GET", path: "/api/v1/work-orders"}, 401, "unauthorized", ""},
			{"no token on post", request{method: "POST", path: "/api/v1/evaluations", body: `{}`}, 401, "unauthorized", ""},
			{"not a bearer token", request{method: "GET", path: "/api/v1/me", auth: "Basic c3o6YWRtaW4="}, 401, "unauthorized", ""},
			{"garbage token", request{method: "GET", path: "/api/v1/me", auth: "Bearer abc.def.ghi"}, 401, "unauthorized", ""},
			{"forged token", request{method: "GET", path: "/api/v1/me", auth: "Bearer " + forged}, 401, "unauthorized", ""},
			{"expired token", request{method: "GET", path: "/api/v1/me", auth: "Bearer " + expTok}, 401, "unauthorized", ""},
			{"wrong audience", request{method: "GET", path: "/api/v1/me", auth: "Bearer " + audTok}, 401, "unauthorized", ""},
			{"wrong issuer", request{method: "GET", path: "/api/v1/me", auth: "Bearer " + issTok}, 401, "unauthorized", ""},
			{"unknown user", request{method: "GET", path: "/api/v1/me", auth: "Bearer " + unknownUser}, 401, "unauthorized", ""},
			{"disabled user", request{method: "GET", path: "/api/v1/me", login: "sysadmin"}, 401, "unauthorized", ""},
			{"bad token on a public route", request{method: "GET", path: "/healthz", auth: "Bearer " + forged}, 401, "unauthorized", ""},
			{"role without permission", request{method: "POST", path: "/api/v1/service-cases", login: "ft-officer", body: validCase}, 403, "forbidden", ""},
			{"integration reads no orders", request{method: "GET", path: "/api/v1/work-orders", login: "channel"}, 403, "forbidden", ""},
			{"officer posts no ratings", request{method: "POST", path: "/api/v1/evaluations", login: "ns-officer", body: `{}`}, 403, "forbidden", ""},
			{"domain error", request{method: "POST", path: "/api/v1/service-cases", login: "channel", body: `{"case_no":""}`}, 422, "required", "case_no"},
			{"unknown order", request{method: "GET", path: "/api/v1/work-orders/00000000-0000-0000-0000-000000000000", login: "sz-admin"}, 404, "not_found", ""},
			{"not an order id", request{method: "GET", path: "/api/v1/work-orders/not-a-uuid/timeline", login: "sz-admin"}, 404, "not_found", ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.do(t, c.req)
				wantError(t, r, c.status, c.code, c.field)
			})
		}
		if n := e.count(t, "service_cases", "1 = 1"); n != 0 {
			t.Errorf("refused requests stored %d service cases", n)
		}

		t.Run("the token works where it should", func(t *testing.T) {
			wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/me", login: "sz-admin"}), 200)
			wantStatus(t, e.do(t, request{method: "GET", path: "/healthz"}), 200)
		})
		t.Run("a client's request id is echoed", func(t *testing.T) {
			r := e.do(t, request{method: "GET", path: "/api/v1/nope", header: map[string]string{"X-Request-Id": "trace-42"}})
			if got := r.header.Get("X-Request-Id"); got != "trace-42" {
				t.Errorf("X-Request-Id %q, want trace-42", got)
			}
		})
		t.Run("refusals are audited", func(t *testing.T) {
			if n := e.count(t, "audit_log", "status = ? AND outcome = ?", 403, "refused"); n == 0 {
				t.Error("no refused request in the audit log")
			}
		})
	})
}

// TestInternalErrorDoesNotLeak: a failing database answers 500 with a generic message and the
// request id, never the error's text.
func TestInternalErrorDoesNotLeak(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, envOptions{})
	if err := db.SQL().Close(); err != nil {
		t.Fatal(err)
	}
	r := e.do(t, request{method: "GET", path: "/api/v1/work-orders", login: "sz-admin"})
	wantError(t, r, http.StatusInternalServerError, "internal", "")
	low := strings.ToLower(string(r.body))
	for _, leak := range []string{"sql", "closed", "database", "gorm", "users"} {
		if strings.Contains(low, leak) {
			t.Errorf("500 answer leaks %q: %s", leak, r.body)
		}
	}
}
