package upstream_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"redress/calendar"
	"redress/codes"
	"redress/models"
	"redress/pii"
	"redress/profiles"
	"redress/stats/statstest"
	"redress/store"
	"redress/store/storetest"
	"redress/upstream"
)

// a8Words are the words of GB/T 39046-2020 A.8 by code.
var a8Words = map[int]string{1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意", 5: "非常不满意"}

// divisionFor is the 行政区划代码 of the demo organisation's districts (their departments
// inherit it).
func divisionFor(path string) string {
	switch {
	case strings.HasPrefix(path, "/gd/sz/sz-ft/"):
		return "440304000"
	case strings.HasPrefix(path, "/gd/sz/sz-ns/"):
		return "440305000"
	}
	return "440300000"
}

type ratedRow struct {
	ID, EvaluationID, Channel, Overall, Comment string
	RatedAt                                     time.Time
	FollowUpOf                                  *string
}

type caseRow struct{ CaseNo, Path, Code, Item string }

func casesOf(t *testing.T, db *store.DB, evalID string) []caseRow {
	t.Helper()
	var cs []caseRow
	if err := db.Raw(`SELECT sc.case_no, u.path, u.code, sc.item_code AS item FROM evaluation_cases ec JOIN service_cases sc ON sc.case_no = ec.case_no
		JOIN units u ON u.id = sc.unit_id WHERE ec.evaluation_id = ? ORDER BY sc.case_no`, evalID).Scan(&cs).Error; err != nil {
		t.Fatal(err)
	}
	return cs
}

func payloadOf(t *testing.T, db *store.DB, id string) map[string]any {
	t.Helper()
	var m upstream.Message
	if err := db.Where("id = ?", id).Take(&m).Error; err != nil {
		t.Fatalf("message %s: %v", id, err)
	}
	if m.Status == upstream.StatusDead {
		t.Fatalf("message %s dead: %s", id, m.LastError)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(m.Payload), &body); err != nil {
		t.Fatalf("message %s: %v", id, err)
	}
	return body
}

func str(v any) string { s, _ := v.(string); return s }

// TestFeedSpeaksGBT39046: on both databases, every rating goes up with one GB/T 39046-2020
// 表9 record a case, checked field by field against the code tables (满意度代码 A.8, 评价渠道,
// 评价时间 YYYYMMDDThhmmss, 评价人 masked, 评价次数 2 for a 追评, 行政区划 inherited from the
// district), and a supervision (督办) with its 表11 record.
func TestFeedSpeaksGBT39046(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		statstest.Seed(t, db)
		statstest.Generate(t, db, 31, 40, time.Date(2025, 8, 1, 0, 0, 0, 0, calendar.Zone()), 5*24*time.Hour)
		spec, hk := pii.NewKeySpec("k1")
		box, err := pii.New(pii.SuiteAES, spec, hk)
		if err != nil {
			t.Fatal(err)
		}
		var evs []ratedRow
		if err := db.Table("evaluations").Order("id").Find(&evs).Error; err != nil {
			t.Fatal(err)
		}
		named, followUp := evs[0].ID, evs[1].ID
		db.Table("evaluations").Where("id = ?", named).Update("evaluator_name", box.Seal("欧阳修"))
		db.Table("evaluations").Where("id = ?", followUp).Update("follow_up_of", evs[2].EvaluationID)
		// A supervision of a real order, charged to its unit.
		var wo models.WorkOrder
		if err := db.Order("id").Take(&wo).Error; err != nil {
			t.Fatal(err)
		}
		sup := models.TimelineEvent{ID: wo.WorkflowID + "/sup", WorkOrderID: wo.ID, Seq: 99, At: time.Now().UTC().Truncate(time.Second), Actor: "system", Type: "supervision",
			Data: models.NewJSON(map[string]any{"level": 2, "deadline": "sign", "reason": "long_breach", "owner_kind": "unit", "owner_path": wo.UnitPath})}
		if err := db.Create(&sup).Error; err != nil {
			t.Fatal(err)
		}

		if _, err := (&upstream.Feeder{DB: db, PII: box}).Pass(ctx); err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			body := payloadOf(t, db, "rating:"+e.EvaluationID)
			if body["profile"] != profiles.National {
				t.Fatalf("%s: profile %v", e.EvaluationID, body["profile"])
			}
			recs, _ := body["records"].([]any)
			cs := casesOf(t, db, e.ID)
			if len(recs) != len(cs) {
				t.Fatalf("%s: %d records for %d cases: %v", e.EvaluationID, len(recs), len(cs), body)
			}
			ch, _ := codes.ChannelToProvincial(e.Channel)
			lvl, _ := codes.LevelToGB(e.Overall)
			for i, c := range cs {
				rec, _ := recs[i].(map[string]any)
				want := map[string]string{
					"办件编号": c.CaseNo, "评价渠道": fmt.Sprint(ch), "评价人": "", "评价时间": e.RatedAt.In(calendar.Zone()).Format("20060102T150405"),
					"评价次数": "1", "满意度": a8Words[lvl], "满意度代码": fmt.Sprint(lvl), "文字评价": e.Comment, "行政区划": divisionFor(c.Path),
				}
				if e.ID == named {
					want["评价人"] = "欧**"
				}
				if e.ID == followUp {
					want["评价次数"] = "2"
				}
				if len(rec) != len(want) {
					t.Errorf("%s/%s: record has %d fields, want %d: %v", e.EvaluationID, c.CaseNo, len(rec), len(want), rec)
				}
				for k, v := range want {
					if str(rec[k]) != v {
						t.Errorf("%s/%s: %s = %q, want %q", e.EvaluationID, c.CaseNo, k, rec[k], v)
					}
				}
			}
		}
		body := payloadOf(t, db, "outcome:"+sup.ID)
		rec, _ := body["record"].(map[string]any)
		var unitName string
		db.Table("units").Where("path = ?", wo.UnitPath).Pluck("name", &unitName)
		want := map[string]string{"督办内容": "“签收”时限已超期，挂牌督办", "督办发出时间": sup.At.In(calendar.Zone()).Format("20060102T150405"),
			"监察编号": sup.ID, "监察规则编号": "deadline:sign", "监察预警类型代码": "2", "监察结果描述": "挂牌督办（超期超过整个时限）", "责任部门": unitName}
		if len(rec) != len(want) {
			t.Errorf("表11 record has %d fields, want %d: %v", len(rec), len(want), body)
		}
		for k, v := range want {
			if str(rec[k]) != v {
				t.Errorf("表11 %s = %q, want %q", k, rec[k], v)
			}
		}
	})
}

// platform is a provincial platform on loopback (a real HTTP server): it answers each rating
// with its own id in the Zhejiang answer shape and keeps every body by idempotency key.
type platform struct {
	mu     sync.Mutex
	bodies map[string]map[string]any
	ids    map[string]string // idempotency key → the id it answered
}

func (p *platform) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	var v any // a record, or a list of records (a rating of several cases)
	if err := json.Unmarshal(raw, &v); err != nil {
		http.Error(w, `{"code":"400","msg":"not JSON"}`, http.StatusBadRequest)
		return
	}
	body, _ := v.(map[string]any)
	key := r.Header.Get("Idempotency-Key")
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.ids[key]; !ok {
		p.ids[key] = fmt.Sprintf("ZJ%06d", len(p.ids)+1)
		p.bodies[key] = body
	}
	// A failed write shows in the test as the deliverer's failed post.
	_, _ = fmt.Fprintf(w, `{"code":"0","msg":"成功","data":{"assessId":%q}}`, p.ids[key])
}

// TestZhejiangProfileAndSupplement: on both databases, under the Zhejiang profile each
// single-case rating's body is the provincial record (checked field by field: satisfaction
// reversed, pf, assessNumber, userProp, evalDetail, promiseTime); the platform's answer id is
// stored; and a rating excluded afterwards goes up again as a 补报 naming that id — also one
// excluded while its rating was still waiting to be sent.
func TestZhejiangProfileAndSupplement(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		statstest.Seed(t, db)
		statstest.Generate(t, db, 32, 20, time.Date(2025, 8, 1, 0, 0, 0, 0, calendar.Zone()), 5*24*time.Hour)
		zj, err := profiles.Get(profiles.Zhejiang)
		if err != nil {
			t.Fatal(err)
		}
		plat := &platform{bodies: map[string]map[string]any{}, ids: map[string]string{}}
		srv := httptest.NewServer(plat)
		defer srv.Close()
		feeder := &upstream.Feeder{DB: db, Profile: zj}
		d := &upstream.Deliverer{DB: db, Profile: zj, Endpoints: map[string]upstream.Endpoint{upstream.TargetUpstream: {URL: srv.URL, Secret: secret}}}

		if _, err := feeder.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		var evs []ratedRow
		db.Table("evaluations").Order("id").Find(&evs)
		var single []ratedRow
		for _, e := range evs {
			cs := casesOf(t, db, e.ID)
			if len(cs) != 1 {
				continue
			}
			single = append(single, e)
			body := payloadOf(t, db, "rating:"+e.EvaluationID)
			pf := map[string]string{"pc": "1", "mobile": "2", "qr_code": "3", "window_device": "4", "terminal": "5", "hotline": "6", "sms": "6", "default": "7"}[e.Channel]
			sat := map[string]string{models.VeryDissatisfied: "1", models.Dissatisfied: "2", models.BasicallySatisfied: "3", models.Satisfied: "4", models.VerySatisfied: "5"}[e.Overall]
			want := map[string]string{"assessId": e.EvaluationID, "projectNo": cs[0].CaseNo, "taskCode": cs[0].Item, "deptCode": cs[0].Code,
				"areaCode": divisionFor(cs[0].Path), "pf": pf, "satisfaction": sat, "assessNumber": "1", "userProp": "1", "evalDetail": "",
				"evalContent": e.Comment, "promiseTime": "1", "assessTime": e.RatedAt.In(calendar.Zone()).Format("2006-01-02 15:04:05"), "userName": ""}
			if len(body) != len(want) {
				t.Errorf("%s: body has %d fields, want %d: %v", e.EvaluationID, len(body), len(want), body)
			}
			for k, v := range want {
				if str(body[k]) != v {
					t.Errorf("%s: %s = %q, want %q", e.EvaluationID, k, body[k], v)
				}
			}
		}
		if len(single) < 3 {
			t.Fatal("fewer than three single-case ratings generated")
		}

		// One rating excluded before anything was sent: its supplement waits for the answer.
		early, late := single[0], single[1]
		exclude := func(id string) {
			if err := db.Table("evaluations").Where("id = ?", id).Updates(map[string]any{"excluded": true, "excluded_at": time.Now().UTC()}).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := feeder.Pass(ctx); err != nil {
				t.Fatal(err)
			}
		}
		exclude(early.ID)
		drain(t, ctx, db, d, 30*time.Second)
		exclude(late.ID)
		drain(t, ctx, db, d, 30*time.Second)
		// An appeal upheld on one order excludes that order's cases only (migration 00022):
		// the rating stays, its case is corrected.
		byCase := single[2]
		if err := db.Table("evaluation_cases").Where("evaluation_id = ?", byCase.ID).Update("excluded", true).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Table("evaluations").Where("id = ?", byCase.ID).Update("excluded_at", time.Now().UTC()).Error; err != nil {
			t.Fatal(err)
		}
		if _, err := feeder.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		drain(t, ctx, db, d, 30*time.Second)

		for _, e := range []ratedRow{early, late, byCase} {
			var rating upstream.Message
			db.Where("id = ?", "rating:"+e.EvaluationID).Take(&rating)
			plat.mu.Lock()
			answered := plat.ids["rating:"+e.EvaluationID]
			sup := plat.bodies["supplement:"+e.EvaluationID+":excluded:1"]
			plat.mu.Unlock()
			if rating.AnswerID == "" || rating.AnswerID != answered {
				t.Fatalf("%s: stored answer id %q, the platform answered %q", e.EvaluationID, rating.AnswerID, answered)
			}
			if sup == nil {
				t.Fatalf("%s: no supplement arrived", e.EvaluationID)
			}
			if str(sup["isSupplement"]) != "1" || str(sup["originalAssessId"]) != answered || str(sup["supplementReason"]) == "" || str(sup["assessId"]) != e.EvaluationID {
				t.Fatalf("%s: supplement %v, want it to name %s", e.EvaluationID, sup, answered)
			}
		}
		if dead := ids(t, db, upstream.StatusDead); len(dead) != 0 {
			t.Fatalf("dead messages: %v", dead)
		}
	})
}
