package devserver

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The embedded web UI decodes payloads through redress's codec endpoint with the browser's
// credentials (the signed-in sysadmin's session cookie): its settings, which the UI's pages
// read, say so (issue 16, the web UI's gap; the API's side is
// api/apitest.TestTemporalUIDecodesWithTheSessionCookie).
func TestWebUIDecodesWithCredentials(t *testing.T) {
	const endpoint = "http://127.0.0.1:8080/api/v1/system/temporal-codec"
	// The UI port is picked free and released before the server binds it, so a test process
	// running beside this one may take it in between: then another free port is picked.
	var s *Server
	for attempt := 1; s == nil; attempt++ {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s, err = Start(Options{UIPort: port, Namespace: "redress", CodecEndpoint: endpoint})
		if err != nil && (!errors.Is(err, syscall.EADDRINUSE) || attempt == 4) {
			t.Fatal(err)
		}
	}
	defer s.Stop()
	u := url.URL{Scheme: "http", Host: s.UIAddr, Path: "/api/v1/settings"}
	var settings struct {
		Codec struct {
			Endpoint            string
			PassAccessToken     bool
			IncludeCredentials  bool
			DefaultErrorMessage string
		}
	}
	// The UI server starts in the background after the frontend: poll until it answers.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(15 * time.Second)
	for {
		res, err := http.Get(u.String())
		if err == nil {
			err = json.NewDecoder(res.Body).Decode(&settings)
			if cerr := res.Body.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				t.Fatalf("settings: %v", err)
			}
			break
		}
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("the web UI did not answer: %v", err)
		}
	}
	c := settings.Codec
	if c.Endpoint != endpoint || !c.IncludeCredentials || c.PassAccessToken {
		t.Errorf("codec settings %+v: want the endpoint, includeCredentials, no access token", c)
	}
	if !strings.Contains(c.DefaultErrorMessage, "系统管理员") || !strings.Contains(c.DefaultErrorMessage, "http://127.0.0.1:8080") {
		t.Errorf("error message %q: want who may see the payloads and where to sign in", c.DefaultErrorMessage)
	}
}
