package api

import (
	"encoding/csv"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/models"
	"redress/store"
)

// actingUnitKey holds, in the request context, the unit path of the grant that let the
// request through the route policy.
const actingUnitKey = "acting_unit"

// auditUnitAndAction names the acting unit and the action of an audited request. The unit is
// the one whose grant allowed the request, else the caller's first unit (a refused request,
// or one any signed-in user may make), else none (anonymous).
func auditUnitAndAction(c echo.Context) (unitPath, action string) {
	if u, ok := c.Get(actingUnitKey).(string); ok {
		unitPath = u
	} else if p := principal(c); p != nil && len(p.Grants) > 0 {
		unitPath = p.Grants[0].UnitPath
	}
	if a, ok := c.Get("action").(string); ok && a != "" {
		action = a
	} else {
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		action = c.Request().Method + " " + route
	}
	return unitPath, action
}

func (s *Server) routesAudit() {
	v1 := s.e.Group("/api/v1")
	v1.GET("/audit-log", s.listAuditLog)
	v1.GET("/audit-log/export", s.exportAuditLog)
}

// auditFilter reads the audit log's filters (the caller's scope is the repository's).
func auditFilter(c echo.Context) (store.AuditFilter, error) {
	var f store.AuditFilter
	for _, p := range []struct {
		param string
		t     **time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		v := c.QueryParam(p.param)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return f, apperr.Invalid(p.param, "invalid_"+p.param, "%s must be an RFC 3339 time", p.param)
		}
		*p.t = &t
	}
	f.Login, f.Action = c.QueryParam("login"), c.QueryParam("action")
	if v := c.QueryParam("outcome"); v != "" {
		switch v {
		case "ok", "refused", "rejected", "failed":
		default:
			return f, apperr.Invalid("outcome", "invalid_outcome", "outcome must be ok, refused, rejected or failed")
		}
		f.Outcome = v
	}
	return f, nil
}

type auditEntryJSON struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	RequestID string    `json:"request_id"`
	Login     string    `json:"login"`
	Roles     string    `json:"roles"`
	UnitPath  string    `json:"unit_path"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Action    string    `json:"action"`
	Target    string    `json:"target"`
	Status    int       `json:"status"`
	Outcome   string    `json:"outcome"`
}

func toAuditJSON(e models.AuditEntry) auditEntryJSON {
	return auditEntryJSON{ID: e.ID, At: e.At.UTC(), RequestID: e.RequestID, Login: e.Login, Roles: e.Roles,
		UnitPath: e.UnitPath, Method: e.Method, Path: e.Path, Action: e.Action, Target: e.Target,
		Status: e.Status, Outcome: e.Outcome}
}

type auditList struct {
	Items    []auditEntryJSON `json:"items"`
	Total    int64            `json:"total"`
	Page     int              `json:"page"`
	PageSize int              `json:"page_size"`
}

// listAuditLog answers the audit log in the caller's scope, newest first, paged.
func (s *Server) listAuditLog(c echo.Context) error {
	page, size, err := pageParams(c, 50, 500)
	if err != nil {
		return err
	}
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	rows, total, err := s.audit.List(c.Request().Context(), caller(c), f, page, size)
	if err != nil {
		return err
	}
	out := auditList{Items: make([]auditEntryJSON, 0, len(rows)), Total: total, Page: page, PageSize: size}
	for _, r := range rows {
		out.Items = append(out.Items, toAuditJSON(r))
	}
	return c.JSON(http.StatusOK, out)
}

var auditCSVHeader = []string{"id", "at", "request_id", "login", "roles", "unit_path", "method", "path", "action", "target", "status", "outcome"}

// exportAuditLog streams the audit log in the caller's scope as CSV, oldest first, row by
// row from the database cursor, so that a large export never sits in memory.
func (s *Server) exportAuditLog(c echo.Context) error {
	f, err := auditFilter(c)
	if err != nil {
		return err
	}
	rows, err := s.audit.Oldest(c.Request().Context(), caller(c), f)
	if err != nil {
		return err
	}
	defer rows.Close() //nolint:errcheck // read-only rows: rows.Err() after the loop reports a failed read; Close only frees the connection
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.Header().Set(echo.HeaderContentDisposition, `attachment; filename="audit-log.csv"`)
	res.WriteHeader(http.StatusOK)
	w := csv.NewWriter(res)
	if err := w.Write(auditCSVHeader); err != nil {
		return nil // the client went away; nothing more to say
	}
	n := 0
	for rows.Next() {
		e, err := rows.Entry()
		if err != nil {
			return err
		}
		rec := []string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), e.RequestID, e.Login, e.Roles,
			e.UnitPath, e.Method, e.Path, e.Action, e.Target, strconv.Itoa(e.Status), e.Outcome}
		for i := range rec {
			rec[i] = auditCSVField(rec[i])
		}
		if err := w.Write(rec); err != nil {
			return nil
		}
		if n++; n%500 == 0 {
			w.Flush()
			res.Flush()
		}
	}
	w.Flush()
	if err := rows.Err(); err != nil {
		// The header is sent: the truncated file is all the client gets; log why.
		slog.ErrorContext(c.Request().Context(), "audit export truncated", "request_id", requestID(c), "err", err)
	}
	return nil
}

// auditCSVField defuses values a spreadsheet would run as a formula (a target is client-chosen).
func auditCSVField(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
