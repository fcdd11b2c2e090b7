package api

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"redress/apperr"
)

// Hardening against strangers and bad input (issue 17): request ids a client cannot use to
// inject text into logs and exports, security headers, refusal of NUL bytes and invalid UTF-8
// before anything reaches a database, rate limits of anonymous traffic and of sign-in, and an
// aggregate (not a row per request) account of refused anonymous traffic.

// requestIDPattern is what a client-chosen X-Request-ID may look like; anything else (spaces,
// "=HYPERLINK(…)", control characters, over 64 characters) is replaced by a fresh id.
var requestIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequestID keeps a sane client-given id or makes one, and echoes it back.
func withRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !requestIDPattern.MatchString(id) {
			id = uuid.NewString()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

// contentSecurityPolicy admits only the UI's own files: the UI has no inline script or style
// (web/static builds every node with the DOM API), so nothing else is needed; no page may
// frame it (clickjacking of the rating page or the officers' buttons).
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// withSecurityHeaders sets the headers every answer carries.
func withSecurityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		return next(c)
	}
}

// withCleanInput refuses NUL bytes and invalid UTF-8 in the path and the query with 422:
// PostgreSQL cannot store a NUL in text (it answered 500), and SQLite would store what
// PostgreSQL refuses, so both databases see the same refusal before any query runs. Bodies are
// checked by decode.
func withCleanInput(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !cleanText(r.URL.Path) {
			return apperr.Invalid("path", "invalid_text", "the path holds a NUL byte or invalid UTF-8")
		}
		for _, p := range c.ParamValues() {
			if !cleanText(p) {
				return apperr.Invalid("path", "invalid_text", "the path holds a NUL byte or invalid UTF-8")
			}
		}
		if r.URL.RawQuery != "" {
			q, err := url.ParseQuery(r.URL.RawQuery)
			if err != nil {
				return apperr.BadRequest("malformed_query", "the query string is malformed")
			}
			for k, vs := range q {
				if !cleanText(k) {
					return apperr.Invalid("query", "invalid_text", "a query parameter name holds a NUL byte or invalid UTF-8")
				}
				for _, v := range vs {
					if !cleanText(v) {
						return apperr.Invalid(k, "invalid_text", "%s holds a NUL byte or invalid UTF-8", k)
					}
				}
			}
		}
		return next(c)
	}
}

// cleanText reports whether s is valid UTF-8 without NUL.
func cleanText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// checkJSONText refuses a JSON body holding invalid UTF-8 (encoding/json would silently turn
// it into U+FFFD) or a NUL, raw or escaped as \u0000. Backslashes occur only inside strings, so
// skipping each escape pair finds every \u0000 and no escaped backslash followed by "u0000".
func checkJSONText(b []byte) error {
	if !utf8.Valid(b) {
		return apperr.Invalid("body", "invalid_text", "the body is not valid UTF-8")
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return apperr.Invalid("body", "invalid_text", "the body holds a NUL byte")
	}
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			continue
		}
		if b[i+1] == 'u' && i+5 < len(b) && string(b[i+2:i+6]) == "0000" {
			return apperr.Invalid("body", "invalid_text", "the body holds a NUL character (\\u0000)")
		}
		i++ // skip the escaped character
	}
	return nil
}

// Limits are the request rates the server admits from one client.
type Limits struct {
	// Anonymous is the sustained rate (requests per second) of requests without a token from
	// one address; AnonymousBurst what it may send at once. 0 means the defaults.
	Anonymous      float64
	AnonymousBurst int
	// SignIn is the rate of sign-in attempts per address and per login; SignInBurst at once.
	SignIn      float64
	SignInBurst int
	// LockoutAfter failed sign-ins of one login lock it for LockoutBase, doubling with each
	// further failure up to LockoutMax.
	LockoutAfter int
	LockoutBase  time.Duration
	LockoutMax   time.Duration
	// SummaryEvery is the period of the log line that sums up refused anonymous traffic.
	SummaryEvery time.Duration
}

func (l Limits) withDefaults() Limits {
	if l.Anonymous <= 0 {
		l.Anonymous = 20
	}
	if l.AnonymousBurst <= 0 {
		l.AnonymousBurst = 60
	}
	if l.SignIn <= 0 {
		l.SignIn = 1
	}
	if l.SignInBurst <= 0 {
		l.SignInBurst = 20
	}
	if l.LockoutAfter <= 0 {
		l.LockoutAfter = 5
	}
	if l.LockoutBase <= 0 {
		l.LockoutBase = time.Minute
	}
	if l.LockoutMax <= 0 {
		l.LockoutMax = 30 * time.Minute
	}
	if l.SummaryEvery <= 0 {
		l.SummaryEvery = time.Minute
	}
	return l
}

// guard holds the rate limiters and the account of refused anonymous traffic.
type guard struct {
	limits  Limits
	anon    middleware.RateLimiterStore // per address, requests without a principal
	signIP  middleware.RateLimiterStore // sign-in attempts per address
	signLog middleware.RateLimiterStore // sign-in attempts per login

	mu       sync.Mutex
	failures map[string]*lockout // by login
	refused  map[string]int      // "status route" → count since the last summary

	refusedTotal *prometheus.CounterVec
}

type lockout struct {
	failed int
	until  time.Time
	seen   time.Time
}

func newGuard(l Limits, reg prometheus.Registerer) *guard {
	l = l.withDefaults()
	store := func(r float64, burst int) middleware.RateLimiterStore {
		return middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(r), Burst: burst, ExpiresIn: 10 * time.Minute,
		})
	}
	g := &guard{
		limits: l, anon: store(l.Anonymous, l.AnonymousBurst),
		signIP: store(l.SignIn, l.SignInBurst), signLog: store(l.SignIn, l.SignInBurst),
		failures: map[string]*lockout{}, refused: map[string]int{},
		refusedTotal: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "redress_http_refused_anonymous_total",
			Help: "Requests without a valid token that were refused (401/403/404/405/422/429) or matched no route, by route and status; summed up in the log instead of one line or audit row each.",
		}, []string{"route", "status"}),
	}
	if err := reg.Register(g.refusedTotal); err != nil {
		if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
			g.refusedTotal = are.ExistingCollector.(*prometheus.CounterVec)
		}
	}
	return g
}

// run logs the summary of refused anonymous traffic every SummaryEvery until ctx ends.
func (g *guard) run(ctx context.Context) {
	t := time.NewTicker(g.limits.SummaryEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			g.summarise()
		}
	}
}

func (g *guard) summarise() {
	g.mu.Lock()
	counts := g.refused
	g.refused = map[string]int{}
	now := time.Now()
	for login, l := range g.failures { // forget old failures
		if now.Sub(l.seen) > g.limits.LockoutMax*2 && now.After(l.until) {
			delete(g.failures, login)
		}
	}
	g.mu.Unlock()
	if len(counts) == 0 {
		return
	}
	total := 0
	attrs := make([]any, 0, 2*len(counts)+2)
	for k, n := range counts {
		total += n
		attrs = append(attrs, k, n)
	}
	slog.Warn("refused anonymous requests", append([]any{"total", total, "period", g.limits.SummaryEvery.String()}, attrs...)...)
}

// countRefused adds one refused anonymous request to the summary and the metric.
func (g *guard) countRefused(route string, status int) {
	st := http.StatusText(status)
	g.refusedTotal.WithLabelValues(route, strings.ToLower(strings.ReplaceAll(st, " ", "_"))).Inc()
	g.mu.Lock()
	g.refused[route+" "+strconv.Itoa(status)]++
	g.mu.Unlock()
}

// withAnonymousLimit limits requests without a token per address: the rating page, the
// tracking link, the public results and every refused anonymous request alike.
func (s *Server) withAnonymousLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if principal(c) != nil {
			return next(c)
		}
		if ok, _ := s.guard.anon.Allow(c.RealIP()); !ok {
			c.Response().Header().Set("Retry-After", "1")
			return &apperr.Error{Status: http.StatusTooManyRequests, Code: "too_many_requests", Message: "too many requests from this address; try again shortly"}
		}
		return next(c)
	}
}

// signInAllowed is asked before a sign-in attempt: it refuses too many attempts from one
// address or for one login, and a login locked after repeated failures.
func (g *guard) signInAllowed(ip, login string) error {
	tooMany := &apperr.Error{Status: http.StatusTooManyRequests, Code: "too_many_sign_ins", Message: "too many sign-in attempts; try again later"}
	if ok, _ := g.signIP.Allow(ip); !ok {
		return tooMany
	}
	if login == "" {
		return nil
	}
	if ok, _ := g.signLog.Allow(login); !ok {
		return tooMany
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if l := g.failures[login]; l != nil && time.Now().Before(l.until) {
		return &apperr.Error{Status: http.StatusTooManyRequests, Code: "sign_in_locked", Message: "this login is locked after repeated failed sign-ins; try again later"}
	}
	return nil
}

// signInFailed records a failed sign-in of login; from LockoutAfter failures on the login is
// locked, for twice as long with each further failure.
func (g *guard) signInFailed(login string) {
	if login == "" {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	l := g.failures[login]
	if l == nil {
		l = &lockout{}
		g.failures[login] = l
	}
	l.failed++
	l.seen = time.Now()
	if over := l.failed - g.limits.LockoutAfter; over >= 0 {
		d := g.limits.LockoutBase
		for i := 0; i < over && d < g.limits.LockoutMax; i++ {
			d *= 2
		}
		d = min(d, g.limits.LockoutMax)
		l.until = time.Now().Add(d)
		slog.Warn("sign-in locked after repeated failures", "login", login, "failures", l.failed, "for", d.String())
	}
}

// signInSucceeded forgets the failures of login.
func (g *guard) signInSucceeded(login string) {
	g.mu.Lock()
	delete(g.failures, login)
	g.mu.Unlock()
}

// refusedAnonymous reports whether a finished request is anonymous traffic that is counted in
// the aggregate instead of being logged or audited one by one: it matched no route, or it
// came without a principal and was refused.
func (s *Server) refusedAnonymous(c echo.Context) bool {
	status, method := c.Response().Status, c.Request().Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	if !s.known[method+" "+c.Path()] {
		return true
	}
	return principal(c) == nil && status >= 400 && status < 500
}
