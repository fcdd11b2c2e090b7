package api

import (
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/models"
	"redress/orgfile"
	"redress/store"
)

type unitJSON struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Path string `json:"path,omitempty"`
}

type grantJSON struct {
	Role string   `json:"role"`
	Unit unitJSON `json:"unit"`
}

type userJSON struct {
	Login string      `json:"login"`
	Name  string      `json:"name"`
	Roles []grantJSON `json:"roles"`
}

func toUserJSON(u models.User, gs []store.Grant) userJSON {
	out := userJSON{Login: u.Login, Name: u.Name, Roles: []grantJSON{}}
	for _, g := range gs {
		out.Roles = append(out.Roles, grantJSON{Role: g.Role, Unit: unitJSON{Code: g.UnitCode, Name: g.UnitName, Path: g.UnitPath}})
	}
	return out
}

func (s *Server) me(c echo.Context) error {
	p := principal(c)
	return c.JSON(http.StatusOK, toUserJSON(p.User, p.Grants))
}

// demoUsers lists the enabled users for the dev sign-in page (dev only).
func (s *Server) demoUsers(c echo.Context) error {
	demo := demoLogins()
	users, err := s.users.Enabled(c.Request().Context(), func(login string) bool { return demo[login] })
	if err != nil {
		return err
	}
	out := make([]userJSON, 0, len(users))
	for _, u := range users {
		out = append(out, toUserJSON(u.User, u.Grants))
	}
	return c.JSON(http.StatusOK, out)
}

type loginRequest struct {
	Login string `json:"login"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
	User      userJSON  `json:"user"`
}

// demoLogins are the logins the demo sign-in admits: the demo organisation's users, except
// the integration login (a machine's, which gets its token from `redress token`).
var demoLogins = sync.OnceValue(func() map[string]bool {
	out := map[string]bool{}
	for _, u := range orgfile.Demo().Users {
		machine := len(u.Roles) > 0
		for _, r := range u.Roles {
			machine = machine && r.Role == models.RoleIntegration
		}
		if !machine {
			out[u.Login] = true
		}
	}
	return out
})

// demoLogin signs a demo user in without a password (dev only).
func (s *Server) demoLogin(c echo.Context) error {
	var req loginRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if err := s.guard.signInAllowed(c.RealIP(), req.Login); err != nil {
		return err
	}
	p, err := s.loadPrincipal(c.Request().Context(), req.Login)
	if err != nil {
		return err
	}
	if p == nil || p.User.Disabled || !demoLogins()[req.Login] {
		// Only the demo organisation's people sign in without a password: not a user an
		// administrator created, nor the channel systems' integration login.
		s.guard.signInFailed(req.Login)
		return apperr.Invalid("login", "unknown_user", "no enabled user %q", req.Login)
	}
	s.guard.signInSucceeded(req.Login)
	tok, exp, err := s.deps.Tokens.Issue(p.User.Login, s.deps.TokenTTL)
	if err != nil {
		return err
	}
	c.Set("principal", p)
	if err := setSessionCookies(c, tok, exp); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, loginResponse{Token: tok, ExpiresAt: exp, User: toUserJSON(p.User, p.Grants)})
}

// Banner is a message shown at the top of the UI to the signed-in users who can act on it. The
// UI shows its own words for Code (filled with Data); Message is the English text for scripts.
type Banner struct {
	Level   string `json:"level"`
	Code    string `json:"code"`
	Message string `json:"message"`
	// Data fills the UI's message for Code (e.g. {"year": 2027}).
	Data map[string]any `json:"data,omitempty"`
	// Audience lists the roles that see the banner (any of them); empty means every signed-in
	// user. A banner goes only to those who can act on it: an officer cannot import a calendar.
	Audience []string `json:"-"`
}

func (s *Server) banners(c echo.Context) error {
	out := []Banner{}
	if s.deps.Banners == nil {
		return c.JSON(http.StatusOK, out)
	}
	var roles []string
	if p := principal(c); p != nil {
		roles = p.Roles()
	}
	for _, b := range s.deps.Banners(c.Request().Context()) {
		if len(b.Audience) == 0 || slices.ContainsFunc(b.Audience, func(r string) bool { return slices.Contains(roles, r) }) {
			out = append(out, b)
		}
	}
	return c.JSON(http.StatusOK, out)
}
