package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/calendar"
	"redress/calendar/calendardb"
	"redress/models"
	"redress/store"
)

type deadlineJSON struct {
	From            time.Time `json:"from"`
	Budget          string    `json:"budget"`
	Unit            string    `json:"unit"`
	DueDate         string    `json:"due_date"`
	DueAt           time.Time `json:"due_at"`
	CalendarVersion string    `json:"calendar_version"`
}

// calendarError turns an uncovered year into the API error an administrator must act on.
func calendarError(err error) error {
	var ync *calendar.YearNotCoveredError
	if errors.As(err, &ync) {
		return &apperr.Error{Status: http.StatusUnprocessableEntity, Code: "calendar_year_not_covered",
			Message: fmt.Sprintf("the working-day calendar does not cover %d: an administrator must import that year", ync.Year)}
	}
	return err
}

// parseFrom accepts an RFC 3339 instant or a date (the day of the event, in China time).
func parseFrom(v string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseInLocation(time.DateOnly, v, calendar.Zone()); err == nil {
		return d, nil
	}
	return time.Time{}, apperr.Invalid("from", "invalid_from", "from must be an RFC 3339 instant or a YYYY-MM-DD date")
}

// unitPathParam resolves the optional org_unit parameter (a unit code) whose local overrides
// apply; "" means the national calendar.
func (s *Server) unitPathParam(ctx context.Context, code string) (string, error) {
	if code == "" {
		return "", nil
	}
	u, err := s.units.Known(ctx, code)
	if errors.Is(err, store.ErrNotFound) {
		return "", apperr.Invalid("org_unit", "unknown_unit", "unit %q is not known", code)
	}
	return u.Path, err
}

// calendarDeadline answers GET /calendar/deadline?from=&budget=&unit=[&org_unit=].
func (s *Server) calendarDeadline(c echo.Context) error {
	ctx := c.Request().Context()
	from, err := parseFrom(c.QueryParam("from"))
	if err != nil {
		return err
	}
	unit, value := c.QueryParam("unit"), c.QueryParam("budget")
	b, err := calendar.ParseBudget(unit, value)
	if err != nil {
		return apperr.Invalid("budget", "invalid_budget", "budget must be a whole number of working_days, natural_days or hours (unit), or a Go duration for unit=duration")
	}
	path, err := s.unitPathParam(ctx, c.QueryParam("org_unit"))
	if err != nil {
		return err
	}
	cal, err := s.deps.Calendars.Calendar(ctx, path)
	if err != nil {
		return err
	}
	res, err := cal.Add(from, b)
	if err != nil {
		return calendarError(err)
	}
	return c.JSON(http.StatusOK, deadlineJSON{From: from, Budget: value, Unit: unit, DueDate: res.DueDate, DueAt: res.DueAt, CalendarVersion: res.CalendarVersion})
}

func (s *Server) calendarYears(c echo.Context) error {
	vs, err := s.calendarData.Versions(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, vs)
}

func (s *Server) calendarYear(c echo.Context) error {
	ctx := c.Request().Context()
	y, err := strconv.Atoi(c.Param("year"))
	if err != nil || y < 1900 || y > 2200 {
		return apperr.NotFound("calendar year")
	}
	path, err := s.unitPathParam(ctx, c.QueryParam("org_unit"))
	if err != nil {
		return err
	}
	v, err := s.calendarData.Year(ctx, y, path)
	if err != nil {
		if ce := calendarError(err); ce != err {
			return apperr.NotFound("calendar year")
		}
		return err
	}
	return c.JSON(http.StatusOK, v)
}

// importCalendarYear takes one year in the holiday-cn JSON format as the body.
func (s *Server) importCalendarYear(c echo.Context) error {
	if !calendardb.MayImport(caller(c)) {
		return apperr.Forbidden("forbidden", "only the province's administration or a system administrator imports the national calendar")
	}
	ct := c.Request().Header.Get(echo.HeaderContentType)
	if !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		return apperr.BadRequest("unsupported_content_type", "send the body as application/json")
	}
	res, err := s.calendarData.Import(c.Request().Context(), caller(c), c.Request().Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return &apperr.Error{Status: http.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "request body is too large"}
		}
		// Parse and validation errors describe the file, not the server.
		return apperr.Invalid("", "invalid_calendar", "%s", strings.TrimPrefix(err.Error(), "calendar: import "+calendardb.ImportSource(caller(c))+": "))
	}
	slog.InfoContext(c.Request().Context(), "calendar year imported", "year", res.Year, "version", res.Version, "changed", res.Changed, "by", principal(c).User.Login)
	return c.JSON(http.StatusOK, res)
}

type overrideRequest struct {
	Unit   string `json:"unit"`
	Date   string `json:"date"`
	OffDay *bool  `json:"off_day"`
	Reason string `json:"reason"`
}

// adminUnit resolves a unit the caller administers (404 for one outside their subtree).
func (s *Server) adminUnit(c echo.Context, code string, roles ...string) (models.Unit, error) {
	if code == "" {
		return models.Unit{}, apperr.Invalid("unit", "required", "unit is required")
	}
	u, err := s.units.Reachable(c.Request().Context(), caller(c), code, roles...)
	if errors.Is(err, store.ErrNotFound) {
		return u, apperr.Invalid("unit", "unknown_unit", "unit %q is not known", code)
	}
	return u, err
}

func (s *Server) listOverrides(c echo.Context) error {
	u, err := s.adminUnit(c, c.QueryParam("unit"), models.RoleAdministrator, models.RoleSupervisor, models.RoleAuditor, models.RoleSysadmin)
	if err != nil {
		return err
	}
	os, err := s.calendarData.Overrides(c.Request().Context(), caller(c), u.Path)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, os)
}

func (s *Server) setOverride(c echo.Context) error {
	var req overrideRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	u, err := s.adminUnit(c, req.Unit, models.RoleAdministrator, models.RoleSysadmin)
	if err != nil {
		return err
	}
	if _, err := time.Parse(time.DateOnly, req.Date); err != nil {
		return apperr.Invalid("date", "invalid_date", "date must be YYYY-MM-DD")
	}
	if req.OffDay == nil {
		return apperr.Invalid("off_day", "required", "off_day (true: a rest day, false: a working day) is required")
	}
	if strings.TrimSpace(req.Reason) == "" || len(req.Reason) > 500 {
		return apperr.Invalid("reason", "required", "a reason (up to 500 bytes) is required")
	}
	ch, err := s.calendarData.SetOverride(c.Request().Context(), caller(c), calendardb.OverrideInput{
		UnitPath: u.Path, Date: req.Date, OffDay: *req.OffDay, Reason: req.Reason,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ch)
}

func (s *Server) removeOverride(c echo.Context) error {
	u, err := s.adminUnit(c, c.QueryParam("unit"), models.RoleAdministrator, models.RoleSysadmin)
	if err != nil {
		return err
	}
	date := c.QueryParam("date")
	if _, err := time.Parse(time.DateOnly, date); err != nil {
		return apperr.Invalid("date", "invalid_date", "date must be YYYY-MM-DD")
	}
	ch, err := s.calendarData.RemoveOverride(c.Request().Context(), caller(c), u.Path, date)
	if errors.Is(err, calendar.ErrOverrideNotFound) {
		return apperr.NotFound("override")
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, ch)
}

// calendarAudience are the roles that import calendars: only they see the calendar banners.
var calendarAudience = []string{models.RoleAdministrator, models.RoleSysadmin}

// CalendarBanners reports uncovered calendar years: this year is an error, next year a
// warning from November on (the State Council's notice comes out in November or December).
func CalendarBanners(db *store.DB, now func() time.Time) func(context.Context) []Banner {
	return func(ctx context.Context) []Banner {
		vs, err := calendardb.ListVersions(ctx, db)
		if err != nil {
			slog.WarnContext(ctx, "banners: calendar", "err", err)
			return nil
		}
		have := map[int]bool{}
		for _, v := range vs {
			have[v.Year] = true
		}
		t := now().In(calendar.Zone())
		var out []Banner
		if y := t.Year(); !have[y] {
			out = append(out, Banner{Level: "error", Code: "calendar_year_missing", Data: map[string]any{"year": y}, Audience: calendarAudience,
				Message: fmt.Sprintf("The working-day calendar has no data for %d: deadlines cannot be computed until an administrator imports it.", y)})
		}
		if y := t.Year() + 1; !have[y] && t.Month() >= time.November {
			out = append(out, Banner{Level: "warning", Code: "calendar_next_year_missing", Data: map[string]any{"year": y}, Audience: calendarAudience,
				Message: fmt.Sprintf("The working-day calendar for %d is not imported yet: import it as soon as the State Council publishes the notice.", y)})
		}
		return out
	}
}
