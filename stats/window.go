package stats

import (
	"sync"
	"time"
)

// Rereads decides how much of a job's safety window before its mark a pass re-reads. A
// transaction that commits late (a rating's group commit may take up to 30 s) holds rows whose
// times are before the mark the job already moved past, so each pass reads again from before
// its mark. Re-reading the whole window (Lag, 10 minutes) every pass read each row many times
// (the feed's pass every 10 s, sixty times), under intake at thousands of ratings a second
// seconds of the database's time every pass (BENCHMARKS.md, point 9, sixth and seventh
// sittings). So a regular pass re-reads the last Recent (default 1 minute: twice the longest
// group commit); the first pass of a process, and one every Lag/2 after it, re-read Lag and
// Lag/2 more, so that a row committed up to Lag after its time is still read, at most Lag/2
// later than when every pass read the whole window.
//
// The feed and the statistics roller each keep one; the zero value is ready.
type Rereads struct {
	mu      sync.Mutex
	wholeAt time.Time // when a pass last re-read the whole window
}

// Defaults of Since: the safety window and the part of it every pass re-reads.
const (
	DefaultLag    = 10 * time.Minute
	DefaultRecent = time.Minute
)

// Since answers where a pass at now starts reading (before mark), and whether it re-reads the
// whole window; after such a pass completes, its caller reports it with Whole. Zero durations
// take the defaults.
func (r *Rereads) Since(mark, now time.Time, lag, recent time.Duration) (time.Time, bool) {
	if lag <= 0 {
		lag = DefaultLag
	}
	if recent <= 0 {
		recent = DefaultRecent
	}
	r.mu.Lock()
	whole := r.wholeAt.IsZero() || now.Sub(r.wholeAt) >= lag/2 || recent >= lag
	r.mu.Unlock()
	if whole {
		return mark.Add(-(lag + lag/2)), true
	}
	return mark.Add(-recent), false
}

// Whole records that a pass over the whole window, begun at now, completed: a pass that
// failed is not one, and the next pass reads the whole window again.
func (r *Rereads) Whole(now time.Time) {
	r.mu.Lock()
	r.wholeAt = now
	r.mu.Unlock()
}
