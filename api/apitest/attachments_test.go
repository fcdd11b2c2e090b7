package apitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// A tiny valid PNG (1×1) and the start of a PDF: what the server's sniffing reads.
var (
	pngBytes = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\x00\x01\x00\x00\x05\x00\x01\r\n-\xb4\x00\x00\x00\x00IEND\xaeB`\x82")
	pdfBytes = []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
)

// The authorization matrix entries of the attachment routes. The matrix's orders are
// dispatched: the holding unit's officer hears 409 (evidence is for rectifying orders), the
// others 404; reads answer the order's (empty) list, and a missing attachment 404.
func init() {
	matrixRoutes["POST /api/v1/work-orders/:id/attachments"] = routeSpec{admits: []string{"officer", "unit_leader"},
		req: func(c cell) request {
			return request{method: http.MethodPost, path: "/api/v1/work-orders/" + c.f.orders[c.code()] + "/attachments?filename=m.png",
				body: pngBytes, contentType: "image/png"}
		}, want: func(c cell) int {
			if c.tg == own {
				return http.StatusConflict
			}
			return http.StatusNotFound
		}}
	matrixRoutes["GET /api/v1/work-orders/:id/attachments"] = routeSpec{admits: staff, want: scoped(http.StatusOK), req: func(c cell) request {
		return request{method: http.MethodGet, path: "/api/v1/work-orders/" + c.f.orders[c.code()] + "/attachments"}
	}}
	matrixRoutes["GET /api/v1/work-orders/:id/attachments/:aid"] = routeSpec{admits: staff, want: always(http.StatusNotFound), req: func(c cell) request {
		return request{method: http.MethodGet, path: "/api/v1/work-orders/" + c.f.orders[c.code()] + "/attachments/00000000-0000-0000-0000-000000000000"}
	}}
}

// TestAttachments: a rectifying order's officer attaches a photo and a PDF (typed by their
// bytes), within the size limit; anything else is refused with nothing stored; the reviewer
// (administrator) and the auditor list and download them; another unit cannot; the tracking
// page (public) does not show them.
func TestAttachments(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, envOptions{})
		_, id := e.badOrder(t, "sz-ft-tax", "S0001")
		e.waitState(t, id, models.StateDispatched)
		up := func(login, name string, body []byte) response {
			return e.do(t, request{method: "POST", path: "/api/v1/work-orders/" + id + "/attachments?filename=" + url.QueryEscape(name) + "&note=" + url.QueryEscape("整改现场"),
				login: login, body: body, contentType: "application/octet-stream"})
		}
		// Not yet rectifying: refused.
		wantError(t, up("ft-officer", "a.png", pngBytes), http.StatusConflict, "wrong_state", "")

		e.ok(t, "ft-officer", id, "signed", map[string]any{"action": "sign"})
		e.ok(t, "ft-officer", id, "called_back", map[string]any{"action": "callback", "reached": true, "method": "phone", "note": "已听取意见"})
		e.ok(t, "ft-officer", id, "rectifying", map[string]any{"action": "dispose", "true": true, "reasonable": true, "disposition": "ledger", "plan": "增设窗口", "committed_date": time.Now().In(time.FixedZone("CST", 8*3600)).AddDate(0, 0, 2).Format("2006-01-02")})

		// Refusals store nothing.
		wantError(t, up("ft-officer", "x.html", []byte("<html><script>alert(1)</script></html>")), http.StatusUnprocessableEntity, "invalid_file_type", "file")
		wantError(t, up("ft-officer", "big.pdf", append(append([]byte{}, pdfBytes...), bytes.Repeat([]byte{' '}, 5<<20)...)), http.StatusRequestEntityTooLarge, "file_too_large", "file")
		wantError(t, up("ft-officer", "", pngBytes), http.StatusUnprocessableEntity, "required", "filename")
		wantError(t, up("ft-officer", "../a.png", pngBytes), http.StatusUnprocessableEntity, "invalid_filename", "filename")
		wantError(t, up("ft-officer", "empty.png", nil), http.StatusUnprocessableEntity, "required", "file")
		wantError(t, up("ns-officer", "a.png", pngBytes), http.StatusNotFound, "not_found", "")
		if n := e.count(t, "attachments", "1 = 1"); n != 0 {
			t.Fatalf("%d attachments stored by refused uploads", n)
		}

		// A photo (sent as octet-stream: the bytes decide) and a PDF.
		r := up("ft-officer", "现场照片.png", pngBytes)
		wantStatus(t, r, http.StatusCreated)
		var photo struct {
			ContentType string `json:"content_type"`
			Size        int64  `json:"size"`
		}
		if err := json.Unmarshal(r.body, &photo); err != nil || photo.ContentType != "image/png" || photo.Size != int64(len(pngBytes)) {
			t.Errorf("upload answered %s", r)
		}
		wantStatus(t, up("ft-leader", "方案.pdf", pdfBytes), http.StatusCreated)

		// Each upload is an event on the order's timeline: who (with the name), which file and
		// its note, after the disposition that started the rectification; the workflow's own
		// numbering is left as it was (the read model's version does not move).
		tl := e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + id + "/timeline", login: "sz-admin"})
		wantStatus(t, tl, http.StatusOK)
		var events []struct {
			Type      string         `json:"type"`
			Actor     string         `json:"actor"`
			ActorName string         `json:"actor_name"`
			Data      map[string]any `json:"data"`
		}
		tl.decode(t, &events)
		var evidence []string
		for i, ev := range events {
			if ev.Type != "evidence_added" {
				continue
			}
			evidence = append(evidence, fmt.Sprintf("%s %s %v %v", ev.Actor, ev.ActorName, ev.Data["filename"], ev.Data["note"]))
			if i == 0 || events[i-1].Type != "dispose" && events[i-1].Type != "evidence_added" {
				t.Errorf("evidence event at %d follows %q", i, events[i-1].Type)
			}
		}
		if want := []string{"ft-officer 王晓明 现场照片.png 整改现场", "ft-leader 陈志强 方案.pdf 整改现场"}; fmt.Sprint(evidence) != fmt.Sprint(want) {
			t.Errorf("evidence events %q; want %q (timeline %s)", evidence, want, tl)
		}
		var wo models.WorkOrder
		if err := db.Where("id = ?", id).First(&wo).Error; err != nil {
			t.Fatal(err)
		}
		if n := e.count(t, "timeline_events", "work_order_id = ? AND type <> ? AND seq > ?", id, "evidence_added", wo.Version); n != 0 {
			t.Errorf("%d workflow events numbered past the order's version %d", n, wo.Version)
		}

		for _, login := range []string{"ft-officer", "sz-admin", "sz-auditor", "sz-supervisor"} {
			l := e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + id + "/attachments", login: login})
			wantStatus(t, l, http.StatusOK)
			var list struct {
				Items []struct {
					ID          string `json:"id"`
					Filename    string `json:"filename"`
					ContentType string `json:"content_type"`
					UploadedBy  string `json:"uploaded_by"`
					Note        string `json:"note"`
				} `json:"items"`
			}
			l.decode(t, &list)
			if len(list.Items) != 2 || list.Items[0].Filename != "现场照片.png" || list.Items[0].ContentType != "image/png" ||
				list.Items[1].ContentType != "application/pdf" || list.Items[1].UploadedBy != "ft-leader" || list.Items[0].Note != "整改现场" {
				t.Errorf("%s lists %s", login, l)
			}
			d := e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + id + "/attachments/" + list.Items[0].ID, login: login})
			wantStatus(t, d, http.StatusOK)
			if !bytes.Equal(d.body, pngBytes) || d.header.Get("Content-Type") != "image/png" ||
				!strings.HasPrefix(d.header.Get("Content-Disposition"), "attachment") || d.header.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s downloads %d bytes, headers %v", login, len(d.body), d.header)
			}
		}
		// Another unit sees neither list nor file; nobody signed out does.
		wantError(t, e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + id + "/attachments", login: "ns-officer"}), http.StatusNotFound, "not_found", "")
		wantStatus(t, e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + id + "/attachments"}), http.StatusUnauthorized)
	})
}
