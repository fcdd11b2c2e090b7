package apitest

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"redress/calendar"
	"redress/models"
	"redress/profiles"
	"redress/store"
	"redress/store/storetest"
	"redress/upstream"
)

// TestCaseKindsPushedInZhejiangProfile: on both databases, a case registered as a legal
// person's (法人) immediate item (即办件) and rated in Redress's own body is pushed in the
// Zhejiang profile with userProp 2 and promiseTime 2; a case registered without them that a
// channel rates in the Zhejiang record with userProp 2 / promiseTime 2 stores them on the case
// and is pushed so; a case that says nothing is pushed as 个人 承诺件 (1, 1). Bad kinds are
// refused in the API's error shape, naming the field, with nothing stored; a Zhejiang record
// that contradicts the case is refused before its rating is stored.
func TestCaseKindsPushedInZhejiangProfile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		completed := time.Now().Add(-time.Hour) // the same for a retry
		postKinds := func(caseNo, applicant, promise string) response {
			b := caseBody(caseNo, "sz-ft-tax", "S0001", completed)
			if applicant != "" {
				b["applicant_type"] = applicant
			}
			if promise != "" {
				b["promise_kind"] = promise
			}
			return e.do(t, request{method: "POST", path: "/api/v1/service-cases", login: "channel", body: b})
		}
		// Refusals first: nothing stored.
		for _, c := range []struct{ applicant, promise, code, field string }{
			{"company", "", "invalid_applicant_type", "applicant_type"},
			{"", "2", "invalid_promise_kind", "promise_kind"},
		} {
			no := uniq("K")
			wantError(t, postKinds(no, c.applicant, c.promise), http.StatusUnprocessableEntity, c.code, c.field)
			var n int64
			db.Table("service_cases").Where("case_no = ?", no).Count(&n)
			if n != 0 {
				t.Errorf("refused case %s stored", no)
			}
		}

		legal := uniq("K")
		wantStatus(t, postKinds(legal, "legal", "immediate"), http.StatusCreated)
		wantStatus(t, postKinds(legal, "legal", "immediate"), http.StatusOK) // a retry is the same case
		wantError(t, postKinds(legal, "personal", "immediate"), http.StatusConflict, "case_conflict", "")
		// Rated in Redress's own body, without tags (the Zhejiang table codes its own).
		ownBody := func(id, caseNo string) map[string]any {
			b := evalBody(id, []string{caseNo}, "satisfied", time.Now())
			b["tags"] = []string{}
			return b
		}
		legalEval := uniq("E")
		e.postEval(t, ownBody(legalEval, legal))

		viaRecord, plain := uniq("K"), uniq("K")
		e.postCase(t, viaRecord, "sz-ft-tax", "S0001")
		e.postCase(t, plain, "sz-ft-tax", "S0001")
		at := time.Now().In(calendar.Zone()).Truncate(time.Second)
		zj := func(id, caseNo, userProp, promiseTime string) map[string]any {
			return map[string]any{"assessId": id, "projectNo": caseNo, "pf": "2", "satisfaction": "5", "assessNumber": "1",
				"userProp": userProp, "promiseTime": promiseTime, "assessTime": at.Format("2006-01-02 15:04:05"), "userName": "王五", "userPhone": "13900002222"}
		}
		postZJ := func(b map[string]any) response {
			return e.do(t, request{method: "POST", path: "/api/v1/evaluations?profile=zhejiang", login: "channel", body: b})
		}
		// The legal person's case rated as a person's: refused, the rating not stored.
		wantError(t, postZJ(zj("zj-k0", legal, "1", "2")), http.StatusUnprocessableEntity, "case_kind_mismatch", "userProp")
		var n int64
		db.Table("evaluations").Where("evaluation_id = ?", "zj-k0").Count(&n)
		if n != 0 {
			t.Error("a contradicting record's rating was stored")
		}
		wantStatus(t, postZJ(zj("zj-k1", viaRecord, "2", "2")), http.StatusCreated)
		wantStatus(t, postZJ(zj("zj-k1", viaRecord, "2", "2")), http.StatusOK)
		plainEval := uniq("E")
		e.postEval(t, ownBody(plainEval, plain))

		// A bad rating of another legal person's 即办件 opens an order: the export in the
		// Zhejiang profile carries the case's kinds too.
		badLegal := uniq("K")
		wantStatus(t, postKinds(badLegal, "legal", "immediate"), http.StatusCreated)
		bad := ownBody(uniq("E"), badLegal)
		bad["levels"] = map[string]any{"overall": "very_dissatisfied"}
		res := e.postEval(t, bad)
		if res.WorkOrderID == nil {
			t.Fatalf("a 非常不满意 rating opened no order: %+v", res)
		}
		e.waitState(t, *res.WorkOrderID, models.StateDispatched)
		r := e.do(t, request{method: "GET", path: "/api/v1/exports/work-orders?format=csv&profile=zhejiang", login: "sz-auditor"})
		wantStatus(t, r, http.StatusOK)
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff")))).ReadAll()
		if err != nil || len(recs) < 2 {
			t.Fatalf("export: %v %s", err, r.body)
		}
		col := map[string]int{}
		for i, h := range recs[0] {
			col[h] = i
		}
		found := false
		for _, row := range recs[1:] {
			if row[col["projectNo"]] == badLegal {
				found = true
				if row[col["userProp"]] != "2" || row[col["promiseTime"]] != "2" {
					t.Errorf("export of %s: userProp %q promiseTime %q, want 2 2 (%v)", badLegal, row[col["userProp"]], row[col["promiseTime"]], row)
				}
			}
		}
		if !found {
			t.Errorf("export has no row of %s: %v", badLegal, recs)
		}

		zjProf, err := profiles.Get(profiles.Zhejiang)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := (&upstream.Feeder{DB: db, Profile: zjProf}).Pass(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ evalID, caseNo, userProp, promiseTime string }{
			{legalEval, legal, "2", "2"},
			{"zj-k1", viaRecord, "2", "2"},
			{plainEval, plain, "1", "1"},
		} {
			var payload, lastErr []string
			if err := db.Table("upstream_messages").Where("id = ?", "rating:"+c.evalID).Pluck("payload", &payload).Error; err != nil || len(payload) != 1 {
				t.Fatalf("rating %s not queued (%v)", c.evalID, err)
			}
			if err := db.Table("upstream_messages").Where("id = ?", "rating:"+c.evalID).Pluck("last_error", &lastErr).Error; err != nil || lastErr[0] != "" {
				t.Errorf("rating %s not codable: %v %v", c.evalID, lastErr, err)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(payload[0]), &body); err != nil {
				t.Fatalf("%s: %v in %s", c.evalID, err, payload[0])
			}
			if body["projectNo"] != c.caseNo || body["userProp"] != c.userProp || body["promiseTime"] != c.promiseTime {
				t.Errorf("%s: projectNo %v userProp %v promiseTime %v, want %s %s %s", c.evalID, body["projectNo"], body["userProp"], body["promiseTime"],
					c.caseNo, c.userProp, c.promiseTime)
			}
		}
	})
}
