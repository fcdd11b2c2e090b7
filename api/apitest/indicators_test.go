package apitest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"redress/calendar/calendardb"
	"redress/models"
	"redress/orgfile"
	"redress/scheme/indicators"
	"redress/stats"
	"redress/store"
	"redress/store/storetest"
)

// unitFigures rolls the statistics up and answers one unit's figures of this month.
func unitFigures(t *testing.T, db *store.DB, code string) stats.UnitFigures {
	t.Helper()
	ctx := context.Background()
	if _, err := (&stats.Roller{DB: db, Calendars: calendardb.NewCache(db, 0)}).Pass(ctx); err != nil {
		t.Fatal(err)
	}
	today := stats.Day(time.Now())
	units, err := stats.Units(ctx, db, store.Scope{Subtrees: []string{"/"}}, stats.Period{From: today[:8] + "01", To: today})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range units {
		if u.Code == code {
			return u
		}
	}
	t.Fatalf("no figures of %s", code)
	return stats.UnitFigures{}
}

func staffFigures(t *testing.T, db *store.DB, staffID string) stats.Ratings {
	t.Helper()
	today := stats.Day(time.Now())
	rows, err := stats.ByDim(context.Background(), db, store.Scope{Subtrees: []string{"/"}}, stats.DimStaff, stats.Period{From: today[:8] + "01", To: today})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Key == staffID {
			return r.Ratings
		}
	}
	return stats.Ratings{}
}

// TestUpheldAppealKeepsProcessComplaints (issue 15, finding 4) on both databases: a rating with
// attitude, efficiency and platform all bad, appealed by the unit leader and upheld, excludes
// only attitude — the unit's statistics still count the rating as a bad review, the staff
// member's leave it out — the order goes back to the unit (called_back) and on to
// rectification, the timeline names the excluded and remaining indicators, and the
// administration is notified (通报).
func TestUpheldAppealKeepsProcessComplaints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		caseNo := uniq("C")
		e.postCase(t, caseNo, "sz-ft-tax", "S0001")
		b := evalBody(uniq("E"), []string{caseNo}, models.Dissatisfied, time.Now())
		b["levels"] = map[string]any{"overall": models.Dissatisfied, "attitude": models.VeryDissatisfied,
			"efficiency": models.Dissatisfied, "platform": models.VeryDissatisfied}
		res := e.postEval(t, b)
		if res.WorkOrderID == nil {
			t.Fatalf("bad rating answered %+v", res)
		}
		id := *res.WorkOrderID
		e.waitState(t, id, models.StateDispatched)
		before := unitFigures(t, db, "sz-ft-tax")
		if before.Ratings.Bad != 1 || before.Ratings.Excluded != 0 {
			t.Fatalf("before the appeal: %+v", before.Ratings)
		}

		e.ok(t, "ft-officer", id, models.StateSigned, map[string]any{"action": "sign"})
		e.ok(t, "ft-officer", id, models.StateCalledBack, map[string]any{"action": "callback", "reached": true, "method": "phone", "note": "已联系"})
		e.ok(t, "ft-leader", id, models.StateAppealing, map[string]any{"action": "dispose", "true": false, "reasonable": false,
			"disposition": "appeal", "appeal_reason": "mistaken", "evidence": "窗口录像", "note": "态度评价系误评"})
		e.ok(t, "sz-admin", id, models.StateCalledBack, map[string]any{"action": "decide_appeal", "upheld": true, "note": "态度部分系误评"})

		var ev struct {
			Excluded           bool
			ExcludedIndicators string
		}
		db.Table("evaluations").Select("excluded, excluded_indicators").Where("id = ?", res.ID).Take(&ev)
		if ev.Excluded || ev.ExcludedIndicators != `["attitude"]` {
			t.Errorf("evaluation excluded %v, excluded_indicators %s; want only attitude", ev.Excluded, ev.ExcludedIndicators)
		}
		after := unitFigures(t, db, "sz-ft-tax")
		if after.Ratings.Bad != 1 || after.Ratings.Excluded != 0 || after.Ratings.Active.Total() != before.Ratings.Active.Total() {
			t.Errorf("after the upheld appeal the unit's figures %+v, want the rating still counted as bad (before %+v)", after.Ratings, before.Ratings)
		}
		if s := staffFigures(t, db, "S0001"); s.Excluded != 1 || s.Bad != 0 {
			t.Errorf("staff member's figures %+v, want the rating excluded", s)
		}
		tl := e.timeline(t, "sz-admin", id)
		var decided map[string]any
		for _, x := range tl {
			if x.Type == "decide_appeal" {
				decided = x.Data
			}
		}
		if fmt.Sprint(decided["excluded_indicators"]) != "[attitude]" || fmt.Sprint(decided["remaining_indicators"]) != "[efficiency platform]" {
			t.Errorf("timeline of the decision %v", decided)
		}
		if n := e.count(t, "notifications", "work_order_id = ? AND template = ? AND role = ? AND unit_path = ?", id, "appeal_upheld_notice", models.RoleAdministrator, "/gd/sz/sz-ft/"); n != 1 {
			t.Errorf("%d 通报 to the administration, want 1", n)
		}
		// The order goes on for the process and platform complaints.
		e.ok(t, "ft-officer", id, models.StateReviewing, map[string]any{"action": "dispose", "true": true, "reasonable": true,
			"disposition": "rectify_now", "measures": "已优化办理流程与平台"})
	})
}

// TestIndicatorCatalogue (issue 15, finding 4) on both databases: the default catalogue and a
// jurisdiction's own are served publicly; a rating naming an indicator outside its catalogue
// is refused 422 unknown_indicator; the old free names keep working under the default; a
// custom indicator of kind staff (staff_attitude) is appealable.
func TestIndicatorCatalogue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		f := orgfile.Demo()
		f.Users = append(f.Users, orgfile.User{Login: "ns-leader", Name: "南山负责人", Roles: []orgfile.Role{{Role: models.RoleUnitLeader, Unit: "sz-ns-tax"}}})
		f.Indicators = []orgfile.Catalogue{{Unit: "sz-ns", Indicators: []indicators.Indicator{
			{Code: "overall", Name: "总体评价", Kind: "overall"},
			{Code: "staff_attitude", Name: "窗口人员态度", Kind: "staff"},
			{Code: "window_wait", Name: "等候时间", Kind: "process"},
		}}}
		if _, err := orgfile.Apply(context.Background(), db, f); err != nil {
			t.Fatal(err)
		}
		var cat struct {
			Source     *string                `json:"source"`
			Indicators []indicators.Indicator `json:"indicators"`
			Offered    []indicators.Indicator `json:"offered"`
		}
		r := e.do(t, request{method: "GET", path: "/api/v1/indicators"})
		wantStatus(t, r, http.StatusOK)
		r.decode(t, &cat)
		if cat.Source != nil || len(cat.Offered) != len(indicators.Offered) || cat.Indicators[0].Code != "overall" {
			t.Errorf("default catalogue %s", r)
		}
		r = e.do(t, request{method: "GET", path: "/api/v1/indicators?unit=sz-ns-tax"})
		wantStatus(t, r, http.StatusOK)
		r.decode(t, &cat)
		if cat.Source == nil || *cat.Source != "sz-ns" || len(cat.Indicators) != 3 || cat.Indicators[1].Kind != "staff" || cat.Indicators[1].Name != "窗口人员态度" {
			t.Errorf("sz-ns catalogue %s", r)
		}
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/indicators?unit=nowhere"}), http.StatusUnprocessableEntity, "unknown_unit", "unit")

		ns, ft := uniq("C"), uniq("C")
		e.postCase(t, ns, "sz-ns-tax", "S0018")
		e.postCase(t, ft, "sz-ft-tax", "S0001")
		rate := func(caseNo string, levels map[string]any) map[string]any {
			b := evalBody(uniq("E"), []string{caseNo}, models.Dissatisfied, time.Now())
			b["levels"] = levels
			return b
		}
		// Outside the catalogue: refused, nothing stored.
		wantError(t, e.postRating(t, rate(ns, map[string]any{"overall": "dissatisfied", "attitude": "very_dissatisfied"})),
			http.StatusUnprocessableEntity, "unknown_indicator", "levels.attitude")
		wantError(t, e.postRating(t, rate(ft, map[string]any{"overall": "dissatisfied", "queue_length": "very_dissatisfied"})),
			http.StatusUnprocessableEntity, "unknown_indicator", "levels.queue_length")
		if n := e.count(t, "work_orders", "1 = 1"); n != 0 {
			t.Fatalf("%d work orders after refused ratings", n)
		}
		// An old free name in the default catalogue still works.
		e.postEval(t, rate(ft, map[string]any{"overall": "satisfied", "speed": "satisfied"}))

		// The custom staff indicator can be appealed (by the unit leader).
		res := e.postEval(t, rate(ns, map[string]any{"overall": "dissatisfied", "staff_attitude": "very_dissatisfied"}))
		id := *res.WorkOrderID
		e.waitState(t, id, models.StateDispatched)
		e.ok(t, "ns-officer", id, models.StateSigned, map[string]any{"action": "sign"})
		e.ok(t, "ns-officer", id, models.StateCalledBack, map[string]any{"action": "callback", "reached": true, "method": "phone", "note": "已联系"})
		e.ok(t, "ns-leader", id, models.StateAppealing, map[string]any{"action": "dispose", "true": false, "reasonable": false,
			"disposition": "appeal", "appeal_reason": "mistaken", "evidence": "录像", "note": "误评"})
	})
}

// TestThemeRoutesItemByItem (issue 15, finding 5) on both databases: a theme rating whose only
// bad item belongs to one department opens its order at that department (the district's
// manual-dispatch queue gets nothing), the order shows the item's levels, and the department
// whose item was rated 非常满意 is charged no bad review — each unit its own item's level.
func TestThemeRoutesItemByItem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		taxCase, amrCase := uniq("T"), uniq("T")
		e.postCase(t, taxCase, "sz-ft-tax", "S0001")
		postAMRCase(t, e, amrCase)

		b := evalBody(uniq("E"), []string{taxCase, amrCase}, models.BasicallySatisfied, time.Now())
		b["levels"] = map[string]any{"overall": models.BasicallySatisfied}
		b["theme"] = map[string]any{"code": "open-business", "name": "开办企业", "items": []any{
			map[string]any{"item_code": "tax-001", "levels": map[string]any{"overall": "dissatisfied", "efficiency": "very_dissatisfied"}},
			map[string]any{"item_code": "amr-001", "case_no": amrCase, "levels": map[string]any{"overall": "very_satisfied"}},
		}}
		res := e.postEval(t, b)
		if !res.Bad || res.WorkOrderID == nil {
			t.Fatalf("theme rating answered %+v", res)
		}
		wo := e.waitState(t, *res.WorkOrderID, models.StateDispatched)
		if wo.UnitPath != "/gd/sz/sz-ft/sz-ft-tax/" {
			t.Errorf("order went to %s, want the tax department", wo.UnitPath)
		}
		if n := e.count(t, "work_orders", "state = ?", models.StatePendingDispatch); n != 0 {
			t.Errorf("%d orders in the manual-dispatch queue", n)
		}
		if wo.Levels.V["overall"] != "dissatisfied" || wo.Levels.V["efficiency"] != "very_dissatisfied" {
			t.Errorf("order levels %v, want the bad item's", wo.Levels.V)
		}
		tax, amrF := unitFigures(t, db, "sz-ft-tax"), unitFigures(t, db, "sz-ft-amr")
		if tax.Ratings.Bad != 1 || tax.Ratings.Active.Dissatisfied != 1 {
			t.Errorf("tax department %+v, want its item's 不满意 and one bad review", tax.Ratings)
		}
		if amrF.Ratings.Bad != 0 || amrF.Ratings.Active.VerySatisfied != 1 || amrF.Orders.Orders != 0 {
			t.Errorf("market department %+v / %+v, want its item's 非常满意 and nothing bad", amrF.Ratings, amrF.Orders)
		}
	})
}

// TestThemeSplitsOrdersByUnit (issue 15, theme services item by item) on both databases: a
// theme rating whose bad items belong to two units opens one order at each (the administration's
// queue gets nothing), each carrying only its own item's levels and cases, in its own unit's
// inbox and not in the other's, each with its own clocks; statistics charge each unit its own
// item's level and order, and the unit whose item was rated 非常满意 nothing. A retry answers the
// same orders.
func TestThemeSplitsOrdersByUnit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		ftCase, nsCase, amrCase := uniq("T"), uniq("T"), uniq("T")
		e.postCase(t, ftCase, "sz-ft-tax", "S0001")
		e.postCase(t, nsCase, "sz-ns-tax", "S0018")
		postAMRCase(t, e, amrCase)

		b := evalBody(uniq("E"), []string{ftCase, nsCase, amrCase}, models.BasicallySatisfied, time.Now())
		b["levels"] = map[string]any{"overall": models.BasicallySatisfied}
		b["theme"] = map[string]any{"code": "open-business", "name": "开办企业", "items": []any{
			map[string]any{"item_code": "tax-ft", "case_no": ftCase, "levels": map[string]any{"overall": "dissatisfied"}},
			map[string]any{"item_code": "tax-ns", "case_no": nsCase, "levels": map[string]any{"overall": "very_dissatisfied", "efficiency": "dissatisfied"}},
			map[string]any{"item_code": "amr-001", "case_no": amrCase, "levels": map[string]any{"overall": "very_satisfied"}},
		}}
		r := e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: b})
		wantStatus(t, r, http.StatusCreated)
		var res struct {
			ID           string   `json:"id"`
			Bad          bool     `json:"bad"`
			WorkOrderID  *string  `json:"work_order_id"`
			WorkOrderIDs []string `json:"work_order_ids"`
		}
		r.decode(t, &res)
		if !res.Bad || res.WorkOrderID == nil || len(res.WorkOrderIDs) != 2 || res.WorkOrderIDs[0] != *res.WorkOrderID {
			t.Fatalf("theme rating answered %+v, want two orders", res)
		}
		if n := e.count(t, "work_orders", "evaluation_id = ?", res.ID); n != 2 {
			t.Fatalf("%d orders stored for the rating, want 2", n)
		}
		byUnit := map[string]models.WorkOrder{}
		for _, id := range res.WorkOrderIDs {
			wo := e.waitState(t, id, models.StateDispatched)
			byUnit[wo.UnitPath] = wo
		}
		ft, ns := byUnit["/gd/sz/sz-ft/sz-ft-tax/"], byUnit["/gd/sz/sz-ns/sz-ns-tax/"]
		if ft.ID == "" || ns.ID == "" {
			t.Fatalf("orders went to %v, want one at each tax department", byUnit)
		}
		if len(ft.Levels.V) != 1 || ft.Levels.V["overall"] != "dissatisfied" || fmt.Sprint(ft.CaseNos.V) != fmt.Sprint([]string{ftCase}) {
			t.Errorf("福田 order: levels %v, cases %v; want only its item's", ft.Levels.V, ft.CaseNos.V)
		}
		if len(ns.Levels.V) != 2 || ns.Levels.V["overall"] != "very_dissatisfied" || ns.Levels.V["efficiency"] != "dissatisfied" || fmt.Sprint(ns.CaseNos.V) != fmt.Sprint([]string{nsCase}) {
			t.Errorf("南山 order: levels %v, cases %v; want only its item's", ns.Levels.V, ns.CaseNos.V)
		}
		if n := e.count(t, "work_orders", "evaluation_id = ? AND state = ?", res.ID, models.StatePendingDispatch); n != 0 {
			t.Errorf("%d orders in the manual-dispatch queue", n)
		}
		// Each in its own unit's inbox, not in the other's.
		ftList, nsList := ids(e.list(t, "ft-officer", "")), ids(e.list(t, "ns-officer", ""))
		if !slices.Contains(ftList, ft.ID) || slices.Contains(ftList, ns.ID) {
			t.Errorf("福田 inbox %v: want %s and not %s", ftList, ft.ID, ns.ID)
		}
		if !slices.Contains(nsList, ns.ID) || slices.Contains(nsList, ft.ID) {
			t.Errorf("南山 inbox %v: want %s and not %s", nsList, ns.ID, ft.ID)
		}
		wantError(t, e.act(t, "ft-officer", ns.ID, "", map[string]any{"action": "sign"}), 404, "not_found", "")
		// Each runs its own clocks: 福田 signing leaves 南山's sign clock running.
		e.ok(t, "ft-officer", ft.ID, models.StateSigned, map[string]any{"action": "sign"})
		if got := e.order(t, ns.ID); got.State != models.StateDispatched || got.NextDueAt == nil {
			t.Errorf("南山 order after 福田 signed: %s, next due %v", got.State, got.NextDueAt)
		}
		evs := e.timeline(t, "sz-admin", ns.ID)
		if evs[0].Type != "opened" || fmt.Sprint(evs[0].Data["bad_theme_items"]) != "[tax-ns]" || fmt.Sprint(evs[0].Data["sibling_orders"]) != fmt.Sprintf("[%s]", ft.ID) {
			t.Errorf("南山 order's opening event %+v", evs[0])
		}
		// A retry answers the same orders.
		r = e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: b})
		wantStatus(t, r, http.StatusOK)
		var again struct {
			WorkOrderIDs []string `json:"work_order_ids"`
		}
		r.decode(t, &again)
		if fmt.Sprint(again.WorkOrderIDs) != fmt.Sprint(res.WorkOrderIDs) {
			t.Errorf("retry answered orders %v, want %v", again.WorkOrderIDs, res.WorkOrderIDs)
		}

		ftF, nsF, amrF := unitFigures(t, db, "sz-ft-tax"), unitFigures(t, db, "sz-ns-tax"), unitFigures(t, db, "sz-ft-amr")
		if ftF.Ratings.Bad != 1 || ftF.Ratings.Active.Dissatisfied != 1 || ftF.Orders.Orders != 1 {
			t.Errorf("福田 tax %+v / %+v, want its item's 不满意 and one order", ftF.Ratings, ftF.Orders)
		}
		if nsF.Ratings.Bad != 1 || nsF.Ratings.Active.VeryDissatisfied != 1 || nsF.Orders.Orders != 1 {
			t.Errorf("南山 tax %+v / %+v, want its item's 非常不满意 and one order", nsF.Ratings, nsF.Orders)
		}
		if amrF.Ratings.Bad != 0 || amrF.Ratings.Active.VerySatisfied != 1 || amrF.Orders.Orders != 0 {
			t.Errorf("market department %+v / %+v, want its item's 非常满意 and nothing bad", amrF.Ratings, amrF.Orders)
		}
	})
}

// TestAppealOnOneOrderOfSplitTheme (issue 15: exclusion per case) on both databases: a theme
// rating with bad items in 福田 and 南山 opens an order at each; an appeal decided on 福田's order
// touches only 福田's case. Upheld with only staff indicators bad, 福田's unit and staff figures
// leave the rating out; upheld while efficiency (process) was bad too, only 福田's staff figures
// leave it out; rejected, nothing is left out. 南山's unit and staff figures never change. The
// evaluator is told of either upheld outcome in Chinese — what was set aside and, when the order
// goes on, that it goes on — and of a rejection nothing (the order simply continues and the
// evaluator hears at feedback, as for any order).
func TestAppealOnOneOrderOfSplitTheme(t *testing.T) {
	cases := []struct {
		name     string
		ftLevels map[string]any
		upheld   bool
		state    string // of 福田's order after the decision
		// change of 福田's unit figures (bad, excluded) and of its staff member's
		unitBad, unitExcl, staffBad, staffExcl int
		sms                                    string   // template of the evaluator's SMS, "" for none
		words                                  []string // what the SMS says
	}{
		{name: "upheld, staff only", ftLevels: map[string]any{"overall": "dissatisfied", "attitude": "very_dissatisfied"},
			upheld: true, state: models.StateReviewing, unitBad: -1, unitExcl: 1, staffBad: -1, staffExcl: 1,
			sms: "appeal_upheld", words: []string{"评价经复核不予采纳"}},
		{name: "upheld, efficiency bad too", ftLevels: map[string]any{"overall": "dissatisfied", "attitude": "very_dissatisfied", "efficiency": "dissatisfied"},
			upheld: true, state: models.StateCalledBack, unitBad: 0, unitExcl: 0, staffBad: -1, staffExcl: 1,
			sms: "appeal_upheld_partly_evaluator", words: []string{"服务态度", "不予采纳", "办事效率", "继续办理"}},
		{name: "rejected", ftLevels: map[string]any{"overall": "dissatisfied", "attitude": "very_dissatisfied"},
			upheld: false, state: models.StateCalledBack},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		g := e.startNotifier(t)
		var ftUnitName string
		db.Table("units").Where("code = ?", "sz-ft-tax").Pluck("name", &ftUnitName)
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				ftCase, nsCase := uniq("T"), uniq("T")
				e.postCase(t, ftCase, "sz-ft-tax", "S0001")
				e.postCase(t, nsCase, "sz-ns-tax", "S0018")
				b := evalBody(uniq("E"), []string{ftCase, nsCase}, models.Dissatisfied, time.Now())
				b["levels"] = map[string]any{"overall": models.Dissatisfied}
				b["theme"] = map[string]any{"code": "open-business", "name": "开办企业", "items": []any{
					map[string]any{"item_code": "tax-ft", "case_no": ftCase, "levels": c.ftLevels},
					map[string]any{"item_code": "tax-ns", "case_no": nsCase, "levels": map[string]any{"overall": "very_dissatisfied", "attitude": "dissatisfied"}},
				}}
				res := postThemeRating(t, e, b, 2)
				var ftID string
				for _, id := range res.WorkOrderIDs {
					if wo := e.waitState(t, id, models.StateDispatched); wo.UnitPath == "/gd/sz/sz-ft/sz-ft-tax/" {
						ftID = id
					}
				}
				ftU, nsU := unitFigures(t, db, "sz-ft-tax"), unitFigures(t, db, "sz-ns-tax")
				ftS, nsS := staffFigures(t, db, "S0001"), staffFigures(t, db, "S0018")

				e.ok(t, "ft-officer", ftID, models.StateSigned, map[string]any{"action": "sign"})
				e.ok(t, "ft-officer", ftID, models.StateCalledBack, map[string]any{"action": "callback", "reached": true, "method": "phone", "note": "已联系"})
				e.ok(t, "ft-leader", ftID, models.StateAppealing, map[string]any{"action": "dispose", "true": false, "reasonable": false,
					"disposition": "appeal", "appeal_reason": "mistaken", "evidence": "窗口录像", "note": "态度评价系误评"})
				e.ok(t, "sz-admin", ftID, c.state, map[string]any{"action": "decide_appeal", "upheld": c.upheld, "note": "复核"})

				ftU2, nsU2 := unitFigures(t, db, "sz-ft-tax"), unitFigures(t, db, "sz-ns-tax")
				ftS2, nsS2 := staffFigures(t, db, "S0001"), staffFigures(t, db, "S0018")
				// The counts, not the derived rates (pointers).
				counts := func(r stats.Ratings) string {
					return fmt.Sprintf("%+v %+v bad %d excluded %d", r.Active, r.Default, r.Bad, r.Excluded)
				}
				if counts(nsU2.Ratings) != counts(nsU.Ratings) {
					t.Errorf("南山's unit figures changed by 福田's appeal: %s, before %s", counts(nsU2.Ratings), counts(nsU.Ratings))
				}
				if counts(nsS2) != counts(nsS) {
					t.Errorf("南山's staff figures changed by 福田's appeal: %s, before %s", counts(nsS2), counts(nsS))
				}
				if d := ftU2.Ratings.Bad - ftU.Ratings.Bad; d != c.unitBad {
					t.Errorf("福田's unit bad reviews changed by %d, want %d", d, c.unitBad)
				}
				if d := ftU2.Ratings.Excluded - ftU.Ratings.Excluded; d != c.unitExcl {
					t.Errorf("福田's unit exclusions changed by %d, want %d", d, c.unitExcl)
				}
				if d := ftS2.Bad - ftS.Bad; d != c.staffBad {
					t.Errorf("福田's staff member's bad reviews changed by %d, want %d", d, c.staffBad)
				}
				if d := ftS2.Excluded - ftS.Excluded; d != c.staffExcl {
					t.Errorf("福田's staff member's exclusions changed by %d, want %d", d, c.staffExcl)
				}

				// The outbox row is written with the decision's event, before the answer.
				var tmpls []string
				db.Table("notifications").Where("work_order_id = ? AND recipient_kind = ?", ftID, "evaluator").
					Where("template LIKE ?", "appeal%").Pluck("template", &tmpls)
				if c.sms == "" {
					if len(tmpls) != 0 {
						t.Errorf("evaluator told %v of a rejected appeal, want nothing", tmpls)
					}
					return
				}
				if len(tmpls) != 1 || tmpls[0] != c.sms {
					t.Fatalf("evaluator SMS %v, want one %s", tmpls, c.sms)
				}
				var text string
				eventually(t, 15*time.Second, func() (bool, string) {
					for _, m := range g.sms(ftID, c.sms) {
						text, _ = m["text"].(string)
						return true, ""
					}
					return false, "no " + c.sms + " SMS sent"
				})
				for _, w := range append(c.words, "/api/v1/track/", ftUnitName) {
					if !strings.Contains(text, w) {
						t.Errorf("SMS %q does not say %q", text, w)
					}
				}
				if strings.ContainsAny(text, "{}") || strings.Contains(text, "attitude") {
					t.Errorf("SMS %q shows a placeholder or a code", text)
				}
				// The link shows the same outcome: upheld, and in part when the order goes on.
				var tv struct {
					Appeal *struct {
						Upheld bool `json:"upheld"`
						Partly bool `json:"partly"`
					} `json:"appeal"`
				}
				link, _ := g.sms(ftID, c.sms)[0]["params"].(map[string]any)["link"].(string)
				e.do(t, request{method: "GET", path: strings.TrimPrefix(link, e.http.URL)}).decode(t, &tv)
				if partly := c.state == models.StateCalledBack; tv.Appeal == nil || !tv.Appeal.Upheld || tv.Appeal.Partly != partly {
					t.Errorf("tracking page's appeal %+v, want upheld, partly %v", tv.Appeal, partly)
				}
			})
		}
	})
}

// TestAppealLeavesOtherUnitsCases (issue 15: exclusion per case) on both databases: an upheld
// appeal excludes only the cases its order answers for. A theme rating whose one bad item is
// 福田 tax's opens one order over all the rating's cases; upheld, it leaves the market
// department's 非常满意 counted for the market department. A bad item that rates no case opens
// an order over all the rating's cases for manual dispatch; upheld, it leaves the cases of the
// units' own orders (福田's and 南山's) counted.
func TestAppealLeavesOtherUnitsCases(t *testing.T) {
	staffBad := map[string]any{"overall": "dissatisfied", "attitude": "very_dissatisfied"}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		appealUpheld := func(t *testing.T, id, officer, leader string) {
			t.Helper()
			e.ok(t, officer, id, models.StateSigned, map[string]any{"action": "sign"})
			e.ok(t, officer, id, models.StateCalledBack, map[string]any{"action": "callback", "reached": true, "method": "phone", "note": "已联系"})
			e.ok(t, leader, id, models.StateAppealing, map[string]any{"action": "dispose", "true": false, "reasonable": false,
				"disposition": "appeal", "appeal_reason": "mistaken", "evidence": "窗口录像", "note": "态度评价系误评"})
			e.ok(t, "sz-admin", id, models.StateReviewing, map[string]any{"action": "decide_appeal", "upheld": true, "note": "复核成立"})
		}
		counts := func(r stats.Ratings) string {
			return fmt.Sprintf("%+v %+v bad %d excluded %d", r.Active, r.Default, r.Bad, r.Excluded)
		}

		t.Run("a good item's unit", func(t *testing.T) {
			taxCase, amrCase := uniq("T"), uniq("T")
			e.postCase(t, taxCase, "sz-ft-tax", "S0001")
			postAMRCase(t, e, amrCase)
			b := evalBody(uniq("E"), []string{taxCase, amrCase}, models.BasicallySatisfied, time.Now())
			b["levels"] = map[string]any{"overall": models.BasicallySatisfied}
			b["theme"] = map[string]any{"code": "open-business", "name": "开办企业", "items": []any{
				map[string]any{"item_code": "tax-001", "case_no": taxCase, "levels": staffBad},
				map[string]any{"item_code": "amr-001", "case_no": amrCase, "levels": map[string]any{"overall": "very_satisfied"}},
			}}
			res := e.postEval(t, b)
			e.waitState(t, *res.WorkOrderID, models.StateDispatched)
			before := unitFigures(t, db, "sz-ft-amr")
			appealUpheld(t, *res.WorkOrderID, "ft-officer", "ft-leader")
			if after := unitFigures(t, db, "sz-ft-amr"); counts(after.Ratings) != counts(before.Ratings) {
				t.Errorf("market department after the tax order's appeal: %s, before %s", counts(after.Ratings), counts(before.Ratings))
			}
			if s := staffFigures(t, db, "S0001"); s.Excluded != 1 {
				t.Errorf("tax officer's figures %s, want the rating excluded", counts(s))
			}
		})

		t.Run("an item that rates no case", func(t *testing.T) {
			ftCase, nsCase := uniq("T"), uniq("T")
			e.postCase(t, ftCase, "sz-ft-tax", "S0001")
			e.postCase(t, nsCase, "sz-ns-tax", "S0018")
			b := evalBody(uniq("E"), []string{ftCase, nsCase}, models.Dissatisfied, time.Now())
			b["levels"] = map[string]any{"overall": models.Dissatisfied}
			b["theme"] = map[string]any{"code": "open-business", "name": "开办企业", "items": []any{
				map[string]any{"item_code": "tax-ft", "case_no": ftCase, "levels": staffBad},
				map[string]any{"item_code": "tax-ns", "case_no": nsCase, "levels": staffBad},
				map[string]any{"item_code": "guide-001", "levels": staffBad},
			}}
			res := postThemeRating(t, e, b, 3)
			// Two orders go to their units, the third waits in the administration's queue.
			var queued string
			eventually(t, 15*time.Second, func() (bool, string) {
				queued = ""
				n := 0
				for _, id := range res.WorkOrderIDs {
					// An order is stored pending_dispatch; the workflow's dispatch decision
					// then gives it a unit or the administration's queue (its path).
					switch o := e.order(t, id); o.State {
					case models.StatePendingDispatch:
						if o.UnitPath != "" {
							queued = id
						}
					case models.StateDispatched:
						n++
					}
				}
				return queued != "" && n == 2, "orders not yet dispatched and queued"
			})
			e.ok(t, "sz-admin", queued, models.StateDispatched, map[string]any{"action": "dispatch", "to_unit": "sz-ft-tax"})
			ftU, nsU := unitFigures(t, db, "sz-ft-tax"), unitFigures(t, db, "sz-ns-tax")
			ftS, nsS := staffFigures(t, db, "S0001"), staffFigures(t, db, "S0018")
			appealUpheld(t, queued, "ft-officer", "ft-leader")
			for _, c := range []struct {
				who           string
				before, after stats.Ratings
			}{
				{"福田 unit", ftU.Ratings, unitFigures(t, db, "sz-ft-tax").Ratings},
				{"南山 unit", nsU.Ratings, unitFigures(t, db, "sz-ns-tax").Ratings},
				{"福田 staff", ftS, staffFigures(t, db, "S0001")},
				{"南山 staff", nsS, staffFigures(t, db, "S0018")},
			} {
				if counts(c.after) != counts(c.before) {
					t.Errorf("%s after the appeal on the unmatched item's order: %s, before %s", c.who, counts(c.after), counts(c.before))
				}
			}
		})
	})
}

// themeRatingResult is the part of a theme rating's answer the split tests read.
type themeRatingResult struct {
	WorkOrderIDs []string `json:"work_order_ids"`
}

// postThemeRating posts a theme rating through the channel and wants it to open n orders,
// one per unit with a bad item (and the administration's queue for an item with no case).
func postThemeRating(t *testing.T, e *env, b map[string]any, n int) themeRatingResult {
	t.Helper()
	r := e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: b})
	wantStatus(t, r, http.StatusCreated)
	var res themeRatingResult
	r.decode(t, &res)
	if len(res.WorkOrderIDs) != n {
		t.Fatalf("theme rating answered %s, want %d orders", r, n)
	}
	return res
}

// postAMRCase registers a case of 福田's market department for the theme item amr-001 (营业执照办理).
func postAMRCase(t *testing.T, e *env, caseNo string) {
	t.Helper()
	amr := caseBody(caseNo, "sz-ft-amr", "S0004", time.Now().Add(-time.Hour))
	amr["service_item"] = map[string]any{"code": "amr-001", "name": "营业执照办理"}
	wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/service-cases", login: "channel", body: amr}), http.StatusCreated)
}
