package apitest

import (
	"net/http"
	"testing"

	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// An action whose step failed (500 action_failed: the order is unchanged, try again) can be
// tried again under the same Idempotency-Key once the cause is fixed. The key is the Temporal
// update id, and Temporal answers a repeated update id with its first outcome: without a new
// generation of the key the retry the message asks for answered the same failure for ever.
func TestActionFailedRetriedUnderTheSameKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		// A rectification budget the calendar refuses, as an older release let it be stored.
		storeUncheckedPolicy(t, db, "sz-ft-tax", "rectify", 100000000)
		_, id := e.badOrder(t, "sz-ft-tax", "")
		e.waitState(t, id, models.StateDispatched)
		e.ok(t, "ft-officer", id, "signed", map[string]any{"action": "sign"})
		e.ok(t, "ft-officer", id, "called_back", map[string]any{"action": "callback", "reached": true, "method": "phone", "note": "已听取意见"})
		dispose := map[string]any{"action": "dispose", "true": true, "reasonable": true, "disposition": "rectify_now", "measures": "已增设窗口"}
		const key = "dispose-once"
		wantError(t, e.act(t, "ft-officer", id, key, dispose), http.StatusInternalServerError, "action_failed", "")

		// The administration fixes the policy; the officer tries again with the same key.
		wantStatus(t, e.do(t, request{method: "PUT", path: "/api/v1/units/sz-ft-tax/policy", login: "sz-admin",
			body: map[string]any{"deadlines": map[string]any{"rectify": map[string]any{"working_days": 10}}}}), http.StatusOK)
		r := e.act(t, "ft-officer", id, key, dispose)
		wantStatus(t, r, http.StatusOK)
		var o orderView
		r.decode(t, &o)
		if o.State != "reviewing" {
			t.Fatalf("state after the retry %s, want reviewing", o.State)
		}
		// The same key once more is the same (now successful) action: answered, not applied again.
		wantStatus(t, e.act(t, "ft-officer", id, key, dispose), http.StatusOK)
		n := 0
		for _, ev := range e.timeline(t, "ft-officer", id) {
			if ev.Type == "dispose" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%d dispose events, want 1", n)
		}
	})
}
