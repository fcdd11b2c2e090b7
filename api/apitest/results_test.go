package apitest

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"redress/api"
	"redress/authz"
	"redress/calendar"
	"redress/calendar/calendardb"
	"redress/intake"
	"redress/models"
	"redress/outbox"
	"redress/signing"
	"redress/stats"
	"redress/stats/statstest"
	"redress/store"
	"redress/store/storetest"
)

const hotlineSecret = "apitest-hotline-secret"

// withResults serves the env's database through a second server whose results options are
// set (the 12345 secret, an alarm policy), sharing everything else.
func withResults(t *testing.T, e *env) *env {
	t.Helper()
	enf, err := authz.NewEnforcer()
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	srv := api.New(api.Deps{
		DB: e.db, Temporal: temporalClient, Tokens: e.issuer, Enforcer: enf, PII: e.box, Signer: e.signer,
		Intake:   &intake.Service{DB: e.db, PII: e.box, Starter: e.starter},
		Registry: reg, Gatherer: reg, Calendars: calendardb.NewCache(e.db, 0),
		Results: api.ResultsOptions{HotlineSecret: hotlineSecret, Alarm: stats.AlarmPolicy{Days: 90, MinRatings: 1}},
	})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e2 := *e
	e2.http, e2.tokens = hs, map[string]string{}
	return &e2
}

func TestResultsOverHTTP(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		e := withResults(t, newEnv(t, db, envOptions{}))
		// Last month's data straight into the database; this month's through the API.
		now := time.Now().In(calendar.Zone())
		thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, calendar.Zone())
		lastMonth := thisMonth.AddDate(0, -1, 0)
		statstest.Generate(t, db, 21, 80, lastMonth, thisMonth.Sub(lastMonth)-time.Hour)
		_, orderID := e.badOrder(t, "sz-ft-tax", "S0001")
		good := uniq("C")
		e.postCase(t, good, "sz-ns-tax", "")
		e.postEval(t, evalBody(uniq("E"), []string{good}, models.VerySatisfied, time.Now()))
		// The order counts for its unit once the workflow has dispatched it.
		e.waitState(t, orderID, models.StateDispatched)
		if _, err := (&stats.Roller{DB: db, Calendars: calendardb.NewCache(db, 0)}).Pass(ctx); err != nil {
			t.Fatal(err)
		}

		// Statistics: scoped to the caller's units.
		var view struct {
			Units []stats.UnitFigures `json:"units"`
			Total struct {
				Ratings stats.Ratings `json:"ratings"`
				Orders  stats.Orders  `json:"orders"`
			} `json:"total"`
		}
		r := e.do(t, request{method: "GET", path: "/api/v1/stats/units", login: "sz-admin"})
		wantStatus(t, r, http.StatusOK)
		r.decode(t, &view)
		if view.Total.Ratings.Total < 2 || view.Total.Orders.Orders < 1 || len(view.Units) < 5 {
			t.Fatalf("sz-admin stats: %s", r)
		}
		r = e.do(t, request{method: "GET", path: "/api/v1/stats/units", login: "ft-officer"})
		r.decode(t, &view)
		if len(view.Units) != 1 || view.Units[0].Code != "sz-ft-tax" || view.Total.Ratings.Bad != 1 {
			t.Fatalf("ft-officer stats: %s", r)
		}
		for _, q := range []string{"/api/v1/stats/staff", "/api/v1/stats/items", "/api/v1/stats/channels", "/api/v1/stats/trend?granularity=month&from=" + lastMonth.Format(time.DateOnly)} {
			wantStatus(t, e.do(t, request{method: "GET", path: q, login: "sz-supervisor"}), http.StatusOK)
		}
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/stats/units?from=2026-13-01", login: "sz-admin"}), http.StatusUnprocessableEntity, "invalid_date", "from")
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/stats/units?unit=sz-ns-tax", login: "ft-officer"}), http.StatusUnprocessableEntity, "unknown_unit", "unit")
		wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/stats/units"}), http.StatusUnauthorized)
		wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/stats/alarms", login: "ft-officer"}), http.StatusForbidden)
		wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/stats/alarms", login: "sz-auditor"}), http.StatusOK)

		// Publication of last month; the public answer; a correction.
		month := lastMonth.Format("2006-01")
		wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/publications", login: "ft-officer", body: map[string]any{"unit": "sz", "month": month}}), http.StatusForbidden)
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/publications", login: "sz-admin", body: map[string]any{"unit": "gd", "month": month}}), http.StatusUnprocessableEntity, "unknown_unit", "unit")
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/publications", login: "sz-admin", body: map[string]any{"unit": "sz", "month": thisMonth.Format("2006-01")}}), http.StatusUnprocessableEntity, "month_not_over", "month")
		wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/publications", login: "sz-admin", body: map[string]any{"unit": "sz", "month": month}}), http.StatusCreated)
		// The public page keeps its signed answer while the month's versions stay the same:
		// the second request gets the same bytes under the same signature (SM2 draws a new
		// one at each signing, so a rebuilt answer would carry another); a correction is
		// served as soon as it is stored (below).
		first := e.do(t, request{method: "GET", path: "/api/v1/public/results?month=" + month})
		again := e.do(t, request{method: "GET", path: "/api/v1/public/results?month=" + month})
		wantStatus(t, again, http.StatusOK)
		if !strings.Contains(first.String(), `"version":1`) || !bytes.Equal(first.body, again.body) {
			t.Fatalf("public results, version 1: %s then %s", first, again)
		}
		if h := first.header.Get(signing.Header); h == "" || again.header.Get(signing.Header) != h {
			t.Fatalf("public results answered twice: signatures %q and %q, want the kept answer's", h, again.header.Get(signing.Header))
		}
		r = e.do(t, request{method: "GET", path: "/api/v1/public/results?month=" + month + "&jurisdiction=sz-ns"})
		if !strings.Contains(r.String(), `"jurisdictions":[]`) {
			t.Fatalf("public results of a jurisdiction that published nothing: %s", r)
		}
		r = e.do(t, request{method: "POST", path: "/api/v1/publications", login: "sz-admin", body: map[string]any{"unit": "sz", "month": month, "note": "correction"}})
		wantStatus(t, r, http.StatusCreated)
		if !strings.Contains(r.String(), `"version":2`) {
			t.Fatalf("correction: %s", r)
		}
		r = e.do(t, request{method: "GET", path: "/api/v1/public/results?month=" + month + "&jurisdiction=sz"})
		if !strings.Contains(r.String(), `"version":2`) || strings.Contains(r.String(), `"version":1`) {
			t.Fatalf("public results of sz after the correction: %s", r)
		}
		r = e.do(t, request{method: "GET", path: "/api/v1/public/results?month=" + month})
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(r.String(), `"version":2`) || !strings.Contains(r.String(), `"sz-ft-tax"`) || strings.Contains(r.String(), "S0001") || strings.Contains(r.String(), "/gd/") {
			t.Fatalf("public results: %s", r)
		}
		// The publication is signed (SM2) and verifies with the key anyone can fetch (issue 21);
		// a changed byte does not.
		var key signing.Key
		kr := e.do(t, request{method: "GET", path: "/api/v1/public/signing-key"})
		wantStatus(t, kr, http.StatusOK)
		kr.decode(t, &key)
		if key.Algorithm != signing.AlgSM2 || key.UID != "1234567812345678" || !strings.Contains(key.PublicKey, "BEGIN PUBLIC KEY") {
			t.Fatalf("signing key: %s", kr)
		}
		sig := r.header.Get(key.Header)
		if err := signing.VerifyHeader(key.PublicKey, sig, r.body); err != nil {
			t.Fatalf("publication does not verify with the served key: %v (header %q)", err, sig)
		}
		forged := bytes.Replace(r.body, []byte(`"version":2`), []byte(`"version":3`), 1)
		if err := signing.VerifyHeader(key.PublicKey, sig, forged); err == nil {
			t.Fatal("an altered publication verifies")
		}
		wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/publications/sz/" + month + "/1", login: "sz-auditor"}), http.StatusOK)
		wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/publications/sz/" + month + "/3", login: "sz-auditor"}), http.StatusNotFound)

		// Reports on demand, downloaded; out of scope is refused.
		r = e.do(t, request{method: "POST", path: "/api/v1/reports", login: "sz-supervisor", body: map[string]any{"unit": "sz", "month": month}})
		wantStatus(t, r, http.StatusCreated)
		var rep struct{ ID string }
		r.decode(t, &rep)
		r = e.do(t, request{method: "GET", path: "/api/v1/reports/" + rep.ID, login: "sz-auditor"})
		wantStatus(t, r, http.StatusOK)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/vnd.openxmlformats") || !strings.HasPrefix(string(r.body), "PK") {
			t.Fatalf("report download: %s", ct)
		}
		wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/reports/" + rep.ID, login: "ns-officer"}), http.StatusForbidden)

		// 12345: forward once, receive signed results idempotently.
		r = e.do(t, request{method: "POST", path: "/api/v1/work-orders/" + orderID + "/hotline", login: "sz-admin", body: map[string]any{"note": "please follow up"}})
		wantStatus(t, r, http.StatusCreated)
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/work-orders/" + orderID + "/hotline", login: "sz-admin", body: map[string]any{}}), http.StatusConflict, "already_forwarded", "")
		r = e.do(t, request{method: "GET", path: "/api/v1/upstream/messages?target=hotline", login: "sz-admin"})
		if !strings.Contains(r.String(), "hotline:"+orderID) || strings.Contains(r.String(), evaluatorPhone) {
			t.Fatalf("hotline message: %s", r)
		}
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/upstream/messages/hotline:" + orderID + "/resend", login: "sz-admin"}), http.StatusConflict, "not_dead", "")
		body := `{"result_id":"R-1","work_order_id":"` + orderID + `","external_id":"12345-9","status":"handled","result":"called the citizen"}`
		sign := func(b string) map[string]string {
			return map[string]string{"X-Redress-Signature": outbox.Sign(hotlineSecret, time.Now(), []byte(b))}
		}
		wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/hotline/results", body: body, header: sign(body)}), http.StatusCreated)
		wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/hotline/results", body: body, header: sign(body)}), http.StatusOK)
		wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/hotline/results", body: body}), http.StatusUnauthorized)
		wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/hotline/results", body: body, header: map[string]string{"X-Redress-Signature": outbox.Sign("wrong", time.Now(), []byte(body))}}), http.StatusUnauthorized)
		other := strings.Replace(body, "handled", "closed", 1)
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/hotline/results", body: other, header: sign(other)}), http.StatusConflict, "result_conflict", "")
		r = e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + orderID + "/hotline", login: "ft-officer"})
		wantStatus(t, r, http.StatusOK)
		if !strings.Contains(r.String(), `"status":"handled"`) || !strings.Contains(r.String(), `"R-1"`) {
			t.Fatalf("ticket: %s", r)
		}
		wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + orderID + "/hotline", login: "ns-officer"}), http.StatusNotFound)
	})
}
