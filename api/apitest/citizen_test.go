package apitest

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// TestQRRating covers the public QR rating flow: issuing a token, reading the case without
// personal data, a bad rating opening a work order with the applicant as evaluator, a double
// submit stored once, and forged or malformed tokens refused.
func TestQRRating(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		caseNo := uniq("QR")
		e.postCase(t, caseNo, "sz-ft-tax", "")

		// Who may issue a token: the channel only; the case unit's staff never (they could rate
		// their own case under the applicant's identity, issue 17), nor anyone else.
		for _, c := range []struct {
			login  string
			status int
		}{{"channel", 200}, {"ft-officer", 403}, {"sz-admin", 403}, {"ns-officer", 403}, {"sz-auditor", 403}} {
			r := e.do(t, request{method: "POST", path: "/api/v1/service-cases/" + caseNo + "/qr", login: c.login})
			if r.status != c.status {
				t.Errorf("%s issuing a QR token: %s, want %d", c.login, r, c.status)
			}
		}
		r := e.do(t, request{method: "POST", path: "/api/v1/service-cases/" + caseNo + "/qr", login: "channel"})
		var qr struct {
			CaseNo string `json:"case_no"`
			Token  string `json:"token"`
			Path   string `json:"path"`
		}
		r.decode(t, &qr)
		if qr.Token == "" || !strings.HasSuffix(qr.Path, qr.Token) || qr.CaseNo != caseNo {
			t.Fatalf("QR answer %s", r)
		}
		if qr.Token != e.srv.RateToken(caseNo) {
			t.Errorf("the token is not deterministic")
		}

		// The page's view: public, no personal data.
		r = e.do(t, request{method: "GET", path: "/api/v1/rate/" + qr.Token})
		wantStatus(t, r, http.StatusOK)
		for _, secret := range []string{"李四", "13900001111", "440301198001001111", caseNo} {
			if bytes.Contains(r.body, []byte(secret)) {
				t.Errorf("the public case view leaks %q: %s", secret, r)
			}
		}
		var view struct {
			ItemName string `json:"item_name"`
			UnitName string `json:"unit_name"`
			Rated    bool   `json:"rated"`
		}
		r.decode(t, &view)
		if view.ItemName == "" || view.UnitName == "" || view.Rated {
			t.Errorf("case view %s", r)
		}

		// Bad tokens.
		forged := qr.Token[:len(qr.Token)-2] + "AA"
		if forged == qr.Token {
			forged = qr.Token[:len(qr.Token)-2] + "BB"
		}
		for _, tok := range []string{forged, "q1.x.y", "nonsense", "q1." + strings.Split(qr.Token, ".")[1] + ".AAAAAAAAAAAAAAAAAAAAAA"} {
			wantError(t, e.do(t, request{method: "GET", path: "/api/v1/rate/" + tok}), http.StatusNotFound, "not_found", "")
			wantError(t, e.do(t, request{method: "POST", path: "/api/v1/rate/" + tok, body: map[string]any{"levels": map[string]string{"overall": "satisfied"}}}), http.StatusNotFound, "not_found", "")
		}

		// Validation comes from the intake.
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/rate/" + qr.Token, body: map[string]any{"levels": map[string]string{}}}),
			http.StatusUnprocessableEntity, "required", "levels.overall")
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/rate/" + qr.Token, body: map[string]any{"levels": map[string]string{"overall": "awful"}}}),
			http.StatusUnprocessableEntity, "invalid_level", "levels.overall")
		wantError(t, e.do(t, request{method: "POST", path: "/api/v1/rate/" + qr.Token, body: map[string]any{"levels": map[string]string{"overall": "satisfied"}, "tags": []string{"made-up"}}}),
			http.StatusUnprocessableEntity, "invalid_tag", "tags")

		body := map[string]any{"levels": map[string]string{"overall": "very_dissatisfied", "attitude": "dissatisfied"}, "tags": []string{"slow"}, "comment": "twice"}
		r = e.do(t, request{method: "POST", path: "/api/v1/rate/" + qr.Token, body: body})
		wantStatus(t, r, http.StatusCreated)
		var res struct {
			Bad          bool   `json:"bad"`
			AlreadyRated bool   `json:"already_rated"`
			TrackToken   string `json:"track_token"`
		}
		r.decode(t, &res)
		if !res.Bad || res.AlreadyRated || res.TrackToken == "" {
			t.Errorf("first rating answered %s", r)
		}
		// The thank-you page's tracking link opens the order's tracking view at once.
		wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/track/" + res.TrackToken}), http.StatusOK)
		// A double submit (and another bad rating of the same receipt) stores nothing more; a
		// contradicting one is stored as a conflict (TestStaffCannotOwnTheRating).
		for _, b := range []any{body, map[string]any{"levels": map[string]string{"overall": "dissatisfied"}}} {
			r = e.do(t, request{method: "POST", path: "/api/v1/rate/" + qr.Token, body: b})
			wantStatus(t, r, http.StatusOK)
			r.decode(t, &res)
			if !res.AlreadyRated || !res.Bad {
				t.Errorf("repeat answered %s", r)
			}
		}
		if n := e.count(t, "evaluations", "evaluation_id = ?", "qr:"+caseNo); n != 1 {
			t.Errorf("%d evaluations stored, want 1", n)
		}
		var ev models.Evaluation
		if err := db.Where("evaluation_id = ?", "qr:"+caseNo).First(&ev).Error; err != nil {
			t.Fatal(err)
		}
		if ev.Channel != "qr_code" || ev.WorkOrderID == nil {
			t.Fatalf("stored evaluation %+v", ev)
		}
		if phone, err := e.box.Open(ev.EvaluatorPhone); err != nil || phone != "13900001111" {
			t.Errorf("evaluator phone %q (%v): want the applicant's", phone, err)
		}
		e.waitState(t, *ev.WorkOrderID, models.StateDispatched)
		r = e.do(t, request{method: "GET", path: "/api/v1/rate/" + qr.Token})
		r.decode(t, &view)
		if !view.Rated {
			t.Errorf("case still unrated after rating: %s", r)
		}
	})
}

// TestWorkOrderExport checks the CSV and XLSX exports: roles, the list's filters and scope,
// the same rows as the list, no personal data, and formula-looking text defused in CSV.
func TestWorkOrderExport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		c1, id1 := e.badOrder(t, "sz-ft-tax", "")
		_, id2 := e.badOrder(t, "sz-ns-tax", "")
		e.waitState(t, id1, models.StateDispatched)
		e.waitState(t, id2, models.StateDispatched)

		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/exports/work-orders", login: "ft-officer"}), http.StatusForbidden, "forbidden", "")
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/exports/work-orders?format=pdf", login: "sz-auditor"}), http.StatusUnprocessableEntity, "invalid_format", "format")
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/exports/work-orders?state=nope", login: "sz-auditor"}), http.StatusUnprocessableEntity, "invalid_state", "state")

		r := e.do(t, request{method: "GET", path: "/api/v1/exports/work-orders?format=csv&lang=codes", login: "sz-auditor"})
		wantStatus(t, r, http.StatusOK)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Errorf("Content-Type %q", ct)
		}
		if !strings.Contains(r.header.Get("Content-Disposition"), ".csv") {
			t.Errorf("Content-Disposition %q", r.header.Get("Content-Disposition"))
		}
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		list := e.list(t, "sz-auditor", "?page_size=100")
		if len(recs)-1 != int(list.Total) || recs[0][0] != "id" {
			t.Fatalf("csv has %d rows (header %v), the list %d", len(recs)-1, recs[0], list.Total)
		}
		for i, it := range list.Items {
			if recs[i+1][0] != it.ID {
				t.Errorf("row %d is %s, the list's %s", i, recs[i+1][0], it.ID)
			}
		}
		if bytes.Contains(r.body, []byte(evaluatorPhone)) || bytes.Contains(r.body, []byte(evaluatorName)) {
			t.Error("the export holds the evaluator's identity")
		}

		// The unit filter narrows it to one order; Chinese headers by default.
		r = e.do(t, request{method: "GET", path: "/api/v1/exports/work-orders?unit=sz-ft-tax", login: "sz-admin"})
		wantStatus(t, r, http.StatusOK)
		recs, err = csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff")))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != 2 || recs[1][0] != id1 || !strings.Contains(recs[1][4], c1) || recs[0][0] != "工单号" {
			t.Errorf("unit export: %v", recs)
		}
		// 督办等级 in words, as the sheet's reader knows them (the codes export keeps 0-2).
		if recs[0][10] != "督办等级" || recs[1][10] != "无" {
			t.Errorf("supervision column %q = %q, want 督办等级 = 无", recs[0][10], recs[1][10])
		}

		r = e.do(t, request{method: "GET", path: "/api/v1/exports/work-orders?format=xlsx&q=" + c1, login: "sz-supervisor"})
		wantStatus(t, r, http.StatusOK)
		f, err := excelize.OpenReader(bytes.NewReader(r.body))
		if err != nil {
			t.Fatalf("xlsx: %v", err)
		}
		defer func() {
			if err := f.Close(); err != nil {
				t.Errorf("close the workbook: %v", err)
			}
		}()
		rows, err := f.GetRows("Sheet1")
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 2 || rows[1][0] != id1 {
			t.Errorf("xlsx rows %v", rows)
		}
	})
}

// The rating page learns whether the window is open before the citizen types: a case completed
// a month ago answers window_open false with the closing time, a fresh one true.
func TestQRRatingWindowKnownBeforeTyping(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, envOptions{})
	old, fresh := uniq("QR-OLD"), uniq("QR-NEW")
	wantStatus(t, e.do(t, request{method: "POST", path: "/api/v1/service-cases", login: "channel",
		body: caseBody(old, "sz-ft-tax", "", time.Now().AddDate(0, 0, -30))}), http.StatusCreated)
	e.postCase(t, fresh, "sz-ft-tax", "")
	for caseNo, open := range map[string]bool{old: false, fresh: true} {
		r := e.do(t, request{method: "GET", path: "/api/v1/rate/" + e.srv.RateToken(caseNo)})
		wantStatus(t, r, http.StatusOK)
		var view struct {
			WindowOpen     bool       `json:"window_open"`
			WindowClosesAt *time.Time `json:"window_closes_at"`
		}
		r.decode(t, &view)
		if view.WindowOpen != open || view.WindowClosesAt == nil {
			t.Errorf("%s: %s, want window_open %v with its closing time", caseNo, r, open)
		}
		if !open && !view.WindowClosesAt.Before(time.Now()) {
			t.Errorf("%s: closed window closes at %v, in the future", caseNo, view.WindowClosesAt)
		}
	}
}
