package intake

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"time"
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

// startBreakers holds one pause deadline (unix nanoseconds) per Starter (per Service when the
// Starter is not comparable), so that services with different engines in one process (tests)
// do not pause each other.
var startBreakers sync.Map // Starter → *atomic.Int64

// startGuarded starts the order's workflow within startBudget unless starts are paused; it
// returns the start's error, or nil when it skipped the start.
func (s *Service) startGuarded(ctx context.Context, workOrderID string) error {
	var key any = s
	if reflect.TypeOf(s.Starter).Comparable() {
		key = s.Starter
	}
	v, _ := startBreakers.LoadOrStore(key, new(atomic.Int64))
	pausedUntil := v.(*atomic.Int64)
	if time.Now().UnixNano() < pausedUntil.Load() {
		return nil // the reconciler starts it
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), startBudget)
	defer cancel()
	err := s.Starter.StartWorkOrder(ctx, workOrderID)
	if err != nil {
		pausedUntil.Store(time.Now().Add(startPause).UnixNano())
	}
	return err
}
