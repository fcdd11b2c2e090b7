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

// authority is what the caller may administer: everything (sysadmin) or the subtrees of the
// units on which they are administrator. Casbin has already decided that the caller's role
// may call the route at all; this decides which users, units and policy lines they reach.
type authority struct {
	sys      bool
	subtrees []string
}

func authorityOf(p *Principal) authority {
	var a authority
	for _, g := range p.Grants {
		switch g.Role {
		case models.RoleSysadmin:
			a.sys = true
		case models.RoleAdministrator:
			a.subtrees = append(a.subtrees, g.UnitPath)
		}
	}
	return a
}

// covers reports whether the unit path lies inside the caller's reach.
func (a authority) covers(path string) bool {
	if a.sys {
		return true
	}
	for _, s := range a.subtrees {
		if path != "" && strings.HasPrefix(path, s) {
			return true
		}
	}
	return false
}

func (a authority) scope() store.Scope { return store.Scope{Subtrees: a.subtrees} }

// sees reports whether a user is visible to the caller: a sysadmin sees everyone, an
// administrator the users holding a role inside their subtree.
func (a authority) sees(u store.UserRow) bool {
	if a.sys {
		return true
	}
	for _, g := range u.Grants {
		if a.covers(g.UnitPath) {
			return true
		}
	}
	return false
}

// manages reports whether the caller may disable or enable the user: a sysadmin anyone, an
// administrator only users all of whose roles lie in their subtree and who are not sysadmins.
func (a authority) manages(u store.UserRow) bool {
	if a.sys {
		return true
	}
	if len(u.Grants) == 0 {
		return false
	}
	for _, g := range u.Grants {
		if g.Role == models.RoleSysadmin || !a.covers(g.UnitPath) {
			return false
		}
	}
	return true
}

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
	a := authorityOf(principal(c))
	rows, total, err := store.ListUsers(c.Request().Context(), s.deps.DB, store.UserFilter{
		All: a.sys, Scope: a.scope(), Q: strings.TrimSpace(c.QueryParam("q")), Page: page, PageSize: size,
	})
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
	u, ok, err := store.FindUser(c.Request().Context(), s.deps.DB, c.Param("login"))
	if err != nil {
		return u, a, err
	}
	if !ok || !a.sees(u) {
		return u, a, apperr.NotFound("user")
	}
	return u, a, nil
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
	u, ok, err := store.UnitByCode(c.Request().Context(), s.deps.DB, r.Unit)
	if err != nil {
		return store.RoleAt{}, err
	}
	if !ok || !a.covers(u.Path) {
		// A unit outside the caller's reach answers like a unit that does not exist.
		return store.RoleAt{}, apperr.Invalid(field+"unit", "unknown_unit", "no unit %q within your reach", r.Unit)
	}
	if r.Role == models.RoleSysadmin && !a.sys {
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
	case len(req.Roles) == 0 && !a.sys:
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
	ctx := c.Request().Context()
	if _, err := store.CreateUser(ctx, s.deps.DB, req.Login, req.Name, roles); err != nil {
		if errors.Is(err, store.ErrUserExists) {
			return apperr.Conflict("user_exists", "the login %q is taken", req.Login)
		}
		return err
	}
	u, _, err := store.FindUser(ctx, s.deps.DB, req.Login)
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
	if !a.manages(u) {
		return apperr.Forbidden("user_not_manageable", "the user holds roles outside your subtree")
	}
	if disabled && u.ID == principal(c).User.ID {
		return apperr.Conflict("cannot_disable_self", "you cannot disable your own account")
	}
	ctx := c.Request().Context()
	if err := store.SetDisabled(ctx, s.deps.DB, u.ID, disabled); err != nil {
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
	ctx := c.Request().Context()
	added, err := store.AddRole(ctx, s.deps.DB, u.ID, ra)
	if err != nil {
		return err
	}
	if !added {
		return apperr.Conflict("role_exists", "the user holds %s on %s already", req.Role, req.Unit)
	}
	u, _, err = store.FindUser(ctx, s.deps.DB, u.Login)
	if err != nil {
		return err
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
		if u.Grants[i].Role == role && u.Grants[i].UnitCode == unit && a.covers(u.Grants[i].UnitPath) {
			held = &u.Grants[i]
		}
	}
	if held == nil {
		return apperr.NotFound("role assignment")
	}
	if role == models.RoleSysadmin && !a.sys {
		return apperr.Forbidden("role_not_grantable", "only a sysadmin withdraws sysadmin")
	}
	ctx := c.Request().Context()
	if _, err := store.RemoveRole(ctx, s.deps.DB, u.ID, store.RoleAt{Role: role, UnitID: held.UnitID}); err != nil {
		return err
	}
	// The user may now be outside the caller's view; answer what they still hold anyway.
	u, _, err = store.FindUser(ctx, s.deps.DB, u.Login)
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
