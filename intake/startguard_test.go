package intake

import (
	"context"
	"errors"
	"testing"
)

// countingStarter fails every start while down and counts the starts it was asked for.
type countingStarter struct {
	down   bool
	starts int
}

func (c *countingStarter) StartWorkOrder(context.Context, string) error {
	c.starts++
	if c.down {
		return errors.New("engine unreachable")
	}
	return nil
}

// TestStartGuardPausesAfterAFailure: starts go through while the engine answers; the first
// failed start pauses synchronous starts (the next bad rating does not wait for the engine,
// its order is left to the reconciler), and one engine's failure does not pause another's.
func TestStartGuardPausesAfterAFailure(t *testing.T) {
	ctx := context.Background()
	st := &countingStarter{}
	s := &Service{Starter: st}
	for range 3 {
		if err := s.startGuarded(ctx, "wo-ok"); err != nil {
			t.Fatalf("start while the engine answers: %v", err)
		}
	}
	if st.starts != 3 {
		t.Fatalf("%d starts made, want 3", st.starts)
	}
	st.down = true
	if err := s.startGuarded(ctx, "wo-1"); err == nil {
		t.Fatal("a failed start was not reported")
	}
	for range 3 {
		if err := s.startGuarded(ctx, "wo-2"); err != nil {
			t.Fatalf("a paused start reported %v, want nil (skipped)", err)
		}
	}
	if st.starts != 4 {
		t.Fatalf("%d starts made, want 4: starts after a failure must pause", st.starts)
	}
	other := &countingStarter{}
	if err := (&Service{Starter: other}).startGuarded(ctx, "wo-3"); err != nil || other.starts != 1 {
		t.Fatalf("another engine's start: %v after %d starts; one engine's failure paused it", err, other.starts)
	}
}
