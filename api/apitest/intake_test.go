package apitest

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"redress/intake"
	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// TestServiceCases: registration is idempotent by case_no; conflicts and unknown references
// are refused and store nothing.
func TestServiceCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		done := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
		body := caseBody("SC-1", "sz-ft-tax", "S0001", done)
		post := func(b any) response {
			return e.do(t, request{method: "POST", path: "/api/v1/service-cases", login: "channel", body: b})
		}

		first := post(body)
		wantStatus(t, first, http.StatusCreated)
		var res struct {
			ID     string `json:"id"`
			CaseNo string `json:"case_no"`
		}
		first.decode(t, &res)
		if res.ID == "" || res.CaseNo != "SC-1" {
			t.Fatalf("answer %s", first)
		}
		again := post(body)
		wantStatus(t, again, http.StatusOK)
		if !bytes.Equal(first.body, again.body) {
			t.Errorf("repost answered %s, first %s", again.body, first.body)
		}
		// The same instant in another zone is the same content.
		same := caseBody("SC-1", "sz-ft-tax", "S0001", done.In(time.FixedZone("CST", 8*3600)))
		wantStatus(t, post(same), http.StatusOK)

		changed := caseBody("SC-1", "sz-ft-tax", "S0002", done)
		wantError(t, post(changed), http.StatusConflict, "case_conflict", "")
		otherUnit := caseBody("SC-1", "sz-ns-tax", "", done)
		wantError(t, post(otherUnit), http.StatusConflict, "case_conflict", "")

		invalid := []struct {
			name  string
			body  map[string]any
			code  string
			field string
		}{
			{"unknown unit", caseBody("SC-2", "sz-nowhere", "", done), "unknown_unit", "unit"},
			{"future completion", caseBody("SC-3", "sz-ft-tax", "", time.Now().Add(time.Hour)), "in_future", "completed_at"},
			{"staff of another unit", caseBody("SC-4", "sz-ft-tax", "S0018", done), "unknown_staff", "staff"},
			{"unknown staff", caseBody("SC-5", "sz-ft-tax", "S9999", done), "unknown_staff", "staff"},
			{"bad channel", func() map[string]any {
				b := caseBody("SC-6", "sz-ft-tax", "", done)
				b["channel"] = "default"
				return b
			}(), "invalid_channel", "channel"},
			{"no completion", func() map[string]any {
				b := caseBody("SC-7", "sz-ft-tax", "", done)
				delete(b, "completed_at")
				return b
			}(), "required", "completed_at"},
			{"bad case number", caseBody("SC 8", "sz-ft-tax", "", done), "invalid_case_no", "case_no"},
			{"bad applicant phone", func() map[string]any {
				b := caseBody("SC-9", "sz-ft-tax", "", done)
				b["applicant"] = map[string]any{"phone": "call me"}
				return b
			}(), "invalid_phone", "applicant.phone"},
		}
		for _, c := range invalid {
			t.Run(c.name, func(t *testing.T) {
				wantError(t, post(c.body), http.StatusUnprocessableEntity, c.code, c.field)
			})
		}

		var stored []models.ServiceCase
		if err := db.Find(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if len(stored) != 1 || stored[0].CaseNo != "SC-1" || stored[0].ID != res.ID || stored[0].StaffID == nil || *stored[0].StaffID != "S0001" {
			t.Fatalf("stored cases %+v", stored)
		}
		if !stored[0].CompletedAt.Equal(done) {
			t.Errorf("completed_at stored %v, want %v", stored[0].CompletedAt, done)
		}
		// Identity is encrypted at rest.
		if stored[0].ApplicantPhone == "" || stored[0].ApplicantPhone == "13900001111" {
			t.Errorf("applicant phone stored as %q", stored[0].ApplicantPhone)
		}
	})
}

// TestEvaluations: good and bad ratings, idempotent retries, conflicts and refusals, with the
// rows and the workflow each leaves behind.
func TestEvaluations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		ctx := context.Background()
		e.postCase(t, "EV-1", "sz-ft-tax", "S0001")
		e.postCase(t, "EV-2", "sz-ft-tax", "S0002")
		post := func(b any) response {
			return e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: b})
		}

		t.Run("good rating", func(t *testing.T) {
			r := post(evalBody("good-1", []string{"EV-1"}, models.Satisfied, time.Now()))
			wantStatus(t, r, http.StatusCreated)
			var raw map[string]any
			r.decode(t, &raw)
			if len(raw) != 3 || raw["bad"] != false || raw["work_order_id"] != nil || raw["id"] == "" {
				t.Fatalf("answer %s", r)
			}
			if _, ok := raw["work_order_id"]; !ok {
				t.Fatalf("work_order_id must be present (null): %s", r)
			}
			if n := e.count(t, "work_orders", "1 = 1"); n != 0 {
				t.Errorf("a good rating opened %d work orders", n)
			}
		})

		t.Run("no tags and empty tags are the same rating", func(t *testing.T) {
			b := evalBody("good-2", []string{"EV-2"}, models.Satisfied, time.Now())
			delete(b, "tags")
			wantStatus(t, post(b), http.StatusCreated)
			b["tags"] = []string{}
			wantStatus(t, post(b), http.StatusOK)
		})

		var bad evalResult
		badBody := evalBody("bad-1", []string{"EV-1"}, models.VeryDissatisfied, time.Now())
		// Another evaluator than good-1's: one first rating per case and evaluator (issue 4).
		badBody["evaluator"] = map[string]any{"name": "王五", "phone": "13900002222"}
		var first response
		t.Run("bad rating", func(t *testing.T) {
			first = post(badBody)
			wantStatus(t, first, http.StatusCreated)
			first.decode(t, &bad)
			if !bad.Bad || bad.WorkOrderID == nil || *bad.WorkOrderID == "" {
				t.Fatalf("answer %s", first)
			}
			if n := e.count(t, "evaluations", "evaluation_id = ?", "bad-1"); n != 1 {
				t.Errorf("%d evaluation rows", n)
			}
			if n := e.count(t, "work_orders", "evaluation_id = ?", bad.ID); n != 1 {
				t.Errorf("%d work orders", n)
			}
			if n := e.count(t, "evaluation_cases", "evaluation_id = ?", bad.ID); n != 1 {
				t.Errorf("%d case links", n)
			}
			desc, err := temporalClient.DescribeWorkflowExecution(ctx, "work-order-"+*bad.WorkOrderID, "")
			if err != nil {
				t.Fatalf("describe workflow: %v", err)
			}
			if got := desc.GetWorkflowExecutionInfo().GetTaskQueue(); got != e.queue {
				t.Errorf("workflow on task queue %q, want %q", got, e.queue)
			}
			wo := e.waitState(t, *bad.WorkOrderID, models.StateDispatched)
			if !wo.WorkflowStarted || wo.WorkflowID != "work-order-"+wo.ID {
				t.Errorf("work order row %+v", wo)
			}
			if wo.StaffID == nil || *wo.StaffID != "S0001" {
				t.Errorf("dispatched to staff %v, want S0001", wo.StaffID)
			}
		})
		if bad.WorkOrderID == nil {
			t.FailNow()
		}

		t.Run("retry answers the same body", func(t *testing.T) {
			r := post(badBody)
			wantStatus(t, r, http.StatusOK)
			if !bytes.Equal(r.body, first.body) {
				t.Errorf("retry answered %s, first %s", r.body, first.body)
			}
			if n := e.count(t, "work_orders", "1 = 1"); n != 1 {
				t.Errorf("%d work orders after a retry", n)
			}
			if n := e.count(t, "timeline_events", "work_order_id = ? AND type = ?", *bad.WorkOrderID, "opened"); n != 1 {
				t.Errorf("%d opened events", n)
			}
		})

		t.Run("same id other content", func(t *testing.T) {
			other := evalBody("bad-1", []string{"EV-1"}, models.Dissatisfied, time.Now())
			wantError(t, post(other), http.StatusConflict, "evaluation_conflict", "")
			other = evalBody("bad-1", []string{"EV-2"}, models.VeryDissatisfied, time.Now())
			wantError(t, post(other), http.StatusConflict, "evaluation_conflict", "")
		})

		refusals := []struct {
			name  string
			body  map[string]any
			code  string
			field string
		}{
			{"unknown case", evalBody("x-1", []string{"EV-404"}, models.VeryDissatisfied, time.Now()), "unknown_case", "case_nos"},
			{"one of two cases unknown", evalBody("x-2", []string{"EV-1", "EV-404"}, models.Satisfied, time.Now()), "unknown_case", "case_nos"},
			{"rated before completion", evalBody("x-3", []string{"EV-1"}, models.Satisfied, time.Now().Add(-2*time.Hour)), "before_completion", "rated_at"},
			{"rated in the future", evalBody("x-4", []string{"EV-1"}, models.Satisfied, time.Now().Add(time.Hour)), "in_future", "rated_at"},
			{"invalid level", func() map[string]any {
				b := evalBody("x-5", []string{"EV-1"}, models.Satisfied, time.Now())
				b["levels"] = map[string]any{"overall": "meh"}
				return b
			}(), "invalid_level", "levels.overall"},
			{"invalid indicator level", func() map[string]any {
				b := evalBody("x-10", []string{"EV-1"}, models.Satisfied, time.Now())
				b["levels"] = map[string]any{"overall": "satisfied", "speed": "slow"}
				return b
			}(), "invalid_level", "levels.speed"},
			{"no overall", func() map[string]any {
				b := evalBody("x-6", []string{"EV-1"}, models.Satisfied, time.Now())
				b["levels"] = map[string]any{"attitude": "satisfied"}
				return b
			}(), "required", "levels.overall"},
			{"no cases", evalBody("x-7", []string{}, models.Satisfied, time.Now()), "required", "case_nos"},
			{"case twice", evalBody("x-8", []string{"EV-1", "EV-1"}, models.Satisfied, time.Now()), "duplicate_case_no", "case_nos"},
			{"system channel", func() map[string]any {
				b := evalBody("x-9", []string{"EV-1"}, models.Satisfied, time.Now())
				b["channel"] = "default"
				return b
			}(), "invalid_channel", "channel"},
			{"no evaluation id", evalBody("", []string{"EV-1"}, models.Satisfied, time.Now()), "required", "evaluation_id"},
		}
		for _, c := range refusals {
			t.Run(c.name, func(t *testing.T) {
				wantError(t, post(c.body), http.StatusUnprocessableEntity, c.code, c.field)
			})
		}
		if n := e.count(t, "evaluations", "1 = 1"); n != 3 {
			t.Errorf("%d evaluations stored, want 3 (good-1, good-2, bad-1)", n)
		}
		if n := e.count(t, "work_orders", "1 = 1"); n != 1 {
			t.Errorf("%d work orders, want 1", n)
		}
	})
}

// TestEvaluationConcurrentRetries: twenty identical submissions at once store one rating and
// open one work order; every answer names the same ids.
func TestEvaluationConcurrentRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		e.postCase(t, "CC-1", "sz-ft-tax", "")
		body := evalBody("race-1", []string{"CC-1"}, models.VeryDissatisfied, time.Now())
		e.token(t, "channel") // not raced: the token map is not safe for concurrent writes

		const n = 20
		answers := make([]response, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				answers[i] = e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: body})
			}()
		}
		close(start)
		wg.Wait()

		created := 0
		var want evalResult
		for i, r := range answers {
			switch r.status {
			case http.StatusCreated:
				created++
			case http.StatusOK:
			default:
				t.Fatalf("answer %d: %s", i, r)
			}
			var res evalResult
			r.decode(t, &res)
			if res.WorkOrderID == nil {
				t.Fatalf("answer %d without a work order: %s", i, r)
			}
			if i == 0 {
				want = res
			} else if res.ID != want.ID || *res.WorkOrderID != *want.WorkOrderID || res.Bad != want.Bad {
				t.Errorf("answer %d %s differs from answer 0 %+v", i, r.body, want)
			}
		}
		if created != 1 {
			t.Errorf("%d answers were 201, want exactly 1", created)
		}
		if c := e.count(t, "evaluations", "evaluation_id = ?", "race-1"); c != 1 {
			t.Errorf("%d evaluation rows", c)
		}
		if c := e.count(t, "work_orders", "1 = 1"); c != 1 {
			t.Errorf("%d work orders", c)
		}
		if c := e.count(t, "evaluation_cases", "1 = 1"); c != 1 {
			t.Errorf("%d case links", c)
		}
		if _, err := temporalClient.DescribeWorkflowExecution(context.Background(), intake.WorkflowID(*want.WorkOrderID), ""); err != nil {
			t.Errorf("describe workflow: %v", err)
		}
		e.waitState(t, *want.WorkOrderID, models.StateDispatched)
	})
}

// TestBatchRatings: a rating of several cases of one unit goes to that unit; one across units
// waits in the administration's queue, seen by its administrator and by neither unit.
func TestBatchRatings(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		e.postCase(t, "B-FT-1", "sz-ft-tax", "S0001")
		e.postCase(t, "B-FT-2", "sz-ft-tax", "S0002")
		e.postCase(t, "B-NS-1", "sz-ns-tax", "S0018")

		rated := time.Now().UTC()
		oneBody := evalBody("batch-one", []string{"B-FT-1", "B-FT-2"}, models.Dissatisfied, rated)
		oneRes := e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: oneBody})
		wantStatus(t, oneRes, http.StatusCreated)
		var one evalResult
		oneRes.decode(t, &one)
		// A retry that spells the same rating differently (cases in another order, the
		// instant in another zone) is the same rating.
		retry := evalBody("batch-one", []string{"B-FT-2", "B-FT-1"}, models.Dissatisfied, rated.In(time.FixedZone("CST", 8*3600)))
		r := e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: retry})
		wantStatus(t, r, http.StatusOK)
		if !bytes.Equal(r.body, oneRes.body) {
			t.Errorf("respelled retry answered %s, first %s", r.body, oneRes.body)
		}
		twoBody := evalBody("batch-two", []string{"B-FT-2", "B-NS-1"}, models.VeryDissatisfied, time.Now())
		twoBody["evaluator"] = map[string]any{"phone": "13900003333"} // B-FT-2's second evaluator
		two := e.postEval(t, twoBody)
		if one.WorkOrderID == nil || two.WorkOrderID == nil {
			t.Fatalf("answers %+v %+v", one, two)
		}
		if c := e.count(t, "work_orders", "1 = 1"); c != 2 {
			t.Fatalf("%d work orders, want one per rating", c)
		}
		if c := e.count(t, "evaluation_cases", "evaluation_id = ?", one.ID); c != 2 {
			t.Errorf("%d case links of the batch", c)
		}

		var ftTax, sz models.Unit
		db.Where("code = ?", "sz-ft-tax").First(&ftTax)
		db.Where("code = ?", "sz").First(&sz)

		wo := e.waitState(t, *one.WorkOrderID, models.StateDispatched)
		if wo.UnitID == nil || *wo.UnitID != ftTax.ID || wo.UnitPath != ftTax.Path {
			t.Errorf("one-unit batch went to %v %q, want sz-ft-tax", wo.UnitID, wo.UnitPath)
		}
		if wo.StaffID != nil {
			t.Errorf("two staff members rated: no single staff expected, got %q", *wo.StaffID)
		}
		if len(wo.CaseNos.V) != 2 {
			t.Errorf("case_nos %v", wo.CaseNos.V)
		}

		wo = e.waitState(t, *two.WorkOrderID, models.StatePendingDispatch)
		eventually(t, 15*time.Second, func() (bool, string) {
			wo = e.order(t, *two.WorkOrderID)
			return wo.UnitPath == sz.Path, "cross-unit batch queue " + wo.UnitPath
		})
		if wo.DispatchedAt != nil {
			t.Errorf("pending order has dispatched_at %v", wo.DispatchedAt)
		}

		admin := e.list(t, "sz-admin", "?state=pending_dispatch")
		if !slices.Contains(ids(admin), *two.WorkOrderID) || admin.Total != 1 {
			t.Errorf("sz-admin's pending queue %v (total %d)", ids(admin), admin.Total)
		}
		if len(admin.Items) == 1 {
			o := admin.Items[0]
			if o.Unit == nil || o.Unit.Code != "sz" || !slices.Contains(o.AllowedActions, "dispatch") {
				t.Errorf("pending order as sz-admin sees it: %+v", o)
			}
		}
		for _, officer := range []string{"ft-officer", "ns-officer"} {
			l := e.list(t, officer, "")
			if slices.Contains(ids(l), *two.WorkOrderID) {
				t.Errorf("%s sees the undispatched cross-unit order", officer)
			}
			wantError(t, e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + *two.WorkOrderID, login: officer}), http.StatusNotFound, "not_found", "")
		}
		if l := e.list(t, "ft-officer", ""); !slices.Contains(ids(l), *one.WorkOrderID) {
			t.Errorf("ft-officer does not see the one-unit batch: %v", ids(l))
		}
		if l := e.list(t, "ns-officer", ""); len(l.Items) != 0 || l.Total != 0 {
			t.Errorf("ns-officer sees %v", ids(l))
		}
	})
}
