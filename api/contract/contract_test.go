package contract

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// Check must be able to fail: an answer that breaks the document, an error without the Error
// shape and an undocumented API path are problems; a documented refusal in the Error shape and
// a page outside the API are not.
func TestCheck(t *testing.T) {
	js := http.Header{"Content-Type": []string{"application/json"}}
	txt := http.Header{"Content-Type": []string{"text/plain"}}
	for _, c := range []struct {
		method, path string
		status       int
		header       http.Header
		body         string
		bad          bool
	}{
		{"GET", "/api/v1/actions", 200, js, `{"actions":"not a table"}`, true},
		{"GET", "/api/v1/actions", 401, js, `{"error":{"code":"unauthenticated","message":"请先登录"}}`, false},
		{"GET", "/api/v1/actions", 500, txt, `internal error`, true},
		{"GET", "/api/v1/actions", 500, js, `{"oops":1}`, true},
		{"GET", "/api/v1/no-such-route", 200, js, `{}`, true},
		{"GET", "/api/v1/no-such-route", 404, js, `{"error":{"code":"not_found","message":"x"}}`, false},
		{"GET", "/assets/app.js", 200, txt, `x`, false},
	} {
		p, err := Check(httptest.NewRequest(c.method, c.path, nil), c.status, c.header, []byte(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if (p != "") != c.bad {
			t.Errorf("%s %s %d %s: problem %q, want a problem: %v", c.method, c.path, c.status, c.body, p, c.bad)
		}
	}
}
