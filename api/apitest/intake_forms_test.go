package apitest

import (
	"bytes"
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"redress/intake"
	"redress/models"
	"redress/store"
	"redress/store/storetest"
	"redress/workflows"
)

// Issue 4: the forms of rating intake over HTTP, on SQLite and PostgreSQL.

func (e *env) postRating(t *testing.T, body map[string]any) response {
	t.Helper()
	return e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: body})
}

// setPolicy gives a unit a policy document (replacing its own, the nearest one wins).
func setPolicy(t *testing.T, db *store.DB, unitCode string, doc models.PolicyDoc) {
	t.Helper()
	var u models.Unit
	if err := db.Where("code = ?", unitCode).First(&u).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Where("unit_id = ?", u.ID).Delete(&models.Policy{}).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.Create(&models.Policy{UnitID: u.ID, Doc: models.NewJSON(doc), CreatedAt: time.Now(), UpdatedAt: time.Now()}).Error; err != nil {
		t.Fatal(err)
	}
}

func person(phone, id string) map[string]any {
	return map[string]any{"name": "赵七", "phone": phone, "id_number": id}
}

// TestIntakeBulkCases: every case of a bulk request is answered on its own; a refused one
// holds back nothing; a repeat is a no-op; a case whose intake failed is stored but opens no
// rating.
func TestIntakeBulkCases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		done := time.Now().Add(-time.Hour)
		failed := caseBody("BK-3", "sz-ft-tax", "", done)
		failed["intake_failed"] = true
		body := map[string]any{"cases": []any{
			caseBody("BK-1", "sz-ft-tax", "S0001", done),
			caseBody("BK-2", "sz-nowhere", "", done),
			failed,
			caseBody("BK-4", "sz-ns-tax", "", done),
		}}
		post := func() response {
			return e.do(t, request{method: "POST", path: "/api/v1/service-cases/bulk", login: "channel", body: body})
		}
		type result struct {
			Index  int    `json:"index"`
			CaseNo string `json:"case_no"`
			Status int    `json:"status"`
			ID     string `json:"id"`
			Error  *struct {
				Code, Message, Field string
			} `json:"error"`
		}
		var first struct {
			Results []result       `json:"results"`
			Summary map[string]int `json:"summary"`
		}
		r := post()
		wantStatus(t, r, http.StatusOK)
		r.decode(t, &first)
		want := []int{201, 422, 201, 201}
		for i, res := range first.Results {
			if res.Status != want[i] || res.Index != i {
				t.Errorf("case %d: %+v, want status %d", i, res, want[i])
			}
		}
		if e := first.Results[1].Error; e == nil || e.Code != "unknown_unit" || e.Field != "cases[1].unit" {
			t.Errorf("refused case's error %+v", first.Results[1].Error)
		}
		if first.Summary["created"] != 3 || first.Summary["failed"] != 1 {
			t.Errorf("summary %v", first.Summary)
		}
		var again struct {
			Results []result `json:"results"`
		}
		r = post()
		wantStatus(t, r, http.StatusOK)
		r.decode(t, &again)
		for i, res := range again.Results {
			if i != 1 && (res.Status != 200 || res.ID != first.Results[i].ID) {
				t.Errorf("repeat of case %d: %+v", i, res)
			}
		}
		if n := e.count(t, "service_cases", "1 = 1"); n != 3 {
			t.Errorf("%d cases stored, want 3", n)
		}
		if n := e.count(t, "service_cases", "case_no = ? AND NOT ratable AND rating_closes_at IS NULL", "BK-3"); n != 1 {
			t.Errorf("failed intake not stored as unratable")
		}
		if n := e.count(t, "service_cases", "case_no = ? AND ratable AND rating_closes_at IS NOT NULL", "BK-1"); n != 1 {
			t.Errorf("completed case has no rating window")
		}
		wantError(t, e.postRating(t, evalBody("bk-e1", []string{"BK-3"}, models.Satisfied, time.Now())), http.StatusUnprocessableEntity, "not_ratable", "case_nos")
		if n := e.count(t, "evaluations", "1 = 1"); n != 0 {
			t.Errorf("%d evaluations after a refused rating", n)
		}
		// Whole-request refusals.
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/service-cases/bulk", login: "channel", body: map[string]any{"cases": []any{}}}), http.StatusUnprocessableEntity, "required", "cases")
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/service-cases/bulk", login: "channel", body: `{"cases":[`}), http.StatusBadRequest, "malformed_json", "")
	})
}

// TestIntakeForms: theme-service ratings, follow-ups, one first rating per case and evaluator,
// anonymous ratings, provincial codes and concurrent follow-ups.
func TestIntakeForms(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		for _, c := range []string{"F-1", "F-2", "F-3", "F-4", "F-5"} {
			e.postCase(t, c, "sz-ft-tax", "S0001")
		}
		now := time.Now()

		t.Run("theme with bad items opens one work order", func(t *testing.T) {
			b := evalBody("th-1", []string{"F-1", "F-2"}, models.Satisfied, now)
			b["evaluator"] = person("13700000001", "")
			b["theme"] = map[string]any{"code": "open-business", "name": "开办企业", "items": []any{
				map[string]any{"item_code": "licence", "case_no": "F-1", "levels": map[string]any{"overall": "very_dissatisfied"}},
				map[string]any{"item_code": "seal", "levels": map[string]any{"overall": "dissatisfied", "speed": "very_dissatisfied"}},
				map[string]any{"item_code": "tax", "levels": map[string]any{"overall": "very_satisfied"}},
			}}
			res := e.postEval(t, b)
			if !res.Bad || res.WorkOrderID == nil {
				t.Fatalf("theme with bad items answered %+v", res)
			}
			if n := e.count(t, "work_orders", "evaluation_id = ?", res.ID); n != 1 {
				t.Errorf("%d work orders for one theme rating", n)
			}
			var ev models.TimelineEvent
			db.Where("work_order_id = ? AND type = ?", *res.WorkOrderID, "opened").First(&ev)
			if items, _ := ev.Data.V["bad_theme_items"].([]any); len(items) != 2 {
				t.Errorf("opened event %v", ev.Data.V)
			}
			good := evalBody("th-2", []string{"F-3"}, models.Satisfied, now)
			good["theme"] = map[string]any{"code": "t", "items": []any{map[string]any{"item_code": "a", "levels": map[string]any{"overall": "satisfied"}}}}
			if r := e.postEval(t, good); r.Bad || r.WorkOrderID != nil {
				t.Errorf("good theme answered %+v", r)
			}
			bad := evalBody("th-3", []string{"F-3"}, models.Satisfied, now)
			bad["theme"] = map[string]any{"code": "t", "items": []any{map[string]any{"item_code": "a", "case_no": "F-9", "levels": map[string]any{"overall": "satisfied"}}}}
			wantError(t, e.postRating(t, bad), http.StatusUnprocessableEntity, "unknown_case", "theme.items[0].case_no")
		})

		t.Run("one first rating per case and evaluator, one follow-up", func(t *testing.T) {
			first := evalBody("fu-first", []string{"F-4"}, models.Satisfied, now)
			first["evaluator"] = person("13700000002", "440301199002081111")
			e.postEval(t, first)
			// A second first rating that agrees with the first (both good) is a repeat; one that
			// contradicts it is a conflict (TestStaffCannotOwnTheRating).
			second := evalBody("fu-second", []string{"F-4"}, models.VerySatisfied, now)
			second["evaluator"] = person("13700000009", "440301199002081111") // same ID number
			wantError(t, e.postRating(t, second), http.StatusConflict, "already_rated", "")

			fu := evalBody("fu-1", nil, models.Dissatisfied, now)
			delete(fu, "case_nos")
			fu["follow_up_of"] = "fu-first"
			fu["evaluator"] = person("13700000002", "440301199002081111")
			r := e.postRating(t, fu)
			wantStatus(t, r, http.StatusCreated)
			var res evalResult
			r.decode(t, &res)
			if !res.Bad || res.WorkOrderID == nil {
				t.Errorf("bad follow-up answered %s", r)
			}
			again := e.postRating(t, fu)
			wantStatus(t, again, http.StatusOK)
			if !bytes.Equal(again.body, r.body) {
				t.Errorf("follow-up retry %s, first %s", again.body, r.body)
			}
			fu2 := evalBody("fu-2", []string{"F-4"}, models.Satisfied, now)
			fu2["follow_up_of"] = "fu-first"
			fu2["evaluator"] = person("13700000002", "440301199002081111")
			wantError(t, e.postRating(t, fu2), http.StatusConflict, "follow_up_limit", "")
			other := evalBody("fu-3", nil, models.Satisfied, now)
			delete(other, "case_nos")
			other["follow_up_of"] = "fu-first"
			other["evaluator"] = person("13700000003", "")
			wantError(t, e.postRating(t, other), http.StatusUnprocessableEntity, "unknown_first_rating", "follow_up_of")
			var kinds []string
			db.Table("evaluations").Where("evaluation_id IN ?", []string{"fu-first", "fu-1"}).Order("evaluation_id").Pluck("kind", &kinds)
			if len(kinds) != 2 || kinds[0] != intake.KindFollowUp || kinds[1] != intake.KindFirst {
				t.Errorf("kinds %v", kinds)
			}
		})

		t.Run("anonymous ratings: one per case", func(t *testing.T) {
			a := evalBody("anon-1", []string{"F-5"}, models.Satisfied, now)
			delete(a, "evaluator")
			e.postEval(t, a)
			b := evalBody("anon-2", []string{"F-5"}, models.VerySatisfied, now)
			delete(b, "evaluator")
			wantError(t, e.postRating(t, b), http.StatusConflict, "already_rated", "")
			fu := evalBody("anon-3", []string{"F-5"}, models.VerySatisfied, now)
			delete(fu, "evaluator")
			fu["follow_up_of"] = "anon-1"
			wantError(t, e.postRating(t, fu), http.StatusUnprocessableEntity, "follow_up_needs_identity", "evaluator")
		})

		t.Run("provincial codes at the edge", func(t *testing.T) {
			e.postCase(t, "F-6", "sz-ft-tax", "")
			b := evalBody("pc-1", []string{"F-6"}, "", now)
			b["codes"] = "provincial"
			b["channel"] = "2"
			b["levels"] = map[string]any{"overall": "1", "attitude": "5"}
			b["evaluator"] = person("13700000004", "")
			r := e.postRating(t, b)
			wantStatus(t, r, http.StatusCreated)
			var res evalResult
			r.decode(t, &res)
			if !res.Bad {
				t.Errorf("provincial 1 (非常不满意) is not bad: %s", r)
			}
			var ev models.Evaluation
			db.Where("evaluation_id = ?", "pc-1").First(&ev)
			if ev.Overall != models.VeryDissatisfied || ev.Levels.V["attitude"] != models.VerySatisfied || ev.Channel != "mobile" {
				t.Errorf("stored %s %v %s", ev.Overall, ev.Levels.V, ev.Channel)
			}
			// The same rating by name is the same submission.
			named := evalBody("pc-1", []string{"F-6"}, "", now)
			named["levels"] = map[string]any{"overall": "very_dissatisfied", "attitude": "very_satisfied"}
			named["evaluator"] = person("13700000004", "")
			wantStatus(t, e.postRating(t, named), http.StatusOK)
			gb := evalBody("pc-2", []string{"F-6"}, "", now)
			gb["codes"] = "gb"
			gb["levels"] = map[string]any{"overall": "6"}
			wantError(t, e.postRating(t, gb), http.StatusUnprocessableEntity, "invalid_level", "levels.overall")
			gb["levels"] = map[string]any{"overall": "1"}
			gb["channel"] = "7"
			wantError(t, e.postRating(t, gb), http.StatusUnprocessableEntity, "invalid_channel", "channel")
		})

		t.Run("concurrent follow-ups: one wins", func(t *testing.T) {
			e.postCase(t, "F-7", "sz-ft-tax", "")
			first := evalBody("cf-first", []string{"F-7"}, models.Satisfied, now)
			first["evaluator"] = person("13700000005", "")
			e.postEval(t, first)
			e.token(t, "channel")
			const n = 8
			answers := make([]response, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				b := evalBody(uniq("cf"), []string{"F-7"}, models.Satisfied, now)
				b["follow_up_of"] = "cf-first"
				b["evaluator"] = person("13700000005", "")
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					answers[i] = e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: b})
				}()
			}
			close(start)
			wg.Wait()
			created := 0
			for _, r := range answers {
				switch r.status {
				case http.StatusCreated:
					created++
				case http.StatusConflict:
				default:
					t.Errorf("answer %s", r)
				}
			}
			if created != 1 {
				t.Errorf("%d follow-ups created, want 1", created)
			}
			if c := e.count(t, "evaluations", "kind = ? AND evaluator_phone_hash <> '' AND evaluation_id LIKE ?", intake.KindFollowUp, "cf-%"); c != 1 {
				t.Errorf("%d follow-ups stored", c)
			}
		})
	})
}

// TestIntakeRatingWindow: a rating after the window is refused with a clear code; the
// default-rating job gives unrated closed cases the policy's default (channel default), once,
// catching up every closed window, and never a case that was rated or whose intake failed.
func TestIntakeRatingWindow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		setPolicy(t, db, "sz-ns-tax", models.PolicyDoc{DefaultLevel: models.VerySatisfied})
		// Completed 12 days ago: the 7-day window and the 3-day late-upload grace have passed.
		old := time.Now().Add(-12 * 24 * time.Hour)
		post := func(caseNo, unit string, done time.Time, failed bool) {
			b := caseBody(caseNo, unit, "", done)
			if failed {
				b["intake_failed"] = true
			}
			wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/service-cases", login: "channel", body: b}), http.StatusCreated)
		}
		post("W-OLD-1", "sz-ft-tax", old, false)
		post("W-OLD-2", "sz-ns-tax", old, false)
		post("W-OLD-RATED", "sz-ft-tax", old, false)
		post("W-OLD-FAILED", "sz-ft-tax", old, true)
		post("W-NEW", "sz-ft-tax", time.Now().Add(-time.Hour), false)

		// A rating made inside the window but after it closed arrives too late either way.
		r := e.postRating(t, evalBody("w-late", []string{"W-OLD-1"}, models.Satisfied, time.Now()))
		wantError(t, r, http.StatusUnprocessableEntity, "rating_window_closed", "rated_at")
		// Rated in time (day 2) and uploaded now, 10 days later: too late (the window and the
		// late-upload grace have passed, its default may have been given).
		wantError(t, e.postRating(t, evalBody("w-late-2", []string{"W-OLD-1"}, models.Satisfied, old.Add(48*time.Hour))), http.StatusUnprocessableEntity, "rating_window_closed", "rated_at")
		// Rated while open: stored directly in the database as an earlier intake would have.
		var sc models.ServiceCase
		db.Where("case_no = ?", "W-OLD-RATED").First(&sc)
		if err := db.Exec("INSERT INTO evaluations (id, evaluation_id, channel, overall, levels, bad, rated_at, received_at, request_hash) VALUES ('ev-rated','ev-rated','pc','satisfied','{}',false,?,?,'x')", old.Add(time.Hour), old.Add(time.Hour)).Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("INSERT INTO evaluation_cases (evaluation_id, case_no) VALUES ('ev-rated','W-OLD-RATED')").Error; err != nil {
			t.Fatal(err)
		}

		// The scheduled workflow, run now on the env's worker (as the schedule would).
		run := func() intake.DefaultRun {
			ctx := context.Background()
			wr, err := temporalClient.ExecuteWorkflow(ctx, clientStart(uniq("defaults"), e.queue), "DefaultRatings", map[string]any{})
			if err != nil {
				t.Fatal(err)
			}
			var out intake.DefaultRun
			if err := wr.Get(ctx, &out); err != nil {
				t.Fatal(err)
			}
			return out
		}
		if got := run(); got.Applied != 2 {
			t.Fatalf("first run %+v, want 2 applied", got)
		}
		if got := run(); got.Applied != 0 {
			t.Fatalf("second run %+v, want nothing", got)
		}
		var defs []struct {
			EvaluationID, Channel, Overall, Kind, CaseNo string
			Bad                                          bool
			WorkOrderID                                  *string
		}
		db.Table("evaluations").Select("evaluations.evaluation_id, evaluations.channel, evaluations.overall, evaluations.kind, evaluation_cases.case_no, evaluations.bad, evaluations.work_order_id").
			Joins("JOIN evaluation_cases ON evaluation_cases.evaluation_id = evaluations.id").
			Where("evaluations.channel = ?", models.ChannelDefault).Order("evaluation_cases.case_no").Scan(&defs)
		if len(defs) != 2 || defs[0].CaseNo != "W-OLD-1" || defs[1].CaseNo != "W-OLD-2" {
			t.Fatalf("default ratings %+v", defs)
		}
		if defs[0].Overall != models.BasicallySatisfied || defs[1].Overall != models.VerySatisfied {
			t.Errorf("default levels %s / %s, want the policies' basically_satisfied / very_satisfied", defs[0].Overall, defs[1].Overall)
		}
		for _, d := range defs {
			if d.Kind != intake.KindDefault || d.EvaluationID != intake.DefaultEvaluationID(d.CaseNo) || d.WorkOrderID != nil {
				t.Errorf("default %+v", d)
			}
		}
		// After the default, the late rating is still refused.
		wantError(t, e.postRating(t, evalBody("w-late-3", []string{"W-OLD-2"}, models.Satisfied, time.Now())), http.StatusUnprocessableEntity, "rating_window_closed", "rated_at")
		// The open case can still be rated.
		e.postEval(t, evalBody("w-open", []string{"W-NEW"}, models.Satisfied, time.Now()))
	})
}

func clientStart(id, queue string) client.StartWorkflowOptions {
	return client.StartWorkflowOptions{ID: id, TaskQueue: queue}
}

// TestIntakeDefaultSchedule: the worker's schedule is created once; a second call (another
// worker starting) leaves it as it is.
func TestIntakeDefaultSchedule(t *testing.T) {
	ctx := context.Background()
	queue := uniq("apitest-schedule")
	for range 2 {
		if err := workflows.EnsureDefaultRatingsSchedule(ctx, temporalClient, queue); err != nil {
			t.Fatal(err)
		}
	}
	h := temporalClient.ScheduleClient().GetHandle(ctx, workflows.DefaultRatingsSchedule)
	t.Cleanup(func() { _ = h.Delete(context.Background()) })
	d, err := h.Describe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	act, ok := d.Schedule.Action.(*client.ScheduleWorkflowAction)
	if !ok || act.TaskQueue != queue || act.Workflow != workflows.DefaultRatingsName {
		t.Errorf("schedule action %+v", d.Schedule.Action)
	}
	if len(d.Schedule.Spec.Intervals) != 1 || d.Schedule.Spec.Intervals[0].Every != workflows.DefaultRatingsEvery {
		t.Errorf("schedule spec %+v", d.Schedule.Spec)
	}
}
