package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"redress/intake"
	"redress/models"
	"redress/store"
)

// routesIntake registers issue 4's endpoints beyond the first slice's POST /service-cases and
// POST /evaluations: bulk cases, the masked search of one person's ratings, the recorded
// reveal of an evaluator's phone for a callback, the access log, fraud flags and staff
// identity hashes.
func (s *Server) routesIntake() {
	v1 := s.e.Group("/api/v1")
	v1.POST("/service-cases/bulk", s.postServiceCasesBulk)
	v1.POST("/evaluations/bulk", s.postEvaluationsBulk)
	v1.GET("/evaluations", s.searchEvaluations)
	v1.POST("/work-orders/:id/evaluator-contact", s.revealEvaluatorContact)
	v1.GET("/pii-access", s.listPIIAccess)
	v1.GET("/fraud-flags", s.listFraudFlags)
	v1.POST("/fraud-flags/:id/ruling", s.ruleFraudFlag)
	v1.PUT("/staff/:id/identity", s.putStaffIdentity)
}

// postServiceCasesBulk registers many cases, each answered on its own: 200 with one result
// per case (status 201, 200 or the case's error).
func (s *Server) postServiceCasesBulk(c echo.Context) error {
	var req intake.BulkCasesRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	res, err := s.deps.Intake.RegisterCases(c.Request().Context(), s.integrationScope(c), req)
	if err != nil {
		return err
	}
	return bulkAnswer(c, res, func(r intake.BulkCaseResult) int { return r.Status })
}

// postEvaluationsBulk stores many ratings, each answered as POST /evaluations would answer it:
// 200 with one result per rating (status 201, 200 or the rating's error).
func (s *Server) postEvaluationsBulk(c echo.Context) error {
	var req intake.BulkEvaluationsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	res, err := s.deps.Intake.SubmitEvaluations(c.Request().Context(), s.integrationScope(c), req)
	if err != nil {
		return err
	}
	return bulkAnswer(c, res, func(r intake.BulkEvaluationResult) int { return r.Status })
}

// bulkAnswer answers a bulk request: 200 with one result per item and a summary counting them,
// created (201), unchanged (200, a repeat) and failed.
func bulkAnswer[T any](c echo.Context, results []T, status func(T) int) error {
	summary := map[string]int{"created": 0, "unchanged": 0, "failed": 0}
	for _, r := range results {
		switch status(r) {
		case http.StatusCreated:
			summary["created"]++
		case http.StatusOK:
			summary["unchanged"]++
		default:
			summary["failed"]++
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"results": results, "summary": summary})
}

// searchEvaluations finds one person's ratings by phone or id_number (keyed hash), in the
// caller's units, identity masked.
func (s *Server) searchEvaluations(c echo.Context) error {
	page, size, err := pageParams(c, 50, 200)
	if err != nil {
		return err
	}
	scope := store.ScopeFor(principal(c).Grants, models.RoleAdministrator, models.RoleAuditor)
	items, total, err := s.deps.Intake.SearchEvaluations(c.Request().Context(), scope, intake.SearchQuery{
		Phone: c.QueryParam("phone"), IDNumber: c.QueryParam("id_number"), Page: page, PageSize: size})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "total": total, "page": page, "page_size": size})
}

// revealEvaluatorContact answers the evaluator's phone to the unit holding a signed or called
// back order, recording the read.
func (s *Server) revealEvaluatorContact(c echo.Context) error {
	var req struct {
		Reason string `json:"reason"`
	}
	if err := decode(c, &req); err != nil {
		return err
	}
	p := principal(c)
	res, err := s.deps.Intake.RevealEvaluatorContact(c.Request().Context(),
		intake.Reader{Login: p.User.Login, Grants: p.Grants, RequestID: requestID(c)}, c.Param("id"), req.Reason)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, res)
}

// listPIIAccess lists the recorded unmasked reads in the auditor's subtree.
func (s *Server) listPIIAccess(c echo.Context) error {
	page, size, err := pageParams(c, 50, 200)
	if err != nil {
		return err
	}
	scope := store.ScopeFor(principal(c).Grants, models.RoleAuditor)
	items, total, err := s.deps.Intake.ListPIIAccess(c.Request().Context(), scope, page, size)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "total": total, "page": page, "page_size": size})
}

// listFraudFlags lists the fraud flags in the caller's subtree with their evidence.
func (s *Server) listFraudFlags(c echo.Context) error {
	page, size, err := pageParams(c, 50, 200)
	if err != nil {
		return err
	}
	scope := store.ScopeFor(principal(c).Grants, models.RoleAdministrator, models.RoleAuditor)
	items, total, err := s.deps.Intake.ListFlags(c.Request().Context(), scope, c.QueryParam("status"), page, size)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items, "total": total, "page": page, "page_size": size})
}

// ruleFraudFlag records an administrator's ruling on a flag.
func (s *Server) ruleFraudFlag(c echo.Context) error {
	var req intake.RulingRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	scope := store.ScopeFor(principal(c).Grants, models.RoleAdministrator)
	res, err := s.deps.Intake.RuleFlag(c.Request().Context(), scope, c.Param("id"), principal(c).User.Login, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res)
}

// putStaffIdentity stores the keyed hashes of a staff member's identity (own-staff check).
func (s *Server) putStaffIdentity(c echo.Context) error {
	var req intake.StaffIdentityRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	scope := store.ScopeFor(principal(c).Grants, models.RoleAdministrator)
	if err := s.deps.Intake.SetStaffIdentity(c.Request().Context(), scope, c.Param("id"), principal(c).User.Login, req); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
