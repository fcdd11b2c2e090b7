package apitest

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// TestStaffCannotOwnTheRating is issue 17's finding 1: the handling unit's staff cannot obtain a
// case's QR rating token; a rating sent from the rated unit's network or devices (its policy's
// unit_networks, unit_devices) is flagged; and a later rating by the same evaluator that
// contradicts the stored one is stored as a conflict (both flagged), and a bad one opens its
// order in the unit's inbox, instead of answering 409 already_rated.
func TestStaffCannotOwnTheRating(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		now := time.Now()

		t.Run("only the channel obtains a QR token", func(t *testing.T) {
			caseNo := uniq("QRS")
			e.postCase(t, caseNo, "sz-ft-tax", "")
			for _, login := range []string{"ft-officer", "ft-leader", "sz-admin"} {
				wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/service-cases/" + caseNo + "/qr", login: login}), http.StatusForbidden)
			}
			wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/service-cases/" + caseNo + "/qr", login: "channel"}), http.StatusOK)
		})

		t.Run("a rating from the unit's network or device is flagged", func(t *testing.T) {
			r := e.do(t, request{method: "PUT", path: "/api/v1/units/sz-ft-tax/policy", login: "sz-admin",
				body: map[string]any{"unit_networks": []string{"10.20.0.0/16", "2001:db8::7"}, "unit_devices": []string{"FT-DESK-01"}}})
			wantStatus(t, r, http.StatusOK)
			wantError(t, e.do(t, request{method: "PUT", path: "/api/v1/units/sz-ft-tax/policy", login: "sz-admin",
				body: map[string]any{"unit_networks": []string{"10.20.0.0/99"}}}), http.StatusUnprocessableEntity, "invalid_policy", "")
			rate := func(ip, device string) evalResult {
				caseNo := uniq("PR")
				e.postCase(t, caseNo, "sz-ft-tax", "")
				b := evalBody(uniq("pr"), []string{caseNo}, models.VerySatisfied, now)
				if ip != "" {
					b["client_ip"] = ip
				}
				if device != "" {
					b["device_id"] = device
				}
				return e.postEval(t, b)
			}
			for _, c := range []struct {
				ip, device string
				flagged    bool
			}{
				{"10.20.3.4", "", true},
				{"2001:db8::7", "", true},
				{"", "FT-DESK-01", true},
				{"10.21.0.1", "", false},
				{"", "HALL-PAD-9", false},
			} {
				res := rate(c.ip, c.device)
				n := e.count(t, "fraud_flags", "evaluation_id = ? AND kind = ? AND status = ?", res.ID, "unit_premises", "open")
				if (n == 1) != c.flagged || n > 1 {
					t.Errorf("rating from ip %q device %q: %d unit_premises flags, want flagged=%v", c.ip, c.device, n, c.flagged)
				}
			}
			// The premises are sz-ft-tax's (and its sub-units'): a case of sz-ns-tax rated from
			// the same network is not flagged.
			caseNo := uniq("PR")
			e.postCase(t, caseNo, "sz-ns-tax", "")
			b := evalBody(uniq("pr"), []string{caseNo}, models.VerySatisfied, now)
			b["client_ip"] = "10.20.3.4"
			if res := e.postEval(t, b); e.count(t, "fraud_flags", "evaluation_id = ? AND kind = ?", res.ID, "unit_premises") != 0 {
				t.Errorf("a rating of another unit's case is flagged for sz-ft-tax's network")
			}
		})

		t.Run("a contradicting later rating is stored, flagged and opens its order", func(t *testing.T) {
			caseNo := uniq("CF")
			e.postCase(t, caseNo, "sz-ft-tax", "")
			// Staff rate good first, under the applicant's identity.
			good := e.postEval(t, evalBody(uniq("staff-good"), []string{caseNo}, models.VerySatisfied, now))
			if good.Bad || good.WorkOrderID != nil {
				t.Fatalf("good rating answered %+v", good)
			}
			// The citizen's real rating: bad. Stored, not refused.
			badID := uniq("citizen-bad")
			r := e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "channel",
				body: evalBody(badID, []string{caseNo}, models.VeryDissatisfied, now.Add(time.Minute))})
			wantStatus(t, r, http.StatusCreated)
			var bad evalResult
			r.decode(t, &bad)
			if !bad.Bad || bad.WorkOrderID == nil {
				t.Fatalf("contradicting bad rating answered %s", r)
			}
			if n := e.count(t, "evaluations", "id = ? AND kind = ?", bad.ID, "conflict"); n != 1 {
				t.Errorf("the later rating is not stored as a conflict")
			}
			for _, id := range []string{good.ID, bad.ID} {
				if n := e.count(t, "fraud_flags", "evaluation_id = ? AND kind = ? AND status = ?", id, "rating_conflict", "open"); n != 1 {
					t.Errorf("rating %s has %d rating_conflict flags, want 1", id, n)
				}
			}
			// Its order is real: dispatched to the unit and in the officer's inbox.
			e.waitState(t, *bad.WorkOrderID, models.StateDispatched)
			if l := e.list(t, "ft-officer", ""); !slices.Contains(ids(l), *bad.WorkOrderID) {
				t.Errorf("the conflicting bad rating's order %s is not in the unit's inbox %v", *bad.WorkOrderID, ids(l))
			}
			// A retry answers the stored rating; a third rating agreeing with either is a repeat.
			again := e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "channel",
				body: evalBody(badID, []string{caseNo}, models.VeryDissatisfied, now.Add(time.Minute))})
			wantStatus(t, again, http.StatusOK)
			for _, lvl := range []string{models.Satisfied, models.Dissatisfied} {
				wantError(t, e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "channel",
					body: evalBody(uniq("third"), []string{caseNo}, lvl, now.Add(2*time.Minute))}), http.StatusConflict, "already_rated", "")
			}
			if n := e.count(t, "work_orders", "case_nos LIKE ?", "%"+caseNo+"%"); n != 1 {
				t.Errorf("%d orders for the case, want 1", n)
			}
		})

		t.Run("a receipt rated good by someone else still takes the citizen's bad rating", func(t *testing.T) {
			caseNo := uniq("QRC")
			e.postCase(t, caseNo, "sz-ft-tax", "")
			tok := e.srv.RateToken(caseNo)
			wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/rate/" + tok,
				body: map[string]any{"levels": map[string]string{"overall": "very_satisfied"}}}), http.StatusCreated)
			r := e.do(t, request{method: "POST", path: "/api/v1/rate/" + tok,
				body: map[string]any{"levels": map[string]string{"overall": "very_dissatisfied"}}})
			wantStatus(t, r, http.StatusCreated)
			var res struct {
				Bad          bool   `json:"bad"`
				AlreadyRated bool   `json:"already_rated"`
				TrackToken   string `json:"track_token"`
			}
			r.decode(t, &res)
			if !res.Bad || res.AlreadyRated || res.TrackToken == "" {
				t.Errorf("the citizen's contradicting rating answered %s", r)
			}
			var wo []string
			db.Table("evaluations").Where("evaluation_id = ? AND kind = ?", "qr:"+caseNo+":conflict", "conflict").Pluck("work_order_id", &wo)
			if len(wo) != 1 || wo[0] == "" {
				t.Fatalf("conflicting QR rating stored as %v", wo)
			}
			e.waitState(t, wo[0], models.StateDispatched)
			// The same bad rating again (a double tap) stores nothing more.
			r = e.do(t, request{method: "POST", path: "/api/v1/rate/" + tok,
				body: map[string]any{"levels": map[string]string{"overall": "very_dissatisfied"}}})
			if r.status != http.StatusOK && r.status != http.StatusCreated {
				t.Errorf("double tap answered %s", r)
			}
			if n := e.count(t, "evaluations", "evaluation_id LIKE ?", "qr:"+caseNo+"%"); n != 2 {
				t.Errorf("%d ratings of the receipt stored, want 2", n)
			}
		})
	})
}
