package intake_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"redress/calendar"
	"redress/intake"
	"redress/orgfile"
	"redress/pii"
	"redress/store"
	"redress/store/storetest"
)

// TestRotatePII: after a new key is put first, a rotation re-seals every value under it
// (readable with the new key alone afterwards); a second run rewrites nothing.
func TestRotatePII(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := orgfile.Apply(ctx, db, orgfile.Demo()); err != nil {
			t.Fatal(err)
		}
		if _, err := calendar.EnsureShipped(ctx, db); err != nil {
			t.Fatal(err)
		}
		oldSpec, hk := pii.NewKeySpec("old")
		newSpec, _ := pii.NewKeySpec("new")
		oldBox, _ := pii.ParseKeys(oldSpec, hk)
		svc := &intake.Service{DB: db, PII: oldBox}
		scope := store.Scope{Subtrees: []string{"/"}}
		for _, c := range []string{"R-1", "R-2", "R-3"} {
			done := time.Now().Add(-time.Hour)
			if _, _, err := svc.RegisterCase(ctx, scope, intake.CaseRequest{CaseNo: c, ServiceItem: intake.ServiceItem{Code: "x", Name: "x"},
				Unit: "sz-ft-tax", Channel: "pc", CompletedAt: &done, Applicant: intake.Person{Name: "李四", Phone: "13900001111"}}); err != nil {
				t.Fatal(err)
			}
			rated := time.Now()
			if _, _, err := svc.SubmitEvaluation(ctx, scope, intake.EvaluationRequest{EvaluationID: "e-" + c, CaseNos: []string{c}, Channel: "pc",
				Levels: map[string]string{"overall": "satisfied"}, RatedAt: &rated,
				Evaluator: intake.Person{Name: "张三", Phone: "13812341234", IDNumber: "440301199001011234"}}); err != nil {
				t.Fatal(err)
			}
		}
		both, err := pii.ParseKeys(newSpec+","+oldSpec, hk)
		if err != nil {
			t.Fatal(err)
		}
		res, err := intake.RotatePII(ctx, db, both, 2)
		if err != nil {
			t.Fatal(err)
		}
		if res.Key != "new" || res.Resealed != 6 {
			t.Fatalf("rotation %+v, want 6 rows re-sealed under new", res)
		}
		again, err := intake.RotatePII(ctx, db, both, 2)
		if err != nil || again.Resealed != 0 {
			t.Fatalf("second rotation %+v %v", again, err)
		}
		newOnly, _ := pii.ParseKeys(newSpec, hk)
		var vals []string
		db.Table("evaluations").Pluck("evaluator_phone", &vals)
		var more []string
		db.Table("service_cases").Pluck("applicant_phone", &more)
		vals = append(vals, more...)
		if len(vals) != 6 {
			t.Fatalf("%d values", len(vals))
		}
		for _, v := range vals {
			if !strings.HasPrefix(v, "v1.new.") {
				t.Errorf("value %q not under the new key", v)
			}
			if p, err := newOnly.Open(v); err != nil || (p != "13812341234" && p != "13900001111") {
				t.Errorf("open with the new key alone: %q %v", p, err)
			}
		}
		// Searches by keyed hash still find the person (the hash key is not rotated).
		svc.PII = newOnly
		items, total, err := svc.SearchEvaluations(ctx, scope, intake.SearchQuery{Phone: "13812341234"})
		if err != nil || total != 3 || items[0].Evaluator.Phone != "138****1234" {
			t.Errorf("search after rotation: %d %+v %v", total, items, err)
		}
	})
}
