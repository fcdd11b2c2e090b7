package apitest

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// syncBuffer is a log sink safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestIntakePersonalData: the search by keyed hash is scoped and masked; the evaluator's
// phone is revealed only to the unit holding a signed order, each reveal recorded and listed
// for auditors; no answer and no log line carries the raw identity.
func TestIntakePersonalData(t *testing.T) {
	logs := &syncBuffer{}
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(prev) })

	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		caseNo, orderID := e.badOrder(t, "sz-ft-tax", "S0001")
		e.postCase(t, uniq("P"), "sz-ns-tax", "")
		answers := &bytes.Buffer{}
		keep := func(r response) response { answers.Write(r.body); return r }

		// Search: administrators and auditors of the subtree, masked.
		r := keep(e.do(t, request{method: "GET", path: "/api/v1/evaluations?phone=" + evaluatorPhone, login: "sz-admin"}))
		wantStatus(t, r, http.StatusOK)
		var found struct {
			Items []struct {
				CaseNos   []string          `json:"case_nos"`
				Evaluator map[string]string `json:"evaluator"`
			} `json:"items"`
			Total int `json:"total"`
		}
		r.decode(t, &found)
		if found.Total != 1 || len(found.Items) != 1 || len(found.Items[0].CaseNos) != 1 || found.Items[0].CaseNos[0] != caseNo {
			t.Fatalf("search %s", r)
		}
		if ev := found.Items[0].Evaluator; ev["phone"] != "138****1234" || ev["name"] != "张*" || strings.Contains(ev["id_number"], "199001") {
			t.Errorf("masked evaluator %v", ev)
		}
		r = keep(e.do(t, request{method: "GET", path: "/api/v1/evaluations?id_number=" + evaluatorID, login: "sz-auditor"}))
		wantStatus(t, r, http.StatusOK)
		r.decode(t, &found)
		if found.Total != 1 {
			t.Errorf("auditor search by ID %s", r)
		}
		// gd-admin covers sz too; an administrator elsewhere would see nothing. Officers (the
		// rated unit) may not search at all.
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/evaluations?phone=" + evaluatorPhone, login: "ft-officer"}), http.StatusForbidden, "forbidden", "")
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/evaluations", login: "sz-admin"}), http.StatusUnprocessableEntity, "required", "phone")

		// The rated unit's order view never shows the raw identity.
		e.waitState(t, orderID, models.StateDispatched)
		r = keep(e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + orderID, login: "ft-officer"}))
		wantStatus(t, r, http.StatusOK)

		// Reveal: not before signing.
		reveal := func(login string) response {
			return keep(e.do(t, request{method: "POST", path: "/api/v1/work-orders/" + orderID + "/evaluator-contact", login: login, body: map[string]any{"reason": "回访"}}))
		}
		e.waitState(t, orderID, models.StateDispatched)
		wantError(t, reveal("ft-officer"), http.StatusConflict, "wrong_state", "")
		wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/work-orders/" + orderID + "/actions", login: "ft-officer", body: map[string]any{"action": "sign"}}), http.StatusOK)
		e.waitState(t, orderID, models.StateSigned)
		wantError(t, reveal("ns-officer"), http.StatusNotFound, "not_found", "")
		wantError(t, reveal("sz-admin"), http.StatusForbidden, "forbidden", "")
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/work-orders/" + orderID + "/evaluator-contact", login: "ft-officer", body: map[string]any{"reason": " "}}), http.StatusUnprocessableEntity, "required", "reason")
		if n := e.count(t, "pii_access_log", "1 = 1"); n != 0 {
			t.Fatalf("%d access records before any reveal", n)
		}
		r = e.do(t, request{method: "POST", path: "/api/v1/work-orders/" + orderID + "/evaluator-contact", login: "ft-leader", body: map[string]any{"reason": "回访"}})
		wantStatus(t, r, http.StatusOK)
		var contact struct {
			Phone, Name, AccessID string `json:"-"`
		}
		var raw map[string]string
		r.decode(t, &raw)
		contact.Phone, contact.Name = raw["phone"], raw["name"]
		// The reveal shows the whole contact: the number and the name to address the evaluator by.
		if contact.Phone != evaluatorPhone || contact.Name != evaluatorName || raw["access_id"] == "" {
			t.Errorf("reveal answered %s", r)
		}
		if cc := r.header.Get("Cache-Control"); cc != "no-store" {
			t.Errorf("Cache-Control %q", cc)
		}
		var rec struct {
			Login, Role, Reason, WorkOrderID, Fields string
		}
		db.Table("pii_access_log").First(&rec)
		if rec.Login != "ft-leader" || rec.Role != models.RoleUnitLeader || rec.Reason != "回访" || rec.WorkOrderID != orderID || rec.Fields != "evaluator.phone,evaluator.name" {
			t.Errorf("access record %+v", rec)
		}

		// Auditors list the reveals of their subtree; others may not.
		r = keep(e.do(t, request{method: "GET", path: "/api/v1/pii-access", login: "sz-auditor"}))
		wantStatus(t, r, http.StatusOK)
		var log struct {
			Items []map[string]any `json:"items"`
			Total int              `json:"total"`
		}
		r.decode(t, &log)
		if log.Total != 1 || log.Items[0]["login"] != "ft-leader" {
			t.Errorf("access log %s", r)
		}
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/pii-access", login: "ft-officer"}), http.StatusForbidden, "forbidden", "")

		for _, raw := range []string{evaluatorPhone, evaluatorID, evaluatorName} {
			if bytes.Contains(answers.Bytes(), []byte(raw)) {
				t.Errorf("an answer other than the reveal carries %q", raw)
			}
			if strings.Contains(logs.String(), raw) {
				t.Errorf("a log line carries %q", raw)
			}
		}
		// At rest: sealed, not plain.
		if n := e.count(t, "evaluations", "evaluator_phone = ? OR evaluator_id_number = ?", evaluatorPhone, evaluatorID); n != 0 {
			t.Errorf("%d evaluations store identity in clear", n)
		}
	})
}

// TestIntakeFraudFlags: bursts from one phone, a case rated by its own handling staff and a
// burst of identical comments are flagged, never dropped; flags with evidence are visible to
// administrators and auditors of the subtree; an administrator's ruling excludes an upheld
// rating from statistics, once.
func TestIntakeFraudFlags(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		// The staff member S0001's own identity (hashes only are stored).
		wantStatus(t, e.do(t, request{method: "PUT", path: "/api/v1/staff/S0001/identity", login: "sz-admin",
			body: map[string]any{"id_number": "440301198505031234"}}), http.StatusNoContent)
		wantError(t, e.do(t, request{method: "PUT", path: "/api/v1/staff/S0001/identity", login: "sz-admin", body: map[string]any{}}), http.StatusUnprocessableEntity, "required", "id_number")
		wantError(t, e.do(t, request{method: "PUT", path: "/api/v1/staff/NOPE/identity", login: "sz-admin", body: map[string]any{"phone": "13800000000"}}), http.StatusNotFound, "not_found", "")

		own := uniq("FR")
		e.postCase(t, own, "sz-ft-tax", "S0001")
		b := evalBody(uniq("fr"), []string{own}, models.VerySatisfied, time.Now())
		b["evaluator"] = person("13600000000", "440301198505031234")
		b["comment"] = "own rating"
		ownRes := e.postEval(t, b)

		// Five ratings from one phone within minutes: the fifth is flagged; all are stored.
		var last evalResult
		for range 5 {
			c := uniq("FB")
			e.postCase(t, c, "sz-ft-tax", "")
			b := evalBody(uniq("fb"), []string{c}, models.VerySatisfied, time.Now())
			b["evaluator"] = person("13611112222", "")
			b["comment"] = "服务很好非常满意" // identical comments
			b["device_id"] = "kiosk-7"
			last = e.postEval(t, b)
		}
		if n := e.count(t, "evaluations", "evaluator_phone_hash <> '' AND comment = ?", "服务很好非常满意"); n != 5 {
			t.Fatalf("%d of 5 ratings stored", n)
		}
		kinds := func(evalID string) map[string]bool {
			var ks []string
			db.Table("fraud_flags").Where("evaluation_id = ?", evalID).Pluck("kind", &ks)
			m := map[string]bool{}
			for _, k := range ks {
				m[k] = true
			}
			return m
		}
		if k := kinds(ownRes.ID); !k["own_staff"] {
			t.Errorf("own-staff rating flags %v", k)
		}
		if k := kinds(last.ID); !k["identity_burst"] || !k["device_burst"] || !k["comment_burst"] {
			t.Errorf("fifth rating's flags %v", k)
		}

		type flag struct {
			ID       string         `json:"id"`
			Kind     string         `json:"kind"`
			Status   string         `json:"status"`
			Evidence map[string]any `json:"evidence"`
			Rating   struct {
				ID        string            `json:"id"`
				Excluded  bool              `json:"excluded"`
				Evaluator map[string]string `json:"evaluator"`
			} `json:"rating"`
		}
		var list struct {
			Items []flag `json:"items"`
			Total int    `json:"total"`
		}
		r := e.do(t, request{method: "GET", path: "/api/v1/fraud-flags?status=open", login: "sz-auditor"})
		wantStatus(t, r, http.StatusOK)
		r.decode(t, &list)
		if list.Total < 4 {
			t.Fatalf("flags %s", r)
		}
		if bytes.Contains(r.body, []byte("13611112222")) || bytes.Contains(r.body, []byte("440301198505031234")) {
			t.Errorf("flags carry raw identity: %s", r)
		}
		var burst flag
		for _, f := range list.Items {
			if f.Kind == "identity_burst" {
				burst = f
			}
		}
		if ids, _ := burst.Evidence["evaluation_ids"].([]any); len(ids) != 5 || burst.Rating.Evaluator["phone"] != "136****2222" {
			t.Errorf("burst flag %+v", burst)
		}
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/fraud-flags", login: "ft-officer"}), http.StatusForbidden, "forbidden", "")
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/fraud-flags?status=maybe", login: "sz-admin"}), http.StatusUnprocessableEntity, "invalid_status", "status")

		// Flagged ratings count until ruled: not excluded.
		if n := e.count(t, "evaluations", "excluded"); n != 0 {
			t.Errorf("%d ratings excluded before any ruling", n)
		}
		rule := func(login, id string, upheld any) response {
			return e.do(t, request{method: "POST", path: "/api/v1/fraud-flags/" + id + "/ruling", login: login, body: map[string]any{"upheld": upheld, "note": "核查"}})
		}
		wantError(t, rule("sz-auditor", burst.ID, true), http.StatusForbidden, "forbidden", "")
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/fraud-flags/" + burst.ID + "/ruling", login: "sz-admin", body: map[string]any{"note": "x"}}), http.StatusUnprocessableEntity, "required", "upheld")
		r = rule("sz-admin", burst.ID, true)
		wantStatus(t, r, http.StatusOK)
		var ruled flag
		r.decode(t, &ruled)
		if ruled.Status != "upheld" || !ruled.Rating.Excluded {
			t.Errorf("ruling answered %s", r)
		}
		wantError(t, rule("sz-admin", burst.ID, false), http.StatusConflict, "already_ruled", "")
		wantError(t, rule("sz-admin", "nope", false), http.StatusNotFound, "not_found", "")
		if n := e.count(t, "evaluations", "excluded AND id = ?", burst.Rating.ID); n != 1 {
			t.Errorf("upheld rating not excluded")
		}
		if n := e.count(t, "evaluations", "id = ?", burst.Rating.ID); n != 1 {
			t.Errorf("upheld rating deleted")
		}
	})
}
