package apitest

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"redress/intake"
	"redress/models"
	"redress/payloadcodec"
	"redress/store/storetest"
)

// TestWorkflowPayloadsEncrypted (issue 16 finding 6): an order driven through the API on the
// embedded Temporal server with an officer's note and the evaluator's feedback holds neither
// in its history on the server, every payload of the history is encrypted, and the codec
// endpoint gives them back to a sysadmin only; the Temporal UI's origin may call it from the
// browser.
func TestWorkflowPayloadsEncrypted(t *testing.T) {
	const uiOrigin = "http://127.0.0.1:8233"
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, envOptions{temporalUIOrigins: []string{uiOrigin}})
	g := e.startNotifier(t)
	_, id := e.badOrder(t, "sz-ft-tax", "")
	e.waitState(t, id, models.StateDispatched)

	callNote := "回访记录" + uniq("N") + "：申请人称窗口排队三小时，情绪激动"
	measures := "已增设两个窗口" + uniq("M")
	feedback := "整改后仍需排队" + uniq("F")
	e.ok(t, "ft-officer", id, "signed", map[string]any{"action": "sign"})
	e.ok(t, "ft-officer", id, "called_back", map[string]any{"action": "callback", "reached": true, "method": "phone", "note": callNote})
	e.ok(t, "ft-officer", id, "reviewing", map[string]any{"action": "dispose", "true": true, "reasonable": true, "disposition": "rectify_now", "measures": measures})
	e.ok(t, "sz-admin", id, "feedback", map[string]any{"action": "review", "approve": true, "note": "同意"})
	path := trackLink(t, g, e.http.URL, id, "feedback", "")
	wantStatus(t, e.do(t, request{method: "POST", path: path + "/feedback", body: map[string]any{"satisfaction": "dissatisfied", "comment": feedback}}), http.StatusOK)
	e.waitState(t, id, models.StateClosed)

	// The history as the Temporal server stores and serves it, without the codec.
	ctx := context.Background()
	it := temporalClient.GetWorkflowHistory(ctx, intake.WorkflowID(id), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history: %v", err)
		}
		h.Events = append(h.Events, ev)
	}
	raw, err := proto.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{callNote, measures, feedback} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the workflow history on the server holds %q in clear", secret)
		}
	}
	var payloads []*commonpb.Payload
	err = proxy.VisitPayloads(ctx, h, proxy.VisitPayloadsOptions{SkipSearchAttributes: true,
		Visitor: func(_ *proxy.VisitPayloadsContext, p []*commonpb.Payload) ([]*commonpb.Payload, error) {
			for _, q := range p {
				if enc := string(q.GetMetadata()[converter.MetadataEncoding]); enc != payloadcodec.Encoding {
					t.Errorf("a payload of the history is %q, not encrypted: %q", enc, q.GetData())
				}
				payloads = append(payloads, proto.Clone(q).(*commonpb.Payload))
			}
			return p, nil
		}})
	if err != nil || len(payloads) < 5 {
		t.Fatalf("%d payloads in the history, %v", len(payloads), err)
	}

	// The codec endpoint decodes them for a sysadmin: the note and the feedback were in the
	// history (encrypted), so the check above was not vacuous.
	body, err := protojson.Marshal(&commonpb.Payloads{Payloads: payloads})
	if err != nil {
		t.Fatal(err)
	}
	decode := request{method: "POST", path: "/api/v1/system/temporal-codec/decode", body: body, header: map[string]string{"Origin": uiOrigin, "X-Namespace": "default"}}
	rq := decode
	rq.login = "sysadmin"
	r := e.do(t, rq)
	wantStatus(t, r, http.StatusOK)
	if got := r.header.Get("Access-Control-Allow-Origin"); got != uiOrigin {
		t.Errorf("Access-Control-Allow-Origin %q for the Temporal UI", got)
	}
	var clear commonpb.Payloads
	if err := protojson.Unmarshal(r.body, &clear); err != nil || len(clear.Payloads) != len(payloads) {
		t.Fatalf("decoded %d of %d payloads: %v", len(clear.Payloads), len(payloads), err)
	}
	var all []byte
	for _, p := range clear.Payloads {
		if string(p.GetMetadata()[converter.MetadataEncoding]) == payloadcodec.Encoding {
			t.Errorf("a payload is still encrypted after decoding")
		}
		all = append(all, p.GetData()...)
	}
	for _, secret := range []string{callNote, measures, feedback} {
		if !bytes.Contains(all, []byte(secret)) {
			t.Errorf("the decoded history lacks %q", secret)
		}
	}

	// Nobody else: not the unit's administrator, not an auditor, not the anonymous.
	for _, login := range []string{"sz-admin", "sz-auditor", "ft-officer", "channel"} {
		rq := decode
		rq.login = login
		wantError(t, e.do(t, rq), http.StatusForbidden, "forbidden", "")
	}
	wantError(t, e.do(t, decode), http.StatusUnauthorized, "unauthorized", "")

	// Encode (the CLI's `temporal workflow signal --codec-endpoint`) and back.
	plain, _ := converter.GetDefaultDataConverter().ToPayload(callNote)
	eb, _ := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{plain}})
	r = e.do(t, request{method: "POST", path: "/api/v1/system/temporal-codec/encode", login: "sysadmin", body: eb})
	wantStatus(t, r, http.StatusOK)
	if bytes.Contains(r.body, []byte(callNote)) || !strings.Contains(string(r.body), "payloads") {
		t.Fatalf("encode answered %s", r)
	}
	r = e.do(t, request{method: "POST", path: "/api/v1/system/temporal-codec/decode", login: "sysadmin", body: r.body})
	wantStatus(t, r, http.StatusOK)
	var back commonpb.Payloads
	if err := protojson.Unmarshal(r.body, &back); err != nil || len(back.Payloads) != 1 || !proto.Equal(back.Payloads[0], plain) {
		t.Errorf("encode then decode: %s (%v)", r, err)
	}

	// Bad input: the API's error shape, no internal text.
	wantError(t, e.do(t, request{method: "POST", path: "/api/v1/system/temporal-codec/decode", login: "sysadmin", body: `{"payloads": 7}`}), http.StatusBadRequest, "payloads_not_codable", "")
	unknownKey := `{"payloads":[{"metadata":{"encoding":"YmluYXJ5L2VuY3J5cHRlZA==","encryption-key-id":"Z29uZQ=="},"data":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]}`
	r = e.do(t, request{method: "POST", path: "/api/v1/system/temporal-codec/decode", login: "sysadmin", body: unknownKey})
	wantError(t, r, http.StatusBadRequest, "payloads_not_codable", "")
	if strings.Contains(string(r.body), "gone") {
		t.Errorf("the error names the key: %s", r)
	}

	// The browser's preflight from the Temporal UI is answered before authentication; another
	// origin gets no CORS grant.
	for origin, want := range map[string]string{uiOrigin: uiOrigin, "https://evil.example": ""} {
		req, _ := http.NewRequest(http.MethodOptions, e.http.URL+"/api/v1/system/temporal-codec/decode", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type,x-namespace")
		res, err := e.http.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if err := res.Body.Close(); err != nil {
			t.Fatalf("close the preflight answer: %v", err)
		}
		if got := res.Header.Get("Access-Control-Allow-Origin"); got != want {
			t.Errorf("preflight from %s: Access-Control-Allow-Origin %q, want %q (status %d)", origin, got, want, res.StatusCode)
		}
		if want != "" && (res.StatusCode != http.StatusNoContent || !strings.Contains(res.Header.Get("Access-Control-Allow-Headers"), "Authorization")) {
			t.Errorf("preflight from %s: %d, allow headers %q", origin, res.StatusCode, res.Header.Get("Access-Control-Allow-Headers"))
		}
	}
}
