package intake_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"redress/apperr"
	"redress/intake"
	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// groupScenario is a run of first ratings whose answers depend on each other: a burst from
// one phone, a repeat and a changed repeat of an evaluation_id, one evaluator's agreeing and
// contradicting ratings of one case, an unknown case, bad ratings with their work orders, and
// plain ratings around them.
func groupScenario(cases []string, ratedAt time.Time) []intake.EvaluationRequest {
	r := func(id string, phone string, overall string, caseNos ...string) intake.EvaluationRequest {
		at := ratedAt
		return intake.EvaluationRequest{EvaluationID: id, CaseNos: caseNos, Channel: "qr_code",
			Levels: map[string]string{"overall": overall, "attitude": overall}, Tags: []string{"t"}, RatedAt: &at,
			Evaluator: intake.Person{Name: "张三", Phone: phone}}
	}
	var out []intake.EvaluationRequest
	plain := func(n int) {
		for range n {
			k := len(out)
			out = append(out, r(fmt.Sprintf("plain-%d", k), fmt.Sprintf("1380000%04d", k), models.Satisfied, cases[k]))
		}
	}
	plain(3)
	for i := range 6 { // the fifth and sixth are an identity burst
		out = append(out, r(fmt.Sprintf("burst-%d", i), "13911112222", models.Satisfied, cases[len(out)]))
	}
	first := out[3]
	out = append(out, first) // a retry: the stored answer
	changed := first
	changed.Levels = map[string]string{"overall": models.Dissatisfied}
	out = append(out, changed) // evaluation_conflict
	plain(2)
	c := cases[len(out)]
	out = append(out,
		r("same-good", "13722223333", models.Satisfied, c),
		r("same-bad", "13722223333", models.VeryDissatisfied, c), // contradicts: stored as a conflict
		r("same-again", "13722223333", models.Satisfied, c),      // agrees: already_rated
		r("unknown", "13733334444", models.Satisfied, "NO-SUCH-CASE"),
	)
	plain(1)
	out = append(out, r("bad-1", "13744445555", models.VeryDissatisfied, cases[len(out)]))
	out = append(out, r("two-cases", "13755556666", models.Satisfied, cases[len(out)], cases[len(out)+1]))
	out = append(out, r("two-cases-slot", "13755556666", models.Dissatisfied, cases[len(out)-1])) // its second case: a conflict
	plain(8)
	return out
}

// answer is an answer told without the ids a run draws: what it says, and for a stored
// rating which request's rating it is.
func answerOf(t *testing.T, db *store.DB, res intake.EvaluationResult, created bool, err error) string {
	t.Helper()
	if err != nil {
		ae, ok := apperr.As(err)
		if !ok {
			t.Fatalf("database error: %v", err)
		}
		return fmt.Sprintf("%d %s %s", ae.Status, ae.Code, ae.Field)
	}
	var evalID string
	if err := db.Raw("SELECT evaluation_id FROM evaluations WHERE id = ?", res.ID).Scan(&evalID).Error; err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("created=%v rating=%s bad=%v order=%v orders=%d", created, evalID, res.Bad, res.WorkOrderID != nil, len(res.WorkOrderIDs))
}

// storedRows is what a run stored, told by evaluation_id instead of the rows' drawn ids.
func storedRows(t *testing.T, db *store.DB) []string {
	t.Helper()
	var out []string
	q := func(table, sql string) {
		rs, err := db.Raw(sql).Rows()
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		defer rs.Close() //nolint:errcheck // read-only rows: rows.Err() after the loop reports a failed read
		cols, _ := rs.Columns()
		for rs.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			b.WriteString(table)
			for i, v := range vals {
				if tm, ok := v.(time.Time); ok {
					v = tm.UTC().Format(time.RFC3339Nano)
				}
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				fmt.Fprintf(&b, " %s=%v", cols[i], v)
			}
			out = append(out, b.String())
		}
		if err := rs.Err(); err != nil {
			t.Fatal(err)
		}
	}
	q("evaluations", `SELECT evaluation_id, kind, bad, overall, levels, tags, unit_path, channel, rated_at, received_at, evaluator_key,
		evaluator_phone_hash, request_hash, work_order_id IS NOT NULL AS has_order FROM evaluations`)
	q("evaluation_cases", `SELECT e.evaluation_id, c.case_no, c.overall, c.bad, c.evaluator_key, c.slot FROM evaluation_cases c JOIN evaluations e ON e.id = c.evaluation_id`)
	q("fraud_flags", `SELECT e.evaluation_id, f.kind, f.status, f.unit_path, f.evidence, f.created_at FROM fraud_flags f JOIN evaluations e ON e.id = f.evaluation_id`)
	q("work_orders", `SELECT e.evaluation_id, w.state, w.case_nos, w.overall, w.levels, w.opened_at FROM work_orders w JOIN evaluations e ON e.id = w.evaluation_id`)
	q("timeline_events", `SELECT e.evaluation_id, t.seq, t.type, t.actor, t.data, t.at FROM timeline_events t
		JOIN work_orders w ON w.id = t.work_order_id JOIN evaluations e ON e.id = w.evaluation_id`)
	slices.Sort(out)
	return out
}

// TestGroupedRatingsAnswerAsOneAtATime: first ratings sent concurrently, which the group commit
// stores together, get the answers and store the rows that the same ratings sent one at a
// time get and store — the burst's flags, the retry's stored answer, the changed retry's
// conflict, the agreeing and the contradicting rating of one evaluator's case, the unknown
// case, the work orders — and they did go as one group. All of them meet in one group: the
// runner is held while they queue, one after another in the order of the reference run.
func TestGroupedRatingsAnswerAsOneAtATime(t *testing.T) {
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			ctx := context.Background()
			box := testBox(t)
			base := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
			run := func(grouped bool) (answers, rows []string, svc *intake.Service) {
				db := storetest.Open(t, d)
				seedDemo(t, db)
				cases := seedRatable(t, db, "G", "sz-ft-tax", 60, base.Add(-2*time.Hour))
				var mu sync.Mutex
				tick := 0
				svc = &intake.Service{DB: db, PII: box, Now: func() time.Time {
					mu.Lock()
					defer mu.Unlock()
					tick++
					return base.Add(time.Duration(tick) * time.Millisecond)
				}}
				reqs := groupScenario(cases[1:], base.Add(-30*time.Minute))
				scope := store.Scope{Subtrees: []string{"/"}}
				primer := reqs[0]
				primer.EvaluationID, primer.CaseNos, primer.Evaluator.Phone = "primer", []string{cases[0]}, "13000000000"
				answers = make([]string, len(reqs))
				type got struct {
					res     intake.EvaluationResult
					created bool
					err     error
				}
				gots := make([]got, len(reqs))
				if !grouped {
					intake.OneAtATime(svc)
					if _, _, err := svc.SubmitEvaluation(ctx, scope, primer); err != nil {
						t.Fatal(err)
					}
					for i, r := range reqs {
						gots[i].res, gots[i].created, gots[i].err = svc.SubmitEvaluation(ctx, scope, r)
					}
				} else {
					entered, release := intake.HoldGroups(svc)
					var wg sync.WaitGroup
					wg.Add(1 + len(reqs))
					go func() {
						defer wg.Done()
						if _, _, err := svc.SubmitEvaluation(ctx, scope, primer); err != nil {
							t.Error(err)
						}
					}()
					<-entered
					for i, r := range reqs {
						go func() {
							defer wg.Done()
							gots[i].res, gots[i].created, gots[i].err = svc.SubmitEvaluation(ctx, scope, r)
						}()
						// The next goes only once this one waits for the group: the group's order
						// is the reference run's.
						waitFor(t, func() bool { return intake.GroupWaiting(svc) == i+1 })
					}
					release()
					wg.Wait()
				}
				for i, g := range gots {
					answers[i] = reqs[i].EvaluationID + ": " + answerOf(t, db, g.res, g.created, g.err)
				}
				return answers, storedRows(t, db), svc
			}
			wantAnswers, wantRows, _ := run(false)
			gotAnswers, gotRows, svc := run(true)
			for i := range wantAnswers {
				if gotAnswers[i] != wantAnswers[i] {
					t.Errorf("answer %d:\n got %s\nwant %s", i, gotAnswers[i], wantAnswers[i])
				}
			}
			if !slices.Equal(gotRows, wantRows) {
				for _, r := range wantRows {
					if !slices.Contains(gotRows, r) {
						t.Errorf("not stored by the groups: %s", r)
					}
				}
				for _, r := range gotRows {
					if !slices.Contains(wantRows, r) {
						t.Errorf("stored by the groups only: %s", r)
					}
				}
			}
			// The scenario's own checks, so that agreeing with the reference means something.
			for _, want := range []string{
				"burst-4: created=true", "burst-0: created=false rating=burst-0", "burst-0: 409 evaluation_conflict",
				"same-bad: created=true rating=same-bad bad=true order=true", "same-again: 409 already_rated", "unknown: 422 unknown_case",
			} {
				if !slices.ContainsFunc(wantAnswers, func(a string) bool { return strings.HasPrefix(a, want) }) {
					t.Errorf("no answer %q in %q", want, wantAnswers)
				}
			}
			if n := countPrefix(wantRows, "fraud_flags evaluation_id=burst-4 kind=identity_burst"); n != 1 {
				t.Errorf("burst-4 has %d identity_burst flags, want 1", n)
			}
			// The primer went alone; of the 29 ratings after it, all but the unknown case and
			// the five that meet an earlier one at the unique keys (the retry, the changed
			// retry, same-bad, same-again, two-cases-slot: answered one at a time once the
			// group was committed) were stored in one group.
			groups, stored, largest := intake.GroupStats(svc)
			if groups != 2 || stored != 24 || largest != 23 {
				t.Errorf("%d groups stored %d ratings, the largest %d: want 2 groups, 24 ratings, the largest 23", groups, stored, largest)
			}
		})
	}
}

func countPrefix(rows []string, prefix string) int {
	n := 0
	for _, r := range rows {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

// waitFor waits until cond holds (10 s at most).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 10 s")
		}
		time.Sleep(time.Millisecond)
	}
}
