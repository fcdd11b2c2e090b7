package apitest

import (
	"net/http"
	"testing"

	"redress/migrations"
	"redress/store/storetest"
)

// The SMS link points at /api/v1/track/{token}; a phone's browser asking for HTML is sent to
// the tracking page, which reads the same endpoint as JSON.
func TestTrackLinkOpensThePage(t *testing.T) {
	e := newEnv(t, storetest.Open(t, migrations.SQLite), envOptions{})
	req, err := http.NewRequest("GET", e.http.URL+"/api/v1/track/abc-123", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Body.Close(); err != nil {
		t.Fatalf("close the answer: %v", err)
	}
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/#/track/abc-123" {
		t.Errorf("browser: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	// A program asking for JSON gets the API's answer (here: an unknown link).
	wantError(t, e.do(t, request{method: "GET", path: "/api/v1/track/abc-123"}), http.StatusNotFound, "not_found", "")
}
