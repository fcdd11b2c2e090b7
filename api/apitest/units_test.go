package apitest

import (
	"net/http"
	"strings"
	"testing"

	"redress/store"
	"redress/store/storetest"
)

// The matrix entries of the units routes (matrix_test.go fails for a route without one).
func init() {
	readers := []string{"officer", "unit_leader", "administrator", "supervisor", "auditor", "integration", "sysadmin"}
	matrixRoutes["GET /api/v1/units"] = routeSpec{admits: readers, req: get("/api/v1/units"), want: always(http.StatusOK)}
	// A unit code taken already answers 409 for the own target; out of scope reads as unknown.
	matrixRoutes["POST /api/v1/units"] = routeSpec{admits: admins, want: reach(http.StatusCreated, http.StatusUnprocessableEntity),
		req: func(c cell) request {
			return request{method: http.MethodPost, path: "/api/v1/units", body: map[string]any{
				"code": "mx-" + strings.ToLower(c.run) + "-" + c.key(), "name": "matrix", "parent": c.code()}}
		}}
	matrixRoutes["PATCH /api/v1/units/:code"] = routeSpec{admits: admins, want: reach(http.StatusOK, http.StatusNotFound),
		req: func(c cell) request {
			return request{method: http.MethodPatch, path: "/api/v1/units/" + c.code(), body: map[string]any{"kind": "department"}}
		}}
	matrixRoutes["GET /api/v1/units/:code/policy"] = routeSpec{admits: []string{"officer", "unit_leader", "administrator", "supervisor", "auditor", "sysadmin"},
		want: reach(http.StatusOK, http.StatusNotFound), req: func(c cell) request {
			return request{method: http.MethodGet, path: "/api/v1/units/" + c.code() + "/policy"}
		}}
	matrixRoutes["PUT /api/v1/units/:code/policy"] = routeSpec{admits: admins, want: reach(http.StatusOK, http.StatusNotFound),
		req: func(c cell) request {
			return request{method: http.MethodPut, path: "/api/v1/units/" + c.code() + "/policy", body: map[string]any{
				"deadlines": map[string]any{"callback": map[string]any{"working_days": 2}}}}
		}}
}

func TestUnitsAndPolicies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		// An officer sees their own unit only; a city administrator the city's subtree.
		var units []struct{ Code, Parent, Path string }
		r := e.do(t, request{method: "GET", path: "/api/v1/units", login: "ft-officer"})
		wantStatus(t, r, http.StatusOK)
		r.decode(t, &units)
		if len(units) != 1 || units[0].Code != "sz-ft-tax" {
			t.Errorf("officer's units: %+v", units)
		}
		r = e.do(t, request{method: "GET", path: "/api/v1/units", login: "sz-admin"})
		r.decode(t, &units)
		for _, u := range units {
			if !strings.HasPrefix(u.Path, "/gd/sz/") {
				t.Errorf("sz-admin sees %s", u.Path)
			}
		}

		wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/units", login: "sz-admin",
			body: map[string]any{"code": "sz-ft-edu", "name": "福田区教育局", "parent": "sz-ft"}}), http.StatusCreated)
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/units", login: "sz-admin",
			body: map[string]any{"code": "sz-ft-edu", "name": "x", "parent": "sz-ft"}}), http.StatusConflict, "unit_exists", "")
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/units", login: "sz-admin",
			body: map[string]any{"code": "gd-x", "name": "x", "parent": "gd"}}), http.StatusUnprocessableEntity, "unknown_unit", "parent")
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/units", login: "sz-admin",
			body: map[string]any{"code": "Bad Code", "name": "x", "parent": "sz"}}), http.StatusUnprocessableEntity, "invalid_code", "code")
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/units", login: "ft-officer",
			body: map[string]any{"code": "zz", "name": "x", "parent": "sz-ft"}}), http.StatusForbidden, "forbidden", "")

		// A policy on the new unit wins over the city's for its orders; bad budgets are refused.
		wantError(t, e.do(t, request{method: "PUT", path: "/api/v1/units/sz-ft-edu/policy", login: "sz-admin",
			body: map[string]any{"deadlines": map[string]any{"callback": map[string]any{"working_days": 1, "hours": 3}}}}), http.StatusUnprocessableEntity, "invalid_policy", "")
		r = e.do(t, request{method: "PUT", path: "/api/v1/units/sz-ft-edu/policy", login: "sz-admin",
			body: map[string]any{"deadlines": map[string]any{"callback": map[string]any{"working_days": 1}}, "remind_before": "50%"}})
		wantStatus(t, r, http.StatusOK)
		// The audit log names what was changed (the route's unit), not only the route.
		if n := e.count(t, "audit_log", "path = ? AND target = ? AND outcome = ?", "/api/v1/units/:code/policy", "sz-ft-edu", "ok"); n != 1 {
			t.Errorf("%d audit entries of the policy change with target sz-ft-edu, want 1", n)
		}
		var pv struct {
			Own       map[string]any `json:"own"`
			Effective struct {
				Unit        string                    `json:"unit"`
				Deadlines   map[string]map[string]int `json:"deadlines"`
				RemindShare float64                   `json:"remind_share"`
			} `json:"effective"`
		}
		r.decode(t, &pv)
		if pv.Effective.Unit != "sz-ft-edu" || pv.Effective.Deadlines["callback"]["working_days"] != 1 ||
			pv.Effective.Deadlines["rectify"]["working_days"] != 10 || pv.Effective.RemindShare != 0.5 || pv.Own == nil {
			t.Errorf("effective policy: %s", r.body)
		}
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/units/sz-ft-edu/policy", login: "ns-officer"}), http.StatusNotFound, "not_found", "")
		wantError(t, e.do(t, request{method: "PATCH", path: "/api/v1/units/sz-ft-edu", login: "sz-admin",
			body: map[string]any{"parent": "sz-ns"}}), http.StatusUnprocessableEntity, "immutable", "parent")
		r = e.do(t, request{method: "PATCH", path: "/api/v1/units/sz-ft-edu", login: "sz-admin", body: map[string]any{"name": "福田区教育局（新）"}})
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(string(r.body), "（新）") {
			t.Errorf("rename: %s", r.body)
		}
	})
}
