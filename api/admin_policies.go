package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/authz"
	"redress/models"
)

type policyJSON struct {
	authz.Rule
	// Editable tells whether the caller may remove the line.
	Editable bool `json:"editable"`
}

type policyList struct {
	Items    []policyJSON `json:"items"`
	Revision int64        `json:"revision"`
}

func (s *Server) policyStore() (*authz.Store, error) {
	if s.deps.Policies == nil {
		return nil, apperr.Unavailable("policy_store_unavailable", "this server has no policy store")
	}
	return s.deps.Policies, nil
}

// adminListPolicies lists the route permissions: all of them to a sysadmin; to an
// administrator the global lines (read-only) and those whose domain lies in their subtree.
func (s *Server) adminListPolicies(c echo.Context) error {
	ps, err := s.policyStore()
	if err != nil {
		return err
	}
	rules, err := ps.List(c.Request().Context())
	if err != nil {
		return err
	}
	a := authorityOf(principal(c))
	sub, route := c.QueryParam("subject"), c.QueryParam("route")
	out := policyList{Items: []policyJSON{}, Revision: ps.Revision()}
	for _, r := range rules {
		if (sub != "" && r.Subject != sub) || (route != "" && r.Route != route) {
			continue
		}
		editable := a.Sys || a.editsDomain(r)
		if !editable && r.Domain != "*" {
			continue // another subtree's lines are not the caller's business
		}
		out.Items = append(out.Items, policyJSON{Rule: r, Editable: editable})
	}
	return c.JSON(http.StatusOK, out)
}

// editsDomain reports whether an administrator may edit a line: its domain lies inside one
// of their subtrees (never a global "*" line).
func (a authority) editsDomain(r authz.Rule) bool {
	for _, s := range a.Subtrees {
		if r.WithinSubtree(s) {
			return true
		}
	}
	return false
}

// checkRuleEdit decides whether the caller may add or remove the line.
func (s *Server) checkRuleEdit(c echo.Context, r authz.Rule) error {
	if err := r.Validate(); err != nil {
		return apperr.Invalid("", "invalid_policy", "%s", err.Error())
	}
	if !s.known[r.Method+" "+r.Route] {
		return apperr.Invalid("route", "unknown_route", "no route %s %s is registered", r.Method, r.Route)
	}
	a := authorityOf(principal(c))
	if a.Sys {
		return nil
	}
	if !a.editsDomain(r) {
		return apperr.Forbidden("outside_subtree", "you may edit only lines whose domain lies in your subtree")
	}
	switch r.Subject {
	case models.RoleOfficer, models.RoleUnitLeader, models.RoleAdministrator, models.RoleSupervisor,
		models.RoleAuditor, models.RoleIntegration:
	default:
		return apperr.Forbidden("subject_not_grantable", "administrators grant route permissions to the roles of units only")
	}
	// No escalation: an administrator passes on only what administrators of their unit hold.
	for _, g := range principal(c).Grants {
		if g.Role == models.RoleAdministrator && r.WithinSubtree(g.UnitPath) {
			if ok, err := s.deps.Enforcer.Enforce(models.RoleAdministrator, g.UnitPath, r.Route, r.Method); err == nil && ok {
				return nil
			}
		}
	}
	return apperr.Forbidden("permission_not_held", "you may grant only route permissions you hold yourself")
}

func (s *Server) adminAddPolicy(c echo.Context) error {
	var r authz.Rule
	if err := decode(c, &r); err != nil {
		return err
	}
	ps, err := s.policyStore()
	if err != nil {
		return err
	}
	if err := s.checkRuleEdit(c, r); err != nil {
		return err
	}
	if err := ps.Add(c.Request().Context(), r); err != nil {
		if errors.Is(err, authz.ErrExists) {
			return apperr.Conflict("policy_exists", "the line exists")
		}
		return err
	}
	return c.JSON(http.StatusCreated, policyJSON{Rule: r, Editable: true})
}

// lockOutRoutes are the routes whose sysadmin lines cannot be removed: without them nobody
// could ever edit the policy again.
var lockOutRoutes = map[string]bool{"/api/v1/admin/policies": true}

func (s *Server) adminRemovePolicy(c echo.Context) error {
	q := c.QueryParams()
	r := authz.Rule{Subject: q.Get("subject"), Domain: q.Get("domain"), Route: q.Get("route"), Method: strings.ToUpper(q.Get("method"))}
	ps, err := s.policyStore()
	if err != nil {
		return err
	}
	if err := s.checkRuleEdit(c, r); err != nil {
		return err
	}
	if r.Subject == models.RoleSysadmin && lockOutRoutes[r.Route] {
		return apperr.Conflict("would_lock_out", "removing this line would leave nobody able to edit the policy")
	}
	if err := ps.Remove(c.Request().Context(), r); err != nil {
		if errors.Is(err, authz.ErrMissing) {
			return apperr.NotFound("policy line")
		}
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
