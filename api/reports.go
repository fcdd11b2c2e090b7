package api

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/models"
	"redress/reports"
	"redress/stats"
	"redress/store"
)

func (s *Server) routesReports() {
	v1 := s.e.Group("/api/v1")
	v1.POST("/reports", s.postReport)
	v1.GET("/reports", s.listReports)
	v1.GET("/reports/:id", s.getReport)
}

// reportScope: the jurisdictions whose reports a caller may make and read.
func reportScope(c echo.Context) store.Scope { return caller(c).Scope(reportRoles...) }

var reportRoles = []string{models.RoleAdministrator, models.RoleSupervisor, models.RoleAuditor}

type reportRequest struct {
	Unit  string `json:"unit"`
	Month string `json:"month"`
}

// postReport makes a report now (catching the rollups up first) and answers its metadata.
func (s *Server) postReport(c echo.Context) error {
	var req reportRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if req.Unit == "" {
		return apperr.Invalid("unit", "required", "unit is required")
	}
	u, err := s.units.Reachable(ctx, caller(c), req.Unit, reportRoles...)
	if errors.Is(err, store.ErrNotFound) {
		return apperr.Invalid("unit", "unknown_unit", "unit %q is not in your jurisdiction", req.Unit)
	}
	if err != nil {
		return err
	}
	if _, err := stats.MonthPeriod(req.Month); err != nil {
		return apperr.Invalid("month", "invalid_month", "month must be YYYY-MM")
	}
	if _, err := (&stats.Roller{DB: s.deps.DB, Calendars: s.deps.Calendars}).Pass(ctx); err != nil {
		return err
	}
	r, err := reports.Create(ctx, s.deps.DB, u, req.Month, reports.TriggerOnDemand, principal(c).User.Login)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/api/v1/reports/"+r.ID)
	return c.JSON(http.StatusCreated, r)
}

func (s *Server) listReports(c echo.Context) error {
	month := c.QueryParam("month")
	if month != "" {
		if _, err := stats.MonthPeriod(month); err != nil {
			return apperr.Invalid("month", "invalid_month", "month must be YYYY-MM")
		}
	}
	rs, err := reports.List(c.Request().Context(), s.deps.DB, reportScope(c), month)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": rs})
}

// getReport downloads a report's file.
func (s *Server) getReport(c echo.Context) error {
	r, err := reports.Get(c.Request().Context(), s.deps.DB, reportScope(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, "attachment; filename*=UTF-8''"+url.PathEscape(r.Filename))
	return c.Blob(http.StatusOK, r.ContentType, r.Content)
}
