package intake

import (
	"context"
	"errors"
	"math"
	"reflect"
	"sync"
	"time"

	"github.com/sony/gobreaker"
)

// The synchronous workflow start after a bad rating is an optimisation (the order reaches the
// unit's inbox at once); the reconciler is what guarantees it. So the start must never hold a
// rating hostage: while Temporal is unreachable the SDK retries a start until its context ends,
// which made every bad rating take ~10 s during an outage (measured by the reliability suite,
// bench/reliability.go). Each start gets a short budget, and after a failure synchronous starts
// pause for a while and the reconciler starts those orders when the engine is back.
const (
	startBudget = 2 * time.Second
	startPause  = 5 * time.Second
)

// startBreakers holds one circuit breaker per Starter (per Service when the Starter is not
// comparable), so that services with different engines in one process (tests) do not pause
// each other.
var startBreakers sync.Map // Starter → *gobreaker.CircuitBreaker

// newStartBreaker opens on the first failed start and stays open for startPause. After the
// pause every start goes through again (no single probe: a bad rating's start is never skipped
// because another one is under way), and the next failure opens it again.
func newStartBreaker() *gobreaker.CircuitBreaker {
	return gobreaker.NewCircuitBreaker(gobreaker.Settings{
		Name:        "workflow start",
		MaxRequests: math.MaxUint32,
		Timeout:     startPause,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= 1 },
	})
}

// startGuarded starts the order's workflow within startBudget unless starts are paused; it
// returns the start's error, or nil when it skipped the start.
func (s *Service) startGuarded(ctx context.Context, workOrderID string) error {
	var key any = s
	if reflect.TypeOf(s.Starter).Comparable() {
		key = s.Starter
	}
	cb, ok := startBreakers.Load(key)
	if !ok {
		cb, _ = startBreakers.LoadOrStore(key, newStartBreaker())
	}
	_, err := cb.(*gobreaker.CircuitBreaker).Execute(func() (any, error) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), startBudget)
		defer cancel()
		return nil, s.Starter.StartWorkOrder(ctx, workOrderID)
	})
	if errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) {
		return nil // the reconciler starts it
	}
	return err
}
