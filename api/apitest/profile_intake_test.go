package apitest

import (
	"net/http"
	"testing"
	"time"

	"redress/calendar"
	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// TestEvaluationsInProfiles: on both databases, a channel system posts ratings as a platform's
// record (issue 21): the Zhejiang 办件评价 record (satisfaction reversed, pf, evalDetail tag
// codes) and the GB/T 39046 表9 record are stored as the same ratings Redress's own body gives;
// a code outside the profile's tables is refused naming the record's key, with nothing stored.
func TestEvaluationsInProfiles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		e.postCase(t, "PF-1", "sz-ft-tax", "S0001")
		e.postCase(t, "PF-2", "sz-ft-tax", "S0002")
		e.postCase(t, "PF-3", "sz-ft-tax", "S0001")
		at := time.Now().In(calendar.Zone()).Truncate(time.Second)
		post := func(profile string, b map[string]any) response {
			return e.do(t, request{method: "POST", path: "/api/v1/evaluations?profile=" + profile, login: "channel", body: b})
		}
		zj := func(id, caseNo, satisfaction string) map[string]any {
			return map[string]any{"assessId": id, "projectNo": caseNo, "pf": "2", "satisfaction": satisfaction, "assessNumber": "1",
				"userProp": "1", "promiseTime": "1", "evalDetail": "101,103", "evalContent": "窗口态度差，跑了两趟",
				"assessTime": at.Format("2006-01-02 15:04:05"), "userName": "王五", "userPhone": "13900002222"}
		}
		type stored struct {
			Channel, Overall, Comment string
			Bad                       bool
			Tags                      models.JSON[[]string]
			RatedAt                   time.Time
		}
		load := func(id string) stored {
			var s stored
			if err := db.Table("evaluations").Where("evaluation_id = ?", id).Take(&s).Error; err != nil {
				t.Fatalf("rating %s: %v", id, err)
			}
			return s
		}

		// Zhejiang: satisfaction 1 is 非常不满意 (the reverse of A.8), pf 2 mobile.
		r := post("zhejiang", zj("zj-1", "PF-1", "1"))
		wantStatus(t, r, http.StatusCreated)
		var res evalResult
		r.decode(t, &res)
		if !res.Bad || res.WorkOrderID == nil {
			t.Fatalf("a 非常不满意 rating in the Zhejiang profile: %s", r)
		}
		s := load("zj-1")
		if s.Channel != "mobile" || s.Overall != models.VeryDissatisfied || s.Comment != "窗口态度差，跑了两趟" ||
			len(s.Tags.V) != 2 || s.Tags.V[0] != "态度不好" || s.Tags.V[1] != "多次跑动" || !s.RatedAt.Equal(at) {
			t.Fatalf("stored %+v", s)
		}
		// The same record again is the same rating.
		wantStatus(t, post("zhejiang", zj("zj-1", "PF-1", "1")), http.StatusOK)

		// GB/T 39046 表9: 满意度代码 1 is 非常满意.
		gb := map[string]any{"办件编号": "PF-2", "评价渠道": "1", "评价时间": at.Format("20060102T150405"), "评价次数": "1",
			"满意度": "非常满意", "满意度代码": "1", "行政区划": "440304000"}
		// 表9 names no id of the channel's: the rating is keyed by case, time and count, so
		// the same record again is the same rating.
		r = post("gb39046", gb)
		wantStatus(t, r, http.StatusCreated)
		r.decode(t, &res)
		if res.Bad {
			t.Fatalf("a 非常满意 表9 rating is bad: %s", r)
		}
		gbID := "gb39046:PF-2:" + at.Format("20060102T150405") + ":1"
		if s := load(gbID); s.Channel != "pc" || s.Overall != models.VerySatisfied || !s.RatedAt.Equal(at) {
			t.Fatalf("stored %+v", s)
		}
		wantStatus(t, post("gb39046", gb), http.StatusOK)

		// Refusals name the record's key; nothing is stored.
		for _, tt := range []struct {
			key  string
			val  any
			code string
		}{
			{"satisfaction", "6", "invalid_profile_field"},
			{"pf", "9", "invalid_profile_field"},
			{"evalDetail", "101,998", "invalid_profile_field"},
			{"assessTime", at.Format(time.RFC3339), "invalid_profile_field"},
			{"assessNumber", "2", "no_first_rating"},
		} {
			b := zj("zj-bad-"+tt.key, "PF-3", "4")
			b[tt.key] = tt.val
			wantError(t, post("zhejiang", b), http.StatusUnprocessableEntity, tt.code, tt.key)
			if n := e.count(t, "evaluations", "evaluation_id = ?", "zj-bad-"+tt.key); n != 0 {
				t.Errorf("%s refused but stored", tt.key)
			}
		}
		wantError(t, post("no-such-province", zj("zj-x", "PF-3", "4")), http.StatusUnprocessableEntity, "unknown_profile", "profile")

		// 二次评价 (assessNumber 2) of a case with a first rating is its follow-up (追评).
		wantStatus(t, post("zhejiang", zj("zj-3a", "PF-3", "4")), http.StatusCreated)
		b := zj("zj-3b", "PF-3", "5")
		b["assessNumber"] = "2"
		wantStatus(t, post("zhejiang", b), http.StatusCreated)
		var follow, firstID []string
		db.Table("evaluations").Where("evaluation_id = ?", "zj-3b").Pluck("follow_up_of", &follow)
		db.Table("evaluations").Where("evaluation_id = ?", "zj-3a").Pluck("id", &firstID)
		if len(follow) != 1 || len(firstID) != 1 || follow[0] != firstID[0] {
			t.Fatalf("follow_up_of %v, want zj-3a's id %v", follow, firstID)
		}
	})
}
