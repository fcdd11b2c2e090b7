package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"redress/apperr"
	"redress/authz"
	"redress/models"
	"redress/store"
)

type ctxKey int

const principalKey ctxKey = iota

// Principal is the signed-in caller, reloaded from the database on every request.
type Principal struct {
	User   models.User
	Grants []store.Grant
}

// Caller is the principal as the repositories of store take it.
func (p *Principal) Caller() store.Caller { return store.Caller{Login: p.User.Login, Grants: p.Grants} }

// caller is the request's principal as the repositories of store take it.
func caller(c echo.Context) store.Caller { return principal(c).Caller() }

// Roles lists the caller's distinct roles.
func (p *Principal) Roles() []string {
	seen := map[string]bool{}
	var out []string
	for _, g := range p.Grants {
		if !seen[g.Role] {
			seen[g.Role] = true
			out = append(out, g.Role)
		}
	}
	return out
}

func principal(c echo.Context) *Principal {
	p, _ := c.Get("principal").(*Principal)
	return p
}

// PrincipalFrom returns the caller stored in a request context, if any.
func PrincipalFrom(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey).(*Principal)
	return p
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// withRecover turns a panic into a logged 500 instead of a dropped connection.
func withRecover(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				slog.Error("panic in handler", "request_id", requestID(c), "path", c.Path(), "panic", r)
				err = errors.New("panic")
			}
		}()
		return next(c)
	}
}

// httpMetrics are the API's own Prometheus metrics.
type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redress_http_requests_total", Help: "HTTP requests by route, method and status.",
		}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "redress_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .2, .5, 1, 2.5},
		}, []string{"route", "method"}),
	}
	for _, c := range []prometheus.Collector{m.requests, m.duration} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				continue // a second server in one process (tests) shares the first's metrics
			}
			panic(err)
		}
	}
	return m
}

// withAccessLog logs each request as one structured line and counts it.
func (s *Server) withAccessLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		d := time.Since(start)
		s.metrics.requests.WithLabelValues(route, c.Request().Method, strconv.Itoa(status)).Inc()
		s.metrics.duration.WithLabelValues(route, c.Request().Method).Observe(d.Seconds())
		if s.refusedAnonymous(c) {
			// Unmatched paths and refused anonymous requests are summed up (guard.summarise),
			// so that a stranger's flood does not become a flood of log lines.
			s.guard.countRefused(route, status)
			return nil
		}
		login := ""
		if p := principal(c); p != nil {
			login = p.User.Login
		}
		slog.LogAttrs(c.Request().Context(), slog.LevelInfo, "http",
			slog.String("request_id", requestID(c)), slog.String("method", c.Request().Method),
			slog.String("route", route), slog.Int("status", status),
			slog.Duration("duration", d), slog.String("login", login), slog.Int64("bytes", c.Response().Size))
		return nil
	}
}

// withAuth reads the bearer token, if any. A present but invalid token is refused even on
// public routes, so a client learns at once that its token is bad.
func (s *Server) withAuth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get(echo.HeaderAuthorization)
		if c.Path() == "/metrics" && s.deps.MetricsToken != "" { // /metrics checks its own token
			return next(c)
		}
		var tok string
		if h == "" {
			// The browser's session cookie (session_cookie.go). A stale or forged cookie reads
			// as signed out: public pages keep working, the others answer 401 as usual.
			tok = sessionToken(c)
			if tok == "" {
				return next(c)
			}
			if _, err := s.deps.Tokens.Verify(tok); err != nil {
				return next(c)
			}
			if !s.codecFromTemporalUI(c) {
				if err := checkCSRF(c); err != nil {
					return err
				}
			}
		} else {
			// The auth scheme is case-insensitive (RFC 9110 §11.1): "bearer" and "BEARER" too.
			scheme, bearer, ok := strings.Cut(strings.TrimSpace(h), " ")
			if !ok || !strings.EqualFold(scheme, "Bearer") {
				return unauthorized("use an Authorization: Bearer token")
			}
			tok = strings.TrimSpace(bearer)
		}
		claims, err := s.deps.Tokens.Verify(tok)
		if err != nil {
			return unauthorized("the token is invalid or expired")
		}
		p, err := s.loadPrincipal(c.Request().Context(), claims.Login)
		if err != nil {
			return err
		}
		if p == nil || p.User.Disabled {
			return unauthorized("the account is unknown or disabled")
		}
		c.Set("principal", p)
		c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), principalKey, p)))
		return next(c)
	}
}

func unauthorized(msg string) error {
	return &apperr.Error{Status: http.StatusUnauthorized, Code: "unauthorized", Message: msg}
}

func (s *Server) loadPrincipal(ctx context.Context, login string) (*Principal, error) {
	return s.principals.Do(ctx, login)
}

// loadPrincipals reads the callers of requests that arrived together: one query for the users
// and their grants of every login (every request paid a round trip of its own, the largest
// read in intake's profile). A request's query starts after it arrived (store.Batch), so an
// account disabled before the request is refused.
func (s *Server) loadPrincipals(ctx context.Context, logins []string) ([]*Principal, error) {
	users, err := s.users.WithGrants(ctx, logins)
	if err != nil {
		return nil, err
	}
	out := make([]*Principal, len(logins))
	for i, l := range logins {
		if u, ok := users[l]; ok {
			out[i] = &Principal{User: u.User, Grants: slices.Clone(u.Grants)}
		}
	}
	return out, nil
}

// withAuthorization asks the Casbin enforcer whether any of the caller's subjects may call
// this route: "anonymous" always, "signed_in" with a valid token, and each role the caller
// holds, in the domain of the unit it holds it on. A route without a policy line is refused.
func (s *Server) withAuthorization(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		route, method := c.Path(), c.Request().Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		if !s.known[method+" "+route] {
			return next(c) // no such route: the router's handler answers 404 or 405
		}
		allowed := func(sub, dom string) bool {
			ok, err := s.deps.Enforcer.Enforce(sub, dom, route, method)
			return err == nil && ok
		}
		if allowed(authz.Anonymous, "/") {
			return next(c)
		}
		p := principal(c)
		if p == nil {
			return unauthorized("sign in first")
		}
		if allowed(authz.SignedIn, "/") {
			return next(c)
		}
		for _, g := range p.Grants {
			if allowed(g.Role, g.UnitPath) {
				c.Set(actingUnitKey, g.UnitPath) // the audit log records the unit acted for
				return next(c)
			}
		}
		return apperr.Forbidden("forbidden", "your roles do not allow this")
	}
}

// auditTarget names what a request acted on: its route's parameters (an order's id, a unit's
// code, a user's login with the role and unit, a case number), so that the audit log says
// "PUT /units/:code/policy on sz-ft-tax" rather than "—". Tokens are secrets and left out.
func auditTarget(c echo.Context) string {
	var parts []string
	for i, name := range c.ParamNames() {
		if name == "token" || i >= len(c.ParamValues()) {
			continue
		}
		if v := c.ParamValues()[i]; v != "" {
			parts = append(parts, v)
		}
	}
	return strings.Join(parts, " ")
}

// withAudit appends every state-changing request to the audit log, whatever its outcome.
func (s *Server) withAudit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		m := c.Request().Method
		if m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions {
			return next(c)
		}
		entryFor := func(status int) models.AuditEntry {
			entry := models.AuditEntry{
				At: time.Now().UTC(), RequestID: requestID(c), Method: m, Path: c.Path(),
				Target: auditTarget(c), Status: status, Outcome: outcome(status),
			}
			if p := principal(c); p != nil {
				entry.Login = p.User.Login
				entry.Roles = strings.Join(grantStrings(p.Grants), " ")
			}
			if action, ok := c.Get("action").(string); ok {
				entry.Target = strings.TrimSpace(entry.Target + " " + action)
			}
			// Why an action was refused (e.g. target_out_of_scope), beside that it was.
			if reason, ok := c.Get(refusalKey).(string); ok && reason != "" {
				entry.Target = strings.TrimSpace(entry.Target + " " + reason)
			}
			entry.UnitPath, entry.Action = auditUnitAndAction(c)
			return entry
		}
		// A service may write the entry in its own transaction (store.AuditHook).
		hook := &store.AuditHook{Entry: entryFor}
		c.SetRequest(c.Request().WithContext(store.WithAuditHook(c.Request().Context(), hook)))
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		if hook.Written() || s.refusedAnonymous(c) {
			// Refused anonymous traffic is counted in aggregate by the access log, not one
			// audit row each (a flood of POST /evaluations {} wrote ~570 rows a second).
			return nil
		}
		entry := entryFor(c.Response().Status)
		// The audit write must not depend on the client staying connected.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), 5*time.Second)
		defer cancel()
		if aerr := s.audit.Record(ctx, entry); aerr != nil {
			slog.Error("audit log write failed", "request_id", entry.RequestID, "err", aerr)
		}
		return nil
	}
}

func grantStrings(gs []store.Grant) []string {
	out := make([]string, len(gs))
	for i, g := range gs {
		out[i] = g.Role + "@" + g.UnitCode
	}
	return out
}

func outcome(status int) string {
	switch {
	case status < 400:
		return "ok"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "refused"
	case status < 500:
		return "rejected"
	default:
		return "failed"
	}
}
