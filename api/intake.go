package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"redress/intake"
	"redress/models"
	"redress/store"
)

func (s *Server) integrationScope(c echo.Context) store.Scope {
	return store.ScopeFor(principal(c).Grants, models.RoleIntegration)
}

// postServiceCase registers a completed case: 201 when new, 200 for an identical repeat.
func (s *Server) postServiceCase(c echo.Context) error {
	var req intake.CaseRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	res, created, err := s.deps.Intake.RegisterCase(c.Request().Context(), s.integrationScope(c), req)
	if err != nil {
		return err
	}
	return c.JSON(createdOr200(created), res)
}

// postEvaluation stores a rating: 201 when new, 200 with the same body for a repeat.
func (s *Server) postEvaluation(c echo.Context) error {
	var req intake.EvaluationRequest
	if prof := c.QueryParam("profile"); prof != "" && prof != "redress" {
		// A channel system that speaks a platform's profile (issue 21) posts its record as is.
		var in map[string]any
		if err := decode(c, &in); err != nil {
			return err
		}
		r, err := s.deps.Intake.FromProfile(c.Request().Context(), prof, in)
		if err != nil {
			return err
		}
		if err := s.deps.Intake.RecordCaseKinds(c.Request().Context(), s.integrationScope(c), r); err != nil {
			return err
		}
		req = r
	} else if err := decode(c, &req); err != nil {
		return err
	}
	// The request's own address is not the citizen's: only integration channels post here, so
	// it is the channel's gateway, and counting it would flag every rating of a busy channel as
	// an address burst. Channels pass the citizen's address as client_ip when they know it.
	res, created, err := s.deps.Intake.SubmitEvaluation(c.Request().Context(), s.integrationScope(c), req)
	if err != nil {
		return err
	}
	return c.JSON(createdOr200(created), res)
}

func createdOr200(created bool) int {
	if created {
		return http.StatusCreated
	}
	return http.StatusOK
}
