package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/models"
	"redress/orgfile"
	"redress/scheme"
	"redress/store"
)

// Units and their scheme policies, for the administration pages: staff see the units they
// work in, administrators (and sysadmins) create units below their own and set the policy
// (deadlines, rating window, default level, reminders, limits) of units in their subtree.

func (s *Server) routesUnits() {
	v1 := s.e.Group("/api/v1")
	v1.GET("/units", s.listUnits)
	v1.GET("/staff", s.listStaff)
	v1.POST("/units", s.createUnit)
	v1.PATCH("/units/:code", s.updateUnit)
	v1.GET("/units/:code/policy", s.getUnitPolicy)
	v1.PUT("/units/:code/policy", s.putUnitPolicy)
}

type unitView struct {
	Code      string `json:"code"`
	Name      string `json:"name"`
	Kind      string `json:"kind"`
	Parent    string `json:"parent"`
	Path      string `json:"path"`
	HasPolicy bool   `json:"has_policy"`
}

// unitReaders are the roles that see units: every staff role and the system roles.
var unitReaders = append(append([]string{}, store.StaffRoles...), models.RoleSysadmin, models.RoleIntegration)

func (s *Server) listUnits(c echo.Context) error {
	ctx := c.Request().Context()
	rows, err := s.units.List(ctx, caller(c), unitReaders...)
	if err != nil {
		return err
	}
	out := make([]unitView, len(rows))
	for i, r := range rows {
		out[i] = unitView{Code: r.Code, Name: r.Name, Kind: r.Kind, Parent: r.ParentCode, Path: r.Path, HasPolicy: r.Policies > 0}
	}
	return c.JSON(http.StatusOK, out)
}

// staffView is a staff member as the inbox's staff picker lists it.
type staffView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Unit struct {
		Code string `json:"code"`
		Name string `json:"name"`
	} `json:"unit"`
}

// listStaff lists the staff of the units in the caller's staff scope (the inbox's), by unit
// and name, in pages: what the inbox's staff filter offers to pick from, so that nobody types
// (or guesses) a staff id.
func (s *Server) listStaff(c echo.Context) error {
	page, size, err := pageParams(c, 500, 2000)
	if err != nil {
		return err
	}
	rows, total, err := s.units.Staff(c.Request().Context(), caller(c), page, size)
	if err != nil {
		return err
	}
	out := make([]staffView, len(rows))
	for i, r := range rows {
		out[i].ID, out[i].Name = r.ID, r.Name
		out[i].Unit.Code, out[i].Unit.Name = r.UnitCode, r.UnitName
	}
	return c.JSON(http.StatusOK, map[string]any{"items": out, "total": total, "page": page, "page_size": size})
}

type unitRequest struct {
	Code   string  `json:"code"`
	Name   *string `json:"name"`
	Kind   *string `json:"kind"`
	Parent string  `json:"parent"`
}

// createUnit adds a unit below one the caller administers.
func (s *Server) createUnit(c echo.Context) error {
	var req unitRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if !orgfile.ValidUnitCode(req.Code) {
		return apperr.Invalid("code", "invalid_code", "code must be lower-case letters, digits and '-' (at most 64)")
	}
	if req.Name == nil || strings.TrimSpace(*req.Name) == "" || len(*req.Name) > 200 {
		return apperr.Invalid("name", "required", "name is required (at most 200 bytes)")
	}
	kind := "department"
	if req.Kind != nil {
		kind = *req.Kind
	}
	if !orgfile.ValidKind(kind) {
		return apperr.Invalid("kind", "invalid_kind", "kind must be a lower-case word (administration, department, platform, hall, …)")
	}
	parent, err := s.adminUnit(c, req.Parent, models.RoleAdministrator, models.RoleSysadmin)
	if err != nil {
		if ae, ok := apperr.As(err); ok {
			ae.Field = "parent"
		}
		return err
	}
	u, err := s.units.Create(c.Request().Context(), parent,
		models.Unit{Code: req.Code, Name: strings.TrimSpace(*req.Name), Kind: kind, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()})
	if errors.Is(err, store.ErrUnitExists) {
		return apperr.Conflict("unit_exists", "a unit with code %q exists", req.Code)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, unitView{Code: u.Code, Name: u.Name, Kind: u.Kind, Parent: parent.Code, Path: u.Path})
}

// updateUnit renames a unit or changes its kind (moving a unit goes through the organisation
// file, which recomputes the paths of its subtree).
func (s *Server) updateUnit(c echo.Context) error {
	var req unitRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := s.adminUnit(c, c.Param("code"), models.RoleAdministrator, models.RoleSysadmin)
	if err != nil {
		return apperr.NotFound("unit")
	}
	if req.Code != "" && req.Code != u.Code {
		return apperr.Invalid("code", "immutable", "a unit's code cannot change")
	}
	if req.Parent != "" {
		return apperr.Invalid("parent", "immutable", "move units with the organisation file (redress import)")
	}
	upd := map[string]any{"updated_at": time.Now().UTC()}
	if req.Name != nil {
		if strings.TrimSpace(*req.Name) == "" || len(*req.Name) > 200 {
			return apperr.Invalid("name", "required", "name must not be empty (at most 200 bytes)")
		}
		upd["name"] = strings.TrimSpace(*req.Name)
	}
	if req.Kind != nil {
		if !orgfile.ValidKind(*req.Kind) {
			return apperr.Invalid("kind", "invalid_kind", "kind must be a lower-case word")
		}
		upd["kind"] = *req.Kind
	}
	if err := s.units.Update(c.Request().Context(), u, upd); err != nil {
		return err
	}
	return s.listOne(c, u.Code)
}

func (s *Server) listOne(c echo.Context, code string) error {
	u, parent, err := s.units.WithParent(c.Request().Context(), code)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, unitView{Code: u.Code, Name: u.Name, Kind: u.Kind, Parent: parent, Path: u.Path})
}

type policyView struct {
	Unit string `json:"unit"`
	// Own is the policy set on this unit (null: none; the nearest one above applies).
	Own *models.PolicyDoc `json:"own"`
	// Effective is what a work order of this unit uses, defaults filled in.
	Effective scheme.Policy `json:"effective"`
}

func (s *Server) getUnitPolicy(c echo.Context) error {
	u, err := s.units.Reachable(c.Request().Context(), caller(c), c.Param("code"), unitReaders...)
	if errors.Is(err, store.ErrNotFound) {
		return apperr.NotFound("unit")
	}
	if err != nil {
		return err
	}
	return s.writePolicy(c, u)
}

func (s *Server) writePolicy(c echo.Context, u models.Unit) error {
	ctx := c.Request().Context()
	p, own, err := s.units.OwnPolicy(ctx, u)
	if err != nil {
		return err
	}
	eff, err := s.units.EffectivePolicy(ctx, u)
	if err != nil {
		return err
	}
	out := policyView{Unit: u.Code, Effective: eff}
	if own {
		out.Own = &p.Doc.V
	}
	return c.JSON(http.StatusOK, out)
}

// putUnitPolicy sets a unit's own policy; it applies to orders dispatched from then on.
func (s *Server) putUnitPolicy(c echo.Context) error {
	var doc models.PolicyDoc
	if err := decode(c, &doc); err != nil {
		return err
	}
	u, err := s.adminUnit(c, c.Param("code"), models.RoleAdministrator, models.RoleSysadmin)
	if err != nil {
		return apperr.NotFound("unit")
	}
	if errs := orgfile.ValidatePolicy(doc); len(errs) > 0 {
		return apperr.Invalid("", "invalid_policy", "%s", errors.Join(errs...).Error())
	}
	if err := s.units.SetPolicy(c.Request().Context(), u, doc); err != nil {
		return err
	}
	return s.writePolicy(c, u)
}
