package main

import "testing"

// TestDemoSignIn (issue 17, finding 7): redress dev signed anyone in without a password, also
// with --no-demo and on any --http address. Now only the demo organisation on a loopback
// address offers it.
func TestDemoSignIn(t *testing.T) {
	cases := []struct {
		addr          string
		demo, demoOrg bool
		want          bool
	}{
		{"127.0.0.1:8080", true, true, true},
		{"localhost:8080", true, true, true},
		{"[::1]:8080", true, true, true},
		{"127.0.0.1:8080", false, true, false}, // --no-demo
		{"127.0.0.1:8080", true, false, false}, // a real organisation in the data directory
		{"0.0.0.0:8080", true, true, false},
		{":8080", true, true, false},
		{"[::]:8080", true, true, false},
		{"192.168.1.10:8080", true, true, false},
		{"example.org:8080", true, true, false},
		{"garbage", true, true, false},
	}
	for _, c := range cases {
		got, why := demoSignIn(c.addr, c.demo, c.demoOrg)
		if got != c.want || !got && why == "" {
			t.Errorf("demoSignIn(%q, demo=%v, demoOrg=%v) = %v (%q), want %v", c.addr, c.demo, c.demoOrg, got, why, c.want)
		}
	}
}
