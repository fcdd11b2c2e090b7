package main

import (
	"os"
	"runtime/debug"
	"testing"
)

// TestTuneGC: without GOGC the collector's target is gcPercent; GOGC in the environment wins
// (the runtime read it at start; tuneGC leaves it).
func TestTuneGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	for _, tc := range []struct {
		env  string // "" unset
		want int
	}{{"", gcPercent}, {"50", 100}} {
		t.Setenv("GOGC", tc.env) // restores the variable afterwards
		if tc.env == "" {
			if err := os.Unsetenv("GOGC"); err != nil {
				t.Fatal(err)
			}
		}
		debug.SetGCPercent(100) // as the runtime would have started with GOGC unset or …=100
		tuneGC()
		if got := debug.SetGCPercent(100); got != tc.want {
			t.Errorf("GOGC %q: GC percent %d, want %d", tc.env, got, tc.want)
		}
	}
}
