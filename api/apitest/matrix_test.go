package apitest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"redress/auth"
	"redress/auth/oidctest"
	"redress/migrations"
	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// The authorization matrix (issue 6.6): every route the server registers × every role of
// API.md and the anonymous caller × a target in the caller's own unit, another unit and the
// parent unit, plus no token / expired token / forged token / disabled user. Each cell asserts
// the exact status, and every refused or rejected request must leave the database as it was.
// A route without an entry in matrixRoutes fails the test, so an endpoint cannot be added
// without deciding who may call it.

// target is where a request points, relative to the caller's unit.
type target int

const (
	own target = iota
	other
	parent
)

func (t target) String() string { return [...]string{"own", "other", "parent"}[t] }

// actor is one role of the matrix, the demo user who holds it and the unit codes of its three
// targets.
type actor struct {
	role, login string
	units       [3]string
}

var actors = []actor{
	{models.RoleOfficer, "ft-officer", [3]string{"sz-ft-tax", "sz-ns-tax", "sz-ft"}},
	{models.RoleUnitLeader, "ft-leader", [3]string{"sz-ft-tax", "sz-ns-tax", "sz-ft"}},
	{models.RoleAdministrator, "sz-admin", [3]string{"sz-ft-tax", "gd-gz-tax", "gd"}},
	{models.RoleSupervisor, "sz-supervisor", [3]string{"sz-ft-tax", "gd-gz-tax", "gd"}},
	{models.RoleAuditor, "sz-auditor", [3]string{"sz-ft-tax", "gd-gz-tax", "gd"}},
	// Roles held on the root: "other" and "parent" are a unit of another province.
	{models.RoleIntegration, "channel", [3]string{"sz-ft-tax", "xj-tax", "xj"}},
	{models.RoleSysadmin, "sysadmin", [3]string{"sz-ft-tax", "xj-tax", "xj"}},
	{"anonymous", "", [3]string{"sz-ft-tax", "sz-ns-tax", "sz-ft"}},
}

// fixture holds what the matrix's requests point at.
type fixture struct {
	e      *env
	orders map[string]string // unit code → a work order of that unit
	cases  map[string]string // unit code → a service case of that unit
	staff  map[string]string // unit code → a staff member of that unit
	report map[string]string // unit code → a report of that unit (ids are UUIDs)
	evals  map[string]string // unit code → the rating of its order (matrixTargets)
	paths  map[string]string // unit code → path
}

// cell is one request of the matrix.
type cell struct {
	a   actor
	ai  int // the actor's index (to make bodies unique per actor)
	tg  target
	f   *fixture
	run string // unique per test run
}

func (c cell) unit() string { return c.f.paths[c.a.units[c.tg]] }
func (c cell) code() string { return c.a.units[c.tg] }

// key is unique per actor and target.
func (c cell) key() string {
	return strings.ReplaceAll(c.a.role, "_", "") + "-" + c.tg.String()
}

// routeSpec is the expectation of one route.
type routeSpec struct {
	// admits lists the policy's subjects for the route; a role outside it gets 403, an
	// anonymous caller 401 (unless "anonymous" is admitted).
	admits []string
	// req builds the request of a cell (path, body).
	req func(c cell) request
	// want is the status of an admitted caller.
	want func(c cell) int
	// unchanged: the cell must leave the database as it was even though it answers 2xx (a
	// bulk upload answers 200 and refuses items one by one).
	unchanged func(c cell) bool
}

// always answers the same status whatever the target.
func always(s int) func(cell) int { return func(cell) int { return s } }

// scoped answers okStatus for the own target and 404 for the others.
func scoped(okStatus int) func(cell) int {
	return func(c cell) int {
		if c.tg == own {
			return okStatus
		}
		return http.StatusNotFound
	}
}

// reach is scoped for everyone but the sysadmin, who reaches every unit.
func reach(okStatus, outside int) func(cell) int {
	return func(c cell) int {
		if c.tg == own || c.a.role == models.RoleSysadmin {
			return okStatus
		}
		return outside
	}
}

// codecRequest sends one clear JSON payload ("x") to the codec endpoint's /encode or /decode.
func codecRequest(op string) func(cell) request {
	return func(cell) request {
		return request{method: http.MethodPost, path: "/api/v1/system/temporal-codec/" + op,
			body: `{"payloads":[{"metadata":{"encoding":"anNvbi9wbGFpbg=="},"data":"IngiCg=="}]}`}
	}
}

func get(path string) func(cell) request {
	return func(cell) request { return request{method: http.MethodGet, path: path} }
}

var (
	staff       = []string{"officer", "unit_leader", "administrator", "supervisor", "auditor"}
	actingStaff = []string{"officer", "unit_leader", "administrator", "supervisor"}
	admins      = []string{"administrator", "sysadmin"}
)

// adminGetRoutes are GET routes that administrators hold (so an administrator may pass them
// on) and auditors hold already (so the lines the matrix adds change nobody's rights).
var adminGetRoutes = []string{"/api/v1/work-orders", "/api/v1/work-orders/:id", "/api/v1/work-orders/:id/timeline",
	"/api/v1/calendar/overrides", "/api/v1/exports/work-orders"}

func policyLine(c cell, shift int) url.Values {
	return url.Values{"subject": {"auditor"}, "domain": {c.unit() + "*"},
		"route": {adminGetRoutes[(c.ai+shift)%len(adminGetRoutes)]}, "method": {"GET"}}
}

// matrixUser is the account a cell's user-administration request targets: one per route,
// actor and target, holding officer on the target unit.
func matrixUser(op string, c cell) string { return "mx-" + op + "-" + c.key() }

var matrixRoutes = map[string]routeSpec{
	// Public documents, health and the UI.
	"GET /healthz":                {admits: []string{"anonymous"}, req: get("/healthz"), want: always(200)},
	"GET /readyz":                 {admits: []string{"anonymous"}, req: get("/readyz"), want: always(200)},
	"GET /metrics":                {admits: []string{"anonymous"}, req: get("/metrics"), want: always(200)},
	"GET /api/v1/openapi.json":    {admits: []string{"anonymous"}, req: get("/api/v1/openapi.json"), want: always(200)},
	"GET /api/v1/openapi.yaml":    {admits: []string{"anonymous"}, req: get("/api/v1/openapi.yaml"), want: always(200)},
	"GET /":                       {admits: []string{"anonymous"}, req: get("/"), want: always(200)},
	"GET /assets/*":               {admits: []string{"anonymous"}, req: get("/assets/js/main.js"), want: always(200)},
	"GET /api/v1/auth/demo-users": {admits: []string{"anonymous"}, req: get("/api/v1/auth/demo-users"), want: always(200)},
	"POST /api/v1/auth/demo-login": {admits: []string{"anonymous"}, want: always(200), req: func(cell) request {
		return request{method: "POST", path: "/api/v1/auth/demo-login", body: map[string]any{"login": "ft-officer"}}
	}},
	// OIDC: the login redirects to the provider; a callback without the flow cookie hands an
	// error to the UI.
	"POST /api/v1/auth/logout": {admits: []string{"anonymous"}, want: always(204), req: func(cell) request {
		return request{method: "POST", path: "/api/v1/auth/logout"}
	}},
	"GET /api/v1/auth/oidc/login":    {admits: []string{"anonymous"}, req: get("/api/v1/auth/oidc/login"), want: always(302)},
	"GET /api/v1/auth/oidc/callback": {admits: []string{"anonymous"}, req: get("/api/v1/auth/oidc/callback?code=x&state=y"), want: always(302)},

	// Anyone signed in.
	"GET /api/v1/me":                   {admits: []string{"signed_in"}, req: get("/api/v1/me"), want: always(200)},
	"GET /api/v1/actions":              {admits: []string{"signed_in"}, req: get("/api/v1/actions"), want: always(200)},
	"GET /api/v1/system/banners":       {admits: []string{"signed_in"}, req: get("/api/v1/system/banners"), want: always(200)},
	"GET /api/v1/calendar/deadline":    {admits: []string{"signed_in"}, req: get("/api/v1/calendar/deadline?from=2025-03-03&budget=3&unit=working_days"), want: always(200)},
	"GET /api/v1/calendar/years":       {admits: []string{"signed_in"}, req: get("/api/v1/calendar/years"), want: always(200)},
	"GET /api/v1/calendar/years/:year": {admits: []string{"signed_in"}, req: get("/api/v1/calendar/years/2025"), want: always(200)},

	// Intake by channel systems: a case of a unit outside the channel's subtree is refused.
	"POST /api/v1/service-cases": {admits: []string{"integration"}, want: reach(201, 422), req: func(c cell) request {
		return request{method: "POST", path: "/api/v1/service-cases", body: caseBody("MX-"+c.run+"-"+c.key(), c.code(), "", time.Now().Add(-time.Hour))}
	}},
	"POST /api/v1/evaluations": {admits: []string{"integration"}, want: reach(201, 422), req: func(c cell) request {
		b := evalBody("MXE-"+c.run+"-"+c.key(), []string{c.f.cases[c.code()]}, models.Satisfied, time.Now())
		return request{method: "POST", path: "/api/v1/evaluations", body: b}
	}},

	// Work orders: the data layer answers 404 outside the caller's units.
	"GET /api/v1/work-orders": {admits: staff, req: get("/api/v1/work-orders"), want: always(200)},
	"GET /api/v1/work-orders/:id": {admits: staff, want: scoped(200), req: func(c cell) request {
		return request{method: "GET", path: "/api/v1/work-orders/" + c.f.orders[c.code()]}
	}},
	"GET /api/v1/work-orders/:id/timeline": {admits: staff, want: scoped(200), req: func(c cell) request {
		return request{method: "GET", path: "/api/v1/work-orders/" + c.f.orders[c.code()] + "/timeline"}
	}},
	// A reassignment of the target's order to a real unit of the caller's "other" target,
	// outside their jurisdiction: officers and leaders hear 403 (not their action),
	// administrators and supervisors 403 target_out_of_scope (issue 15); nothing changes.
	"POST /api/v1/work-orders/:id/actions": {admits: actingStaff, req: func(c cell) request {
		return request{method: "POST", path: "/api/v1/work-orders/" + c.f.orders[c.code()] + "/actions",
			body: map[string]any{"action": "reassign", "to_unit": c.a.units[other], "reason": "matrix"}}
	}, want: func(c cell) int {
		if c.tg != own {
			return 404
		}
		return 403
	}},
	"GET /api/v1/exports/work-orders": {admits: []string{"administrator", "supervisor", "auditor"}, req: get("/api/v1/exports/work-orders"), want: always(200)},

	// The calendar: an empty import is invalid; overrides are listed, and a malformed edit is
	// invalid.
	// Only the province's administration (gd) or a sysadmin imports national years.
	"POST /api/v1/calendar/years": {admits: admins, want: func(c cell) int {
		if c.a.role == models.RoleSysadmin {
			return 422
		}
		return 403
	}, req: func(cell) request {
		return request{method: "POST", path: "/api/v1/calendar/years", body: map[string]any{}}
	}},
	// A unit outside the caller's subtree is not known to them (the sysadmin reaches all).
	"GET /api/v1/calendar/overrides": {admits: []string{"administrator", "supervisor", "auditor", "sysadmin"}, want: reach(200, 422), req: func(c cell) request {
		return request{method: "GET", path: "/api/v1/calendar/overrides?unit=" + c.code()}
	}},
	"POST /api/v1/calendar/overrides": {admits: admins, want: always(422), req: func(cell) request {
		return request{method: "POST", path: "/api/v1/calendar/overrides", body: map[string]any{}}
	}},
	"DELETE /api/v1/calendar/overrides": {admits: admins, want: always(422), req: func(cell) request {
		return request{method: "DELETE", path: "/api/v1/calendar/overrides"}
	}},

	// Citizens: tokens are the credential; a forged one is not found.
	"GET /api/v1/rate/:token": {admits: []string{"anonymous"}, req: get("/api/v1/rate/q1.forged"), want: always(404)},
	"POST /api/v1/rate/:token": {admits: []string{"anonymous"}, want: always(404), req: func(cell) request {
		return request{method: "POST", path: "/api/v1/rate/q1.forged", body: map[string]any{"overall": "satisfied"}}
	}},
	"GET /api/v1/track/:token": {admits: []string{"anonymous"}, req: get("/api/v1/track/forged"), want: always(404)},
	"POST /api/v1/track/:token/feedback": {admits: []string{"anonymous"}, want: always(404), req: func(cell) request {
		return request{method: "POST", path: "/api/v1/track/forged/feedback", body: map[string]any{"satisfaction": "satisfied"}}
	}},
	"POST /api/v1/service-cases/:case_no/qr": {admits: []string{"integration"}, want: scoped(200), req: func(c cell) request {
		return request{method: "POST", path: "/api/v1/service-cases/" + c.f.cases[c.code()] + "/qr"}
	}},

	// Notifications.
	"GET /api/v1/notifications":        {admits: staff, req: get("/api/v1/notifications"), want: always(200)},
	"GET /api/v1/notifications/outbox": {admits: admins, req: get("/api/v1/notifications/outbox"), want: always(200)},
	"POST /api/v1/notifications/read": {admits: staff, want: always(200), req: func(cell) request {
		return request{method: "POST", path: "/api/v1/notifications/read", body: map[string]any{"all": true}}
	}},
	// A real dead notification of the target unit's order, one per cell (a resend makes it
	// pending): sent again in the caller's reach, another unit's not found and left dead.
	"POST /api/v1/notifications/outbox/:id/resend": {admits: admins, want: reach(202, 404), req: func(c cell) request {
		return request{method: "POST", path: "/api/v1/notifications/outbox/" + mxID("N", c) + "/resend"}
	}},

	// Accounts: an administrator reaches users and units of their subtree only.
	"GET /api/v1/admin/users": {admits: admins, req: get("/api/v1/admin/users"), want: always(200)},
	"POST /api/v1/admin/users": {admits: admins, want: reach(201, 422), req: func(c cell) request {
		return request{method: "POST", path: "/api/v1/admin/users", body: map[string]any{"login": "mx-new-" + c.key(), "name": "matrix",
			"roles": []map[string]string{{"role": "officer", "unit": c.code()}}}}
	}},
	"GET /api/v1/admin/users/:login": {admits: admins, want: reach(200, 404), req: func(c cell) request {
		return request{method: "GET", path: "/api/v1/admin/users/" + matrixUser("get", c)}
	}},
	"POST /api/v1/admin/users/:login/disable": {admits: admins, want: reach(200, 404), req: func(c cell) request {
		return request{method: "POST", path: "/api/v1/admin/users/" + matrixUser("disable", c) + "/disable"}
	}},
	"POST /api/v1/admin/users/:login/enable": {admits: admins, want: reach(200, 404), req: func(c cell) request {
		return request{method: "POST", path: "/api/v1/admin/users/" + matrixUser("enable", c) + "/enable"}
	}},
	"POST /api/v1/admin/users/:login/roles": {admits: admins, want: reach(201, 404), req: func(c cell) request {
		return request{method: "POST", path: "/api/v1/admin/users/" + matrixUser("addrole", c) + "/roles",
			body: map[string]string{"role": "unit_leader", "unit": c.code()}}
	}},
	"DELETE /api/v1/admin/users/:login/roles/:role/:unit": {admits: admins, want: reach(200, 404), req: func(c cell) request {
		return request{method: "DELETE", path: "/api/v1/admin/users/" + matrixUser("rmrole", c) + "/roles/officer/" + c.code()}
	}},
	// Policy lines: an administrator edits only lines whose domain lies in their subtree.
	"GET /api/v1/admin/policies": {admits: admins, req: get("/api/v1/admin/policies"), want: always(200)},
	"POST /api/v1/admin/policies": {admits: admins, want: reach(201, 403), req: func(c cell) request {
		q := policyLine(c, 0)
		return request{method: "POST", path: "/api/v1/admin/policies", body: map[string]string{
			"subject": q.Get("subject"), "domain": q.Get("domain"), "route": q.Get("route"), "method": q.Get("method")}}
	}},
	"DELETE /api/v1/admin/policies": {admits: admins, want: reach(204, 403), req: func(c cell) request {
		return request{method: "DELETE", path: "/api/v1/admin/policies?" + policyLine(c, 3).Encode()}
	}},

	// Statistics, publications and reports (issues 8 and 9).
	"GET /api/v1/stats/units":    {admits: staff, req: get("/api/v1/stats/units"), want: always(200)},
	"GET /api/v1/stats/staff":    {admits: staff, req: get("/api/v1/stats/staff"), want: always(200)},
	"GET /api/v1/stats/items":    {admits: staff, req: get("/api/v1/stats/items"), want: always(200)},
	"GET /api/v1/stats/channels": {admits: staff, req: get("/api/v1/stats/channels"), want: always(200)},
	"GET /api/v1/stats/trend":    {admits: staff, req: get("/api/v1/stats/trend"), want: always(200)},
	"GET /api/v1/stats/alarms":   {admits: []string{"administrator", "supervisor", "auditor"}, req: get("/api/v1/stats/alarms"), want: always(200)},
	"POST /api/v1/publications": {admits: []string{"administrator"}, want: always(422), req: func(cell) request {
		return request{method: "POST", path: "/api/v1/publications", body: map[string]any{}}
	}},
	"GET /api/v1/publications": {admits: []string{"administrator", "supervisor", "auditor"}, req: get("/api/v1/publications"), want: always(200)},
	// A real publication of every unit (2020-01, version 1): read in the caller's reach only.
	"GET /api/v1/publications/:unit/:month/:version": {admits: []string{"administrator", "supervisor", "auditor"}, want: reach(200, 404), req: func(c cell) request {
		return request{method: "GET", path: "/api/v1/publications/" + c.code() + "/2020-01/1"}
	}},
	"GET /api/v1/public/results": {admits: []string{"anonymous"}, req: get("/api/v1/public/results?month=2020-01"), want: always(200)},
	// The Temporal payload codec (issue 16 finding 6): sysadmins only, whatever the unit.
	"POST /api/v1/system/temporal-codec/encode": {admits: []string{"sysadmin"}, want: always(200), req: codecRequest("encode")},
	"POST /api/v1/system/temporal-codec/decode": {admits: []string{"sysadmin"}, want: always(200), req: codecRequest("decode")},
	"GET /api/v1/public/signing-key":            {admits: []string{"anonymous"}, req: get("/api/v1/public/signing-key"), want: always(200)},
	// The real rating of the unit's order, which is open: in reach the erasure waits for the
	// order to close (409 order_open), out of reach the rating is not found; nothing changes.
	"POST /api/v1/evaluations/:id/erase": {admits: []string{"administrator"}, want: reach(409, 404), req: func(c cell) request {
		return request{method: "POST", path: "/api/v1/evaluations/" + c.f.evals[c.code()] + "/erase", body: map[string]any{"reason": "评价人申请删除"}}
	}},
	// Open311 GeoReport v2 read side (issue 21).
	"GET /open311/v2/discovery.json": {admits: []string{"anonymous"}, req: get("/open311/v2/discovery.json"), want: always(200)},
	"GET /open311/v2/discovery.xml":  {admits: []string{"anonymous"}, req: get("/open311/v2/discovery.xml"), want: always(200)},
	"GET /open311/v2/services.json":  {admits: []string{"anonymous"}, req: get("/open311/v2/services.json"), want: always(200)},
	"GET /open311/v2/services.xml":   {admits: []string{"anonymous"}, req: get("/open311/v2/services.xml"), want: always(200)},
	"GET /open311/v2/requests.json":  {admits: []string{"anonymous"}, req: get("/open311/v2/requests.json"), want: always(200)},
	"GET /open311/v2/requests.xml":   {admits: []string{"anonymous"}, req: get("/open311/v2/requests.xml"), want: always(200)},
	"GET /open311/v2/requests/:id":   {admits: []string{"anonymous"}, req: get("/open311/v2/requests/none.json"), want: always(404)},
	// The indicator catalogue is public: rating pages and channels build their forms on it.
	"GET /api/v1/indicators": {admits: []string{"anonymous"}, req: get("/api/v1/indicators?unit=sz-ns-tax"), want: always(200)},
	"POST /api/v1/reports": {admits: []string{"administrator", "supervisor", "auditor"}, want: always(422), req: func(cell) request {
		return request{method: "POST", path: "/api/v1/reports", body: map[string]any{}}
	}},
	"GET /api/v1/reports": {admits: []string{"administrator", "supervisor", "auditor"}, req: get("/api/v1/reports"), want: always(200)},
	// A real report of the target unit.
	"GET /api/v1/reports/:id": {admits: []string{"administrator", "supervisor", "auditor"}, want: reach(200, 404), req: func(c cell) request {
		return request{method: "GET", path: "/api/v1/reports/" + c.f.report[c.code()]}
	}},

	// The upstream delivery queue and the 12345 hotline.
	"GET /api/v1/upstream/messages": {admits: []string{"administrator", "auditor", "sysadmin"}, req: get("/api/v1/upstream/messages"), want: always(200)},
	// A real dead upstream message of the target unit, one per cell (a resend makes it
	// pending): read and sent again in the caller's reach, another unit's not found.
	"GET /api/v1/upstream/messages/:id": {admits: []string{"administrator", "auditor", "sysadmin"}, want: reach(200, 404), req: func(c cell) request {
		return request{method: "GET", path: "/api/v1/upstream/messages/" + mxID("U", c)}
	}},
	"POST /api/v1/upstream/messages/:id/resend": {admits: admins, want: reach(200, 404), req: func(c cell) request {
		return request{method: "POST", path: "/api/v1/upstream/messages/" + mxID("U", c) + "/resend"}
	}},
	// No hotline call-back exists yet when the matrix reads (GET sorts before POST).
	"GET /api/v1/work-orders/:id/hotline": {admits: staff, want: always(404), req: func(c cell) request {
		return request{method: "GET", path: "/api/v1/work-orders/" + c.f.orders[c.code()] + "/hotline"}
	}},
	// The administrator hands the own order to the hotline; the supervisor then finds it handed.
	"POST /api/v1/work-orders/:id/hotline": {admits: []string{"administrator", "supervisor"}, want: func(c cell) int {
		switch {
		case c.tg != own:
			return 404
		case c.a.role == models.RoleAdministrator:
			return 201
		default:
			return 409
		}
	}, req: func(c cell) request {
		return request{method: "POST", path: "/api/v1/work-orders/" + c.f.orders[c.code()] + "/hotline", body: map[string]any{}}
	}},
	// The hotline's webhook authenticates by its own signature, not by a bearer token.
	"POST /api/v1/hotline/results": {admits: []string{"anonymous"}, want: always(401), req: func(cell) request {
		return request{method: "POST", path: "/api/v1/hotline/results", body: map[string]any{}}
	}},

	// The audit log.
	"GET /api/v1/audit-log":        {admits: []string{"auditor", "sysadmin"}, req: get("/api/v1/audit-log"), want: always(200)},
	"GET /api/v1/audit-log/export": {admits: []string{"auditor", "sysadmin"}, req: get("/api/v1/audit-log/export"), want: always(200)},
}

// expected is the status a cell must get: the route's own answer for an admitted caller,
// 401 for an anonymous caller on a route that needs a token, 403 for a role not admitted.
func expected(spec routeSpec, c cell) int {
	switch {
	case slices.Contains(spec.admits, "anonymous"):
		return spec.want(c)
	case c.a.login == "":
		return http.StatusUnauthorized
	case slices.Contains(spec.admits, "signed_in"), slices.Contains(spec.admits, c.a.role):
		return spec.want(c)
	default:
		return http.StatusForbidden
	}
}

// snapshot fingerprints every table but the audit log (which records refusals by design):
// row counts of all, and the content of the tables a refused request could alter.
func snapshot(t *testing.T, db *store.DB) string {
	t.Helper()
	var tables []string
	q := `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	if db.Dialect == migrations.SQLite {
		q = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\'`
	}
	if err := db.Raw(q).Scan(&tables).Error; err != nil {
		t.Fatal(err)
	}
	sort.Strings(tables)
	h := sha256.New()
	for _, tb := range tables {
		if tb == "audit_log" || tb == "goose_db_version" {
			continue
		}
		var n int64
		if err := db.Table(tb).Count(&n).Error; err != nil {
			t.Fatal(err)
		}
		_, _ = fmt.Fprintf(h, "%s=%d;", tb, n) // a hash.Hash never fails to write
	}
	for _, q := range []string{
		"SELECT id, state, version, unit_path, supervision_level FROM work_orders ORDER BY id",
		"SELECT login, name, disabled FROM users ORDER BY login",
		"SELECT user_id, role, unit_id FROM role_assignments ORDER BY user_id, role, unit_id",
		"SELECT ptype, v0, v1, v2, v3 FROM casbin_rule ORDER BY ptype, v0, v1, v2, v3",
		"SELECT revision FROM casbin_policy_state",
		// Refused resends and rulings must leave these as they were (a count would not see it).
		"SELECT id, status, attempts FROM notifications ORDER BY id",
		"SELECT id, status, attempts FROM upstream_messages ORDER BY id",
		"SELECT id, status, ruled_by FROM fraud_flags ORDER BY id",
		"SELECT id, excluded FROM evaluations ORDER BY id",
	} {
		rows, err := db.Raw(q).Rows()
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			_, _ = fmt.Fprintf(h, "%v|", vals) // a hash.Hash never fails to write
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// matrixFixture adds units outside the demo's sz (a sibling city under gd, another province),
// work orders and service cases in each target unit, and the accounts the admin routes act on.
func matrixFixture(t *testing.T, e *env) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{e: e, orders: map[string]string{}, cases: map[string]string{}, staff: map[string]string{}, report: map[string]string{}, evals: map[string]string{}, paths: map[string]string{}}
	addUnit := func(code, parent string) {
		u := models.Unit{Code: code, Name: code, Kind: "administration", Path: "/" + code + "/"}
		if parent != "" {
			var p models.Unit
			if err := e.db.Where("code = ?", parent).First(&p).Error; err != nil {
				t.Fatal(err)
			}
			u.ParentID, u.Path = &p.ID, p.Path+code+"/"
		}
		if err := e.db.Create(&u).Error; err != nil {
			t.Fatal(err)
		}
	}
	addUnit("gd-gz", "gd")
	addUnit("gd-gz-tax", "gd-gz")
	addUnit("xj", "")
	addUnit("xj-tax", "xj")
	var units []models.Unit
	if err := e.db.Find(&units).Error; err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		f.paths[u.Code] = u.Path
		// A real staff member in every unit, so that a cell naming another unit's staff
		// member can only be refused by the scope check, not by the id being unknown.
		st := models.Staff{ID: "MX-S-" + u.Code, Name: "矩阵人员", UnitID: u.ID}
		if err := e.db.Create(&st).Error; err != nil {
			t.Fatal(err)
		}
		f.staff[u.Code] = st.ID
	}
	// Real work orders (workflow and all) where the channel reaches; a read-model row in the
	// other province, which nobody in the matrix reaches.
	for _, code := range []string{"sz-ft-tax", "sz-ns-tax", "sz-ft", "gd-gz-tax", "gd"} {
		caseNo, id := e.badOrder(t, code, "")
		f.orders[code] = id
		e.waitState(t, id, models.StateDispatched)
		c2 := uniq("C")
		e.postCase(t, c2, code, "")
		f.cases[code] = c2
		_ = caseNo
	}
	for _, code := range []string{"xj-tax", "xj"} {
		var u models.Unit
		if err := e.db.Where("code = ?", code).First(&u).Error; err != nil {
			t.Fatal(err)
		}
		caseNo := uniq("C")
		now := time.Now().UTC()
		sc := models.ServiceCase{ID: uuid.NewString(), CaseNo: caseNo, ItemCode: "x", ItemName: "x", UnitID: u.ID,
			Channel: "pc", CompletedAt: now, ContentHash: "x"}
		if err := e.db.Create(&sc).Error; err != nil {
			t.Fatal(err)
		}
		f.cases[code] = caseNo
		ev := models.Evaluation{ID: uuid.NewString(), EvaluationID: uniq("XE"), Channel: "pc", Overall: models.VeryDissatisfied,
			Levels: models.NewJSON(map[string]string{"overall": models.VeryDissatisfied}), Bad: true, Tags: models.NewJSON([]string{}),
			RatedAt: now, ReceivedAt: now, RequestHash: "x"}
		if err := e.db.Create(&ev).Error; err != nil {
			t.Fatal(err)
		}
		wo := models.WorkOrder{ID: uuid.NewString(), EvaluationID: ev.ID, WorkflowID: "x-" + uuid.NewString(), WorkflowStarted: true,
			State: models.StateDispatched, UnitID: &u.ID, UnitPath: u.Path, CaseNos: models.NewJSON([]string{caseNo}),
			Overall: models.VeryDissatisfied, Levels: ev.Levels, OpenedAt: now, Deadlines: models.NewJSON([]models.Deadline{}), UpdatedAt: now}
		if err := e.db.Create(&wo).Error; err != nil {
			t.Fatal(err)
		}
		f.orders[code] = wo.ID
	}
	matrixTargets(t, e, f)
	// Accounts and policy lines the admin routes act on, one per route, actor and target.
	for ai, a := range actors {
		for tg := own; tg <= parent; tg++ {
			c := cell{a: a, ai: ai, tg: tg, f: f}
			u, _, err := store.UnitByCode(ctx, e.db, c.code())
			if err != nil || u.ID == 0 {
				t.Fatalf("unit %s: %v", c.code(), err)
			}
			for _, op := range []string{"get", "disable", "enable", "addrole", "rmrole"} {
				if _, err := store.CreateUser(ctx, e.db, matrixUser(op, c), "matrix", []store.RoleAt{{Role: models.RoleOfficer, UnitID: u.ID}}); err != nil {
					t.Fatal(err)
				}
				if op == "enable" {
					usr, _, _ := store.FindUser(ctx, e.db, matrixUser(op, c))
					if err := store.SetDisabled(ctx, e.db, usr.ID, true); err != nil {
						t.Fatal(err)
					}
				}
			}
			if slices.Contains(admins, a.role) {
				q := policyLine(c, 3)
				if err := e.db.Exec("INSERT INTO casbin_rule (ptype, v0, v1, v2, v3, v4, v5) VALUES ('p', ?, ?, ?, ?, '', '')",
					q.Get("subject"), q.Get("domain"), q.Get("route"), q.Get("method")).Error; err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if err := e.pol.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

// newMatrixEnv is a full server with every optional part on: the dev sign-in, the web UI
// and OIDC sign-in against a real provider on loopback.
func newMatrixEnv(t *testing.T, db *store.DB) (*env, *oidctest.Provider) {
	t.Helper()
	prov, err := oidctest.New("redress-test", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prov.Close)
	issuer, err := auth.NewIssuer(testKey, testIssuer, testAudience)
	if err != nil {
		t.Fatal(err)
	}
	// The redirect URL's host is not known before the server starts; the provider only
	// echoes it back, and the tests call the callback themselves.
	o, err := auth.NewOIDC(auth.OIDCConfig{Issuer: prov.URL, ClientID: "redress-test", ClientSecret: "s3cret",
		RedirectURL: "http://127.0.0.1/api/v1/auth/oidc/callback", Scopes: []string{"profile"}, RolesClaim: "redress_roles"}, issuer)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, db, envOptions{oidc: o, dev: true})
	// Redirects are answers to assert, not to follow.
	e.http.Client().CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return e, prov
}

func TestAuthorizationMatrix(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, _ := newMatrixEnv(t, db)
		f := matrixFixture(t, e)
		run := uuid.NewString()[:6]

		// Every registered route has an expectation, and every expectation a route.
		for _, p := range missingExpectations(e.srv.Echo().Routes(), matrixRoutes) {
			t.Error(p)
		}
		if t.Failed() {
			t.FailNow()
		}
		var routes []string
		for k := range matrixRoutes {
			routes = append(routes, k)
		}
		sort.Strings(routes)

		// The admitted subjects of each expectation are exactly the live policy's.
		rules, err := e.pol.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range routes {
			method, path, _ := strings.Cut(k, " ")
			var subs []string
			for _, r := range rules {
				if r.Route == path && r.Method == method && r.Domain == "*" && !slices.Contains(subs, r.Subject) {
					subs = append(subs, r.Subject)
				}
			}
			want := slices.Clone(matrixRoutes[k].admits)
			sort.Strings(subs)
			sort.Strings(want)
			if !slices.Equal(subs, want) {
				t.Errorf("%s: policy admits %v, the matrix expects %v", k, subs, want)
			}
		}

		cells := 0
		for _, k := range routes {
			spec := matrixRoutes[k]
			for ai, a := range actors {
				for tg := own; tg <= parent; tg++ {
					c := cell{a: a, ai: ai, tg: tg, f: f, run: run}
					rq := spec.req(c)
					rq.login = a.login
					want := expected(spec, c)
					before := snapshot(t, db)
					res := e.do(t, rq)
					cells++
					if res.status != want {
						t.Errorf("%s as %s (%s, %s): status %d, want %d: %.200s", k, a.role, tg, rq.path, res.status, want, res.body)
					}
					// Evaluator privacy: every fixture order's evaluator has this phone; no answer
					// of the matrix may carry it unmasked (the reveal endpoint, when it appears,
					// must exempt exactly the holding officer's own cell here).
					if strings.Contains(string(res.body), evaluatorPhone) || strings.Contains(string(res.body), evaluatorID) {
						t.Errorf("%s as %s (%s): the answer holds the evaluator's unmasked phone or id", k, a.role, tg)
					}
					if res.status >= 400 || (spec.unchanged != nil && spec.unchanged(c)) {
						if after := snapshot(t, db); after != before {
							t.Errorf("%s as %s (%s): refused (status %d) but the database changed", k, a.role, tg, res.status)
						}
					}
				}
			}
			// Bad credentials: 401 on every route, public ones included, and nothing changes.
			for _, bad := range badTokens(t, e) {
				rq := spec.req(cell{a: actors[0], tg: own, f: f, run: run + "-bad"})
				rq.auth = "Bearer " + bad.token
				before := snapshot(t, db)
				res := e.do(t, rq)
				cells++
				if res.status != http.StatusUnauthorized {
					t.Errorf("%s with %s token: status %d, want 401", k, bad.name, res.status)
				}
				if after := snapshot(t, db); after != before {
					t.Errorf("%s with %s token: the database changed", k, bad.name)
				}
			}
		}
		t.Logf("%d routes, %d cells", len(routes), cells)
	})
}

type badToken struct{ name, token string }

// badTokens: expired, forged (signed with another key), wrong audience, not a JWT, and the
// valid token of a user who has since been disabled.
func badTokens(t *testing.T, e *env) []badToken {
	t.Helper()
	claims := func(login string, exp time.Time, aud string) jwt.RegisteredClaims {
		return jwt.RegisteredClaims{Subject: login, Issuer: testIssuer, Audience: jwt.ClaimStrings{aud},
			IssuedAt: jwt.NewNumericDate(exp.Add(-time.Hour)), ExpiresAt: jwt.NewNumericDate(exp)}
	}
	sign := func(c jwt.RegisteredClaims, key []byte) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return []badToken{
		{"expired", sign(claims("sysadmin", time.Now().Add(-time.Minute), testAudience), testKey)},
		{"forged", sign(claims("sysadmin", time.Now().Add(time.Hour), testAudience), []byte("another-key-0123456789abcdef012345"))},
		{"wrong-audience", sign(claims("sysadmin", time.Now().Add(time.Hour), "elsewhere"), testKey)},
		{"garbage", "not.a.token"},
		{"disabled-user", e.disabledToken(t)},
	}
}

// disabledToken signs in a fresh sysadmin, then disables them: the token was valid and must
// stop working at once.
func (e *env) disabledToken(t *testing.T) string {
	t.Helper()
	const login = "mx-disabled-sysadmin"
	if tok, ok := e.tokens[login]; ok {
		return tok
	}
	ctx := context.Background()
	gd, _, err := store.UnitByCode(ctx, e.db, "gd")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.CreateUser(ctx, e.db, login, "matrix", []store.RoleAt{{Role: models.RoleSysadmin, UnitID: gd.ID}}); err != nil {
		t.Fatal(err)
	}
	tok := e.token(t, login)
	if r := e.do(t, request{method: "GET", path: "/api/v1/me", auth: "Bearer " + tok}); r.status != 200 {
		t.Fatalf("fresh token: %s", r)
	}
	u, _, _ := store.FindUser(ctx, e.db, login)
	if err := store.SetDisabled(ctx, e.db, u.ID, true); err != nil {
		t.Fatal(err)
	}
	return tok
}

// missingExpectations lists the registered routes without an expectation and the
// expectations without a route.
func missingExpectations(routes []*echo.Route, table map[string]routeSpec) []string {
	var out []string
	seen := map[string]bool{}
	for _, r := range routes {
		k := r.Method + " " + r.Path
		if seen[k] {
			continue
		}
		seen[k] = true
		if _, ok := table[k]; !ok {
			out = append(out, k+": registered but not in matrixRoutes: decide who may call it (authz/default.csv, openapi x-roles) and add its expectation")
		}
	}
	for k := range table {
		if !seen[k] {
			out = append(out, k+": in matrixRoutes but not registered")
		}
	}
	sort.Strings(out)
	return out
}

// TestMatrixCatchesUnknownRoutes: the check fails on a route added without an expectation.
func TestMatrixCatchesUnknownRoutes(t *testing.T) {
	e := echo.New()
	e.GET("/api/v1/me", func(echo.Context) error { return nil })
	e.DELETE("/api/v1/work-orders/:id", func(echo.Context) error { return nil })
	got := missingExpectations(e.Routes(), map[string]routeSpec{"GET /api/v1/me": {}, "GET /gone": {}})
	want := []string{
		"DELETE /api/v1/work-orders/:id: registered but not in matrixRoutes: decide who may call it (authz/default.csv, openapi x-roles) and add its expectation",
		"GET /gone: in matrixRoutes but not registered",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// mxID names a row matrixTargets made for one cell (kind N: notification, U: upstream message,
// F: fraud flag).
func mxID(kind string, c cell) string { return "MX-" + kind + "-" + c.key() + "-" + c.code() }

// matrixTargets adds the real rows the resend, report, publication and ruling cells point at,
// in each target unit: a report and a publication per unit, and per cell (those requests
// change what they reach) a dead notification of the unit's order, a dead upstream message of
// the unit and an open fraud flag on the unit order's rating. A refusal cell can then only be
// refused by the scope check, never by the id being unknown.
func matrixTargets(t *testing.T, e *env, f *fixture) {
	t.Helper()
	now := time.Now().UTC()
	exec := func(q string, args ...any) {
		t.Helper()
		if err := e.db.Exec(q, args...).Error; err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	done := map[string]bool{}
	for ai, a := range actors {
		for tg := own; tg <= parent; tg++ {
			c := cell{a: a, ai: ai, tg: tg, f: f}
			code, path := c.code(), c.unit()
			var u models.Unit
			if err := e.db.Where("code = ?", code).First(&u).Error; err != nil {
				t.Fatal(err)
			}
			if !done[code] {
				done[code] = true
				f.report[code] = uuid.NewString()
				exec(`INSERT INTO reports (id, unit_id, unit_path, month, trigger, created_by, created_at, filename, content_type, size, content)
					VALUES (?, ?, ?, '2020-01', 'manual', 'matrix', ?, 'report.xlsx', 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', 1, ?)`, f.report[code], u.ID, path, now, []byte("x"))
				exec(`INSERT INTO publications (unit_id, unit_path, month, version, published_by, published_at, note, figures)
					VALUES (?, ?, '2020-01', 1, 'matrix', ?, '', '{"units":[]}')`, u.ID, path, now)
			}
			order := f.orders[code]
			exec(`INSERT INTO notifications (id, work_order_id, event_id, channel, recipient_kind, unit_path, role, template, params, status, attempts, next_attempt_at, last_error, created_at)
				VALUES (?, ?, ?, 'sms', 'unit', ?, 'officer', 'dispatched', '{}', 'dead', 5, ?, 'matrix', ?)`, mxID("N", c), order, mxID("N", c), path, now, now)
			exec(`INSERT INTO upstream_messages (id, target, kind, subject_id, unit_path, payload, status, attempts, next_attempt_at, last_error, last_status, created_at)
				VALUES (?, 'upstream', 'order_outcome', ?, ?, '{}', 'dead', 5, ?, 'matrix', 500, ?)`, mxID("U", c), order, path, now, now)
			var evalID string
			if err := e.db.Table("work_orders").Where("id = ?", order).Pluck("evaluation_id", &evalID).Error; err != nil || evalID == "" {
				t.Fatalf("order %s's rating: %v", order, err)
			}
			f.evals[code] = evalID
			exec(`INSERT INTO fraud_flags (id, evaluation_id, kind, unit_path, evidence, status, created_at) VALUES (?, ?, ?, ?, '{}', 'open', ?)`,
				mxID("F", c), evalID, "mx-"+c.key()+"-"+fmt.Sprint(ai), path, now)
		}
	}
}
