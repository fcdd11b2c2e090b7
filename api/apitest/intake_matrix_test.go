package apitest

import (
	"net/http"
	"time"
)

// The authorization matrix entries of issue 4's routes (matrix_test.go fails for a route
// without one). Refused requests must leave the database as it was, as for every route.
func init() {
	// Bulk uploads answer 200 and refuse items one by one: an item of a unit outside the
	// channel's subtree must store nothing.
	matrixRoutes["POST /api/v1/service-cases/bulk"] = routeSpec{admits: []string{"integration"}, want: always(http.StatusOK), unchanged: outsideReach, req: func(c cell) request {
		return request{method: http.MethodPost, path: "/api/v1/service-cases/bulk", body: map[string]any{"cases": []any{
			caseBody("MXB-"+c.run+"-"+c.key(), c.code(), "", time.Now().Add(-time.Hour))}}}
	}}
	// A rating of the target unit's real case: stored for the channel's own unit; outside
	// its subtree the upload is answered 200, the rating refused, and nothing is stored.
	matrixRoutes["POST /api/v1/evaluations/bulk"] = routeSpec{admits: []string{"integration"}, want: always(http.StatusOK), unchanged: outsideReach, req: func(c cell) request {
		b := evalBody("MXEB-"+c.run+"-"+c.key(), []string{c.f.cases[c.code()]}, "satisfied", time.Now())
		// Another evaluator than the single rating's of the same case (one rating per case
		// and evaluator), so that the own unit's rating is really stored.
		b["evaluator"] = map[string]any{"name": "王五", "phone": "13700001111", "id_number": "440301198502021234"}
		return request{method: http.MethodPost, path: "/api/v1/evaluations/bulk", body: map[string]any{"evaluations": []any{b}}}
	}}
	matrixRoutes["GET /api/v1/evaluations"] = routeSpec{admits: []string{"administrator", "auditor"},
		req: get("/api/v1/evaluations?phone=13800000000"), want: always(http.StatusOK)}
	// The matrix's orders are dispatched, not signed: the holding unit hears 409 (wrong
	// state), everyone else 404.
	matrixRoutes["POST /api/v1/work-orders/:id/evaluator-contact"] = routeSpec{admits: []string{"officer", "unit_leader"},
		req: func(c cell) request {
			return request{method: http.MethodPost, path: "/api/v1/work-orders/" + c.f.orders[c.code()] + "/evaluator-contact", body: map[string]any{"reason": "matrix"}}
		}, want: func(c cell) int {
			if c.tg == own {
				return http.StatusConflict
			}
			return http.StatusNotFound
		}}
	matrixRoutes["GET /api/v1/pii-access"] = routeSpec{admits: []string{"auditor"}, req: get("/api/v1/pii-access"), want: always(http.StatusOK)}
	matrixRoutes["GET /api/v1/fraud-flags"] = routeSpec{admits: []string{"administrator", "auditor"}, req: get("/api/v1/fraud-flags"), want: always(http.StatusOK)}
	// A real open flag on the rating of the target unit's order, one per cell: dismissed in
	// the administrator's own unit; another unit's is not found and stays open.
	matrixRoutes["POST /api/v1/fraud-flags/:id/ruling"] = routeSpec{admits: []string{"administrator"}, want: scoped(http.StatusOK),
		req: func(c cell) request {
			return request{method: http.MethodPost, path: "/api/v1/fraud-flags/" + mxID("F", c) + "/ruling", body: map[string]any{"upheld": false, "note": "matrix"}}
		}}
	// A real staff member of the target unit: the administrator's own is set; another unit's
	// or the parent's is out of scope (404) and nothing changes.
	matrixRoutes["PUT /api/v1/staff/:id/identity"] = routeSpec{admits: []string{"administrator"}, want: scoped(http.StatusNoContent),
		req: func(c cell) request {
			return request{method: http.MethodPut, path: "/api/v1/staff/" + c.f.staff[c.code()] + "/identity", body: map[string]any{"phone": "13800000000"}}
		}}
}

// outsideReach: the cell's target lies outside the caller's reach (the sysadmin reaches all).
func outsideReach(c cell) bool { return c.tg != own && c.a.role != "sysadmin" }
