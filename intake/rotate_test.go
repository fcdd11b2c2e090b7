package intake_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"redress/apperr"
	"redress/intake"
	"redress/pii"
	"redress/store"
	"redress/store/storetest"
)

// TestRotatePII: after a new key is put first, a rotation re-seals every value under it
// (readable with the new key alone afterwards); a second run rewrites nothing.
func TestRotatePII(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedDemo(t, db)
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

// TestRotatePIIAcrossSuites: moving a database from AES to 国密 (REDRESS_CRYPTO=gm with an
// SM4 key first) re-seals every value under SM4 and recomputes the search hashes in HMAC-SM3,
// so that searches by phone find the older rows again; a second run rewrites nothing, and
// the move back to AES works the same way.
func TestRotatePIIAcrossSuites(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedDemo(t, db)
		aesSpec, hk := pii.NewKeySpec("a1")
		gmSpec, _ := pii.NewSuiteKeySpec(pii.SuiteGM, "g1")
		aesBox, _ := pii.ParseKeys(aesSpec, hk)
		svc := &intake.Service{DB: db, PII: aesBox}
		scope := store.Scope{Subtrees: []string{"/"}}
		for _, c := range []string{"G-1", "G-2", "G-3"} {
			done := time.Now().Add(-time.Hour)
			if _, _, err := svc.RegisterCase(ctx, scope, intake.CaseRequest{CaseNo: c, ServiceItem: intake.ServiceItem{Code: "x", Name: "x"},
				Unit: "sz-ft-tax", Channel: "pc", CompletedAt: &done, Applicant: intake.Person{Name: "李四", Phone: "13900001111", IDNumber: "440301198001001111"}}); err != nil {
				t.Fatal(err)
			}
			rated := time.Now()
			if _, _, err := svc.SubmitEvaluation(ctx, scope, intake.EvaluationRequest{EvaluationID: "e-" + c, CaseNos: []string{c}, Channel: "pc",
				Levels: map[string]string{"overall": "satisfied"}, RatedAt: &rated,
				Evaluator: intake.Person{Name: "张三", Phone: "13812341234", IDNumber: "440301199001011234"}}); err != nil {
				t.Fatal(err)
			}
		}
		gm, err := pii.New(pii.SuiteGM, gmSpec+","+aesSpec, hk)
		if err != nil {
			t.Fatal(err)
		}
		svc.PII = gm
		if _, total, _ := svc.SearchEvaluations(ctx, scope, intake.SearchQuery{Phone: "13812341234"}); total != 0 {
			t.Fatalf("before rotation the SM3 hash found %d rows: the suites hash alike", total)
		}
		res, err := intake.RotatePII(ctx, db, gm, 2)
		if err != nil {
			t.Fatal(err)
		}
		if res.Key != "g1" || res.Suite != "gm" || res.Resealed != 6 || res.Rehashed != 6 {
			t.Fatalf("rotation to gm %+v, want 6 re-sealed and 6 re-hashed", res)
		}
		if again, err := intake.RotatePII(ctx, db, gm, 2); err != nil || again.Resealed != 0 || again.Rehashed != 0 {
			t.Fatalf("second rotation %+v %v", again, err)
		}
		gmOnly, _ := pii.New(pii.SuiteGM, gmSpec, hk)
		var vals []string
		db.Table("evaluations").Pluck("evaluator_id_number", &vals)
		for _, v := range vals {
			if p, err := gmOnly.Open(v); err != nil || p != "440301199001011234" || pii.KeyID(v) != "g1" {
				t.Errorf("value %q after the move: %q %v", v, p, err)
			}
		}
		svc.PII = gmOnly
		items, total, err := svc.SearchEvaluations(ctx, scope, intake.SearchQuery{Phone: "13812341234"})
		if err != nil || total != 3 || items[0].Evaluator.Phone != "138****1234" {
			t.Fatalf("search under gm after rotation: %d %v", total, err)
		}
		if _, total, _ := svc.SearchEvaluations(ctx, scope, intake.SearchQuery{IDNumber: "440301199001011234"}); total != 3 {
			t.Fatalf("search by ID under gm after rotation: %d", total)
		}
		// And back to AES.
		back, _ := pii.New(pii.SuiteAES, aesSpec+","+gmSpec, hk)
		if res, err := intake.RotatePII(ctx, db, back, 50); err != nil || res.Resealed != 6 || res.Rehashed != 6 {
			t.Fatalf("rotation back to aes %+v %v", res, err)
		}
		svc.PII, _ = pii.ParseKeys(aesSpec, hk)
		if _, total, _ := svc.SearchEvaluations(ctx, scope, intake.SearchQuery{Phone: "13812341234"}); total != 3 {
			t.Fatalf("search under aes after moving back: %d", total)
		}
	})
}

// TestRehashNormalisedIdentities: a rating stored before phones were normalised (sealed and
// hashed as "+86 137-0013-7000") is rehashed once at start as "13700137000": the masked search
// finds it, and the same person's second first rating of the case is a repeat (409), not a
// new first rating; the run is recorded and not repeated.
func TestRehashNormalisedIdentities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		seedDemo(t, db)
		spec, hk := pii.NewKeySpec("k1")
		box, _ := pii.ParseKeys(spec, hk)
		svc := &intake.Service{DB: db, PII: box}
		scope := store.Scope{Subtrees: []string{"/"}}
		done := time.Now().Add(-time.Hour)
		if _, _, err := svc.RegisterCase(ctx, scope, intake.CaseRequest{CaseNo: "N-1", ServiceItem: intake.ServiceItem{Code: "x", Name: "x"},
			Unit: "sz-ft-tax", Channel: "pc", CompletedAt: &done, Applicant: intake.Person{Name: "李四", Phone: "13900001111"}}); err != nil {
			t.Fatal(err)
		}
		rated := time.Now()
		rate := func(id, level string) error {
			_, _, err := svc.SubmitEvaluation(ctx, scope, intake.EvaluationRequest{EvaluationID: id, CaseNos: []string{"N-1"}, Channel: "pc",
				Levels: map[string]string{"overall": level}, RatedAt: &rated, Evaluator: intake.Person{Name: "张三", Phone: "13700137000"}})
			return err
		}
		if err := rate("n-first", "satisfied"); err != nil {
			t.Fatal(err)
		}
		// The row as an older release stored it: the phone as typed, hashed un-normalised.
		raw := "+86 137-0013-7000"
		oldKey := "phone:" + box.Hash("phone", raw)
		if err := db.Exec("UPDATE evaluations SET evaluator_phone = ?, evaluator_phone_hash = ?, evaluator_key = ? WHERE evaluation_id = ?",
			box.Seal(raw), box.Hash("phone", raw), oldKey, "n-first").Error; err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("UPDATE evaluation_cases SET evaluator_key = ? WHERE case_no = ?", oldKey, "N-1").Error; err != nil {
			t.Fatal(err)
		}

		res, ran, err := intake.RehashIdentitiesOnce(ctx, db, box)
		if err != nil || !ran || res.Rehashed != 1 {
			t.Fatalf("rehash: %+v ran=%v %v, want one row rehashed", res, ran, err)
		}
		want := box.Hash("phone", "13700137000")
		var row struct{ EvaluatorPhoneHash, EvaluatorKey string }
		db.Table("evaluations").Select("evaluator_phone_hash, evaluator_key").Where("evaluation_id = ?", "n-first").Scan(&row)
		if row.EvaluatorPhoneHash != want || row.EvaluatorKey != "phone:"+want {
			t.Errorf("after the rehash: %+v, want the normalised phone's hash", row)
		}
		if _, total, err := svc.SearchEvaluations(ctx, scope, intake.SearchQuery{Phone: "137 0013 7000"}); err != nil || total != 1 {
			t.Errorf("the search by phone finds %d ratings (%v), want 1", total, err)
		}
		// The same person rating the case again (agreeing) is a repeat, not a second first rating.
		err = rate("n-again", "very_satisfied")
		if ae, ok := apperr.As(err); !ok || ae.Code != "already_rated" {
			t.Errorf("second first rating after the rehash: %v, want 409 already_rated", err)
		}
		if _, ran, err := intake.RehashIdentitiesOnce(ctx, db, box); err != nil || ran {
			t.Errorf("the rehash ran again (ran=%v, %v)", ran, err)
		}
	})
}
