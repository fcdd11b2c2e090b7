package apitest

import (
	"net/http"
	"time"
)

// The authorization matrix entries of issue 4's routes (matrix_test.go fails for a route
// without one). Refused requests must leave the database as it was, as for every route.
func init() {
	matrixRoutes["POST /api/v1/service-cases/bulk"] = routeSpec{admits: []string{"integration"}, want: always(http.StatusOK), req: func(c cell) request {
		return request{method: http.MethodPost, path: "/api/v1/service-cases/bulk", body: map[string]any{"cases": []any{
			caseBody("MXB-"+c.run+"-"+c.key(), c.code(), "", time.Now().Add(-time.Hour))}}}
	}}
	// A rating of a case that does not exist: the upload is answered 200, the rating 422, and
	// nothing is stored.
	matrixRoutes["POST /api/v1/evaluations/bulk"] = routeSpec{admits: []string{"integration"}, want: always(http.StatusOK), req: func(c cell) request {
		return request{method: http.MethodPost, path: "/api/v1/evaluations/bulk", body: map[string]any{"evaluations": []any{
			evalBody("MXE-"+c.run+"-"+c.key(), []string{"MX-NONE-" + c.code()}, "satisfied", time.Now())}}}
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
	matrixRoutes["POST /api/v1/fraud-flags/:id/ruling"] = routeSpec{admits: []string{"administrator"}, want: always(http.StatusNotFound),
		req: func(c cell) request {
			return request{method: http.MethodPost, path: "/api/v1/fraud-flags/mx-none/ruling", body: map[string]any{"upheld": false, "note": "matrix"}}
		}}
	// S0001 belongs to sz-ft-tax, the administrator's own target; the other targets name a
	// staff member that does not exist, answered like one out of scope.
	matrixRoutes["PUT /api/v1/staff/:id/identity"] = routeSpec{admits: []string{"administrator"}, want: scoped(http.StatusNoContent),
		req: func(c cell) request {
			id := "S0001"
			if c.tg != own {
				id = "MX-NONE-" + c.code()
			}
			return request{method: http.MethodPut, path: "/api/v1/staff/" + id + "/identity", body: map[string]any{"phone": "13800000000"}}
		}}
}
