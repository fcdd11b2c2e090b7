package api

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"redress/apperr"
	"redress/intake"
)

// The request decoders of the intake under fuzzing: whatever the body, decode and the
// request's own check answer either success or a client error in API.md's shape (an
// *apperr.Error with a 4xx status and a snake_case code) — never a panic, never an internal
// error. The seed corpus is in testdata/fuzz/<target>/.

func fuzzDecode(t *testing.T, body []byte, v any, check func() error) {
	e := echo.New()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	c := e.NewContext(req, httptest.NewRecorder())
	err := decode(c, v)
	if err == nil {
		err = check()
	}
	if err == nil {
		return
	}
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("not a client error: %T %v", err, err)
	}
	if ae.Status < 400 || ae.Status > 499 || ae.Code == "" || ae.Message == "" {
		t.Fatalf("bad error %+v", ae)
	}
	for _, r := range ae.Code {
		if (r < 'a' || r > 'z') && r != '_' && (r < '0' || r > '9') {
			t.Fatalf("code %q is not snake_case", ae.Code)
		}
	}
}

var fuzzNow = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func FuzzDecodeEvaluation(f *testing.F) {
	f.Add([]byte(`{"evaluation_id":"e1","case_nos":["C1"],"channel":"mobile","levels":{"overall":"satisfied"},"rated_at":"2026-05-01T09:00:00+08:00"}`))
	f.Add([]byte(`{"evaluation_id":"e2","case_nos":["C1"],"channel":"2","codes":"provincial","levels":{"overall":"1"},"rated_at":"2026-05-01T09:00:00Z"}`))
	f.Add([]byte(`{"evaluation_id":"e3","follow_up_of":"e1","channel":"pc","levels":{"overall":"dissatisfied"},"rated_at":"2026-05-01T09:00:00Z","evaluator":{"phone":"13800001111"}}`))
	f.Add([]byte(`{"evaluation_id":"e4","case_nos":["C1"],"channel":"pc","levels":{"overall":"satisfied"},"theme":{"code":"T","items":[{"item_code":"I","levels":{"overall":"very_dissatisfied"}}]},"rated_at":"2026-05-01T09:00:00Z"}`))
	f.Add([]byte(`{"evaluation_id":1}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var r intake.EvaluationRequest
		fuzzDecode(t, body, &r, func() error { return r.Check(fuzzNow) })
	})
}

func FuzzDecodeServiceCase(f *testing.F) {
	f.Add([]byte(`{"case_no":"C1","service_item":{"code":"x","name":"y"},"unit":"sz-ft-tax","channel":"window_device","completed_at":"2026-05-01T09:00:00+08:00"}`))
	f.Add([]byte(`{"case_no":"C2","service_item":{"code":"x","name":"y"},"unit":"u","channel":"pc","completed_at":"2026-05-01T09:00:00Z","intake_failed":true,"applicant":{"phone":"1"}}`))
	f.Add([]byte(`{"case_no":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var r intake.CaseRequest
		fuzzDecode(t, body, &r, func() error { return r.Check(fuzzNow) })
	})
}

func FuzzDecodeBulkCases(f *testing.F) {
	f.Add([]byte(`{"cases":[{"case_no":"C1","service_item":{"code":"x","name":"y"},"unit":"u","channel":"pc","completed_at":"2026-05-01T09:00:00Z"}]}`))
	f.Add([]byte(`{"cases":[]}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var r intake.BulkCasesRequest
		fuzzDecode(t, body, &r, func() error {
			for i := range r.Cases {
				if err := r.Cases[i].Check(fuzzNow); err != nil {
					return err
				}
			}
			return nil
		})
	})
}
