package outbox

import (
	"math/rand/v2"
	"time"
)

// Retry is the back-off of a queue: the delay before attempt n+1 is Base·2^(n-1), at most Max,
// plus up to Jitter (a fraction) of it at random so that many rows failing together do not
// retry in lockstep; a row that has failed MaxAttempts times is dead.
//
// Written here rather than taken from github.com/cenkalti/backoff (in the module graph through
// the Temporal SDK): that library's back-off is a stateful iterator over one caller's retries,
// while a queue row's next delay must follow from the attempt count stored in the row, by any
// worker, after any restart.
type Retry struct {
	Base, Max   time.Duration
	Jitter      float64
	MaxAttempts int
}

// Delay is the wait after the n-th failed attempt (n ≥ 1).
func (r Retry) Delay(n int) time.Duration {
	b := r.Base
	for i := 1; i < n && b < r.Max; i++ {
		b *= 2
	}
	b = min(b, r.Max)
	if r.Jitter > 0 {
		b += time.Duration(rand.Int64N(int64(float64(b)*r.Jitter) + 1)) //nolint:gosec // G404: jitter spreads retries; nothing depends on it being unpredictable
	}
	return b
}
