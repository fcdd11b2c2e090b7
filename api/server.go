// Package api is the HTTP layer of redress: Echo with request ids, structured access logs,
// panic recovery, body limits, bearer-token authentication, Casbin authorization on every route
// and the audit log of state-changing requests; the JSON endpoints of API.md under /api/v1,
// health, readiness, metrics, the OpenAPI document and the embedded web UI. Handlers stay thin:
// they decode, call the domain packages and encode.
package api

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"

	"redress/auth"
	"redress/authz"
	"redress/calendar"
	"redress/calendar/calendardb"
	"redress/intake"
	"redress/notify"
	"redress/open311"
	"redress/pii"
	"redress/publish"
	"redress/reports"
	"redress/retention"
	"redress/signing"
	"redress/stats"
	"redress/store"
	"redress/upstream"
)

// Enforcer decides whether (role, unit path, route, method) is allowed: casbin's enforcer, or
// authz.Cached in front of it.
type Enforcer interface {
	Enforce(rvals ...any) (bool, error)
}

// Deps are the server's collaborators.
type Deps struct {
	DB       *store.DB
	Temporal client.Client
	Tokens   *auth.Issuer
	Enforcer Enforcer
	PII      *pii.Box
	// Signer signs public results and is served at /api/v1/public/signing-key; nil signs
	// nothing (issue 21).
	Signer    *signing.Signer
	Intake    *intake.Service
	Registry  prometheus.Registerer
	Gatherer  prometheus.Gatherer
	Web       fs.FS // the UI's static files; nil serves no UI
	BodyLimit string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed; none means a
	// request's address is its connection's (clients cannot forge it).
	TrustedProxies []*net.IPNet
	TokenTTL       time.Duration
	// Calendars gives the working-day calendar of a unit ("" for the national one).
	Calendars interface {
		Calendar(ctx context.Context, unitPath string) (*calendar.Calendar, error)
	}
	// Banners reports conditions an administrator must see (e.g. an uncovered calendar year).
	Banners func(context.Context) []Banner
	// Dev enables the demo sign-in (a list of demo users and password-less login).
	Dev bool
	// Policies is the database-backed route policy (admin API edits it); Enforcer is its
	// enforcer when set.
	Policies *authz.Store
	// OIDC enables sign-in through an OpenID Connect provider; nil answers 404 on its routes.
	OIDC *auth.OIDC
	// SMSHeld: no SMS gateway is configured and the workers keep evaluators' SMS queued;
	// readiness and the administrators' banner say how many wait.
	SMSHeld bool
	// Limits are the rate limits of anonymous requests and sign-in (zero: the defaults).
	Limits Limits
	// MetricsToken, when set, is the bearer token GET /metrics requires; MetricsOff serves no
	// /metrics on this handler (it is served on a separate address, MetricsHandler).
	MetricsToken string
	MetricsOff   bool
	// Results configures statistics, publication, reports and 12345/upstream (issue 8).
	Results ResultsOptions
	// TemporalUIOrigins are the origins of Temporal web UIs (http://host:port) allowed to
	// call the payload codec endpoint from the browser (CORS); none: only the CLI and
	// same-origin callers (REDRESS_TEMPORAL_UI_ORIGINS).
	TemporalUIOrigins []string
}

// Server is the HTTP API.
type Server struct {
	deps    Deps
	e       *echo.Echo
	metrics *httpMetrics
	// known holds "METHOD path" of every registered route: a request that matches none is
	// answered 404 or 405 by the router's handler, not refused by the route policy.
	known map[string]bool
	// principals loads the callers of requests that arrive together in one query (group read).
	principals store.Batch[string, *Principal]
	// guard holds the rate limits and the aggregate of refused anonymous traffic.
	guard *guard

	// The repositories handlers read and write through; each applies the caller's scope.
	orders      store.WorkOrders
	units       store.Units
	attachments store.Attachments
	tracking    store.Tracking
	audit       store.AuditLog
	exports     store.Exports
	users       store.Users
	receipts    store.Receipts

	// The services handlers call, built once: those that read or write a unit's data take the
	// caller and apply its scope themselves (the public ones serve nothing personal).
	figures      stats.Reader
	publications publish.Service
	reports      reports.Service
	erasure      retention.OnRequest
	open311      open311.Reader
	notices      notify.Center
	tokens       notify.Tokens
	upstream     upstream.Service
	calendarData calendardb.Repository // the calendar's years and overrides

	public publicAnswers // the public results page's signed answers (publiccache.go)
}

// New builds the server and registers every route.
func New(d Deps) *Server {
	if d.Registry == nil {
		d.Registry = prometheus.DefaultRegisterer
	}
	if d.Gatherer == nil {
		d.Gatherer = prometheus.DefaultGatherer
	}
	if d.BodyLimit == "" {
		d.BodyLimit = "1M"
	}
	if d.TokenTTL == 0 {
		d.TokenTTL = 8 * time.Hour
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = handleError
	// Echo's default believes any X-Forwarded-For, which would let a citizen pick the address
	// the fraud checks count.
	e.IPExtractor = echo.ExtractIPDirect()
	if len(d.TrustedProxies) > 0 {
		opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range d.TrustedProxies {
			opts = append(opts, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(opts...)
	}
	s := &Server{deps: d, e: e, metrics: newHTTPMetrics(d.Registry), guard: newGuard(d.Limits, d.Registry)}
	s.principals.Run, s.principals.Runners = s.loadPrincipals, 1
	s.orders, s.units, s.attachments = store.WorkOrders{DB: d.DB}, store.Units{DB: d.DB}, store.Attachments{DB: d.DB}
	s.tracking, s.audit, s.exports = store.Tracking{DB: d.DB}, store.AuditLog{DB: d.DB}, store.Exports{DB: d.DB}
	s.users, s.receipts = store.Users{DB: d.DB}, store.Receipts{DB: d.DB}
	// One roller for the passes that publishing and reports on demand run first: it holds no
	// state of its own (its mark is in the database), so requests share it.
	roller := &stats.Roller{DB: d.DB, Calendars: d.Calendars}
	s.figures, s.publications, s.reports = stats.Reader{DB: d.DB, Kept: stats.NewKept()}, publish.Service{DB: d.DB, Roller: roller}, reports.Service{DB: d.DB, Roller: roller}
	s.erasure, s.open311, s.upstream = retention.OnRequest{DB: d.DB}, open311.Reader{DB: d.DB}, upstream.Service{DB: d.DB}
	s.notices, s.tokens = notify.Center{DB: d.DB}, notify.Tokens{DB: d.DB}
	s.calendarData = calendardb.Repository{DB: d.DB}

	// Order matters: the id first (everything logs it), the security headers, the Temporal
	// UI's CORS grant on the codec endpoint (its preflight carries no token), then the log
	// (it sees the final status), recovery, the audit (before the checks, so that refused
	// requests are recorded too), the refusal of NUL and invalid UTF-8, the body limit, who is
	// calling, the rate limit of those without a token, and whether they may.
	e.Use(withRequestID, withSecurityHeaders, s.codecCORS, s.withAccessLog, withRecover, s.withAudit, withCleanInput,
		// Attachments read their own, larger limit (attachments.go); every other body the
		// server-wide one.
		middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: d.BodyLimit,
			Skipper: func(c echo.Context) bool { return c.Path() == attachmentRoute && c.Request().Method == http.MethodPost }}),
		s.withAuth, s.withAnonymousLimit, s.withAuthorization)
	s.routes()
	s.known = map[string]bool{}
	for _, r := range e.Routes() {
		s.known[r.Method+" "+r.Path] = true
	}
	return s
}

// Run runs the server's background jobs (the summary of refused anonymous traffic) until ctx
// ends.
func (s *Server) Run(ctx context.Context) { s.guard.run(ctx) }

// MetricsHandler serves the Prometheus metrics alone, for a separate (internal) address: at
// /metrics only (every other path answers 404; the bare promhttp handler answered the metrics
// at any path of that address).
func (s *Server) MetricsHandler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.deps.Gatherer, promhttp.HandlerOpts{}))
	return mux
}

// metricsHandler serves /metrics on the API address, behind MetricsToken when one is set.
func (s *Server) metricsHandler(c echo.Context) error {
	if t := s.deps.MetricsToken; t != "" {
		scheme, got, _ := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(t)) != 1 {
			return unauthorized("the metrics need their bearer token")
		}
	}
	s.MetricsHandler().ServeHTTP(c.Response(), c.Request())
	return nil
}

// Handler returns the HTTP handler.
func (s *Server) Handler() http.Handler { return s.e }

// Echo exposes the router (tests enumerate its routes).
func (s *Server) Echo() *echo.Echo { return s.e }

func (s *Server) routes() {
	e := s.e
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	if !s.deps.MetricsOff {
		e.GET("/metrics", s.metricsHandler)
	}
	e.GET("/api/v1/openapi.json", s.openAPIJSON)
	e.GET("/api/v1/openapi.yaml", s.openAPIYAML)

	v1 := e.Group("/api/v1")
	if s.deps.Dev {
		v1.GET("/auth/demo-users", s.demoUsers)
		v1.POST("/auth/demo-login", s.demoLogin)
	}
	v1.GET("/me", s.me)
	v1.POST("/auth/logout", s.logout)
	v1.GET("/indicators", s.getIndicators)
	v1.GET("/system/banners", s.banners)
	v1.POST("/service-cases", s.postServiceCase)
	v1.POST("/evaluations", s.postEvaluation)
	v1.GET("/work-orders", s.listWorkOrders)
	v1.GET("/work-orders/:id", s.getWorkOrder)
	v1.GET("/work-orders/:id/timeline", s.getTimeline)
	v1.POST("/work-orders/:id/actions", s.postAction)

	v1.GET("/calendar/deadline", s.calendarDeadline)
	v1.GET("/calendar/years", s.calendarYears)
	v1.GET("/calendar/years/:year", s.calendarYear)
	v1.POST("/calendar/years", s.importCalendarYear)
	v1.GET("/calendar/overrides", s.listOverrides)
	v1.POST("/calendar/overrides", s.setOverride)
	v1.DELETE("/calendar/overrides", s.removeOverride)

	if s.deps.Web != nil {
		s.routesWeb()
	}
	s.routesCitizenAndExport()
	s.routesAttachments()
	s.routesAccess()
	s.routesChain()
	s.routesResults()
	s.routesSigning()
	s.routesOpen311()
	s.routesRetention()
	s.routesIntake()
	s.routesUnits()
	s.routesActions()
	s.routesTemporalCodec()
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when the database (with a current schema) and Temporal answer.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 3*time.Second)
	defer cancel()
	checks := map[string]string{"database": "ok", "temporal": "ok"}
	status := http.StatusOK
	if err := s.deps.DB.Ready(ctx); err != nil {
		slog.WarnContext(ctx, "readiness: database", "err", err)
		checks["database"], status = "unavailable", http.StatusServiceUnavailable
	}
	if s.deps.Temporal == nil {
		checks["temporal"], status = "not configured", http.StatusServiceUnavailable
	} else if _, err := s.deps.Temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"], status = "unreachable", http.StatusServiceUnavailable
	}
	if s.deps.SMSHeld {
		// Not a reason to take the API out of service, but a fact an operator must see.
		n, err := s.notices.Queued(ctx, notify.ChannelSMS)
		checks["sms"] = fmt.Sprintf("no gateway configured: %d queued, unsent", n)
		if err != nil {
			checks["sms"] = "no gateway configured"
		}
	}
	return c.JSON(status, map[string]any{"status": map[bool]string{true: "ready", false: "not_ready"}[status == http.StatusOK], "checks": checks})
}

// ParseTrustedProxies parses a comma-separated list of CIDRs (a bare address is one host).
func ParseTrustedProxies(list string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			if ip := net.ParseIP(f); ip != nil && ip.To4() != nil {
				f += "/32"
			} else {
				f += "/128"
			}
		}
		_, n, err := net.ParseCIDR(f)
		if err != nil {
			return nil, fmt.Errorf("%q is not a CIDR", f)
		}
		out = append(out, n)
	}
	return out, nil
}
