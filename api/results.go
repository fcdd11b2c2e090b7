package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/models"
	"redress/notify"
	"redress/stats"
	"redress/store"
)

// ResultsOptions configure statistics, publication, reports and the 12345/upstream endpoints.
type ResultsOptions struct {
	// Alarm holds the thresholds of the suppressed-ratings alarm.
	Alarm stats.AlarmPolicy
	// HotlineSecret authenticates the 12345 platform's callbacks (HMAC); empty refuses them.
	HotlineSecret string
	Now           func() time.Time
}

func (s *Server) resultsNow() time.Time {
	if s.deps.Results.Now != nil {
		return s.deps.Results.Now().UTC()
	}
	return time.Now().UTC()
}

// routesResults registers the results endpoints (issue 8): statistics, publication, reports,
// the upstream queue and 12345.
func (s *Server) routesResults() {
	v1 := s.e.Group("/api/v1")
	v1.GET("/stats/units", s.statsUnits)
	v1.GET("/stats/staff", s.statsDim(stats.DimStaff))
	v1.GET("/stats/items", s.statsDim(stats.DimItem))
	v1.GET("/stats/channels", s.statsDim(stats.DimChannel))
	v1.GET("/stats/trend", s.statsTrend)
	v1.GET("/stats/alarms", s.statsAlarms)
	v1.POST("/publications", s.postPublication)
	v1.GET("/publications", s.listPublications)
	v1.GET("/publications/:unit/:month/:version", s.getPublication)
	v1.GET("/public/results", s.publicResults)
	s.routesReports()
	s.routesUpstream()
}

// period reads from/to (dates, Asia/Shanghai); the default is the current month.
func (s *Server) period(c echo.Context) (stats.Period, error) {
	now := s.resultsNow()
	p, _ := stats.MonthPeriod(stats.Day(now)[:7])
	from, to := c.QueryParam("from"), c.QueryParam("to")
	if from != "" {
		if stats.DayStart(from).IsZero() {
			return p, apperr.Invalid("from", "invalid_date", "from must be a date YYYY-MM-DD")
		}
		p.From = stats.Day(stats.DayStart(from))
	}
	if to != "" {
		if stats.DayStart(to).IsZero() {
			return p, apperr.Invalid("to", "invalid_date", "to must be a date YYYY-MM-DD")
		}
		p.To = stats.Day(stats.DayStart(to))
	}
	if p.To < p.From {
		return p, apperr.Invalid("to", "invalid_period", "to is before from")
	}
	if stats.DayStart(p.To).Sub(stats.DayStart(p.From)) > 3*366*24*time.Hour {
		return p, apperr.Invalid("to", "period_too_long", "a period is at most three years")
	}
	return p, nil
}

// statsErr answers a ?unit= the caller does not reach (stats.Reader narrows their scope to
// it) as a parameter that names no unit.
func statsErr(c echo.Context, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return apperr.Invalid("unit", "unknown_unit", "unit %q is not known", c.QueryParam("unit"))
	}
	return err
}

func (s *Server) statsUnits(c echo.Context) error {
	p, err := s.period(c)
	if err != nil {
		return err
	}
	units, err := s.figures.Units(c.Request().Context(), caller(c), c.QueryParam("unit"), p)
	if err != nil {
		return statsErr(c, err)
	}
	r, o := stats.Total(units)
	return c.JSON(http.StatusOK, map[string]any{"period": p, "units": units, "total": map[string]any{"ratings": r, "orders": o}})
}

func (s *Server) statsDim(dim string) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := s.period(c)
		if err != nil {
			return err
		}
		rows, err := s.figures.ByDim(c.Request().Context(), caller(c), c.QueryParam("unit"), dim, p)
		if err != nil {
			return statsErr(c, err)
		}
		return c.JSON(http.StatusOK, map[string]any{"period": p, "items": rows})
	}
}

func (s *Server) statsTrend(c echo.Context) error {
	p, err := s.period(c)
	if err != nil {
		return err
	}
	g := c.QueryParam("granularity")
	switch g {
	case "":
		g = "day"
	case "day", "month":
	default:
		return apperr.Invalid("granularity", "invalid_granularity", "granularity must be day or month")
	}
	points, err := s.figures.Trend(c.Request().Context(), caller(c), c.QueryParam("unit"), p, g)
	if err != nil {
		return statsErr(c, err)
	}
	return c.JSON(http.StatusOK, map[string]any{"period": p, "granularity": g, "points": points})
}

func (s *Server) statsAlarms(c echo.Context) error {
	until := stats.Day(s.resultsNow().AddDate(0, 0, -1))
	alarms, err := s.figures.Alarms(c.Request().Context(), caller(c), until, s.deps.Results.Alarm)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"days": s.deps.Results.Alarm.Days, "min_ratings": s.deps.Results.Alarm.MinRatings, "items": alarms})
}

// ResultsBanners flags, to an administrator, supervisor or auditor, units in their scope that
// the suppressed-ratings alarm holds.
func ResultsBanners(db *store.DB, pol stats.AlarmPolicy, now func() time.Time) func(context.Context) []Banner {
	return func(ctx context.Context) []Banner {
		p := PrincipalFrom(ctx)
		if p == nil {
			return nil
		}
		who := p.Caller()
		if who.Scope(store.OversightRoles...).Empty() {
			return nil // no query for those who oversee nothing
		}
		alarms, err := stats.Reader{DB: db}.Alarms(ctx, who, stats.Day(now().AddDate(0, 0, -1)), pol)
		if err != nil {
			slog.WarnContext(ctx, "banners: alarms", "err", err)
			return nil
		}
		if len(alarms) == 0 {
			return nil
		}
		return []Banner{{Level: "warning", Code: "suppressed_ratings_suspected",
			Data:    map[string]any{"units": len(alarms), "days": pol.Days},
			Message: fmt.Sprintf("%d unit(s) had many ratings and no bad review in %d days: check for suppressed ratings (GET /api/v1/stats/alarms).", len(alarms), pol.Days)}}
	}
}

// SMSBanners tells administrators that evaluators' SMS wait unsent for want of a gateway.
func SMSBanners(db *store.DB) func(context.Context) []Banner {
	return func(ctx context.Context) []Banner {
		p := PrincipalFrom(ctx)
		if p == nil || store.ScopeFor(p.Grants, models.RoleAdministrator, models.RoleSysadmin).Empty() {
			return nil
		}
		n, err := notify.Center{DB: db}.Queued(ctx, notify.ChannelSMS)
		if err != nil {
			slog.WarnContext(ctx, "banners: queued SMS", "err", err)
			return nil
		}
		return []Banner{{Level: "warning", Code: "sms_gateway_missing", Data: map[string]any{"queued": n},
			Message: fmt.Sprintf("No SMS gateway is configured (REDRESS_SMS_WEBHOOK_URL): %d SMS to evaluators are queued, unsent.", n)}}
	}
}

// JoinBanners combines banner sources.
func JoinBanners(fs ...func(context.Context) []Banner) func(context.Context) []Banner {
	return func(ctx context.Context) []Banner {
		var out []Banner
		for _, f := range fs {
			if f != nil {
				out = append(out, f(ctx)...)
			}
		}
		return out
	}
}

type publishRequest struct {
	Unit  string `json:"unit"`
	Month string `json:"month"`
	Note  string `json:"note"`
}

func (s *Server) postPublication(c echo.Context) error {
	var req publishRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if len([]rune(req.Note)) > 500 {
		return apperr.Invalid("note", "too_long", "note is longer than 500 characters")
	}
	sum, err := s.publications.Publish(c.Request().Context(), caller(c), req.Unit, req.Month, req.Note, s.resultsNow())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, sum)
}

func (s *Server) listPublications(c echo.Context) error {
	vs, err := s.publications.Versions(c.Request().Context(), caller(c), c.QueryParam("month"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": vs})
}

func (s *Server) getPublication(c echo.Context) error {
	var v int
	if _, err := fmt.Sscanf(c.Param("version"), "%d", &v); err != nil || v < 1 {
		return apperr.NotFound("publication")
	}
	p, err := s.publications.Version(c.Request().Context(), caller(c), c.Param("unit"), c.Param("month"), v)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"month": p.Month, "version": p.Version, "published_by": p.PublishedBy,
		"published_at": p.PublishedAt, "note": p.Note, "figures": p.Figures.V})
}

// publicResults answers the latest published version of each jurisdiction for a month:
// counts and rates per unit, nothing personal.
func (s *Server) publicResults(c echo.Context) error {
	month := c.QueryParam("month")
	if month == "" {
		month = stats.Day(s.resultsNow().AddDate(0, -1, 0))[:7]
	}
	if _, err := stats.MonthPeriod(month); err != nil {
		return apperr.Invalid("month", "invalid_month", "month must be YYYY-MM")
	}
	code := c.QueryParam("jurisdiction")
	if len(code) > 64 {
		return apperr.Invalid("jurisdiction", "invalid_jurisdiction", "jurisdiction is a unit code")
	}
	ctx := c.Request().Context()
	stamp, err := s.publications.Stamp(ctx, month, code)
	if err != nil {
		return err
	}
	key := publicKey{month, code}
	a, ok := s.public.get(key, stamp)
	if !ok {
		out, err := s.publications.Latest(ctx, month, code)
		if err != nil {
			return err
		}
		if a.body, a.signature, err = s.signedBody(out); err != nil {
			return err
		}
		a.stamp = stamp
		s.public.put(key, a)
	}
	c.Response().Header().Set("Cache-Control", "public, max-age=300")
	return blobSigned(c, http.StatusOK, a.body, a.signature)
}
