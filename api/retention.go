package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/models"
	"redress/retention"
)

// routesRetention registers the administrator's erase on the evaluator's request (PIPL
// art. 47; issue 21). The periodic erasure runs in the worker.
func (s *Server) routesRetention() {
	s.e.POST("/api/v1/evaluations/:id/erase", s.eraseEvaluator)
}

type eraseRequest struct {
	Reason string `json:"reason"`
}

// eraseEvaluator erases one rating's evaluator name, phone and ID number now; the rating, its
// order and every statistic stay. Audited twice: the request in the audit log, the erasure in
// the personal-data access log.
func (s *Server) eraseEvaluator(c echo.Context) error {
	var req eraseRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if len([]rune(req.Reason)) > 500 {
		return apperr.Invalid("reason", "too_long", "reason is longer than 500 characters")
	}
	who := caller(c)
	unit, _ := c.Get(actingUnitKey).(string)
	by := retention.Actor{Login: who.Login, Role: models.RoleAdministrator, UnitPath: unit, RequestID: requestID(c)}
	if err := s.erasure.Erase(c.Request().Context(), who, c.Param("id"), by, req.Reason, s.resultsNow()); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"id": c.Param("id"), "erased": true})
}
