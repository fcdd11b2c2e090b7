package apitest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// TestStuckOrderVisibleAndFreed is issue 17's finding 3 (second half): an order whose deadline
// cannot be computed — its unit's policy, stored before budgets were bounded, gives 100 000 000
// working days to sign — stays in its administration's list with the reason in Chinese, and
// fixing the policy frees it: it is dispatched to its unit and the reason disappears.
func TestStuckOrderVisibleAndFreed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		// The policy as an older release let it be stored (the API refuses it now).
		storeUncheckedPolicy(t, db, "sz-ft-tax", "sign", 100000000)
		_, id := e.badOrder(t, "sz-ft-tax", "")

		type view struct {
			State         string `json:"state"`
			DeadlineError string `json:"deadline_error"`
		}
		get := func(login string) (view, int) {
			r := e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + id, login: login})
			var v view
			if r.status == http.StatusOK {
				r.decode(t, &v)
			}
			return v, r.status
		}
		// The administration sees it, with why, in Chinese.
		eventually(t, 30*time.Second, func() (bool, string) {
			v, st := get("sz-admin")
			return st == http.StatusOK && strings.Contains(v.DeadlineError, "签收") && strings.Contains(v.DeadlineError, "100000000 个工作日"),
				fmt.Sprintf("the administration's view of the stuck order: %d %+v", st, v)
		})
		if v, _ := get("sz-admin"); v.State != models.StatePendingDispatch {
			t.Errorf("stuck order in state %q, want pending_dispatch", v.State)
		}
		if l := e.list(t, "sz-admin", "?state=pending_dispatch"); !slices.Contains(ids(l), id) {
			t.Errorf("the stuck order is not in the administration's pending_dispatch list %v", ids(l))
		}

		// The administrator fixes the policy: the order goes on by itself.
		wantStatus(t, e.do(t, request{method: "PUT", path: "/api/v1/units/sz-ft-tax/policy", login: "sz-admin",
			body: map[string]any{"deadlines": map[string]any{"sign": map[string]any{"working_days": 2}}}}), http.StatusOK)
		e.waitStateWithin(t, id, models.StateDispatched, 90*time.Second)
		eventually(t, 30*time.Second, func() (bool, string) {
			v, _ := get("sz-admin")
			return v.DeadlineError == "", fmt.Sprintf("deadline_error still %q", v.DeadlineError)
		})
		if l := e.list(t, "ft-officer", ""); !slices.Contains(ids(l), id) {
			t.Errorf("the freed order is not in the unit's inbox %v", ids(l))
		}
		// The sign clock runs on the fixed budget, with a due date.
		var sign *models.Deadline
		for _, d := range e.order(t, id).Deadlines.V {
			if d.Name == "sign" && !d.Superseded {
				sign = &d
			}
		}
		if sign == nil || sign.Budget != "2" || sign.Unit != "working_days" || sign.DueDate == "" {
			t.Errorf("sign deadline %+v, want 2 working_days with a due date", sign)
		}
	})
}

// waitStateWithin is waitState with its own timeout.
func (e *env) waitStateWithin(t *testing.T, id, state string, within time.Duration) {
	t.Helper()
	eventually(t, within, func() (bool, string) {
		wo := e.order(t, id)
		return wo.State == state, fmt.Sprintf("work order %s is %q, want %q", id, wo.State, state)
	})
}

// storeUncheckedPolicy stores a unit's policy with one stage's budget in working days
// straight into the database, as an older release let it be stored: the API bounds budgets
// now, and these tests need one the calendar refuses.
func storeUncheckedPolicy(t *testing.T, db *store.DB, unit, stage string, workingDays int) {
	t.Helper()
	var unitID int64
	if err := db.Table("units").Where("code = ?", unit).Select("id").Scan(&unitID).Error; err != nil || unitID == 0 {
		t.Fatalf("unit %s: %d %v", unit, unitID, err)
	}
	now := time.Now().UTC()
	if err := db.Create(&models.Policy{UnitID: unitID, CreatedAt: now, UpdatedAt: now,
		Doc: models.NewJSON(models.PolicyDoc{Deadlines: map[string]models.Budget{stage: {WorkingDays: &workingDays}}})}).Error; err != nil {
		t.Fatal(err)
	}
}
