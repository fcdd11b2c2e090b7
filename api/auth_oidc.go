package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/auth"
	"redress/models"
	"redress/store"
)

// oidcCookie carries the flow's state, nonce and PKCE verifier between login and callback.
const oidcCookie = "redress_oidc"

func (s *Server) routesOIDC() {
	v1 := s.e.Group("/api/v1")
	v1.GET("/auth/oidc/login", s.oidcLogin)
	v1.GET("/auth/oidc/callback", s.oidcCallback)
}

func (s *Server) oidc() (*auth.OIDC, error) {
	if s.deps.OIDC == nil {
		return nil, &apperr.Error{Status: http.StatusNotFound, Code: "oidc_not_configured", Message: "sign-in through an identity provider is not configured"}
	}
	return s.deps.OIDC, nil
}

func (s *Server) flowCookie(value string, maxAge int) *http.Cookie {
	secure := strings.HasPrefix(s.deps.OIDC.RedirectURL(), "https://")
	return &http.Cookie{Name: oidcCookie, Value: value, Path: "/api/v1/auth/oidc", MaxAge: maxAge,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
}

// oidcLogin sends the browser to the identity provider.
func (s *Server) oidcLogin(c echo.Context) error {
	o, err := s.oidc()
	if err != nil {
		return err
	}
	if err := s.guard.signInAllowed(c.RealIP(), ""); err != nil {
		return err
	}
	u, flow, err := o.Start(c.Request().Context())
	if err != nil {
		slog.ErrorContext(c.Request().Context(), "oidc: start", "request_id", requestID(c), "err", err)
		return apperr.Unavailable("identity_provider_unavailable", "the identity provider does not answer; try again later")
	}
	c.SetCookie(s.flowCookie(flow, int(auth.FlowTTL/time.Second)))
	return c.Redirect(http.StatusFound, u)
}

// handOff redirects to the UI's callback page with the query (a token, or an error code).
func handOff(c echo.Context, q url.Values) error {
	return c.Redirect(http.StatusFound, "/#/auth/callback?"+q.Encode())
}

// oidcCallback finishes the sign-in: verifies the flow, finds the enabled user named by the
// login claim (never creates one), maps the roles claim when configured, issues our own token
// and hands it to the UI. Every outcome is written to the audit log.
func (s *Server) oidcCallback(c echo.Context) error {
	o, err := s.oidc()
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.guard.signInAllowed(c.RealIP(), ""); err != nil {
		return err
	}
	c.SetCookie(s.flowCookie("", -1)) // a flow is used once, whatever the outcome
	fail := func(code, login string, why error) error {
		slog.WarnContext(ctx, "oidc: sign-in refused", "request_id", requestID(c), "code", code, "login", login, "err", why)
		s.auditSignIn(c, login, "", code, http.StatusUnauthorized)
		return handOff(c, url.Values{"error": {code}})
	}
	if e := c.QueryParam("error"); e != "" {
		return fail("provider_refused", "", errors.New("provider answered "+e))
	}
	ck, err := c.Cookie(oidcCookie)
	if err != nil {
		return fail("sign_in_expired", "", err)
	}
	id, err := o.Finish(ctx, ck.Value, c.QueryParam("state"), c.QueryParam("code"))
	if err != nil {
		if errors.Is(err, auth.ErrOIDCFlow) {
			return fail("sign_in_failed", "", err)
		}
		return fail("identity_provider_unavailable", "", err)
	}
	p, err := s.loadPrincipal(ctx, id.Login)
	if err != nil {
		return err
	}
	if p == nil || p.User.Disabled {
		return fail("unknown_user", id.Login, errors.New("no enabled user"))
	}
	if o.RolesClaim() != "" && id.RolesClaimed {
		if err := s.mapRoles(ctx, p.User, id.Roles); err != nil {
			return err
		}
		if p, err = s.loadPrincipal(ctx, id.Login); err != nil {
			return err
		}
	}
	tok, exp, err := s.deps.Tokens.Issue(p.User.Login, s.deps.TokenTTL)
	if err != nil {
		return err
	}
	c.Set("principal", p)
	s.auditSignIn(c, p.User.Login, strings.Join(grantStrings(p.Grants), " "), "", http.StatusFound)
	if err := setSessionCookies(c, tok, exp); err != nil {
		return err
	}
	return handOff(c, url.Values{"token": {tok}, "expires_at": {exp.UTC().Format(time.RFC3339)}})
}

// mapRoles sets the user's roles to the valid "role@unit-code" entries of the roles claim;
// entries naming an unknown role or unit are skipped and logged.
func (s *Server) mapRoles(ctx context.Context, u models.User, claimed []string) error {
	var roles []store.RoleAt
	for _, e := range claimed {
		role, code, ok := strings.Cut(strings.TrimSpace(e), "@")
		if !ok || !slices.Contains(models.Roles, role) {
			slog.WarnContext(ctx, "oidc: roles claim entry skipped", "login", u.Login, "entry", e)
			continue
		}
		unit, found, err := store.UnitByCode(ctx, s.deps.DB, code)
		if err != nil {
			return err
		}
		if !found {
			slog.WarnContext(ctx, "oidc: roles claim names an unknown unit", "login", u.Login, "entry", e)
			continue
		}
		ra := store.RoleAt{Role: role, UnitID: unit.ID}
		if !slices.Contains(roles, ra) {
			roles = append(roles, ra)
		}
	}
	return store.ReplaceRoles(ctx, s.deps.DB, u.ID, roles)
}

// auditSignIn records a sign-in attempt (a GET, which the audit middleware does not record).
func (s *Server) auditSignIn(c echo.Context, login, roles, errCode string, status int) {
	e := models.AuditEntry{At: time.Now().UTC(), RequestID: requestID(c), Login: login, Roles: roles,
		Method: c.Request().Method, Path: c.Path(), Action: "oidc_sign_in", Target: errCode,
		Status: status, Outcome: map[bool]string{true: "ok", false: "refused"}[errCode == ""]}
	if p := principal(c); p != nil && len(p.Grants) > 0 {
		e.UnitPath = p.Grants[0].UnitPath
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), 5*time.Second)
	defer cancel()
	if err := s.deps.DB.WithContext(ctx).Create(&e).Error; err != nil {
		slog.Error("audit log write failed", "request_id", e.RequestID, "err", err)
	}
}
