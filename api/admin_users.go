package api

import (
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/models"
	"redress/store"
)

// authority is what the caller may administer (store.Reach); Casbin has already decided that
// the caller's role may call the route at all.
type authority struct{ store.Reach }

func authorityOf(p *Principal) authority { return authority{store.ReachOf(p.Caller())} }

type adminUserJSON struct {
	Login    string      `json:"login"`
	Name     string      `json:"name"`
	Disabled bool        `json:"disabled"`
	Roles    []grantJSON `json:"roles"`
}

func toAdminUserJSON(u store.UserRow) adminUserJSON {
	j := toUserJSON(u.User, u.Grants)
	return adminUserJSON{Login: j.Login, Name: j.Name, Disabled: u.Disabled, Roles: j.Roles}
}

type adminUserList struct {
	Items    []adminUserJSON `json:"items"`
	Total    int64           `json:"total"`
	Page     int             `json:"page"`
	PageSize int             `json:"page_size"`
}

func (s *Server) routesAdmin() {
	v1 := s.e.Group("/api/v1")
	v1.GET("/admin/users", s.adminListUsers)
	v1.POST("/admin/users", s.adminCreateUser)
	v1.GET("/admin/users/:login", s.adminGetUser)
	v1.POST("/admin/users/:login/disable", s.adminDisableUser)
	v1.POST("/admin/users/:login/enable", s.adminEnableUser)
	v1.POST("/admin/users/:login/roles", s.adminAddRole)
	v1.DELETE("/admin/users/:login/roles/:role/:unit", s.adminRemoveRole)
	v1.GET("/admin/policies", s.adminListPolicies)
	v1.POST("/admin/policies", s.adminAddPolicy)
	v1.DELETE("/admin/policies", s.adminRemovePolicy)
}

func (s *Server) adminListUsers(c echo.Context) error {
	page, size, err := pageParams(c, 50, 200)
	if err != nil {
		return err
	}
	rows, total, err := s.users.List(c.Request().Context(), caller(c), strings.TrimSpace(c.QueryParam("q")), page, size)
	if err != nil {
		return err
	}
	out := adminUserList{Items: make([]adminUserJSON, 0, len(rows)), Total: total, Page: page, PageSize: size}
	for _, r := range rows {
		out.Items = append(out.Items, toAdminUserJSON(r))
	}
	return c.JSON(http.StatusOK, out)
}

// visibleUser finds the :login user, answering 404 for users outside the caller's reach so
// that their existence does not leak.
func (s *Server) visibleUser(c echo.Context) (store.UserRow, authority, error) {
	a := authorityOf(principal(c))
	u, err := s.users.Visible(c.Request().Context(), caller(c), c.Param("login"))
	if errors.Is(err, store.ErrNotFound) {
		return u, a, apperr.NotFound("user")
	}
	return u, a, err
}

func (s *Server) adminGetUser(c echo.Context) error {
	u, _, err := s.visibleUser(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAdminUserJSON(u))
}

type roleRequest struct {
	Role string `json:"role"`
	Unit string `json:"unit"`
}

type createUserRequest struct {
	Login string        `json:"login"`
	Name  string        `json:"name"`
	Roles []roleRequest `json:"roles"`
}

var loginRe = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{1,63}$`)

// grantable checks that the caller may give role on the unit coded unit, and resolves it.
// An administrator grants only inside their subtree and never sysadmin.
func (s *Server) grantable(c echo.Context, a authority, field string, r roleRequest) (store.RoleAt, error) {
	if !slices.Contains(models.Roles, r.Role) {
		return store.RoleAt{}, apperr.Invalid(field+"role", "unknown_role", "role must be one of %s", strings.Join(models.Roles, ", "))
	}
	u, err := s.users.Unit(c.Request().Context(), caller(c), r.Unit)
	if errors.Is(err, store.ErrNotFound) {
		// A unit outside the caller's reach answers like a unit that does not exist.
		return store.RoleAt{}, apperr.Invalid(field+"unit", "unknown_unit", "no unit %q within your reach", r.Unit)
	}
	if err != nil {
		return store.RoleAt{}, err
	}
	if r.Role == models.RoleSysadmin && !a.Sys {
		return store.RoleAt{}, apperr.Forbidden("role_not_grantable", "only a sysadmin grants sysadmin")
	}
	return store.RoleAt{Role: r.Role, UnitID: u.ID}, nil
}

func (s *Server) adminCreateUser(c echo.Context) error {
	var req createUserRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	a := authorityOf(principal(c))
	req.Name = strings.TrimSpace(req.Name)
	switch {
	case !loginRe.MatchString(req.Login):
		return apperr.Invalid("login", "invalid_login", "login must be 2-64 characters of a-z, 0-9, '.', '_', '@', '-'")
	case req.Name == "" || len(req.Name) > 200:
		return apperr.Invalid("name", "invalid_name", "name is required (at most 200 bytes)")
	case len(req.Roles) == 0 && !a.Sys:
		// A user without a role in the caller's subtree would vanish from their view at once.
		return apperr.Invalid("roles", "roles_required", "give the user at least one role in your subtree")
	case len(req.Roles) > 50:
		return apperr.Invalid("roles", "too_many_roles", "at most 50 roles")
	}
	roles := make([]store.RoleAt, 0, len(req.Roles))
	for i, r := range req.Roles {
		ra, err := s.grantable(c, a, "roles["+strconv.Itoa(i)+"].", r)
		if err != nil {
			return err
		}
		roles = append(roles, ra)
	}
	u, err := s.users.Create(c.Request().Context(), req.Login, req.Name, roles)
	if errors.Is(err, store.ErrUserExists) {
		return apperr.Conflict("user_exists", "the login %q is taken", req.Login)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toAdminUserJSON(u))
}

func (s *Server) adminDisableUser(c echo.Context) error { return s.adminSetDisabled(c, true) }
func (s *Server) adminEnableUser(c echo.Context) error  { return s.adminSetDisabled(c, false) }

func (s *Server) adminSetDisabled(c echo.Context, disabled bool) error {
	u, a, err := s.visibleUser(c)
	if err != nil {
		return err
	}
	if !a.Manages(u) {
		return apperr.Forbidden("user_not_manageable", "the user holds roles outside your subtree")
	}
	if disabled && u.ID == principal(c).User.ID {
		return apperr.Conflict("cannot_disable_self", "you cannot disable your own account")
	}
	if err := s.users.SetDisabled(c.Request().Context(), u, disabled); err != nil {
		return err
	}
	u.Disabled = disabled
	return c.JSON(http.StatusOK, toAdminUserJSON(u))
}

func (s *Server) adminAddRole(c echo.Context) error {
	var req roleRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	u, a, err := s.visibleUser(c)
	if err != nil {
		return err
	}
	if u.ID == principal(c).User.ID {
		// Separation of duties: an administrator who could grant themselves the officer role
		// could act on an order, reveal the evaluator's phone and drop the role again.
		return apperr.Forbidden("cannot_grant_self", "nobody grants roles to themselves; ask another administrator")
	}
	ra, err := s.grantable(c, a, "", req)
	if err != nil {
		return err
	}
	u, added, err := s.users.AddRole(c.Request().Context(), u, ra)
	if err != nil {
		return err
	}
	if !added {
		return apperr.Conflict("role_exists", "the user holds %s on %s already", req.Role, req.Unit)
	}
	return c.JSON(http.StatusCreated, toAdminUserJSON(u))
}

func (s *Server) adminRemoveRole(c echo.Context) error {
	u, a, err := s.visibleUser(c)
	if err != nil {
		return err
	}
	role, unit := c.Param("role"), c.Param("unit")
	var held *store.Grant
	for i := range u.Grants {
		if u.Grants[i].Role == role && u.Grants[i].UnitCode == unit && a.Covers(u.Grants[i].UnitPath) {
			held = &u.Grants[i]
		}
	}
	if held == nil {
		return apperr.NotFound("role assignment")
	}
	if role == models.RoleSysadmin && !a.Sys {
		return apperr.Forbidden("role_not_grantable", "only a sysadmin withdraws sysadmin")
	}
	// The user may now be outside the caller's view; answer what they still hold anyway.
	u, err = s.users.RemoveRole(c.Request().Context(), u, store.RoleAt{Role: role, UnitID: held.UnitID})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toAdminUserJSON(u))
}

// routesAccess registers accounts, policy editing, the audit log and OIDC sign-in.
func (s *Server) routesAccess() {
	s.routesAdmin()
	s.routesAudit()
	s.routesOIDC()
}
