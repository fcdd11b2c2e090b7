package apitest

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"redress/models"
	"redress/scheme"
	"redress/store"
	"redress/store/storetest"
	"redress/workflows"
)

// addCity adds a second city under the demo's province — 广州 (gd-gz, an administration) with
// two departments — and its administrator gz-admin, so that jurisdiction is tried against
// real units of a sibling city.
func addCity(t *testing.T, e *env) {
	t.Helper()
	ctx := context.Background()
	gd, ok, err := store.UnitByCode(ctx, e.db, "gd")
	if err != nil || !ok {
		t.Fatalf("unit gd: %v", err)
	}
	gz := models.Unit{Code: "gd-gz", Name: "广州市政务服务数据管理局", Kind: "administration", ParentID: &gd.ID, Path: gd.Path + "gd-gz/"}
	if err := e.db.Create(&gz).Error; err != nil {
		t.Fatal(err)
	}
	for _, u := range []models.Unit{
		{Code: "gd-gz-tax", Name: "广州市税务局", Kind: "department", ParentID: &gz.ID, Path: gz.Path + "gd-gz-tax/"},
		{Code: "gd-gz-amr", Name: "广州市市场监督管理局", Kind: "department", ParentID: &gz.ID, Path: gz.Path + "gd-gz-amr/"},
	} {
		if err := e.db.Create(&u).Error; err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.CreateUser(ctx, e.db, "gz-admin", "广州管理员", []store.RoleAt{{Role: models.RoleAdministrator, UnitID: gz.ID}}); err != nil {
		t.Fatal(err)
	}
}

// deadlinesJSON is the read-model's deadlines of an order, for before/after comparisons.
func (e *env) deadlinesJSON(t *testing.T, id string) string {
	t.Helper()
	b, err := json.Marshal(e.order(t, id).Deadlines.V)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Issue 15 finding 1: targets outside the caller's jurisdiction are refused with 403
// target_out_of_scope, nothing changes, and the audit log says why.
func TestTargetJurisdiction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		addCity(t, e)

		t.Run("a supervisor of sz reassigns to a unit of another city", func(t *testing.T) {
			_, id := e.badOrder(t, "sz-ft-tax", "S0001")
			e.waitState(t, id, models.StateDispatched)
			before := e.timeline(t, "sz-supervisor", id)
			dls := e.deadlinesJSON(t, id)
			r := e.act(t, "sz-supervisor", id, "", map[string]any{"action": "reassign", "to_unit": "gd-gz-tax", "reason": "跨市改派"})
			wantError(t, r, http.StatusForbidden, "target_out_of_scope", "")
			if after := e.timeline(t, "sz-supervisor", id); len(after) != len(before) {
				t.Errorf("timeline grew from %d to %d: %v", len(before), len(after), types(after))
			}
			wo := e.order(t, id)
			if wo.UnitPath != "/gd/sz/sz-ft/sz-ft-tax/" || wo.State != models.StateDispatched {
				t.Errorf("order moved: %s %s", wo.UnitPath, wo.State)
			}
			if got := e.deadlinesJSON(t, id); got != dls {
				t.Errorf("clocks changed:\n%s\n%s", dls, got)
			}
			if n := e.count(t, "audit_log", "login = ? AND status = ? AND outcome = ? AND target = ?",
				"sz-supervisor", 403, "refused", id+" reassign target_out_of_scope"); n != 1 {
				t.Errorf("%d audit rows record the refusal with its reason", n)
			}
			// Within the city the same reassignment goes through and answers the order.
			r = e.act(t, "sz-supervisor", id, "", map[string]any{"action": "reassign", "to_unit": "sz-ns-tax", "reason": "南山办理"})
			wantStatus(t, r, http.StatusOK)
			var o orderView
			r.decode(t, &o)
			if o.ID != id || o.State != models.StateDispatched || o.Unit == nil || o.Unit.Code != "sz-ns-tax" {
				t.Errorf("answer %+v", o)
			}
			if n := e.count(t, "audit_log", "login = ? AND status = ? AND outcome = ? AND target = ?",
				"sz-supervisor", 200, "ok", id+" reassign"); n != 1 {
				t.Errorf("%d audit rows record the accepted reassignment", n)
			}
		})

		t.Run("an administrator of gz dispatches to a unit of sz", func(t *testing.T) {
			// A rating of two cases of two gz departments waits in gz's queue.
			c1, c2 := uniq("GZ"), uniq("GZ")
			e.postCase(t, c1, "gd-gz-tax", "")
			e.postCase(t, c2, "gd-gz-amr", "")
			res := e.postEval(t, evalBody(uniq("E"), []string{c1, c2}, models.VeryDissatisfied, time.Now()))
			if res.WorkOrderID == nil {
				t.Fatal("no work order")
			}
			id := *res.WorkOrderID
			e.waitState(t, id, models.StatePendingDispatch)
			eventually(t, 15*time.Second, func() (bool, string) {
				wo := e.order(t, id)
				return wo.UnitPath == "/gd/gd-gz/", "queue " + wo.UnitPath
			})
			before := e.timeline(t, "gz-admin", id)
			r := e.act(t, "gz-admin", id, "", map[string]any{"action": "dispatch", "to_unit": "sz-ft-tax"})
			wantError(t, r, http.StatusForbidden, "target_out_of_scope", "")
			if after := e.timeline(t, "gz-admin", id); len(after) != len(before) {
				t.Errorf("timeline grew: %v", types(after))
			}
			if wo := e.order(t, id); wo.State != models.StatePendingDispatch || wo.UnitPath != "/gd/gd-gz/" {
				t.Errorf("order moved: %s %s", wo.State, wo.UnitPath)
			}
			// An unknown unit is unknown (422), not out of scope.
			r = e.act(t, "gz-admin", id, "", map[string]any{"action": "dispatch", "to_unit": "no-such-unit"})
			wantError(t, r, http.StatusUnprocessableEntity, "unknown_unit", "to_unit")
			r = e.act(t, "gz-admin", id, "", map[string]any{"action": "dispatch", "to_unit": "gd-gz-tax"})
			wantStatus(t, r, http.StatusOK)
		})

		t.Run("free text longer than 2000 characters", func(t *testing.T) {
			_, id := e.badOrder(t, "sz-ft-tax", "S0001")
			e.waitState(t, id, models.StateDispatched)
			before := e.timeline(t, "sz-supervisor", id)
			long := strings.Repeat("督", workflows.MaxTextLength+1)
			r := e.act(t, "sz-supervisor", id, "", map[string]any{"action": "escalate", "note": long})
			wantError(t, r, http.StatusUnprocessableEntity, "too_long", "note")
			r = e.act(t, "ft-officer", id, "", map[string]any{"action": "return", "reason": long})
			wantError(t, r, http.StatusUnprocessableEntity, "too_long", "reason")
			if after := e.timeline(t, "sz-supervisor", id); len(after) != len(before) {
				t.Errorf("timeline grew: %v", types(after))
			}
			// Exactly the limit is accepted.
			r = e.act(t, "sz-supervisor", id, "", map[string]any{"action": "escalate", "note": long[:len(long)-len("督")]})
			wantStatus(t, r, http.StatusOK)
		})
	})
}

// Reassigning an order to the unit that holds it is refused (422 same_unit): it would restart
// the clocks and take a breached order off the overdue list.
func TestSameUnitReassignKeepsOverdue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		var unit models.Unit
		if err := e.db.Where("code = ?", "sz-ft-tax").Take(&unit).Error; err != nil {
			t.Fatal(err)
		}
		short := "1s"
		doc := models.PolicyDoc{Deadlines: map[string]models.Budget{"sign": {Duration: &short}}}
		if err := e.db.Create(&models.Policy{UnitID: unit.ID, Doc: models.NewJSON(doc)}).Error; err != nil {
			t.Fatal(err)
		}
		_, id := e.badOrder(t, "sz-ft-tax", "S0001")
		e.waitState(t, id, models.StateDispatched)
		eventually(t, 15*time.Second, func() (bool, string) {
			return slices.Contains(ids(e.list(t, "sz-supervisor", "?overdue=true")), id), "the order is not yet on the overdue list"
		})
		before := e.timeline(t, "sz-supervisor", id)
		dls := e.deadlinesJSON(t, id)
		r := e.act(t, "sz-supervisor", id, "", map[string]any{"action": "reassign", "to_unit": "sz-ft-tax", "reason": "重新计时"})
		wantError(t, r, http.StatusUnprocessableEntity, "same_unit", "to_unit")
		if !slices.Contains(ids(e.list(t, "sz-supervisor", "?overdue=true")), id) {
			t.Error("the order left the overdue list")
		}
		after := e.timeline(t, "sz-supervisor", id)
		for _, ev := range after[len(before):] {
			if ev.Type == "reassign" || ev.Type == "dispatched" {
				t.Errorf("a refused reassignment recorded %s", ev.Type)
			}
		}
		var sign models.Deadline
		for _, d := range e.order(t, id).Deadlines.V {
			if d.Name == "sign" {
				sign = d
			}
		}
		if !strings.Contains(dls, sign.Start.UTC().Format("2006-01-02T15:04:05")) || time.Until(sign.DueAt) > 0 {
			t.Errorf("the sign clock restarted: %+v (before %s)", sign, dls)
		}
	})
}

// Officers draft an appeal; the unit leader submits it (DESIGN.md's role table, issue 15
// finding 4's last part).
func TestAppealDraftedByOfficerSubmittedByLeader(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		_, id := e.badOrder(t, "sz-ft-tax", "S0001")
		e.waitState(t, id, models.StateDispatched)
		wantStatus(t, e.act(t, "ft-officer", id, "", map[string]any{"action": "sign"}), http.StatusOK)
		wantStatus(t, e.act(t, "ft-officer", id, "", map[string]any{"action": "callback", "reached": true, "method": "phone"}), http.StatusOK)
		r := e.act(t, "ft-officer", id, "", map[string]any{"action": "dispose", "true": false, "reasonable": false,
			"disposition": "appeal", "appeal_reason": "malicious", "evidence": "窗口录像显示评价人未办理业务"})
		wantStatus(t, r, http.StatusOK)
		var drafted struct {
			State          string   `json:"state"`
			Disposition    string   `json:"disposition"`
			AllowedActions []string `json:"allowed_actions"`
			AppealDraft    *struct {
				DraftedBy    string `json:"drafted_by"`
				AppealReason string `json:"appeal_reason"`
				Evidence     string `json:"evidence"`
			} `json:"appeal_draft"`
		}
		r.decode(t, &drafted)
		if drafted.State != models.StateCalledBack || drafted.Disposition != "appeal_draft" || drafted.AppealDraft == nil ||
			drafted.AppealDraft.DraftedBy != "ft-officer" || drafted.AppealDraft.AppealReason != "malicious" {
			t.Fatalf("after the officer's draft: %s", r.body)
		}
		if slices.Contains(drafted.AllowedActions, "submit_appeal") {
			t.Errorf("the officer may submit: %v", drafted.AllowedActions)
		}
		wantError(t, e.act(t, "ft-officer", id, "", map[string]any{"action": "submit_appeal"}), http.StatusForbidden, "action_forbidden", "")
		var asLeader orderView
		lr := e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + id, login: "ft-leader"})
		wantStatus(t, lr, http.StatusOK)
		lr.decode(t, &asLeader)
		if !slices.Contains(asLeader.AllowedActions, "submit_appeal") {
			t.Errorf("the leader may not submit: %v", asLeader.AllowedActions)
		}
		r = e.act(t, "ft-leader", id, "", map[string]any{"action": "submit_appeal", "note": "同意申诉"})
		wantStatus(t, r, http.StatusOK)
		var o orderView
		r.decode(t, &o)
		if o.State != models.StateAppealing {
			t.Errorf("after submission: %s", r.body)
		}
		evs := e.timeline(t, "sz-admin", id)
		if got := types(evs); !slices.Contains(got, "appeal_drafted") || !slices.Contains(got, "submit_appeal") || slices.Contains(got, "dispose") {
			t.Errorf("timeline %v", got)
		}
		// The evaluator's tracking page does not see the draft, only the submitted appeal.
		if wo := e.order(t, id); wo.Disposition != "appeal" {
			t.Errorf("read-model disposition %q", wo.Disposition)
		}
	})
}

// The one table of actions is served for the UI's forms, with zh-CN labels.
func TestActionTableServed(t *testing.T) {
	e := newEnv(t, storetest.Open(t, storetest.Dialects[0]), envOptions{})
	wantError(t, e.do(t, request{method: "GET", path: "/api/v1/actions"}), http.StatusUnauthorized, "unauthorized", "")
	r := e.do(t, request{method: "GET", path: "/api/v1/actions", login: "ft-officer"})
	wantStatus(t, r, http.StatusOK)
	var table struct {
		Actions []struct {
			Name   string `json:"name"`
			Label  string `json:"label"`
			Fields []struct {
				Name      string `json:"name"`
				Label     string `json:"label"`
				MaxLength int    `json:"max_length"`
			} `json:"fields"`
		} `json:"actions"`
		MaxTextLength int `json:"max_text_length"`
	}
	r.decode(t, &table)
	if table.MaxTextLength != 2000 || len(table.Actions) != len(scheme.Actions()) {
		t.Fatalf("table %s", r.body)
	}
	for _, a := range table.Actions {
		if a.Label == "" {
			t.Errorf("%s has no label", a.Name)
		}
		for _, f := range a.Fields {
			if f.Label == "" || strings.ContainsAny(f.Label, "abcdefghijklmnopqrstuvwxyz") {
				t.Errorf("%s.%s label %q", a.Name, f.Name, f.Label)
			}
		}
	}
}
