package apitest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"redress/api"
	"redress/calendar"
	"redress/calendar/calendardb"
	"redress/intake"
	"redress/models"
	"redress/store"
	"redress/store/storetest"
	"redress/worker"
	"redress/workflows"
)

// officialCalendar reads the State Council calendars of ../shared/calendar/holiday-cn:
// the days listed are rest days (isOffDay) or adjusted working days; others follow the week.
func officialCalendar(t *testing.T) map[string]bool {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	var src string
	for d := dir; d != filepath.Dir(d); d = filepath.Dir(d) {
		if c := filepath.Join(filepath.Dir(d), "shared", "calendar", "holiday-cn"); fileExists(c) {
			src = c
			break
		}
	}
	if src == "" {
		t.Fatalf("../shared/calendar/holiday-cn not found above %s", dir)
	}
	listed := map[string]bool{}
	for y := 2019; y <= 2026; y++ {
		b, err := os.ReadFile(filepath.Join(src, fmt.Sprintf("%d.json", y)))
		if err != nil {
			t.Fatal(err)
		}
		var f struct {
			Days []struct {
				Date     string `json:"date"`
				IsOffDay bool   `json:"isOffDay"`
			} `json:"days"`
		}
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Days {
			listed[d.Date] = !d.IsOffDay
		}
	}
	working := map[string]bool{}
	for d := time.Date(2018, 12, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2027; d = d.AddDate(0, 0, 1) {
		k := d.Format(time.DateOnly)
		w, ok := listed[k]
		if !ok {
			w = d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
		}
		working[k] = w
	}
	return working
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// Every day 2019–2026, one working day after it ends on the next official working day (and
// three working days on the third), at 24:00 China time; past the end of 2026, which the
// calendar does not cover, the answer is the error an administrator must act on.
func TestDeadlineEndpointAgreesWithOfficialCalendars(t *testing.T) {
	working := officialCalendar(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		next := func(d time.Time, n int) (time.Time, bool) {
			for n > 0 {
				d = d.AddDate(0, 0, 1)
				w, ok := working[d.Format(time.DateOnly)]
				if !ok {
					return d, false
				}
				if w {
					n--
				}
			}
			return d, true
		}
		checked := 0
		for d := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() < 2027; d = d.AddDate(0, 0, 1) {
			day := d.Format(time.DateOnly)
			for _, n := range []int{1, 3} {
				r := e.do(t, request{method: "GET", login: "ft-officer",
					path: fmt.Sprintf("/api/v1/calendar/deadline?from=%sT23:30:00%%2B08:00&budget=%d&unit=working_days", day, n)})
				due, covered := next(d, n)
				if !covered {
					wantError(t, r, http.StatusUnprocessableEntity, "calendar_year_not_covered", "")
					continue
				}
				wantStatus(t, r, http.StatusOK)
				var got struct {
					DueDate         string    `json:"due_date"`
					DueAt           time.Time `json:"due_at"`
					CalendarVersion string    `json:"calendar_version"`
				}
				r.decode(t, &got)
				wantAt := time.Date(due.Year(), due.Month(), due.Day()+1, 0, 0, 0, 0, calendar.Zone())
				if got.DueDate != due.Format(time.DateOnly) || !got.DueAt.Equal(wantAt) || !strings.HasPrefix(got.CalendarVersion, "cn-") {
					t.Fatalf("from %s + %d working days: got %+v, want %s (%s)", day, n, got, due.Format(time.DateOnly), wantAt)
				}
				checked++
			}
		}
		if checked < 2*2900 {
			t.Fatalf("only %d days checked", checked)
		}
		for _, q := range []string{"from=nope&budget=1&unit=working_days", "from=2026-01-01&budget=x&unit=working_days",
			"from=2026-01-01&budget=1&unit=weeks", "from=2026-01-01&budget=1&unit=working_days&org_unit=nowhere"} {
			r := e.do(t, request{method: "GET", login: "ft-officer", path: "/api/v1/calendar/deadline?" + q})
			if r.status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %s", q, r)
			}
		}
		r := e.do(t, request{method: "GET", path: "/api/v1/calendar/deadline?from=2026-01-01&budget=1&unit=working_days"})
		wantError(t, r, http.StatusUnauthorized, "unauthorized", "")
	})
}

func TestCalendarAdministration(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		override := map[string]any{"unit": "sz", "date": "2026-12-02", "off_day": true, "reason": "深圳市防台风停工"}

		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/calendar/overrides", login: "ft-officer", body: override}), http.StatusForbidden, "forbidden", "")
		above := map[string]any{"unit": "gd", "date": "2026-12-02", "off_day": true, "reason": "x"}
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/calendar/overrides", login: "sz-admin", body: above}), http.StatusUnprocessableEntity, "unknown_unit", "unit")
		wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/calendar/overrides", login: "sz-admin", body: override}), http.StatusOK)

		// The district below sees the override; the national calendar and another province do not.
		day := func(q string) calendar.Day {
			r := e.do(t, request{method: "GET", path: "/api/v1/calendar/years/2026" + q, login: "ft-officer"})
			wantStatus(t, r, http.StatusOK)
			var v calendar.YearView
			r.decode(t, &v)
			for _, d := range v.Days {
				if d.Date == "2026-12-02" {
					return d
				}
			}
			t.Fatalf("no 2026-12-02 in %s", q)
			return calendar.Day{}
		}
		if d := day("?org_unit=sz-ft-tax"); !d.OffDay {
			t.Errorf("override not applied to the subtree: %+v", d)
		}
		if d := day(""); d.OffDay {
			t.Errorf("override leaked into the national calendar: %+v", d)
		}
		r := e.do(t, request{method: "GET", login: "ft-officer",
			path: "/api/v1/calendar/deadline?from=2026-12-01T10:00:00%2B08:00&budget=1&unit=working_days&org_unit=sz-ft-tax"})
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(string(r.body), `"due_date":"2026-12-03"`) || !strings.Contains(string(r.body), "+sz.1") {
			t.Errorf("deadline with the override: %s", r.body)
		}
		wantStatus(t, e.do(t, request{method: "DELETE", path: "/api/v1/calendar/overrides?unit=sz&date=2026-12-02", login: "sz-admin"}), http.StatusOK)
		wantError(t, e.do(t, request{method: "DELETE", path: "/api/v1/calendar/overrides?unit=sz&date=2026-12-02", login: "sz-admin"}), http.StatusNotFound, "not_found", "")

		// National years: the province's administration imports, a city's cannot.
		y2027 := `{"year":2027,"papers":["国办发明电〔2026〕X号"],"days":[{"name":"元旦","date":"2027-01-01","isOffDay":true}]}`
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/calendar/years", login: "sz-admin", body: y2027}), http.StatusForbidden, "forbidden", "")
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/calendar/years", login: "gd-admin", body: `{"year":2027,"days":[]}`}), http.StatusUnprocessableEntity, "invalid_calendar", "")
		r = e.do(t, request{method: "POST", path: "/api/v1/calendar/years", login: "gd-admin", body: y2027})
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(string(r.body), `"changed":true`) {
			t.Errorf("import: %s", r.body)
		}
		r = e.do(t, request{method: "GET", login: "ft-officer", path: "/api/v1/calendar/deadline?from=2026-12-31&budget=1&unit=working_days"})
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(string(r.body), `"due_date":"2027-01-04"`) {
			t.Errorf("deadline into the imported year: %s", r.body)
		}
	})
}

// A banner tells every signed-in user when the calendar lacks this year or (from November)
// the next one.
func TestCalendarBanners(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	ctx := context.Background()
	if _, err := calendardb.EnsureShipped(ctx, db); err != nil {
		t.Fatal(err)
	}
	at := func(s string) func() time.Time {
		return func() time.Time { tm, _ := time.Parse(time.RFC3339, s); return tm }
	}
	codes := func(now func() time.Time) string {
		var out []string
		for _, b := range api.CalendarBanners(db, now)(ctx) {
			out = append(out, b.Level+":"+b.Code)
		}
		return strings.Join(out, ",")
	}
	for now, want := range map[string]string{
		"2026-06-01T00:00:00Z": "",
		"2026-11-23T00:00:00Z": "warning:calendar_next_year_missing",
		"2027-01-05T00:00:00Z": "error:calendar_year_missing",
	} {
		if got := codes(at(now)); got != want {
			t.Errorf("%s: banners %q, want %q", now, got, want)
		}
	}
}

// The calendar banners reach only those who import calendars (administrators, system
// administrators): officers, supervisors and auditors cannot act on them. Each banner carries
// the year in data, so that the UI can word it in Chinese.
func TestCalendarBannersOnlyForThoseWhoCanAct(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	jan := func() time.Time { return time.Date(2027, 1, 5, 9, 0, 0, 0, calendar.Zone()) }
	e := newEnv(t, db, envOptions{now: jan})
	for login, want := range map[string]string{
		"sz-admin":      "calendar_year_missing:2027",
		"ft-officer":    "",
		"sz-supervisor": "",
		"sz-auditor":    "",
	} {
		r := e.do(t, request{method: "GET", path: "/api/v1/system/banners", login: login})
		if r.status != http.StatusOK {
			t.Fatalf("%s: %s", login, r)
		}
		var bs []struct {
			Code string         `json:"code"`
			Data map[string]any `json:"data"`
		}
		r.decode(t, &bs)
		var got []string
		for _, b := range bs {
			got = append(got, fmt.Sprintf("%s:%v", b.Code, b.Data["year"]))
		}
		if g := strings.Join(got, ","); g != want {
			t.Errorf("%s sees banners %q, want %q", login, g, want)
		}
	}
}

// When an administrator changes the calendar, open work orders move their deadlines, and
// their timelines say what moved and why.
func TestCalendarChangeRecomputesOpenOrders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		from := calendarStampOf(t, db)
		// Two workers notice the change: one fan-out signals each order once (issue 16).
		go worker.WatchCalendar(ctx, e.starter, e.queue, 100*time.Millisecond)
		go worker.WatchCalendar(ctx, e.starter, e.queue, 100*time.Millisecond)

		_, id := e.badOrder(t, "sz-ft-tax", "S0001")
		var before models.Deadline
		eventually(t, 15*time.Second, func() (bool, string) {
			for _, d := range e.order(t, id).Deadlines.V {
				if d.Name == "callback" && d.DueDate != "" {
					before = d
					return true, ""
				}
			}
			return false, "no callback deadline yet"
		})
		// Make the first day counted towards the callback a rest day for 深圳.
		first := time.Now().In(calendar.Zone()).AddDate(0, 0, 1)
		cal, err := calendardb.Load(ctx, db, "/gd/sz/sz-ft/sz-ft-tax/")
		if err != nil {
			t.Fatal(err)
		}
		for {
			w, err := cal.IsWorkingDay(first.Format(time.DateOnly))
			if err != nil {
				t.Fatal(err)
			}
			if w {
				break
			}
			first = first.AddDate(0, 0, 1)
		}
		r := e.do(t, request{method: "POST", path: "/api/v1/calendar/overrides", login: "sz-admin",
			body: map[string]any{"unit": "sz", "date": first.Format(time.DateOnly), "off_day": true, "reason": "停工"}})
		wantStatus(t, r, http.StatusOK)

		var moved eventView
		eventually(t, 15*time.Second, func() (bool, string) {
			for _, ev := range e.timeline(t, "ft-officer", id) {
				if ev.Type == "deadlines_recomputed" {
					moved = ev
					return true, ""
				}
			}
			return false, "no deadlines_recomputed event"
		})
		var after models.Deadline
		for _, d := range e.order(t, id).Deadlines.V {
			if d.Name == "callback" {
				after = d
			}
		}
		if !after.DueAt.After(before.DueAt) || !strings.Contains(after.CalendarVersion, "+sz.1") {
			t.Errorf("callback deadline did not move: before %+v after %+v", before, after)
		}
		if !strings.Contains(fmt.Sprint(moved.Data), "calendar changed") || !strings.Contains(fmt.Sprint(moved.Data["moved"]), "callback") {
			t.Errorf("event data: %v", moved.Data)
		}
		// The fan-out has finished: the order was signalled exactly once, by it.
		eventually(t, 15*time.Second, func() (bool, string) {
			d, err := temporalClient.DescribeWorkflowExecution(ctx, workflows.FanOutID(e.queue, from, calendarStampOf(t, db)), "")
			if err != nil {
				return false, err.Error()
			}
			st := d.WorkflowExecutionInfo.Status
			return st == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, fmt.Sprintf("fan-out %v", st)
		})
		if n := signalsOf(t, intake.WorkflowID(id), workflows.RecomputeSignal); n != 1 {
			t.Errorf("the order was signalled %d times, want once", n)
		}
	})
}

func calendarStampOf(t *testing.T, db *store.DB) string {
	t.Helper()
	s, err := calendardb.Stamp(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// signalsOf counts the signals of a name in a workflow's history (all its runs' latest).
func signalsOf(t *testing.T, workflowID, name string) int {
	t.Helper()
	it := temporalClient.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := ev.GetWorkflowExecutionSignaledEventAttributes(); a != nil && a.SignalName == name {
			n++
		}
	}
	return n
}

// An override changes the calendar of its scope only: the fan-out it starts signals the open
// orders of units within that scope, not every open order (issue 16). A national year would
// concern every order; an override for 福田区 concerns 福田区税务局's order and not 南山区税务局's.
func TestCalendarOverrideRecomputesOnlyItsScope(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		from := calendarStampOf(t, db)
		go worker.WatchCalendar(ctx, e.starter, e.queue, 100*time.Millisecond)

		_, inside := e.badOrder(t, "sz-ft-tax", "S0001")
		_, outside := e.badOrder(t, "sz-ns-tax", "S0018")
		for _, id := range []string{inside, outside} {
			eventually(t, 15*time.Second, func() (bool, string) {
				for _, d := range e.order(t, id).Deadlines.V {
					if d.Name == "callback" && d.DueDate != "" {
						return true, ""
					}
				}
				return false, "no callback deadline yet on " + id
			})
		}
		r := e.do(t, request{method: "POST", path: "/api/v1/calendar/overrides", login: "sz-admin",
			body: map[string]any{"unit": "sz-ft", "date": time.Now().In(calendar.Zone()).AddDate(0, 0, 3).Format(time.DateOnly), "off_day": true, "reason": "停工"}})
		wantStatus(t, r, http.StatusOK)
		to := calendarStampOf(t, db)
		if to == from {
			t.Fatalf("the override did not change the calendar's stamp %s", from)
		}
		eventually(t, 15*time.Second, func() (bool, string) {
			d, err := temporalClient.DescribeWorkflowExecution(ctx, workflows.FanOutID(e.queue, from, to), "")
			if err != nil {
				return false, err.Error()
			}
			st := d.WorkflowExecutionInfo.Status
			return st == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, fmt.Sprintf("fan-out %v", st)
		})
		for id, want := range map[string]int{inside: 1, outside: 0} {
			if n := signalsOf(t, intake.WorkflowID(id), workflows.RecomputeSignal); n != want {
				t.Errorf("order %s (%s) was signalled %d times, want %d", id, e.order(t, id).UnitPath, n, want)
			}
		}
	})
}
