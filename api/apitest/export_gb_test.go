package apitest

import (
	"bytes"
	"encoding/csv"
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
