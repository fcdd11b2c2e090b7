package apitest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"redress/intake"
	"redress/migrations"
	"redress/models"
	"redress/notify"
	"redress/payloadcodec"
	"redress/store"
	"redress/store/storetest"
)

// gateway is an SMS gateway on loopback: it keeps each message once by Idempotency-Key.
type gateway struct {
	mu   sync.Mutex
	msgs map[string]map[string]any
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	g.mu.Lock()
	if g.msgs == nil {
		g.msgs = map[string]map[string]any{}
	}
	if _, seen := g.msgs[r.Header.Get("Idempotency-Key")]; !seen {
		g.msgs[r.Header.Get("Idempotency-Key")] = m
	}
	g.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// sms returns the messages of a template sent for an order.
func (g *gateway) sms(orderID, template string) []map[string]any {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []map[string]any
	for _, m := range g.msgs {
		if m["work_order_id"] == orderID && m["template"] == template {
			out = append(out, m)
		}
	}
	return out
}

// startNotifier runs the outbox dispatcher of the env: SMS to a loopback gateway, staff
// messages to the local inbox.
func (e *env) startNotifier(t *testing.T) *gateway {
	t.Helper()
	g := &gateway{}
	hs := httptest.NewServer(g)
	t.Cleanup(hs.Close)
	local := &notify.Local{DB: e.db}
	d := &notify.Dispatcher{DB: e.db, Box: e.box, PublicURL: e.http.URL, Poll: 50 * time.Millisecond,
		Senders: map[string]notify.Sender{notify.ChannelSMS: &notify.Webhook{URL: hs.URL, Secret: "k"}, notify.ChannelInbox: local}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return g
}

// ok sends an action and fails unless it is accepted with the state.
func (e *env) ok(t *testing.T, login, id, state string, body map[string]any) {
	t.Helper()
	r := e.act(t, login, id, "", body)
	wantStatus(t, r, http.StatusOK)
	var o orderView
	r.decode(t, &o)
	if o.State != state {
		t.Fatalf("%s %v: state %s, want %s", login, body["action"], o.State, state)
	}
}

// trackLink waits for an SMS of the template for an order whose link is not exclude, and
// returns the link's path.
func trackLink(t *testing.T, g *gateway, base, orderID, template, exclude string) string {
	t.Helper()
	var link string
	eventually(t, 15*time.Second, func() (bool, string) {
		for _, m := range g.sms(orderID, template) {
			p, _ := m["params"].(map[string]any)
			if l, _ := p["link"].(string); l != "" && strings.TrimPrefix(l, base) != exclude {
				link = l
				return true, ""
			}
		}
		return false, fmt.Sprintf("no new %s SMS for %s", template, orderID)
	})
	if !strings.HasPrefix(link, base+"/api/v1/track/") {
		t.Fatalf("link %q", link)
	}
	return strings.TrimPrefix(link, base)
}

type trackView struct {
	State        string `json:"state"`
	Unit         string `json:"unit"`
	Disposition  string `json:"disposition"`
	Measures     string `json:"measures"`
	FeedbackOpen bool   `json:"feedback_open"`
	Satisfaction string `json:"satisfaction"`
	Steps        []struct {
		Step string `json:"step"`
	} `json:"steps"`
}

// TestChainThroughHTTP drives one order through the whole chain over HTTP: sign, callbacks,
// ledger with progress and an extension, completion, a review that sends it back, immediate
// rectification, approval with the outcome SMS and tracking link, the evaluator's feedback on
// the public link (idempotent), reopening within the policy's limit, and the notifications each
// party sees.
func TestChainThroughHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		g := e.startNotifier(t)
		_, id := e.badOrder(t, "sz-ft-tax", "S0001")
		e.waitState(t, id, models.StateDispatched)

		e.ok(t, "ft-officer", id, "signed", map[string]any{"action": "sign"})
		e.ok(t, "ft-officer", id, "signed", map[string]any{"action": "callback", "reached": false, "method": "phone", "note": "无人接听"})
		e.ok(t, "ft-officer", id, "called_back", map[string]any{"action": "callback", "reached": true, "method": "phone", "note": "已听取意见"})
		e.ok(t, "ft-officer", id, "rectifying", map[string]any{"action": "dispose", "true": true, "reasonable": true, "disposition": "ledger", "plan": "增设窗口", "committed_date": time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 2).Format("2006-01-02")})
		e.ok(t, "ft-officer", id, "rectifying", map[string]any{"action": "progress", "note": "已采购设备"})
		wantError(t, e.act(t, "ft-officer", id, "", map[string]any{"action": "request_extension", "days": 5, "reason": "设备"}), 403, "action_forbidden", "")
		e.ok(t, "ft-leader", id, "rectifying", map[string]any{"action": "request_extension", "days": 5, "reason": "设备到货晚"})
		e.ok(t, "sz-supervisor", id, "rectifying", map[string]any{"action": "decide_extension", "approve": true, "note": "同意"})
		e.ok(t, "ft-officer", id, "reviewing", map[string]any{"action": "complete", "measures": "已增设两个窗口"})
		e.ok(t, "sz-admin", id, "called_back", map[string]any{"action": "review", "approve": false, "note": "未公示"})
		e.ok(t, "ft-officer", id, "reviewing", map[string]any{"action": "dispose", "true": true, "reasonable": true, "disposition": "rectify_now", "measures": "已增设窗口并公示"})
		e.ok(t, "sz-admin", id, "feedback", map[string]any{"action": "review", "approve": true, "note": "同意"})

		path := trackLink(t, g, e.http.URL, id, "feedback", "")
		r := e.do(t, request{method: "GET", path: path})
		wantStatus(t, r, http.StatusOK)
		for _, secret := range []string{"ft-officer", "ft-leader", "sz-admin", "S0001", "李晓东", evaluatorPhone, evaluatorName, evaluatorID, "未公示"} {
			if strings.Contains(string(r.body), secret) {
				t.Errorf("the tracking view shows %q: %s", secret, r.body)
			}
		}
		var tv trackView
		r.decode(t, &tv)
		if tv.State != "feedback" || !tv.FeedbackOpen || tv.Measures != "已增设窗口并公示" || tv.Unit != "福田区税务局" || len(tv.Steps) < 8 {
			t.Errorf("tracking view %s", r)
		}
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/track/" + strings.Repeat("A", 32)}), 404, "not_found", "")
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/track/short"}), 404, "not_found", "")
		wantError(t, e.do(t, request{method: "POST", path: path + "/feedback", body: map[string]any{"satisfaction": "great"}}), 422, "invalid_satisfaction", "satisfaction")
		wantError(t, e.do(t, request{method: "POST", path: path + "/feedback", body: map[string]any{"satisfaction": "satisfied", "x": 1}}), 400, "unknown_field", "x")
		fb := map[string]any{"satisfaction": "dissatisfied", "comment": "窗口还是不够"}
		for i := 0; i < 2; i++ { // a repeat answers the same and records nothing more
			r = e.do(t, request{method: "POST", path: path + "/feedback", body: fb})
			wantStatus(t, r, http.StatusOK)
			r.decode(t, &tv)
			if tv.State != "closed" || tv.Satisfaction != "dissatisfied" || tv.FeedbackOpen {
				t.Errorf("after feedback %s", r)
			}
		}
		evs := e.timeline(t, "sz-auditor", id)
		if n := strings.Count(strings.Join(types(evs), ","), "evaluator_feedback"); n != 1 {
			t.Errorf("%d evaluator_feedback events: %v", n, types(evs))
		}
		last := evs[len(evs)-1]
		if last.Actor != "evaluator" || last.Data["satisfaction"] != "dissatisfied" || last.Data["by"] != "tracking_link" {
			t.Errorf("last event %+v", last)
		}

		// Dissatisfied → the administration reopens, once (policy reopen_limit 1).
		wantError(t, e.act(t, "ft-officer", id, "", map[string]any{"action": "reopen", "note": "x"}), 403, "action_forbidden", "")
		e.ok(t, "sz-admin", id, "called_back", map[string]any{"action": "reopen", "note": "群众不满意，重新办理"})
		e.ok(t, "ft-officer", id, "reviewing", map[string]any{"action": "dispose", "true": true, "reasonable": true, "disposition": "explain", "explanation": "窗口数量已按标准配置"})
		e.ok(t, "sz-admin", id, "feedback", map[string]any{"action": "review", "approve": true})
		newPath := trackLink(t, g, e.http.URL, id, "feedback", path)
		if newPath == path {
			t.Fatal("the second outcome reused the first link")
		}
		wantError(t, e.do(t, request{method: "POST", path: path + "/feedback", body: map[string]any{"satisfaction": "satisfied"}}), 409, "link_superseded", "")
		e.ok(t, "ft-officer", id, "closed", map[string]any{"action": "record_feedback", "satisfaction": "basically_satisfied", "comment": "电话回访"})
		wantError(t, e.do(t, request{method: "POST", path: newPath + "/feedback", body: map[string]any{"satisfaction": "satisfied"}}), 409, "wrong_state", "")
		wantError(t, e.act(t, "sz-admin", id, "", map[string]any{"action": "reopen", "note": "再次"}), 409, "wrong_state", "")

		got := types(e.timeline(t, "sz-auditor", id))
		for _, want := range []string{"opened", "dispatched", "sign", "callback", "dispose", "progress", "request_extension", "decide_extension", "complete", "review", "evaluator_feedback", "reopen", "record_feedback"} {
			if !slices.Contains(got, want) {
				t.Errorf("timeline lacks %s: %v", want, got)
			}
		}

		// Notifications: the unit's officer has its new order; the administration sees the
		// evaluator's SMS only masked; another unit sees nothing of this order.
		eventually(t, 10*time.Second, func() (bool, string) {
			var l struct{ Items []map[string]any }
			e.do(t, request{method: "GET", path: "/api/v1/notifications?work_order_id=" + id, login: "ft-officer"}).decode(t, &l)
			for _, m := range l.Items {
				if m["template"] == "new_order" && m["role"] == "officer" {
					return true, ""
				}
			}
			return false, fmt.Sprintf("ft-officer's notifications %v", l.Items)
		})
		var adminView struct{ Items []map[string]any }
		e.do(t, request{method: "GET", path: "/api/v1/notifications?page_size=100", login: "sz-admin"}).decode(t, &adminView)
		sawSMS := false
		for _, m := range adminView.Items {
			if m["recipient_kind"] == "evaluator" {
				t.Errorf("an SMS sent through the gateway is in the local inbox: %v", m)
			}
			if m["template"] == "dissatisfied" {
				sawSMS = true
			}
		}
		if !sawSMS {
			t.Errorf("the administration was not told of the dissatisfied evaluator: %v", adminView.Items)
		}
		var ns struct {
			Items []map[string]any
			Total int
		}
		e.do(t, request{method: "GET", path: "/api/v1/notifications", login: "ns-officer"}).decode(t, &ns)
		if ns.Total != 0 {
			t.Errorf("ns-officer sees %v", ns.Items)
		}
		var ob struct {
			Items []map[string]any
			Total int
		}
		e.do(t, request{method: "GET", path: "/api/v1/notifications/outbox?work_order_id=" + id, login: "sz-admin"}).decode(t, &ob)
		for _, m := range ob.Items {
			if p, _ := m["params"].(map[string]any); p["token"] != nil && !strings.HasSuffix(p["token"].(string), "****") {
				t.Errorf("outbox shows a token: %v", m)
			}
		}
		if ob.Total == 0 {
			t.Error("empty outbox view")
		}
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/notifications/outbox", login: "ft-officer"}), 403, "forbidden", "")
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/notifications/outbox/nope/resend", login: "sz-admin"}), 404, "not_found", "")
		if len(ob.Items) > 0 {
			wantError(t, e.do(t, request{method: "POST", path: "/api/v1/notifications/outbox/" + ob.Items[0]["id"].(string) + "/resend", login: "sz-admin"}), 409, "not_dead", "")
		}
		e.recordHistory(t, "chain_feedback_reopen", id)
	})
}

// TestChainOtherRows: the rows of the actions table the first chain does not take —
// dispatch from the administration's queue, return and its ruling, waive_callback, appeal
// rejected and upheld, escalate, reassign — over HTTP, with their timeline.
func TestChainOtherRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		g := e.startNotifier(t)
		// Two cases of two units in one rating: ambiguous → the administration's queue.
		c1, c2 := uniq("C"), uniq("C")
		e.postCase(t, c1, "sz-ft-tax", "S0001")
		e.postCase(t, c2, "sz-ns-tax", "S0018")
		res := e.postEval(t, evalBody(uniq("E"), []string{c1, c2}, models.VeryDissatisfied, time.Now()))
		id := *res.WorkOrderID
		// The row starts as pending_dispatch; the workflow puts it in the administration's queue.
		eventually(t, 15*time.Second, func() (bool, string) {
			l := e.list(t, "sz-admin", "?state=pending_dispatch")
			return slices.Contains(ids(l), id), fmt.Sprintf("not in the administration's queue: %v", ids(l))
		})
		evs := e.timeline(t, "sz-admin", id)
		if evs[len(evs)-1].Type != "pending_dispatch" || evs[len(evs)-1].Data["reason"] != "several_units" {
			t.Errorf("timeline %+v", evs)
		}
		wantError(t, e.act(t, "ft-officer", id, "", map[string]any{"action": "sign"}), 404, "not_found", "")
		wantError(t, e.act(t, "sz-admin", id, "", map[string]any{"action": "dispatch", "to_unit": "nowhere"}), 422, "unknown_unit", "to_unit")
		e.ok(t, "sz-admin", id, "dispatched", map[string]any{"action": "dispatch", "to_unit": "sz-ns-tax"})
		e.ok(t, "ns-officer", id, "returned", map[string]any{"action": "return", "reason": "主要问题在福田"})
		e.ok(t, "sz-admin", id, "dispatched", map[string]any{"action": "rule_return", "accept": false, "reason": "两区共同办理，南山牵头"})
		e.ok(t, "ns-officer", id, "returned", map[string]any{"action": "return", "reason": "再次申请退单"})
		e.ok(t, "sz-admin", id, "dispatched", map[string]any{"action": "rule_return", "accept": true, "to_unit": "sz-ft-tax", "reason": "改派福田"})
		e.ok(t, "ft-officer", id, "signed", map[string]any{"action": "sign"})
		wantError(t, e.act(t, "ft-officer", id, "", map[string]any{"action": "waive_callback", "note": "x"}), 403, "action_forbidden", "")
		e.ok(t, "sz-admin", id, "called_back", map[string]any{"action": "waive_callback", "note": "评价人明确拒绝回访"})
		// The officer drafts the appeal; the unit leader submits it.
		e.ok(t, "ft-officer", id, "called_back", map[string]any{"action": "dispose", "true": false, "reasonable": false, "disposition": "appeal", "appeal_reason": "mistaken", "evidence": "监控录像"})
		e.ok(t, "ft-leader", id, "appealing", map[string]any{"action": "submit_appeal"})
		e.ok(t, "sz-admin", id, "called_back", map[string]any{"action": "decide_appeal", "upheld": false, "note": "证据不足"})
		e.ok(t, "sz-supervisor", id, "called_back", map[string]any{"action": "escalate", "note": "请尽快办理"})
		e.ok(t, "sz-supervisor", id, "dispatched", map[string]any{"action": "reassign", "to_unit": "sz-ns-tax", "reason": "实为南山办理"})
		e.ok(t, "ns-officer", id, "signed", map[string]any{"action": "sign"})

		evs = e.timeline(t, "sz-auditor", id)
		var rulings []map[string]any
		for _, ev := range evs {
			if ev.Type == "rule_return" {
				rulings = append(rulings, ev.Data)
			}
		}
		if len(rulings) != 2 || rulings[0]["charged_to"] != "receiver" || rulings[1]["charged_to"] != "misrouting" {
			t.Errorf("rulings %v", rulings)
		}
		got := types(evs)
		for _, want := range []string{"pending_dispatch", "dispatch", "return", "rule_return", "waive_callback", "appeal_drafted", "submit_appeal", "decide_appeal", "escalate", "reassign"} {
			if !slices.Contains(got, want) {
				t.Errorf("timeline lacks %s: %v", want, got)
			}
		}
		r := e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + id, login: "sz-admin"})
		var o struct {
			SupervisionLevel int `json:"supervision_level"`
			Unit             struct{ Code string }
		}
		r.decode(t, &o)
		// The reassignment's receiver starts clean (issue 15): the escalation stood against
		// sz-ft-tax, not against sz-ns-tax.
		if o.SupervisionLevel != 0 || o.Unit.Code != "sz-ns-tax" {
			t.Errorf("order %s", r)
		}

		// An upheld appeal: the rating leaves the statistics and the evaluator is told.
		_, id2 := e.badOrder(t, "sz-ft-tax", "S0002")
		e.waitState(t, id2, models.StateDispatched)
		e.ok(t, "ft-officer", id2, "signed", map[string]any{"action": "sign"})
		e.ok(t, "ft-officer", id2, "called_back", map[string]any{"action": "callback", "reached": true, "method": "visit"})
		// The unit leader appeals directly (no draft).
		e.ok(t, "ft-leader", id2, "appealing", map[string]any{"action": "dispose", "true": false, "reasonable": false, "disposition": "appeal", "appeal_reason": "malicious", "evidence": "同一号码批量差评"})
		e.ok(t, "sz-admin", id2, "reviewing", map[string]any{"action": "decide_appeal", "upheld": true, "note": "恶意差评"})
		if n := e.count(t, "evaluations", "work_order_id = ? AND excluded", id2); n != 1 {
			t.Errorf("upheld appeal: %d excluded evaluations", n)
		}
		path := trackLink(t, g, e.http.URL, id2, "appeal_upheld", "")
		var tv struct {
			Appeal *struct{ Upheld bool } `json:"appeal"`
		}
		e.do(t, request{method: "GET", path: path}).decode(t, &tv)
		if tv.Appeal == nil || !tv.Appeal.Upheld {
			t.Errorf("tracking view of an upheld appeal: %+v", tv)
		}
		if len(g.sms(id2, "callback_notice")) != 1 {
			t.Errorf("no callback notice SMS at signing")
		}
		e.recordHistory(t, "chain_queue_return_appeal_reassign", id)
		e.recordHistory(t, "chain_appeal_upheld", id2)
	})
}

// TestPlatformDispatch: a rating whose bad indicators are about the platform goes to the unit
// that runs the platform; a case handled by the platform unit goes to it too.
func TestPlatformDispatch(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		c := uniq("C")
		e.postCase(t, c, "sz-ft-tax", "S0001")
		body := evalBody(uniq("E"), []string{c}, models.Dissatisfied, time.Now())
		body["levels"] = map[string]any{"overall": "dissatisfied", "attitude": "very_satisfied", "platform_usability": "very_dissatisfied"}
		id := *e.postEval(t, body).WorkOrderID
		wo := e.waitState(t, id, models.StateDispatched)
		var code string
		e.db.Table("units").Select("code").Where("id = ?", wo.UnitID).Scan(&code)
		if code != "sz-platform" {
			t.Errorf("platform rating dispatched to %s", code)
		}
		_, id2 := e.badOrder(t, "sz-platform", "")
		wo2 := e.waitState(t, id2, models.StateDispatched)
		e.db.Table("units").Select("code").Where("id = ?", wo2.UnitID).Scan(&code)
		if code != "sz-platform" {
			t.Errorf("case of the platform unit dispatched to %s", code)
		}
		// Bad on staff and platform: the handling unit answers.
		c3 := uniq("C")
		e.postCase(t, c3, "sz-ft-tax", "S0001")
		body = evalBody(uniq("E"), []string{c3}, models.Dissatisfied, time.Now())
		body["levels"] = map[string]any{"overall": "dissatisfied", "attitude": "dissatisfied", "platform": "very_dissatisfied"}
		wo3 := e.waitState(t, *e.postEval(t, body).WorkOrderID, models.StateDispatched)
		e.db.Table("units").Select("code").Where("id = ?", wo3.UnitID).Scan(&code)
		if code != "sz-ft-tax" {
			t.Errorf("mixed rating dispatched to %s", code)
		}
	})
}

// TestFiveSecondPolicy: under a policy whose sign deadline is {"duration": "5s"}, an order
// nobody signs gets its reminder when 25 % of the budget is left (3.75 s), 督办 on breach (5 s)
// and 挂牌督办 when it is overdue by the whole budget again (10 s), on the embedded server, with
// the messages in the unit's, the supervisors' and the auditors' inboxes.
func TestFiveSecondPolicy(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for real timers")
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		e.startNotifier(t)
		var unit models.Unit
		if err := e.db.Where("code = ?", "sz-ft-tax").Take(&unit).Error; err != nil {
			t.Fatal(err)
		}
		five := "5s"
		doc := models.PolicyDoc{Deadlines: map[string]models.Budget{"sign": {Duration: &five}}, RemindBefore: "25%"}
		if err := e.db.Create(&models.Policy{UnitID: unit.ID, Doc: models.NewJSON(doc)}).Error; err != nil {
			t.Fatal(err)
		}
		_, id := e.badOrder(t, "sz-ft-tax", "S0001")
		e.waitState(t, id, models.StateDispatched)
		var evs []eventView
		eventually(t, 20*time.Second, func() (bool, string) {
			evs = e.timeline(t, "sz-auditor", id)
			n := 0
			for _, ev := range evs {
				if ev.Type == "supervision" {
					n++
				}
			}
			return n == 2, fmt.Sprintf("timeline %v", types(evs))
		})
		// Timers run from the sign clock's start (the dispatch instant).
		var dispatched time.Time
		for _, d := range e.order(t, id).Deadlines.V {
			if d.Name == "sign" {
				dispatched = d.Start
			}
		}
		if dispatched.IsZero() {
			t.Fatal("no sign deadline")
		}
		want := []struct {
			typ   string
			after time.Duration
			level string
		}{
			{"reminder", 3750 * time.Millisecond, ""},
			{"deadline_breached", 5 * time.Second, ""},
			{"supervision", 5 * time.Second, "1"},
			{"supervision", 10 * time.Second, "2"},
		}
		i := 0
		const tolerance = 1500 * time.Millisecond
		for _, ev := range evs {
			if i < len(want) && ev.Type == want[i].typ {
				if ev.Data["deadline"] != "sign" && ev.Type != "supervision" {
					t.Errorf("%s of %v", ev.Type, ev.Data["deadline"])
				}
				late := ev.At.Sub(dispatched) - want[i].after
				if late < 0 || late > tolerance {
					t.Errorf("%s at +%s, want +%s (tolerance %s)", ev.Type, ev.At.Sub(dispatched), want[i].after, tolerance)
				}
				if want[i].level != "" && fmt.Sprint(ev.Data["level"]) != want[i].level {
					t.Errorf("%s level %v, want %s", ev.Type, ev.Data["level"], want[i].level)
				}
				i++
			}
		}
		if i != len(want) {
			t.Fatalf("timeline %v", types(evs))
		}
		// The messages reach the inboxes: reminder → officer; 督办 → leader and supervisor;
		// 挂牌督办 → the auditor as well.
		inbox := func(login string) []string {
			var l struct{ Items []map[string]any }
			e.do(t, request{method: "GET", path: "/api/v1/notifications?page_size=100&work_order_id=" + id, login: login}).decode(t, &l)
			var out []string
			for _, m := range l.Items {
				out = append(out, fmt.Sprint(m["template"]))
			}
			return out
		}
		for login, tmpl := range map[string]string{"ft-officer": "reminder", "ft-leader": "supervision", "sz-supervisor": "supervision", "sz-auditor": "supervision"} {
			eventually(t, 10*time.Second, func() (bool, string) {
				got := inbox(login)
				return slices.Contains(got, tmpl), fmt.Sprintf("%s's inbox %v, want %s", login, got, tmpl)
			})
		}
		if got := inbox("ft-officer"); slices.Contains(got, "supervision") {
			t.Errorf("officer got the supervision notice meant for the leader: %v", got)
		}
		e.recordHistory(t, "timers_reminder_supervision", id)
	})
}

// recordHistory writes the order's workflow history to workflows/testdata/NAME.json when
// REDRESS_RECORD_HISTORIES=1 (SQLite run only), for the replay test of package workflows: a
// change to the workflow that would break orders already running fails that test. Recorded
// histories are committed; record new ones when the workflow gains a path, never rewrite old
// ones to make a change pass: a file that exists is left alone, and the name carries
// historyGeneration so that a new generation is recorded beside the old.
// historyGeneration names the workflow code the recorded histories come from: "" before the
// local-activities change, "@local" since, "@i16" since issue 16 (the worker picks the path,
// continue-as-new, step-failed, events keyed by run).
const historyGeneration = "@i16"

func (e *env) recordHistory(t *testing.T, name, orderID string) {
	t.Helper()
	if os.Getenv("REDRESS_RECORD_HISTORIES") != "1" || e.db.Dialect != migrations.SQLite {
		return
	}
	name += historyGeneration
	ctx := context.Background()
	it := temporalClient.GetWorkflowHistory(ctx, intake.WorkflowID(orderID), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", orderID, err)
		}
		h.Events = append(h.Events, ev)
	}
	// Recorded in clear: the replay test replays with the SDK's default converter, and the
	// test keys that sealed the payloads die with this process.
	codec, err := payloadcodec.New(testBox)
	if err != nil {
		t.Fatal(err)
	}
	if err := codec.DecodeAll(ctx, h); err != nil {
		t.Fatalf("decode the history of %s: %v", orderID, err)
	}
	b, err := protojson.MarshalOptions{Multiline: true, Indent: "  "}.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	_, file, _, _ := runtime.Caller(0)
	dir := filepath.Join(filepath.Dir(file), "..", "..", "workflows", "testdata")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, name+".json"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if errors.Is(err, fs.ErrExist) {
		t.Logf("workflows/testdata/%s.json exists: kept (bump historyGeneration to record a new generation)", name)
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := f.Close(); err != nil {
			t.Errorf("close the written file: %v", err)
		}
	}()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	t.Logf("recorded %d events of %s into workflows/testdata/%s.json", len(h.Events), orderID, name)
}

// The notification centre: each staff member's unread count, marking their own messages read
// (one, then all), and nobody marking another inbox's message.
func TestNotificationsMarkRead(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, envOptions{})
	e.startNotifier(t)
	_, id := e.badOrder(t, "sz-ft-tax", "")
	type list struct {
		Items []struct {
			ID       string `json:"id"`
			Template string `json:"template"`
			Read     bool   `json:"read"`
		} `json:"items"`
		Unread int64 `json:"unread"`
	}
	var l list
	eventually(t, 15*time.Second, func() (bool, string) {
		l = list{}
		e.do(t, request{method: "GET", path: "/api/v1/notifications?work_order_id=" + id, login: "ft-officer"}).decode(t, &l)
		return len(l.Items) > 0, "no notification for ft-officer yet"
	})
	msg := l.Items[0]
	if msg.Read || l.Unread < 1 {
		t.Fatalf("a new message: read %v, unread %d", msg.Read, l.Unread)
	}
	before := l.Unread
	mark := func(login string, body any) (marked, unread int64) {
		r := e.do(t, request{method: "POST", path: "/api/v1/notifications/read", login: login, body: body})
		wantStatus(t, r, http.StatusOK)
		var out struct{ Marked, Unread int64 }
		r.decode(t, &out)
		return out.Marked, out.Unread
	}
	// Another unit's officer cannot mark it (the id is outside their inbox): nothing changes.
	if m, _ := mark("ns-officer", map[string]any{"ids": []string{msg.ID}}); m != 0 {
		t.Errorf("ns-officer marked %d of ft-officer's messages", m)
	}
	if m, u := mark("ft-officer", map[string]any{"ids": []string{msg.ID}}); m != 1 || u != before-1 {
		t.Errorf("marking one: marked %d, unread %d; want 1, %d", m, u, before-1)
	}
	// Marking again (another tab) is harmless.
	if m, _ := mark("ft-officer", map[string]any{"ids": []string{msg.ID}}); m != 0 {
		t.Errorf("marking a read message again marked %d", m)
	}
	l = list{}
	e.do(t, request{method: "GET", path: "/api/v1/notifications?work_order_id=" + id, login: "ft-officer"}).decode(t, &l)
	for _, it := range l.Items {
		if it.ID == msg.ID && !it.Read {
			t.Errorf("message %s not shown read", msg.ID)
		}
	}
	l = list{}
	e.do(t, request{method: "GET", path: "/api/v1/notifications?unread=true", login: "ft-officer"}).decode(t, &l)
	for _, it := range l.Items {
		if it.ID == msg.ID {
			t.Errorf("unread=true lists the read message")
		}
	}
	if _, u := mark("ft-officer", map[string]any{"all": true}); u != 0 {
		t.Errorf("after marking all, %d unread", u)
	}
	wantError(t, e.do(t, request{method: "POST", path: "/api/v1/notifications/read", login: "ft-officer", body: map[string]any{}}), 422, "required", "ids")
	wantError(t, e.do(t, request{method: "GET", path: "/api/v1/notifications?unread=maybe", login: "ft-officer"}), 422, "invalid_unread", "unread")
}
