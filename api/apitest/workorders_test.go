package apitest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// TestInboxScoping: a bad rating of a sz-ft-tax case reaches that unit's inbox and the
// jurisdiction's, never another unit's; identity is masked everywhere; the list's filters
// and bounds.
func TestInboxScoping(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		caseNo, id := e.badOrder(t, "sz-ft-tax", "S0001")

		var inbox listView
		eventually(t, 10*time.Second, func() (bool, string) {
			inbox = e.list(t, "ft-officer", "")
			return slices.Contains(ids(inbox), id), "ft-officer's inbox " + strings.Join(ids(inbox), ",")
		})
		if inbox.Total != 1 || len(inbox.Items) != 1 || inbox.Page != 1 || inbox.PageSize != 20 {
			t.Errorf("ft-officer's inbox %+v", inbox)
		}
		o := inbox.Items[0]
		if o.State != models.StateDispatched || o.Unit == nil || o.Unit.Code != "sz-ft-tax" || len(o.CaseNos) != 1 || o.CaseNos[0] != caseNo {
			t.Errorf("inbox item %+v", o)
		}

		t.Run("another unit sees nothing", func(t *testing.T) {
			l := e.list(t, "ns-officer", "")
			if len(l.Items) != 0 || l.Total != 0 {
				t.Errorf("ns-officer's inbox %+v", l)
			}
			before := e.timeline(t, "ft-officer", id)
			wantError(t, e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + id, login: "ns-officer"}), http.StatusNotFound, "not_found", "")
			wantError(t, e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + id + "/timeline", login: "ns-officer"}), http.StatusNotFound, "not_found", "")
			for _, action := range []map[string]any{{"action": "sign"}, {"action": "return", "reason": "不是我们的"}} {
				r := e.do(t, request{method: "POST", path: "/api/v1/work-orders/" + id + "/actions", login: "ns-officer", body: action})
				wantError(t, r, http.StatusNotFound, "not_found", "")
			}
			if after := e.timeline(t, "ft-officer", id); len(after) != len(before) {
				t.Errorf("timeline grew from %d to %d events after refused actions", len(before), len(after))
			}
			if wo := e.order(t, id); wo.State != models.StateDispatched {
				t.Errorf("state %q after refused actions", wo.State)
			}
		})

		t.Run("the jurisdiction sees it", func(t *testing.T) {
			for _, login := range []string{"ft-officer", "ft-leader", "sz-admin", "sz-supervisor", "sz-auditor", "gd-admin"} {
				if l := e.list(t, login, ""); !slices.Contains(ids(l), id) {
					t.Errorf("%s does not see the order: %v", login, ids(l))
				}
				r := e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + id, login: login})
				wantStatus(t, r, http.StatusOK)
				var got orderView
				r.decode(t, &got)
				if got.ID != id || got.State != models.StateDispatched {
					t.Errorf("%s got %s", login, r)
				}
			}
		})

		t.Run("identity is masked", func(t *testing.T) {
			for _, login := range []string{"ft-officer", "sz-admin", "sz-auditor"} {
				r := e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + id, login: login})
				wantStatus(t, r, http.StatusOK)
				var got orderView
				r.decode(t, &got)
				if got.Evaluator == nil || got.Evaluator.Name != "张*" || got.Evaluator.Phone != "138****1234" {
					t.Errorf("%s sees evaluator %+v", login, got.Evaluator)
				}
				bodies := []response{r,
					e.do(t, request{method: "GET", path: "/api/v1/work-orders", login: login}),
					e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + id + "/timeline", login: login}),
				}
				for _, b := range bodies {
					for _, secret := range []string{evaluatorPhone, evaluatorID, evaluatorName, "13900001111"} {
						if strings.Contains(string(b.body), secret) {
							t.Errorf("%s: an answer contains %q: %s", login, secret, b.body)
						}
					}
				}
			}
		})

		t.Run("filters", func(t *testing.T) {
			_, id2 := e.badOrder(t, "sz-ft-tax", "S0002")
			e.waitState(t, id2, models.StateDispatched)
			q := url.QueryEscape
			// The date filters select by the day the orders were opened (Asia/Shanghai), read from
			// the orders themselves: a run across midnight opens them on a day that is no longer
			// today, and the two may even open on either side of it.
			zone, _ := time.LoadLocation("Asia/Shanghai")
			var opened []time.Time
			if err := e.db.Model(&models.WorkOrder{}).Where("id IN ?", []string{id, id2}).Order("opened_at").Pluck("opened_at", &opened).Error; err != nil || len(opened) != 2 {
				t.Fatalf("opening times of the two orders: %v (%d found)", err, len(opened))
			}
			first, last := opened[0].In(zone), opened[1].In(zone)
			fromDay, toDay := first.Format(time.DateOnly), last.Format(time.DateOnly)
			yesterday, tomorrow := first.AddDate(0, 0, -1).Format(time.DateOnly), last.AddDate(0, 0, 1).Format(time.DateOnly)
			cases := []struct {
				query string
				want  []string
			}{
				{"?state=dispatched", []string{id, id2}},
				{"?state=signed", nil},
				{"?state=pending_dispatch", nil},
				{"?overdue=true", nil},
				{"?overdue=false", []string{id, id2}},
				{"?q=" + q(caseNo), []string{id}},
				{"?q=" + q(id2[:13]), []string{id2}},
				{"?q=" + q("排队两个"), []string{id, id2}},
				{"?q=" + q("nothing-like-this"), nil},
				{"?q=" + q("%"), nil},
				{"?q=" + q("_"), nil},
				{"?unit=sz-ft-tax", []string{id, id2}},
				{"?unit=sz-ft-tax&state=dispatched&q=" + q(caseNo), []string{id}},
				{"?page_size=100", []string{id, id2}},
				// A day's work (issue 18): level, staff, channel, supervision, dates, sort.
				{"?level=very_dissatisfied", []string{id, id2}},
				{"?level=satisfied", nil},
				{"?staff=S0002", []string{id2}},
				{"?staff=S0003", nil},
				{"?channel=mobile", []string{id, id2}},
				{"?channel=hotline", nil},
				{"?supervision=0", []string{id, id2}},
				{"?supervision=1", nil},
				{"?from=" + fromDay + "&to=" + toDay, []string{id, id2}},
				{"?to=" + yesterday, nil},
				{"?from=" + tomorrow, nil},
				{"?due_before=" + q(time.Now().AddDate(0, 1, 0).Format(time.RFC3339)), []string{id, id2}},
				{"?due_before=" + q(time.Now().Add(-time.Hour).Format(time.RFC3339)), nil},
				{"?pending_extension=true", nil},
				{"?sort=-opened&staff=S0002", []string{id2}},
			}
			for _, c := range cases {
				l := e.list(t, "ft-officer", c.query)
				got := ids(l)
				if len(got) != len(c.want) || int(l.Total) != len(c.want) {
					t.Errorf("%s: got %v (total %d), want %v", c.query, got, l.Total, c.want)
					continue
				}
				for _, w := range c.want {
					if !slices.Contains(got, w) {
						t.Errorf("%s: got %v, want %v", c.query, got, c.want)
					}
				}
			}
			// Paging: two orders, one a page.
			p1, p2 := e.list(t, "sz-admin", "?page_size=1"), e.list(t, "sz-admin", "?page_size=1&page=2")
			if len(p1.Items) != 1 || len(p2.Items) != 1 || p1.Total != 2 || p2.Page != 2 || p2.PageSize != 1 || p1.Items[0].ID == p2.Items[0].ID {
				t.Errorf("pages %+v / %+v", p1, p2)
			}
			if p3 := e.list(t, "sz-admin", "?page_size=1&page=3"); len(p3.Items) != 0 || p3.Total != 2 {
				t.Errorf("page 3 %+v", p3)
			}
			// Sorted newest first, then oldest first; the rows carry the words a person reads.
			newest, oldest := e.list(t, "ft-officer", "?sort=-opened"), e.list(t, "ft-officer", "?sort=opened")
			if ids(newest)[0] != id2 || ids(oldest)[0] != id {
				t.Errorf("sort=-opened %v, sort=opened %v; want %s first, then %s first", ids(newest), ids(oldest), id2, id)
			}
			for _, o := range oldest.Items {
				want := map[string]string{id: "S0001", id2: "S0002"}[o.ID]
				if o.StaffName == nil || *o.StaffName != staffNames[want] || o.Channel != "mobile" || o.RatedAt == nil ||
					o.ServiceName == nil || *o.ServiceName != "增值税发票领用" {
					t.Errorf("order %s: staff name %v, channel %q, rated at %v, service %v; want %s, mobile, a time, 增值税发票领用",
						o.ID, o.StaffName, o.Channel, o.RatedAt, o.ServiceName, staffNames[want])
				}
			}
			bad := []struct{ query, code, field string }{
				{"?page_size=0", "invalid_page_size", "page_size"},
				{"?page_size=101", "invalid_page_size", "page_size"},
				{"?page_size=ten", "invalid_page_size", "page_size"},
				{"?page=0", "invalid_page", "page"},
				{"?state=lost", "invalid_state", "state"},
				{"?overdue=maybe", "invalid_overdue", "overdue"},
				{"?unit=sz-ns-tax", "unknown_unit", "unit"}, // outside the officer's scope
				{"?unit=nowhere", "unknown_unit", "unit"},
				{"?q=" + strings.Repeat("x", 101), "too_long", "q"},
				{"?level=meh", "invalid_level", "level"},
				{"?channel=fax", "invalid_channel", "channel"},
				{"?supervision=high", "invalid_supervision", "supervision"},
				{"?from=2026-13-01", "invalid_date", "from"},
				{"?from=" + fromDay + "&to=" + yesterday, "invalid_period", "to"},
				{"?due_before=tomorrow", "invalid_date", "due_before"},
				{"?pending_extension=maybe", "invalid_pending_extension", "pending_extension"},
				{"?sort=random", "invalid_sort", "sort"},
			}
			for _, c := range bad {
				r := e.do(t, request{method: "GET", path: "/api/v1/work-orders" + c.query, login: "ft-officer"})
				wantError(t, r, http.StatusUnprocessableEntity, c.code, c.field)
			}
		})
	})
}

// staffNames are the demo organisation's names of the staff the tests use.
var staffNames = map[string]string{"S0001": "李晓东", "S0002": "陈美玲"}

func (e *env) act(t *testing.T, login, id, key string, body map[string]any) response {
	t.Helper()
	rq := request{method: "POST", path: "/api/v1/work-orders/" + id + "/actions", login: login, body: body}
	if key != "" {
		rq.header = map[string]string{"Idempotency-Key": key}
	}
	return e.do(t, rq)
}

func types(evs []eventView) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Type
	}
	return out
}

// TestActions: officer actions through the workflow's update: refusals change nothing,
// an accepted action is on the timeline before the answer, and a retried Idempotency-Key
// applies once.
func TestActions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		_, id := e.badOrder(t, "sz-ft-tax", "S0001")
		e.waitState(t, id, models.StateDispatched)
		start := e.timeline(t, "ft-officer", id)
		if got := types(start); len(got) < 2 || got[0] != "opened" || got[1] != "dispatched" {
			t.Fatalf("timeline before any action: %v", got)
		}

		refusals := []struct {
			name   string
			login  string
			body   map[string]any
			status int
			code   string
			field  string
		}{
			{"return without reason", "ft-officer", map[string]any{"action": "return"}, 422, "required", "reason"},
			{"officer dispatches", "ft-officer", map[string]any{"action": "dispatch", "to_unit": "sz-ns-tax"}, 403, "action_forbidden", ""},
			{"officer reviews", "ft-officer", map[string]any{"action": "review", "approve": true}, 403, "action_forbidden", ""},
			{"admin signs", "sz-admin", map[string]any{"action": "sign"}, 403, "action_forbidden", ""},
			{"admin dispatches a dispatched order", "sz-admin", map[string]any{"action": "dispatch", "to_unit": "sz-ns-tax"}, 409, "wrong_state", ""},
			{"unknown action", "ft-officer", map[string]any{"action": "teleport"}, 422, "unknown_action", "action"},
			{"no action", "ft-officer", map[string]any{}, 422, "unknown_action", "action"},
			{"callback before signing", "ft-officer", map[string]any{"action": "callback", "reached": true, "method": "phone"}, 409, "wrong_state", ""},
			{"auditor acts", "sz-auditor", map[string]any{"action": "sign"}, 403, "forbidden", ""},
			{"channel acts", "channel", map[string]any{"action": "sign"}, 403, "forbidden", ""},
			{"unknown body field", "ft-officer", map[string]any{"action": "sign", "urgent": true}, 400, "unknown_field", "urgent"},
		}
		for _, c := range refusals {
			t.Run(c.name, func(t *testing.T) {
				wantError(t, e.act(t, c.login, id, "", c.body), c.status, c.code, c.field)
			})
		}
		if got := e.timeline(t, "ft-officer", id); len(got) != len(start) {
			t.Fatalf("refused actions added events: %v", types(got))
		}
		if wo := e.order(t, id); wo.State != models.StateDispatched {
			t.Fatalf("state %q after refusals", wo.State)
		}

		var signed orderView
		t.Run("sign", func(t *testing.T) {
			r := e.act(t, "ft-officer", id, "sign-1", map[string]any{"action": "sign"})
			wantStatus(t, r, http.StatusOK)
			r.decode(t, &signed)
			if signed.ID != id || signed.State != models.StateSigned || !slices.Contains(signed.AllowedActions, "callback") || slices.Contains(signed.AllowedActions, "sign") {
				t.Errorf("answer %s", r)
			}
			// The accepted action is in the read-model before the answer: no polling.
			if wo := e.order(t, id); wo.State != models.StateSigned {
				t.Errorf("row state %q right after the answer", wo.State)
			}
			evs := e.timeline(t, "ft-officer", id)
			if len(evs) != len(start)+1 {
				t.Fatalf("timeline %v, want one event more than %v", types(evs), types(start))
			}
			last := evs[len(evs)-1]
			if last.Type != "sign" || last.Actor != "ft-officer" || last.ActorName != "王晓明" {
				t.Errorf("last event %+v", last)
			}
			if evs[0].Type != "opened" || evs[1].Type != "dispatched" || evs[0].Actor != "system" || evs[1].Actor != "system" {
				t.Errorf("timeline %+v", evs)
			}
			for i := 1; i < len(evs); i++ {
				if evs[i].At.Before(evs[i-1].At) {
					t.Errorf("timeline not oldest first: %v", types(evs))
				}
			}
		})
		if signed.State != models.StateSigned {
			t.FailNow()
		}
		n := len(e.timeline(t, "ft-officer", id))

		t.Run("retried idempotency key", func(t *testing.T) {
			r := e.act(t, "ft-officer", id, "sign-1", map[string]any{"action": "sign"})
			wantStatus(t, r, http.StatusOK)
			var again orderView
			r.decode(t, &again)
			if again.State != models.StateSigned {
				t.Errorf("retry answered %s", r)
			}
			if got := e.timeline(t, "ft-officer", id); len(got) != n {
				t.Errorf("retry added events: %v", types(got))
			}
		})
		t.Run("sign again", func(t *testing.T) {
			wantError(t, e.act(t, "ft-officer", id, "sign-2", map[string]any{"action": "sign"}), http.StatusConflict, "wrong_state", "")
			wantError(t, e.act(t, "ft-leader", id, "", map[string]any{"action": "sign"}), http.StatusConflict, "wrong_state", "")
			if got := e.timeline(t, "ft-officer", id); len(got) != n {
				t.Errorf("refused sign added events: %v", types(got))
			}
		})
		t.Run("too long idempotency key", func(t *testing.T) {
			wantError(t, e.act(t, "ft-officer", id, strings.Repeat("k", 129), map[string]any{"action": "sign"}), http.StatusBadRequest, "invalid_idempotency_key", "")
		})
		t.Run("actions are audited", func(t *testing.T) {
			if c := e.count(t, "audit_log", "path = ? AND login = ? AND status = ? AND target = ?", "/api/v1/work-orders/:id/actions", "ft-officer", 200, id+" sign"); c != 2 {
				t.Errorf("%d audited signs, want 2 (the action and its retry)", c)
			}
			if c := e.count(t, "audit_log", "path = ? AND login = ? AND status = ?", "/api/v1/work-orders/:id/actions", "sz-auditor", 403); c != 1 {
				t.Errorf("%d audited auditor refusals, want 1", c)
			}
		})
	})
}

// TestOrderListCountCap: past the cap the list stops counting (a city-wide scope of a million
// orders must not count them all for a page) and says so; below it the total is exact. The
// order stays nearest deadline first whatever the count.
func TestOrderListCountCap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		_, a := e.badOrder(t, "sz-ft-tax", "S0001")
		_, b := e.badOrder(t, "sz-ft-tax", "S0001")
		e.waitState(t, a, models.StateDispatched)
		e.waitState(t, b, models.StateDispatched)
		scope := store.Scope{Subtrees: []string{"/gd/"}}
		ctx := t.Context()
		for _, c := range []struct {
			cap, want int
		}{{0, 2}, {1, 2}, {2, 2}, {5, 2}} {
			rows, total, err := store.ListOrders(ctx, db, scope, store.OrderFilter{Page: 1, PageSize: 20, CountCap: c.cap})
			if err != nil {
				t.Fatal(err)
			}
			if int(total) != c.want || len(rows) != 2 {
				t.Errorf("cap %d: total %d, %d rows; want total %d and both rows", c.cap, total, len(rows), c.want)
			}
			for i := 1; i < len(rows); i++ {
				if p, q := rows[i-1].NextDueAt, rows[i].NextDueAt; p != nil && q != nil && p.After(*q) {
					t.Errorf("cap %d: row %d is due before row %d", c.cap, i, i-1)
				}
			}
		}
		rows, total, err := store.ListOrders(ctx, db, scope, store.OrderFilter{Page: 1, PageSize: 1, CountCap: 1})
		if err != nil || total != 2 || len(rows) != 1 {
			t.Fatalf("cap 1, page size 1: total %d (want 2, i.e. more than 1), %d rows, %v", total, len(rows), err)
		}
		// Through the API the total is exact below inboxCountCap.
		if l := e.list(t, "sz-admin", ""); l.Total < 2 {
			t.Errorf("sz-admin's list total %d", l.Total)
		}
	})
}
