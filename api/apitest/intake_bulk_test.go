package apitest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

type bulkEvalResult struct {
	Index        int     `json:"index"`
	EvaluationID string  `json:"evaluation_id"`
	Status       int     `json:"status"`
	ID           string  `json:"id"`
	Bad          *bool   `json:"bad"`
	WorkOrderID  *string `json:"work_order_id"`
	Error        *struct {
		Code, Message, Field string
	} `json:"error"`
}

type bulkEvalAnswer struct {
	Results []bulkEvalResult `json:"results"`
	Summary map[string]int   `json:"summary"`
}

func (e *env) postBulkRatings(t *testing.T, body any) bulkEvalAnswer {
	t.Helper()
	r := e.do(t, request{method: "POST", path: "/api/v1/evaluations/bulk", login: "channel", body: body})
	wantStatus(t, r, http.StatusOK)
	var a bulkEvalAnswer
	r.decode(t, &a)
	return a
}

// TestIntakeBulkEvaluations: every rating of a bulk upload is answered as POST /evaluations
// would answer it — stored, a repeat, or refused on its own — with the same work orders,
// workflows, fraud flags and one audit entry; sending the upload again stores nothing twice.
func TestIntakeBulkEvaluations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		wantStatus(t, e.do(t, request{method: "PUT", path: "/api/v1/staff/S0001/identity", login: "sz-admin",
			body: map[string]any{"phone": "13655550000"}}), http.StatusNoContent)
		now := time.Now()
		var cases []string
		for i := range 10 {
			c := uniq(fmt.Sprintf("BE%d", i))
			e.postCase(t, c, "sz-ft-tax", "S0001")
			cases = append(cases, c)
		}
		// A case the fixtures' evaluator already rated through POST /evaluations.
		e.postEval(t, evalBody(uniq("before"), []string{cases[9]}, models.Satisfied, now))

		rating := func(id string, c int, overall, phone string) map[string]any {
			b := evalBody(id, []string{cases[c]}, overall, now)
			b["evaluator"] = person(phone, "")
			return b
		}
		good := rating(uniq("good"), 0, models.VerySatisfied, "13700000001")
		bad := rating(uniq("bad"), 1, models.VeryDissatisfied, "13700000002")
		invalid := rating(uniq("inv"), 2, "", "13700000003")
		delete(invalid["levels"].(map[string]any), "overall")
		unknown := rating(uniq("unk"), 2, models.Satisfied, "13700000003")
		unknown["case_nos"] = []string{"NO-SUCH-CASE"}
		sameSlot := rating(uniq("slot"), 0, models.Satisfied, "13700000001") // good's case and evaluator
		followUp := rating(uniq("fu"), 0, models.Dissatisfied, "13700000001")
		followUp["follow_up_of"] = good["evaluation_id"]
		coded := rating(uniq("gb"), 3, "1", "13700000004")
		coded["codes"] = "gb"
		coded["levels"] = map[string]any{"overall": "1"} // GB/T 39046: 1 is 非常满意
		ownStaff := rating(uniq("own"), 4, models.VerySatisfied, "13655550000")
		again := rating(uniq("dup"), 9, models.Satisfied, evaluatorPhone) // taken by ratedBefore's evaluator
		again["evaluator"] = map[string]any{"name": evaluatorName, "phone": evaluatorPhone, "id_number": evaluatorID}
		items := []any{good, bad, invalid, unknown, good, sameSlot, followUp, coded, ownStaff, again}
		// One phone rates five cases in the upload: the fifth is a burst.
		for i := range 5 {
			b := rating(uniq(fmt.Sprintf("burst%d", i)), 5+i%4, models.Satisfied, "13799999999")
			if i == 4 {
				b["case_nos"] = []string{cases[2]}
			}
			items = append(items, b)
		}
		want := []int{201, 201, 422, 422, 200, 409, 201, 201, 201, 409, 201, 201, 201, 201, 201}
		before := e.count(t, "evaluations", "1 = 1")
		auditsBefore := e.count(t, "audit_log", "path = ?", "/api/v1/evaluations/bulk")

		a := e.postBulkRatings(t, map[string]any{"evaluations": items})
		if len(a.Results) != len(items) {
			t.Fatalf("%d results for %d ratings", len(a.Results), len(items))
		}
		for i, res := range a.Results {
			if res.Index != i || res.Status != want[i] {
				t.Errorf("rating %d: %+v, want status %d", i, res, want[i])
			}
		}
		if err := a.Results[2].Error; err == nil || err.Code != "required" || err.Field != "evaluations[2].levels.overall" {
			t.Errorf("invalid rating's error %+v", err)
		}
		if err := a.Results[3].Error; err == nil || err.Code != "unknown_case" {
			t.Errorf("unknown case's error %+v", err)
		}
		if err := a.Results[5].Error; err == nil || err.Code != "already_rated" {
			t.Errorf("second rating of a case by one evaluator: %+v", err)
		}
		if err := a.Results[9].Error; err == nil || err.Code != "already_rated" {
			t.Errorf("rating of a case rated before: %+v", err)
		}
		if a.Results[4].ID != a.Results[0].ID {
			t.Errorf("the same rating twice in an upload answered %q and %q", a.Results[0].ID, a.Results[4].ID)
		}
		if r := a.Results[1]; r.Bad == nil || !*r.Bad || r.WorkOrderID == nil {
			t.Fatalf("bad rating answered %+v", r)
		}
		if r := a.Results[0]; r.Bad == nil || *r.Bad || r.WorkOrderID != nil {
			t.Errorf("good rating answered %+v", r)
		}
		if a.Summary["created"] != 10 || a.Summary["unchanged"] != 1 || a.Summary["failed"] != 4 {
			t.Errorf("summary %v", a.Summary)
		}
		if n := e.count(t, "evaluations", "1 = 1") - before; n != 10 {
			t.Errorf("%d ratings stored, want 10", n)
		}
		// Stored as the single form stores them.
		if n := e.count(t, "evaluations", "id = ? AND kind = ? AND follow_up_of = ?", a.Results[6].ID, "follow_up", a.Results[0].ID); n != 1 {
			t.Errorf("follow-up stored %d times as a follow-up of the upload's first rating", n)
		}
		if n := e.count(t, "evaluations", "id = ? AND overall = ?", a.Results[7].ID, models.VerySatisfied); n != 1 {
			t.Errorf("coded rating not translated")
		}
		flagged := func(id, kind string) bool {
			return e.count(t, "fraud_flags", "evaluation_id = ? AND kind = ?", id, kind) == 1
		}
		if !flagged(a.Results[8].ID, "own_staff") {
			t.Error("a rating by the case's own staff is not flagged")
		}
		if !flagged(a.Results[14].ID, "identity_burst") || flagged(a.Results[13].ID, "identity_burst") {
			t.Error("the fifth rating from one phone in an upload is not the one flagged")
		}
		// The bad rating's order is dispatched by its workflow, like any other.
		e.waitState(t, *a.Results[1].WorkOrderID, models.StateDispatched)
		if n := e.count(t, "work_orders", "evaluation_id = ?", a.Results[1].ID); n != 1 {
			t.Errorf("%d work orders for the bad rating", n)
		}
		if n := e.count(t, "audit_log", "path = ?", "/api/v1/evaluations/bulk") - auditsBefore; n != 1 {
			t.Errorf("%d audit entries for one upload", n)
		}

		// The upload again: the same answers, nothing stored twice.
		b := e.postBulkRatings(t, map[string]any{"evaluations": items})
		for i, res := range b.Results {
			w := want[i]
			if w == 201 {
				w = 200
			}
			if res.Status != w || (w == 200 && res.ID != a.Results[i].ID) {
				t.Errorf("again, rating %d: %+v, want %d and id %s", i, res, w, a.Results[i].ID)
			}
		}
		if n := e.count(t, "evaluations", "1 = 1") - before; n != 10 {
			t.Errorf("%d ratings stored after the repeat, want 10", n)
		}
		// Another rating under a stored evaluation_id is a conflict.
		changed := rating(good["evaluation_id"].(string), 0, models.Satisfied, "13700000001")
		c := e.postBulkRatings(t, map[string]any{"evaluations": []any{changed}})
		if r := c.Results[0]; r.Status != http.StatusConflict || r.Error == nil || r.Error.Code != "evaluation_conflict" {
			t.Errorf("changed rating under a stored id: %+v", r)
		}

		// Whole-request refusals.
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/evaluations/bulk", login: "channel", body: map[string]any{"evaluations": []any{}}}), http.StatusUnprocessableEntity, "required", "evaluations")
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/evaluations/bulk", login: "channel", body: `{"evaluations":[`}), http.StatusBadRequest, "malformed_json", "")
		many := make([]any, 501)
		for i := range many {
			many[i] = good
		}
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/evaluations/bulk", login: "channel", body: map[string]any{"evaluations": many}}), http.StatusUnprocessableEntity, "too_many", "evaluations")
	})
}

// TestIntakeBulkEvaluationsChunks: an upload larger than one statement's chunk, one of whose
// ratings the database refuses (the evaluator rated that case before), stores every other
// rating once and answers the refused one on its own.
func TestIntakeBulkEvaluationsChunks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		now := time.Now()
		const n = 230
		var body strings.Builder
		body.WriteString(`{"evaluations":[`)
		var taken string
		for i := range n {
			c := uniq(fmt.Sprintf("CH%d", i))
			e.postCase(t, c, "sz-ft-tax", "")
			if i == 150 {
				taken = c
				pre := evalBody(uniq("pre"), []string{c}, models.Satisfied, now)
				pre["evaluator"] = person(fmt.Sprintf("1360000%04d", i), "")
				e.postEval(t, pre)
			}
			overall := models.Satisfied
			if i%50 == 7 {
				overall = models.VeryDissatisfied
			}
			if i > 0 {
				body.WriteString(",")
			}
			fmt.Fprintf(&body, `{"evaluation_id":%q,"case_nos":[%q],"channel":"mobile","levels":{"overall":%q},"rated_at":%q,"evaluator":{"name":"王五","phone":"1360000%04d"}}`,
				uniq(fmt.Sprintf("ch%d", i)), c, overall, now.Format(time.RFC3339Nano), i)
		}
		body.WriteString("]}")
		before := e.count(t, "evaluations", "1 = 1")
		a := e.postBulkRatings(t, body.String())
		for i, r := range a.Results {
			want := http.StatusCreated
			if i == 150 {
				want = http.StatusConflict
			}
			if r.Status != want {
				t.Errorf("rating %d: %+v, want %d", i, r, want)
			}
		}
		if got := e.count(t, "evaluations", "1 = 1") - before; got != n-1 {
			t.Errorf("%d ratings stored, want %d", got, n-1)
		}
		if got := e.count(t, "evaluation_cases", "case_no = ? AND slot = 0", taken); got != 1 {
			t.Errorf("the refused rating's case has %d slots", got)
		}
		var orders int
		for _, r := range a.Results {
			if r.WorkOrderID != nil {
				orders++
				e.waitState(t, *r.WorkOrderID, models.StateDispatched)
			}
		}
		if orders != 5 {
			t.Errorf("%d work orders, want 5", orders)
		}
	})
}
