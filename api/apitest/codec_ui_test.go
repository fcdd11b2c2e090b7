package apitest

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"redress/store/storetest"
)

// TestTemporalUIDecodesWithTheSessionCookie (issue 16, the web UI's gap): the Temporal web UI
// of redress dev is configured with includeCredentials, so its browser calls the codec endpoint
// as fetch(…, {credentials: "include"}) with Content-Type and X-Namespace, the signed-in
// sysadmin's redress_session cookie (same host, another port: same site, so the SameSite=Strict
// cookie goes along), and neither a token nor the CSRF header. Here is that conversation over
// HTTP: the preflight, then the POST from the configured origin with the cookie decodes; any
// other origin, no session or a session of someone else is refused, and only the configured
// origin may read an answer (CORS with credentials for exactly it).
func TestTemporalUIDecodesWithTheSessionCookie(t *testing.T) {
	const uiOrigin = "http://127.0.0.1:8233"
	const base = "/api/v1/system/temporal-codec"
	db := storetest.Open(t, "sqlite")
	e := newEnv(t, db, envOptions{dev: true, temporalUIOrigins: []string{uiOrigin}})

	// A payload sealed as the workers seal them (the CLI's encode, with a sysadmin's token).
	secret := "回访记录" + uniq("N") + "：申请人称窗口排队三小时"
	plain, _ := converter.GetDefaultDataConverter().ToPayload(secret)
	eb, _ := protojson.Marshal(&commonpb.Payloads{Payloads: []*commonpb.Payload{plain}})
	r := e.do(t, request{method: "POST", path: base + "/encode", login: "sysadmin", body: eb})
	wantStatus(t, r, http.StatusOK)
	sealed := r.body
	if bytes.Contains(sealed, []byte(secret)) {
		t.Fatalf("encode answered the clear text: %s", r)
	}

	signIn := func(login string) string {
		t.Helper()
		r := e.do(t, request{method: "POST", path: "/api/v1/auth/demo-login", body: map[string]any{"login": login}})
		wantStatus(t, r, http.StatusOK)
		var jar []string
		for _, c := range (&http.Response{Header: r.header}).Cookies() {
			jar = append(jar, c.Name+"="+c.Value)
		}
		return strings.Join(jar, "; ")
	}
	sysadmin, officer := signIn("sysadmin"), signIn("ft-officer")

	// The browser's preflight for the UI's fetch (a JSON body and X-Namespace make it one).
	req, _ := http.NewRequest(http.MethodOptions, e.http.URL+base+"/decode?preserveStorageRefs=true", nil)
	req.Header.Set("Origin", uiOrigin)
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "content-type,x-namespace")
	res, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Body.Close(); err != nil {
		t.Fatalf("close the preflight answer: %v", err)
	}
	allowHeaders := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers"))
	if res.StatusCode != http.StatusNoContent || res.Header.Get("Access-Control-Allow-Origin") != uiOrigin ||
		res.Header.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(allowHeaders, "content-type") || !strings.Contains(allowHeaders, "x-namespace") {
		t.Fatalf("preflight: %d %v", res.StatusCode, res.Header)
	}

	for _, c := range []struct {
		name, op, origin, cookie string
		status                   int
		code                     string // the error's code when refused
	}{
		{"the UI with the sysadmin's session decodes", "decode", uiOrigin, sysadmin, http.StatusOK, ""},
		{"the UI with the sysadmin's session encodes", "encode", uiOrigin, sysadmin, http.StatusOK, ""},
		{"another origin of the same site with the sysadmin's session", "decode", "http://127.0.0.1:9999", sysadmin, http.StatusForbidden, "csrf_failed"},
		{"a page without an origin with the sysadmin's session", "decode", "", sysadmin, http.StatusForbidden, "csrf_failed"},
		{"the UI without a session", "decode", uiOrigin, "", http.StatusUnauthorized, "unauthorized"},
		{"the UI with an officer's session", "decode", uiOrigin, officer, http.StatusForbidden, "forbidden"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := map[string]string{"X-Namespace": "redress"}
			if c.origin != "" {
				h["Origin"] = c.origin
			}
			if c.cookie != "" {
				h["Cookie"] = c.cookie
			}
			body := sealed
			if c.op == "encode" {
				body = eb
			}
			r := e.do(t, request{method: "POST", path: base + "/" + c.op + "?preserveStorageRefs=true", body: body, header: h})
			// Only the configured origin may read an answer, and only with credentials.
			wantOrigin, wantCreds := "", ""
			if c.origin == uiOrigin {
				wantOrigin, wantCreds = uiOrigin, "true"
			}
			if got := r.header.Get("Access-Control-Allow-Origin"); got != wantOrigin || r.header.Get("Access-Control-Allow-Credentials") != wantCreds {
				t.Errorf("CORS headers %q, credentials %q; want %q, %q", got, r.header.Get("Access-Control-Allow-Credentials"), wantOrigin, wantCreds)
			}
			if c.status != http.StatusOK {
				wantError(t, r, c.status, c.code, "")
				if bytes.Contains(r.body, []byte(secret)) {
					t.Errorf("a refusal holds the clear text: %s", r)
				}
				return
			}
			wantStatus(t, r, http.StatusOK)
			var out commonpb.Payloads
			if err := protojson.Unmarshal(r.body, &out); err != nil || len(out.Payloads) != 1 {
				t.Fatalf("answer %s: %v", r, err)
			}
			if c.op == "decode" {
				var got string
				if err := converter.GetDefaultDataConverter().FromPayload(out.Payloads[0], &got); err != nil || got != secret {
					t.Errorf("decoded %q (%v), want the note", got, err)
				}
			} else if bytes.Contains(r.body, []byte(secret)) {
				t.Errorf("encoded answer holds the clear text: %s", r)
			}
		})
	}
}
