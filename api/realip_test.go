package api

import (
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// TestRealIP: the address the fraud checks count is the connection's unless the connection
// comes from a trusted proxy, so a client cannot choose it with X-Forwarded-For.
func TestRealIP(t *testing.T) {
	proxies, err := ParseTrustedProxies(" 10.0.0.0/8, 192.0.2.7 ")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Fatal("a bad CIDR was accepted")
	}
	cases := []struct {
		name    string
		proxies bool
		remote  string
		want    string
	}{
		{"no proxies: the header is ignored", false, "203.0.113.9:5000", "203.0.113.9"},
		{"no proxies: even from loopback", false, "127.0.0.1:5000", "127.0.0.1"},
		{"from a trusted proxy", true, "10.1.2.3:5000", "198.51.100.4"},
		{"from a single trusted host", true, "192.0.2.7:5000", "198.51.100.4"},
		{"from an untrusted address", true, "203.0.113.9:5000", "203.0.113.9"},
		{"private nets are not trusted by default", true, "172.16.0.1:5000", "172.16.0.1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Deps{Registry: prometheus.NewRegistry()}
			if c.proxies {
				d.TrustedProxies = proxies
			}
			s := New(d)
			req := httptest.NewRequest("GET", "/", nil)
			req.RemoteAddr = c.remote
			req.Header.Set("X-Forwarded-For", "198.51.100.4")
			req.Header.Set("X-Real-IP", "198.51.100.5")
			if got := s.e.NewContext(req, httptest.NewRecorder()).RealIP(); got != c.want {
				t.Fatalf("RealIP = %s, want %s", got, c.want)
			}
		})
	}
}
