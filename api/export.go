package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/xuri/excelize/v2"

	"redress/apperr"
	"redress/calendar"
	"redress/models"
	"redress/profiles"
	"redress/store"
	"redress/upstream"
)

// Exports of the work-order list for auditors, administrators and supervisors:
// GET /api/v1/exports/work-orders?format=csv|xlsx with the list's filters (state, unit,
// overdue, q), the caller's scope and the list's order, so that a file holds exactly what the
// screen shows, all pages of it. The columns carry no personal data (the evaluator is not
// exported). Headers and codes are in Chinese by default (lang=zh-CN), the people who open these
// files being Chinese administrations; lang=codes gives the API's codes instead, for machines.

// maxExportRows bounds one export; a larger one asks the caller to narrow the filters.
const maxExportRows = 50000

const exportPage = 500

func (s *Server) routesExport() {
	s.e.GET("/api/v1/exports/work-orders", s.exportWorkOrders)
}

var exportColumns = []struct{ code, zh string }{
	{"id", "工单号"}, {"state", "状态"}, {"unit_code", "责任单位编码"}, {"unit_name", "责任单位"},
	{"case_nos", "办件编号"}, {"overall", "总体评价"}, {"comment", "评价内容"}, {"channel_eval_id", "评价编号"},
	{"opened_at", "生成时间"}, {"disposition", "处置方式"}, {"supervision_level", "督办等级"},
	{"overdue_days", "超期天数"}, {"next_deadline", "当前时限"}, {"next_due_date", "截止日期"},
}

var exportLabels = map[string]string{
	"pending_dispatch": "待派单", "dispatched": "待签收", "returned": "已退单", "signed": "待回访",
	"called_back": "待核实处置", "rectifying": "整改中", "appealing": "申诉中", "reviewing": "待审核",
	"feedback": "待反馈", "closed": "已办结",
	"very_satisfied": "非常满意", "satisfied": "满意", "basically_satisfied": "基本满意",
	"dissatisfied": "不满意", "very_dissatisfied": "非常不满意",
	"rectify_now": "立行立改", "ledger": "建立台账、限期整改", "explain": "解释说明", "appeal": "申诉", "appeal_draft": "申诉待提交",
	"sign": "签收", "callback": "回访", "rectify": "整改", "appeal_decision": "申诉复核", "review": "审核", "feedback:dl": "反馈",
}

// supervisionWords name the supervision levels in a zh-CN export.
var supervisionWords = map[int]string{0: "无", 1: "督办", 2: "挂牌督办"}

// exportFilter reads the list's filters; the same validation as GET /work-orders.
func (s *Server) exportFilter(c echo.Context) (store.OrderFilter, error) {
	f := store.OrderFilter{State: c.QueryParam("state"), Q: c.QueryParam("q"), Now: time.Now().UTC()}
	if f.State != "" && !validState(f.State) {
		return f, apperr.Invalid("state", "invalid_state", "unknown state %q", f.State)
	}
	switch c.QueryParam("overdue") {
	case "", "false":
	case "true", "1":
		f.Overdue = true
	default:
		return f, apperr.Invalid("overdue", "invalid_overdue", "overdue must be true or false")
	}
	if len(f.Q) > 100 {
		return f, apperr.Invalid("q", "too_long", "q is longer than 100 characters")
	}
	// The inbox's other filters, so that an export is what the list shows.
	if err := listFilters(c, &f); err != nil {
		return f, err
	}
	var err error
	f.UnitPath, err = s.orderUnit(c)
	return f, err
}

func (s *Server) exportWorkOrders(c echo.Context) error {
	ctx := c.Request().Context()
	format := c.QueryParam("format")
	if format == "" {
		format = "csv"
	}
	if format != "csv" && format != "xlsx" {
		return apperr.Invalid("format", "invalid_format", "format must be csv or xlsx")
	}
	lang := c.QueryParam("lang")
	if lang != "" && lang != "zh-CN" && lang != "codes" {
		return apperr.Invalid("lang", "invalid_lang", "lang must be zh-CN or codes")
	}
	codes := lang == "codes"
	// profile=gb39046 (issue 21): one row a case in the national data items (表9) instead.
	var prof *profiles.Profile
	if name := c.QueryParam("profile"); name != "" {
		p, err := profiles.Get(name)
		if err != nil {
			return apperr.Invalid("profile", "unknown_profile", "unknown profile %q (known: %v)", name, profiles.Names())
		}
		prof = p
	}
	// table=11 (issue 21): the supervisions (督办) of the same orders as the profile's
	// supervision records (GB/T 39046-2020 表11 电子监察), one row a supervision; table=9 (or
	// none) the ratings.
	table := c.QueryParam("table")
	switch table {
	case "", "9":
	case "11":
		if prof == nil {
			return apperr.Invalid("table", "invalid_table", "table=11 needs a profile (e.g. profile=gb39046)")
		}
	default:
		return apperr.Invalid("table", "invalid_table", "table must be 9 or 11")
	}
	supervision := table == "11"
	f, err := s.exportFilter(c)
	if err != nil {
		return err
	}
	var rows [][]string
	var divisions map[string]string
	now := time.Now()
	for page := 1; ; page++ {
		f.Page, f.PageSize, f.CountCap = page, exportPage, maxExportRows
		list, total, err := s.orders.List(ctx, caller(c), f)
		if err != nil {
			return fmt.Errorf("export work orders: %w", err)
		}
		if total > maxExportRows {
			return apperr.Invalid("", "export_too_large", "%d work orders match; narrow the filters to at most %d", total, maxExportRows)
		}
		if prof != nil {
			if divisions == nil {
				if divisions, err = s.upstream.Divisions(ctx); err != nil {
					return err
				}
			}
			rowsOf := s.profileRows
			if supervision {
				rowsOf = s.supervisionRows
			}
			recs, err := rowsOf(ctx, caller(c), prof, list, divisions)
			if err != nil {
				return err
			}
			rows = append(rows, recs...)
		}
		for _, r := range list {
			if prof != nil {
				break
			}
			_, days := s.liveDeadlines(ctx, r, now)
			r.OverdueDays = days
			rows = append(rows, exportRow(r, codes))
		}
		if len(list) < exportPage {
			break
		}
	}
	header := make([]string, len(exportColumns))
	for i, col := range exportColumns {
		header[i] = col.zh
		if codes {
			header[i] = col.code
		}
	}
	if prof != nil {
		header = []string{"工单号"}
		fields := prof.Rating
		if supervision {
			fields = prof.Supervision
		}
		for _, fl := range fields {
			if !fl.InOnly {
				header = append(header, fl.Key)
			}
		}
	}
	name := "work-orders-" + time.Now().In(calendar.Zone()).Format("20060102-150405")
	var buf bytes.Buffer
	var ctype string
	if format == "csv" {
		ctype = "text/csv; charset=utf-8"
		// A byte-order mark makes spreadsheet programs read the UTF-8 Chinese correctly.
		buf.WriteString("\ufeff")
		w := csv.NewWriter(&buf)
		_ = w.Write(header)
		for _, r := range rows {
			_ = w.Write(csvSafe(r))
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return fmt.Errorf("export work orders: csv: %w", err)
		}
	} else {
		ctype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
		if err := writeXLSX(&buf, header, rows); err != nil {
			return fmt.Errorf("export work orders: xlsx: %w", err)
		}
	}
	c.Response().Header().Set("Content-Disposition", `attachment; filename="`+name+"."+format+`"`)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, ctype, buf.Bytes())
}

func exportRow(r store.OrderRow, codes bool) []string {
	lbl := func(v string) string {
		if codes || v == "" {
			return v
		}
		if l, ok := exportLabels[v]; ok {
			return l
		}
		return v
	}
	var next *models.Deadline
	for i := range r.Deadlines.V {
		d := &r.Deadlines.V[i]
		if d.MetAt == nil && !d.Paused && !d.Superseded && !d.DueAt.IsZero() && (next == nil || d.DueAt.Before(next.DueAt)) {
			next = d
		}
	}
	dlName, dlDate := "", ""
	if next != nil {
		dlName, dlDate = next.Name, next.DueDate
		if !codes {
			if l, ok := exportLabels[next.Name]; ok && next.Name != "feedback" {
				dlName = l
			} else if next.Name == "feedback" {
				dlName = exportLabels["feedback:dl"]
			}
		}
	}
	sep := ";"
	supervision := strconv.Itoa(r.SupervisionLevel)
	if !codes {
		sep = "、"
		// The words a reader of the sheet knows (无 / 督办 / 挂牌督办), not the API's 0-2.
		if w, ok := supervisionWords[r.SupervisionLevel]; ok {
			supervision = w
		}
	}
	return []string{
		r.ID, lbl(r.State), r.UnitCode, r.UnitName, strings.Join(r.CaseNos.V, sep), lbl(r.Overall), r.Comment,
		r.ClientEvalID, r.OpenedAt.In(calendar.Zone()).Format("2006-01-02 15:04:05"), lbl(r.Disposition),
		supervision, strconv.Itoa(r.OverdueDays), dlName, dlDate,
	}
}

// csvSafe defuses spreadsheet formulas in free text (a comment starting with "=" would run as
// a formula when the file is opened).
func csvSafe(row []string) []string {
	out := make([]string, len(row))
	for i, v := range row {
		if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
			v = "'" + v
		}
		out[i] = v
	}
	return out
}

func writeXLSX(buf *bytes.Buffer, header []string, rows [][]string) (err error) {
	f := excelize.NewFile()
	defer func() {
		// Close removes the workbook's temporary files; a failure is worth knowing.
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close the workbook: %w", cerr)
		}
	}()
	const sheet = "Sheet1"
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	_ = sw.SetColWidth(1, 1, 38)
	_ = sw.SetColWidth(2, len(header), 16)
	cells := func(vals []string, style int) []any {
		out := make([]any, len(vals))
		for i, v := range vals {
			// Strings are stored as text cells, never as formulas.
			out[i] = excelize.Cell{Value: v, StyleID: style}
		}
		return out
	}
	if err := sw.SetRow("A1", cells(header, bold)); err != nil {
		return err
	}
	for i, r := range rows {
		ref, err := excelize.CoordinatesToCellName(1, i+2)
		if err != nil {
			return err
		}
		if err := sw.SetRow(ref, cells(r, 0)); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	_, err = f.WriteTo(buf)
	return err
}

// profileRows are the orders of a page as the profile's rating records, one row a case, the
// columns in the profile's order after the order's id. The evaluator's name stays out (the
// export carries no identity), so 评价人 is empty.
func (s *Server) profileRows(ctx context.Context, who store.Caller, prof *profiles.Profile, list []store.OrderRow, divisions map[string]string) ([][]string, error) {
	second, err := s.exports.FollowUps(ctx, who, list)
	if err != nil {
		return nil, err
	}
	// The cases' kinds (migration 00024), for a profile with userProp / promiseTime columns.
	applicant, promise, err := s.exports.CaseKinds(ctx, list)
	if err != nil {
		return nil, err
	}
	var out [][]string
	for _, r := range list {
		count := 1
		if second[r.EvaluationID] {
			count = 2
		}
		for _, no := range r.CaseNos.V {
			rec := profiles.Record{"evaluation_id": r.ClientEvalID, "case_no": no, "channel": r.Channel, "level": r.Overall,
				"count": count, "comment": r.Comment, "division": upstream.DivisionOf(divisions, r.UnitPath), "unit_code": r.UnitCode,
				"unit_name": r.UnitName, "user_type": upstream.ApplicantTypeOf(applicant[no]), "promise": upstream.PromiseKindOf(promise[no])}
			if r.RatedAt != nil {
				rec["rated_at"] = *r.RatedAt
			}
			m, err := prof.Render(profiles.KindRating, rec)
			if err != nil {
				return nil, fmt.Errorf("export work orders: %s: %w", r.ID, err)
			}
			row := []string{r.ID}
			for _, fl := range prof.Rating {
				if !fl.InOnly {
					row = append(row, m[fl.Key])
				}
			}
			out = append(out, row)
		}
	}
	return out, nil
}

// supervisionRows are the supervisions (督办) of the orders of a page as the profile's
// supervision records (表11 under gb39046), one row a supervision in the order it was issued,
// the columns in the profile's order after the order's id: the same records the push sends
// (upstream.SupervisionRecord). Only the orders the caller may export are read, so another
// unit's supervision never shows.
func (s *Server) supervisionRows(ctx context.Context, who store.Caller, prof *profiles.Profile, list []store.OrderRow, _ map[string]string) ([][]string, error) {
	if len(list) == 0 {
		return nil, nil
	}
	byID := make(map[string]store.OrderRow, len(list))
	for _, r := range list {
		byID[r.ID] = r
	}
	evs, err := s.exports.Supervisions(ctx, who, list)
	if err != nil {
		return nil, err
	}
	out := make([][]string, 0, len(evs))
	for _, ev := range evs {
		r := byID[ev.WorkOrderID]
		rec, err := s.upstream.SupervisionRecord(ctx, ev.ID, ev.At, r.UnitPath, r.UnitName, ev.Data.V)
		if err != nil {
			return nil, fmt.Errorf("export supervisions: %s: %w", r.ID, err)
		}
		m, err := prof.Render(profiles.KindSupervision, rec)
		if err != nil {
			return nil, fmt.Errorf("export supervisions: %s: %w", r.ID, err)
		}
		row := []string{r.ID}
		for _, fl := range prof.Supervision {
			if !fl.InOnly {
				row = append(row, m[fl.Key])
			}
		}
		out = append(out, row)
	}
	return out, nil
}
