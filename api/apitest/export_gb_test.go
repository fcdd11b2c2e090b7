package apitest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"redress/calendar"
	"redress/codes"
	"redress/models"
	"redress/store"
	"redress/store/storetest"
	"redress/upstream"
)

// TestWorkOrderExportGBT39046: on both databases, the work-order export with profile=gb39046
// gives one GB/T 39046-2020 表9 row a case of each order, checked field by field against the
// code tables (评价渠道, 满意度代码 A.8, 评价时间 YYYYMMDDThhmmss, 行政区划 of the unit's district),
// with no identity of the evaluator; an unknown profile is refused.
func TestWorkOrderExportGBT39046(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		_, id1 := e.badOrder(t, "sz-ft-tax", "")
		_, id2 := e.badOrder(t, "sz-ns-tax", "")
		e.waitState(t, id1, models.StateDispatched)
		e.waitState(t, id2, models.StateDispatched)

		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/exports/work-orders?profile=nope", login: "sz-auditor"}),
			http.StatusUnprocessableEntity, "unknown_profile", "profile")
		r := e.do(t, request{method: "GET", path: "/api/v1/exports/work-orders?format=csv&profile=gb39046", login: "sz-auditor"})
		wantStatus(t, r, http.StatusOK)
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		header := []string{"工单号", "办件编号", "评价渠道", "评价人", "评价时间", "评价次数", "满意度", "满意度代码", "文字评价", "行政区划"}
		if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(header, ",") {
			t.Fatalf("header %v, want %v", recs, header)
		}
		division := map[string]string{id1: "440304000", id2: "440305000"}
		words := map[int]string{1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意", 5: "非常不满意"}
		seen := map[string]bool{}
		for _, row := range recs[1:] {
			id := row[0]
			var o struct {
				Channel, Overall, Comment string
				RatedAt                   time.Time
				CaseNo                    string
			}
			if err := db.Raw(`SELECT e.channel, e.overall, e.comment, e.rated_at, ec.case_no FROM work_orders w JOIN evaluations e ON e.id = w.evaluation_id
				JOIN evaluation_cases ec ON ec.evaluation_id = e.id WHERE w.id = ? AND ec.case_no = ?`, id, row[1]).Scan(&o).Error; err != nil || o.CaseNo == "" {
				t.Fatalf("row %v: no such order and case (%v)", row, err)
			}
			ch, _ := codes.ChannelToProvincial(o.Channel)
			lv, _ := codes.LevelToGB(o.Overall)
			want := []string{id, o.CaseNo, fmt.Sprint(ch), "", o.RatedAt.In(calendar.Zone()).Format("20060102T150405"), "1", words[lv], fmt.Sprint(lv), o.Comment, division[id]}
			if strings.Join(row, "|") != strings.Join(want, "|") {
				t.Errorf("row\n got %q\nwant %q", row, want)
			}
			seen[id] = true
		}
		if !seen[id1] || !seen[id2] {
			t.Fatalf("rows for %v, want both orders", seen)
		}
		if bytes.Contains(r.body, []byte(evaluatorPhone)) || bytes.Contains(r.body, []byte(evaluatorName)) {
			t.Error("the export holds the evaluator's identity")
		}
	})
}

// TestWorkOrderExportGBT39046Supervision: on both databases, the export with profile=gb39046
// and table=11 gives one GB/T 39046-2020 表11 (电子监察) row a supervision (督办) of the
// exported orders, checked field by field against the real 督办 the sign deadline's breach
// issued on a real order in each of two units (督办内容, 督办发出时间 YYYYMMDDThhmmss, 监察编号
// the timeline event, 监察规则编号 the breached deadline, 监察预警类型代码 1 督办, 监察结果描述,
// 责任部门 the unit); scoped as the order export: 福田's officer gets 福田's only, the city's
// auditor both (the officer once granted the export); a table other than 9 or 11, or 11 without a profile, is refused.
func TestWorkOrderExportGBT39046Supervision(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		twoSec := "2s"
		setPolicy(t, db, "sz-ft-tax", models.PolicyDoc{Deadlines: map[string]models.Budget{"sign": {Duration: &twoSec}}})
		setPolicy(t, db, "sz-ns-tax", models.PolicyDoc{Deadlines: map[string]models.Budget{"sign": {Duration: &twoSec}}})
		_, ft := e.badOrder(t, "sz-ft-tax", "")
		_, ns := e.badOrder(t, "sz-ns-tax", "")
		e.waitState(t, ft, models.StateDispatched)
		e.waitState(t, ns, models.StateDispatched)
		e.waitEvent(t, ft, "supervision", "sign")
		e.waitEvent(t, ns, "supervision", "sign")

		for _, c := range []struct{ query, code, field string }{
			{"?profile=gb39046&table=10", "invalid_table", "table"},
			{"?table=11", "invalid_table", "table"},
		} {
			wantError(t, e.do(t, request{method: "GET", path: "/api/v1/exports/work-orders" + c.query, login: "sz-auditor"}),
				http.StatusUnprocessableEntity, c.code, c.field)
		}

		// The real supervisions, as stored.
		type sup struct {
			ID, WorkOrderID, UnitName string
			At                        time.Time
		}
		want := map[string]sup{}
		for _, id := range []string{ft, ns} {
			var ss []sup
			if err := db.Raw(`SELECT te.id, te.work_order_id, te.at, u.name AS unit_name FROM timeline_events te JOIN work_orders w ON w.id = te.work_order_id
				JOIN units u ON u.path = w.unit_path WHERE te.work_order_id = ? AND te.type = 'supervision' AND NOT te.superseded`, id).Scan(&ss).Error; err != nil || len(ss) == 0 {
				t.Fatalf("order %s: no supervision (%v)", id, err)
			}
			for _, s := range ss {
				want[s.ID] = s
			}
		}
		export := func(login string) map[string][]string {
			r := e.do(t, request{method: "GET", path: "/api/v1/exports/work-orders?format=csv&profile=gb39046&table=11", login: login})
			wantStatus(t, r, http.StatusOK)
			recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff")))).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			header := []string{"工单号", "督办内容", "督办发出时间", "监察编号", "监察规则编号", "监察预警类型代码", "监察结果描述", "责任部门"}
			if len(recs) == 0 || strings.Join(recs[0], ",") != strings.Join(header, ",") {
				t.Fatalf("%s: header %v, want %v", login, recs, header)
			}
			rows := map[string][]string{}
			for _, row := range recs[1:] {
				rows[row[3]] = row // 监察编号
			}
			return rows
		}
		// The push sends the same 表11 records: fed, each supervision's outcome carries the
		// record the export shows (before MonitorID, every real supervision was parked dead:
		// its event id is longer than 监察编号's 64 characters).
		if _, err := (&upstream.Feeder{DB: db}).Pass(context.Background()); err != nil {
			t.Fatal(err)
		}
		all := export("sz-auditor")
		for id := range want {
			var m struct{ Status, LastError, Payload string }
			if err := db.Table("upstream_messages").Where("id = ?", "outcome:"+id).Take(&m).Error; err != nil {
				t.Fatalf("supervision %s not queued: %v", id, err)
			}
			if m.Status == upstream.StatusDead {
				t.Errorf("supervision %s parked dead: %s", id, m.LastError)
				continue
			}
			var p upstream.OutcomePayload
			if err := json.Unmarshal([]byte(m.Payload), &p); err != nil {
				t.Fatal(err)
			}
			row := all[p.Record["监察编号"]]
			keys := []string{"督办内容", "督办发出时间", "监察编号", "监察规则编号", "监察预警类型代码", "监察结果描述", "责任部门"}
			for i, k := range keys {
				if row == nil || p.Record[k] != row[i+1] {
					t.Errorf("supervision %s: pushed %s = %q, exported row %v", id, k, p.Record[k], row)
				}
			}
		}

		check := func(login string, orders ...string) {
			rows := export(login)
			n := 0
			for id, s := range want {
				in := false
				for _, o := range orders {
					in = in || s.WorkOrderID == o
				}
				// 监察编号: the order, the run's digest and the sequence number (the event's
				// own id is longer than the field's 64 characters).
				parts := strings.Split(id, "/")
				run := sha256.Sum256([]byte(parts[1]))
				monitor := strings.TrimPrefix(parts[0], "work-order-") + "/" + hex.EncodeToString(run[:4]) + "/" + parts[2]
				row, ok := rows[monitor]
				if !in {
					if ok {
						t.Errorf("%s: another unit's supervision %s (order %s) exported: %v", login, id, s.WorkOrderID, row)
					}
					continue
				}
				n++
				if !ok {
					t.Errorf("%s: supervision %s of order %s missing from %v", login, id, s.WorkOrderID, rows)
					continue
				}
				exp := []string{s.WorkOrderID, "“签收”时限已超期，督办", s.At.In(calendar.Zone()).Format("20060102T150405"), monitor,
					"deadline:sign", "1", "督办（超期）", s.UnitName}
				if strings.Join(row, "|") != strings.Join(exp, "|") {
					t.Errorf("%s: row\n got %q\nwant %q", login, row, exp)
				}
			}
			if len(rows) != n {
				t.Errorf("%s: %d rows, want %d: %v", login, len(rows), n, rows)
			}
		}
		check("sz-auditor", ft, ns)
		// 福田's officers may export once 深圳's administrator grants it in 福田's subtree; the
		// export then holds 福田's supervision and not 南山's.
		wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/admin/policies", login: "sz-admin",
			body: map[string]string{"subject": "officer", "domain": "/gd/sz/sz-ft/*", "route": "/api/v1/exports/work-orders", "method": "GET"}}), 201)
		check("ft-officer", ft)
	})
}
