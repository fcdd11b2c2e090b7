package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/auth"
	"redress/models"
	"redress/store"
)

// oidcCookie carries the flow's state, nonce and PKCE verifier between login and callback;
// oidcNextCookie the UI page to land on afterwards (the deep link the sign-in interrupted).
const (
	oidcCookie     = "redress_oidc"
	oidcNextCookie = "redress_oidc_next"
	// signedInCookie tells the UI, for a minute after an OIDC sign-in, that the browser now
	// holds a session and until when (the session cookie itself is HttpOnly). It holds no
	// secret: only the expiry.
	signedInCookie = "redress_signed_in"
)

// uiPath is a page of the UI as the router names it ("/orders/<id>?tab=…"): a path under the
// fragment, so never another site, and of plain characters only.
var uiPath = regexp.MustCompile(`^/[A-Za-z0-9._~!$&'()*+,;=:@/?%-]{0,500}$`)

// safeNext answers the deep link to land on after sign-in, or "/" when next is not a page of
// the UI.
func safeNext(next string) string {
	if !uiPath.MatchString(next) || strings.HasPrefix(next, "//") {
		return "/"
	}
	return next
}

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
	next := s.flowCookie(url.QueryEscape(safeNext(c.QueryParam("next"))), int(auth.FlowTTL/time.Second))
	next.Name = oidcNextCookie
	c.SetCookie(next)
	return c.Redirect(http.StatusFound, u)
}

// handOff redirects a refused sign-in to the UI's callback page with the error code.
func handOff(c echo.Context, q url.Values) error {
	return c.Redirect(http.StatusFound, "/#/auth/callback?"+q.Encode())
}

// nextPage answers the deep link kept by oidcLogin ("/" without one).
func nextPage(c echo.Context) string {
	ck, err := c.Cookie(oidcNextCookie)
	if err != nil {
		return "/"
	}
	v, err := url.QueryUnescape(ck.Value)
	if err != nil {
		return "/"
	}
	return safeNext(v)
}

// oidcCallback finishes the sign-in: verifies the flow, finds the enabled user named by the
// login claim (never creates one), maps the roles claim when configured, issues our own token
// as the session cookie and sends the browser to the page it came for. Every outcome is
// written to the audit log.
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
	next := nextPage(c)
	gone := s.flowCookie("", -1)
	gone.Name = oidcNextCookie
	c.SetCookie(gone)
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
	// The session is the HttpOnly cookie set here; the browser goes straight to the deep link
	// and the token is in no URL (a fragment would linger in the history and reach scripts).
	if err := setSessionCookies(c, tok, exp); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: signedInCookie, Value: exp.UTC().Format(time.RFC3339), Path: "/", MaxAge: 60,
		Secure: c.Scheme() == "https", SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusFound, "/#"+next)
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
		unit, err := s.units.Known(ctx, code)
		if errors.Is(err, store.ErrNotFound) {
			slog.WarnContext(ctx, "oidc: roles claim names an unknown unit", "login", u.Login, "entry", e)
			continue
		}
		if err != nil {
			return err
		}
		ra := store.RoleAt{Role: role, UnitID: unit.ID}
		if !slices.Contains(roles, ra) {
			roles = append(roles, ra)
		}
	}
	return s.users.ReplaceRoles(ctx, u, roles)
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
	if err := s.audit.Record(ctx, e); err != nil {
		slog.Error("audit log write failed", "request_id", e.RequestID, "err", err)
	}
}
