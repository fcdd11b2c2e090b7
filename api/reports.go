package api

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/stats"
)

func (s *Server) routesReports() {
	v1 := s.e.Group("/api/v1")
	v1.POST("/reports", s.postReport)
	v1.GET("/reports", s.listReports)
	v1.GET("/reports/:id", s.getReport)
}

type reportRequest struct {
	Unit  string `json:"unit"`
	Month string `json:"month"`
}

// postReport makes a report now (reports.Service catches the rollups up first and checks the
// caller oversees the unit) and answers its metadata.
func (s *Server) postReport(c echo.Context) error {
	var req reportRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	r, err := s.reports.Make(c.Request().Context(), caller(c), req.Unit, req.Month)
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
	rs, err := s.reports.List(c.Request().Context(), caller(c), month)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": rs})
}

// getReport downloads a report's file.
func (s *Server) getReport(c echo.Context) error {
	r, err := s.reports.Get(c.Request().Context(), caller(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, "attachment; filename*=UTF-8''"+url.PathEscape(r.Filename))
	return c.Blob(http.StatusOK, r.ContentType, r.Content)
}
