// Package statstest generates raw ratings, service cases, work orders and their timelines
// straight into a database, for the tests of the results packages (statistics, publication,
// reports). The data is random but reproducible from a seed, and covers what the figures
// distinguish: every level and channel, default ratings, batch ratings over several cases,
// real-name and anonymous evaluators, and bad reviews whose orders were called back,
// rectified, explained, appealed (upheld or rejected), overdue or supervised.
package statstest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"redress/calendar/calendardb"
	"redress/models"
	"redress/orgfile"
	"redress/store"
)

// Units are the demo units the generator rates, each with its staff.
var Units = map[string][]string{
	"sz-ft-tax": {"S0001", "S0002", "S0003"},
	"sz-ft-amr": {"S0004", "S0005"},
	"sz-ns-tax": {"S0018", "S0019"},
	"sz-ns-amr": {"S0021"},
}

// Items are the service items the generator uses.
var Items = [][2]string{{"T01", "tax registration"}, {"T02", "invoice"}, {"A01", "business licence"}}

// Seed applies the demo organisation and the shipped calendar.
func Seed(t testing.TB, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	if _, err := orgfile.Apply(ctx, db, orgfile.Demo()); err != nil {
		t.Fatalf("demo organisation: %v", err)
	}
	if _, err := calendardb.EnsureShipped(ctx, db); err != nil {
		t.Fatalf("shipped calendar: %v", err)
	}
}

// Generate stores n ratings rated between from and from+span, and returns how many were bad.
// Received times are now (so the rollup job sees them as new).
func Generate(t testing.TB, db *store.DB, seed uint64, n int, from time.Time, span time.Duration) int {
	t.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	unitIDs := map[string]models.Unit{}
	for code := range Units {
		var u models.Unit
		if err := db.WithContext(ctx).Where("code = ?", code).Take(&u).Error; err != nil {
			t.Fatalf("unit %s: %v", code, err)
		}
		unitIDs[code] = u
	}
	codes := []string{"sz-ft-tax", "sz-ft-amr", "sz-ns-tax", "sz-ns-amr"}
	levels := []string{models.VerySatisfied, models.VerySatisfied, models.VerySatisfied, models.Satisfied, models.BasicallySatisfied, models.Dissatisfied, models.VeryDissatisfied}
	bad := 0
	now := time.Now().UTC()
	for i := 0; i < n; i++ {
		ratedAt := from.Add(time.Duration(r.Int64N(int64(span)))).UTC().Truncate(time.Second)
		ncases := 1
		if r.IntN(10) == 0 {
			ncases = 2 + r.IntN(2) // a batch rating
		}
		unit := codes[r.IntN(len(codes))]
		var caseNos []string
		for c := 0; c < ncases; c++ {
			u := unit
			if c > 0 && r.IntN(3) == 0 {
				u = codes[r.IntN(len(codes))] // a batch across units
			}
			staff := Units[u][r.IntN(len(Units[u]))]
			item := Items[r.IntN(len(Items))]
			no := fmt.Sprintf("G%d-%d-%d", seed, i, c)
			sc := models.ServiceCase{ID: no, CaseNo: no, ItemCode: item[0], ItemName: item[1], UnitID: unitIDs[u].ID,
				StaffID: &staff, Channel: "window_device", CompletedAt: ratedAt.Add(-time.Hour), ContentHash: no, CreatedAt: now}
			if err := db.WithContext(ctx).Create(&sc).Error; err != nil {
				t.Fatalf("case: %v", err)
			}
			caseNos = append(caseNos, no)
		}
		channel := models.Channels[r.IntN(len(models.Channels))]
		overall := levels[r.IntN(len(levels))]
		if r.IntN(6) == 0 {
			channel, overall = models.ChannelDefault, models.BasicallySatisfied
		}
		lv := map[string]string{"overall": overall}
		if overall == models.VerySatisfied && r.IntN(20) == 0 {
			lv["attitude"] = models.Dissatisfied // bad on an indicator only
		}
		isBad := false
		for _, l := range lv {
			isBad = isBad || models.IsBadLevel(l)
		}
		realName := r.IntN(3) != 0
		e := models.Evaluation{ID: fmt.Sprintf("ev-%d-%d", seed, i), EvaluationID: fmt.Sprintf("E%d-%d", seed, i), Channel: channel,
			Overall: overall, Levels: models.NewJSON(lv), Bad: isBad, Tags: models.NewJSON([]string{}), RatedAt: ratedAt,
			ReceivedAt: now, RequestHash: "x"}
		if realName {
			e.EvaluatorPhoneHash = fmt.Sprintf("ph%d", i)
		}
		var wo *models.WorkOrder
		if isBad {
			bad++
			id := fmt.Sprintf("wo-%d-%d", seed, i)
			e.WorkOrderID = &id
			u := unitIDs[unit]
			wo = &models.WorkOrder{ID: id, EvaluationID: e.ID, WorkflowID: "work-order-" + id, WorkflowStarted: true,
				State: models.StateDispatched, UnitID: &u.ID, UnitPath: u.Path, CaseNos: models.NewJSON(caseNos),
				Overall: overall, Levels: e.Levels, OpenedAt: ratedAt.Add(time.Minute), Deadlines: models.NewJSON([]models.Deadline{}), UpdatedAt: now}
		}
		if err := db.WithContext(ctx).Create(&e).Error; err != nil {
			t.Fatalf("evaluation: %v", err)
		}
		for _, c := range caseNos {
			if err := db.WithContext(ctx).Create(&models.EvaluationCase{EvaluationID: e.ID, CaseNo: c}).Error; err != nil {
				t.Fatalf("evaluation case: %v", err)
			}
		}
		if wo != nil {
			if err := db.WithContext(ctx).Create(wo).Error; err != nil {
				t.Fatalf("work order: %v", err)
			}
			state, disposition, overdue, excluded := timeline(t, db, r, wo)
			upd := map[string]any{"state": state, "disposition": disposition, "overdue_days": overdue}
			if err := db.WithContext(ctx).Table("work_orders").Where("id = ?", wo.ID).Updates(upd).Error; err != nil {
				t.Fatalf("work order: %v", err)
			}
			if excluded {
				if err := db.WithContext(ctx).Table("evaluations").Where("id = ?", e.ID).
					Updates(map[string]any{"excluded": true, "excluded_at": now}).Error; err != nil {
					t.Fatalf("exclude: %v", err)
				}
			}
		}
	}
	return bad
}

// timeline writes a plausible history for an order and answers its state, disposition,
// overdue days and whether its rating was excluded.
func timeline(t testing.TB, db *store.DB, r *rand.Rand, wo *models.WorkOrder) (string, string, int, bool) {
	at := wo.OpenedAt
	seq := 0
	add := func(typ string, data map[string]any) {
		seq++
		at = at.Add(time.Duration(1+r.IntN(60)) * time.Hour)
		ev := models.TimelineEvent{ID: fmt.Sprintf("%s/%d", wo.WorkflowID, seq), WorkOrderID: wo.ID, Seq: seq, At: at,
			Actor: "gen", Type: typ, Data: models.NewJSON(data)}
		if err := db.Create(&ev).Error; err != nil {
			t.Fatalf("timeline: %v", err)
		}
	}
	add("dispatched", map[string]any{"to_unit": "x"})
	overdue := 0
	if r.IntN(5) == 0 {
		add("deadline_breached", map[string]any{"deadline": "callback"})
		overdue = 1 + r.IntN(4)
		if r.IntN(2) == 0 {
			add("supervision", map[string]any{"level": 1})
		}
	}
	stage := r.IntN(6)
	if stage == 0 {
		return models.StateDispatched, "", overdue, false
	}
	add("sign", map[string]any{})
	add("callback", map[string]any{"reached": r.IntN(4) != 0})
	if stage == 1 {
		return models.StateSigned, "", overdue, false
	}
	disp := []string{"rectify_now", "ledger", "explain", "appeal"}[r.IntN(4)]
	add("dispose", map[string]any{"disposition": disp})
	excluded := false
	if disp == "appeal" {
		upheld := r.IntN(2) == 0
		add("decide_appeal", map[string]any{"upheld": upheld})
		if !upheld {
			add("dispose", map[string]any{"disposition": "explain"})
			disp = "explain"
		}
		excluded = upheld
	}
	if disp == "ledger" {
		add("complete", map[string]any{"measures": "m"})
	}
	if stage == 2 {
		return models.StateReviewing, disp, overdue, excluded
	}
	add("review", map[string]any{"approve": true})
	if stage == 3 {
		return models.StateFeedback, disp, overdue, excluded
	}
	add("record_feedback", map[string]any{"satisfaction": "satisfied"})
	return models.StateClosed, disp, overdue, excluded
}
