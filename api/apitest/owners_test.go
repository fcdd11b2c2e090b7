package apitest

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"redress/calendar/calendardb"
	"redress/models"
	"redress/stats"
	"redress/store"
	"redress/store/storetest"
)

// Issue 15 part C over HTTP, on SQLite and PostgreSQL: overdue days are live and the same on
// the order page, the list (the supervisor's overdue board) and the export; each deadline
// says who answers for it; the administration's delay is not the unit's in the statistics.

type ownedDeadline struct {
	Name        string  `json:"name"`
	DueDate     *string `json:"due_date"`
	Status      string  `json:"status"`
	Superseded  bool    `json:"superseded"`
	Overdue     bool    `json:"overdue"`
	OverdueDays int     `json:"overdue_days"`
	Owner       *struct {
		Kind, Code, Path string
	} `json:"owner"`
}

type overdueView struct {
	ID          string          `json:"id"`
	OverdueDays int             `json:"overdue_days"`
	Deadlines   []ownedDeadline `json:"deadlines"`
}

func (e *env) waitEvent(t *testing.T, id, typ, deadline string) {
	t.Helper()
	eventually(t, 20*time.Second, func() (bool, string) {
		evs := e.timeline(t, "sz-auditor", id)
		for _, ev := range evs {
			if ev.Type == typ && (deadline == "" || ev.Data["deadline"] == deadline) {
				return true, ""
			}
		}
		return false, fmt.Sprintf("no %s %s in %v", typ, deadline, types(evs))
	})
}

// An order past its sign deadline that nobody touches shows at least one overdue day, the same
// number on the order page, the supervisor's overdue list and the export.
func TestOverdueDaysAreLive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		oneSec := "1s"
		setPolicy(t, db, "sz-ft-tax", models.PolicyDoc{Deadlines: map[string]models.Budget{"sign": {Duration: &oneSec}}})
		_, id := e.badOrder(t, "sz-ft-tax", "S0001")
		e.waitState(t, id, models.StateDispatched)
		e.waitEvent(t, id, "deadline_breached", "sign")

		var page overdueView
		e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + id, login: "sz-supervisor"}).decode(t, &page)
		if page.OverdueDays < 1 {
			t.Errorf("order page: overdue_days %d for an unsigned order past its deadline", page.OverdueDays)
		}
		var sign *ownedDeadline
		for i := range page.Deadlines {
			if page.Deadlines[i].Name == "sign" && !page.Deadlines[i].Superseded {
				sign = &page.Deadlines[i]
			}
		}
		if sign == nil || sign.Owner == nil || sign.Owner.Kind != models.OwnerUnit || sign.Owner.Code != "sz-ft-tax" ||
			sign.Status != models.DeadlineRunning || !sign.Overdue || sign.OverdueDays != page.OverdueDays {
			t.Errorf("sign deadline on the order page: %+v", sign)
		}

		var board struct{ Items []overdueView }
		e.do(t, request{method: "GET", path: "/api/v1/work-orders?overdue=true", login: "sz-supervisor"}).decode(t, &board)
		found := false
		for _, o := range board.Items {
			if o.ID == id {
				found = true
				if o.OverdueDays != page.OverdueDays {
					t.Errorf("overdue board: %d days, order page: %d", o.OverdueDays, page.OverdueDays)
				}
			}
		}
		if !found {
			t.Errorf("the order is not on the overdue board")
		}

		r := e.do(t, request{method: "GET", path: "/api/v1/exports/work-orders?format=csv&lang=codes", login: "sz-admin"})
		wantStatus(t, r, http.StatusOK)
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(r.body), "\ufeff"))).ReadAll()
		if err != nil || len(recs) < 2 {
			t.Fatalf("export: %v %q", err, r.body)
		}
		col := -1
		for i, h := range recs[0] {
			if h == "overdue_days" {
				col = i
			}
		}
		got := ""
		for _, rec := range recs[1:] {
			if rec[0] == id && col >= 0 {
				got = rec[col]
			}
		}
		if got != strconv.Itoa(page.OverdueDays) {
			t.Errorf("export: overdue_days %q, order page %d (header %v)", got, page.OverdueDays, recs[0])
		}
	})
}

// The administration's review breached: the unit's statistics count no overdue order and no
// supervision; its administration's (the Futian district's) do.
func TestAdministrationDelayNotChargedToUnit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		twoSec := "2s"
		setPolicy(t, db, "sz-ft-tax", models.PolicyDoc{Deadlines: map[string]models.Budget{"review": {Duration: &twoSec}}})
		_, id := e.badOrder(t, "sz-ft-tax", "S0001")
		e.waitState(t, id, models.StateDispatched)
		e.ok(t, "ft-officer", id, "signed", map[string]any{"action": "sign"})
		e.ok(t, "ft-officer", id, "called_back", map[string]any{"action": "callback", "reached": true, "method": "phone", "note": "已听取意见"})
		e.ok(t, "ft-officer", id, "reviewing", map[string]any{"action": "dispose", "true": true, "reasonable": true, "disposition": "rectify_now", "measures": "当场整改"})
		e.waitEvent(t, id, "supervision", "review")

		var page overdueView
		e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + id, login: "sz-admin"}).decode(t, &page)
		for _, d := range page.Deadlines {
			if d.Name == "review" && (d.Owner == nil || d.Owner.Kind != models.OwnerAdministration || d.Owner.Code != "sz-ft") {
				t.Errorf("review deadline owner: %+v", d)
			}
		}
		if _, err := (&stats.Roller{DB: db, Calendars: calendardb.NewCache(db, 0)}).Pass(context.Background()); err != nil {
			t.Fatal(err)
		}
		var view struct {
			Units []stats.UnitFigures `json:"units"`
		}
		r := e.do(t, request{method: "GET", path: "/api/v1/stats/units", login: "sz-admin"})
		wantStatus(t, r, http.StatusOK)
		r.decode(t, &view)
		by := map[string]stats.Orders{}
		for _, u := range view.Units {
			by[u.Code] = u.Orders
		}
		if o := by["sz-ft-tax"]; o.Orders != 1 || o.Overdue != 0 || o.Supervised != 0 {
			t.Errorf("the unit's figures count the administration's delay: %+v", o)
		}
		// sz-ft-tax's administration is the Futian district's (sz-ft).
		if o := by["sz-ft"]; o.Overdue != 1 || o.Supervised != 1 {
			t.Errorf("the administration's figures: %+v", o)
		}
	})
}
