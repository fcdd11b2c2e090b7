package contract

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// order is a work order as GET /api/v1/work-orders/{id} answers it (fields trimmed to those
// always present); the cases below rename or drop one field at a time.
const order = `{"id":"wo-1","evaluation_id":"e-1","state":"dispatched","disposition":"","unit":{"code":"440300-001","name":"福田区政务服务中心"},` +
	`"staff":null,"staff_name":null,"channel":"pc","rated_at":"2026-03-02T09:00:00Z","service_name":"营业执照核发","case_nos":["C1"],` +
	`"levels":{"overall":"dissatisfied"},"comment":"","opened_at":"2026-03-02T09:00:01Z","deadlines":[{"name":"sign","budget":"1","unit":"440300-001",` +
	`"start":"2026-03-02T09:00:01Z","due_date":"2026-03-03","due_at":"2026-03-03T15:59:59Z","met_at":null,"overdue":false,"paused":false,` +
	`"calendar_version":"2026-1","superseded":false,"overdue_days":0}],"supervision_level":0,"overdue_days":0,"allowed_actions":[],"appeal_draft":null}`

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
		// The response schemas list their always-present fields as required, so a renamed
		// field (state → status), a dropped one, or one renamed inside a deadline fails.
		{"GET", "/api/v1/work-orders/wo-1", 200, js, order, false},
		{"GET", "/api/v1/work-orders/wo-1", 200, js, strings.Replace(order, `"state":`, `"status":`, 1), true},
		{"GET", "/api/v1/work-orders/wo-1", 200, js, strings.Replace(order, `"allowed_actions":[],`, ``, 1), true},
		{"GET", "/api/v1/work-orders/wo-1", 200, js, strings.Replace(order, `"due_at":`, `"due":`, 1), true},
		{"GET", "/api/v1/work-orders", 200, js, `{"items":[` + strings.Replace(order, `"opened_at":`, `"created_at":`, 1) + `],"total":1,"page":1,"page_size":20}`, true},
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
