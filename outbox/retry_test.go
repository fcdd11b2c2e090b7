package outbox_test

import (
	"testing"
	"time"

	"redress/outbox"
)

func TestRetryDelay(t *testing.T) {
	r := outbox.Retry{Base: 2 * time.Second, Max: 10 * time.Minute}
	for n, want := range map[int]time.Duration{1: 2 * time.Second, 2: 4 * time.Second, 5: 32 * time.Second, 9: 512 * time.Second, 10: 10 * time.Minute, 60: 10 * time.Minute} {
		if got := r.Delay(n); got != want {
			t.Errorf("Delay(%d) = %v, want %v", n, got, want)
		}
	}
	r.Jitter = 0.2
	for range 100 {
		if got := r.Delay(3); got < 8*time.Second || got > 8*time.Second+1600*time.Millisecond {
			t.Fatalf("Delay(3) with 20 %% jitter = %v, want within [8s, 9.6s]", got)
		}
	}
}
