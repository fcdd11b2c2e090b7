package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Batch runs the calls of concurrent requests together: the inputs that callers hand it while
// a run is under way go into the next run, as one statement (a group read, or a group commit:
// Committer). Intake's hot path is a few short statements per rating, and at a thousand
// ratings a second the cost of each statement (a round trip, PostgreSQL's per-statement work,
// the driver's) outweighed the work it did (BENCHMARKS.md, point 1).
//
// A run starts only after every caller in it has arrived, so a read in it sees everything
// committed before any of its callers asked: a caller gets what a statement of its own, sent
// when it asked, would have got (an account disabled a moment before is seen disabled).
type Batch[In, Out any] struct {
	// Run answers the inputs of one run, an output per input, in order; an error answers all
	// of them.
	Run func(ctx context.Context, in []In) ([]Out, error)
	// Max bounds how many inputs go into one run (default 64).
	Max int
	// Runners is how many runs may be under way at once (default 4).
	Runners int
	// Timeout bounds one run (default 30 s). A run does not depend on its callers' contexts:
	// one caller going away does not cancel the others' work.
	Timeout time.Duration

	once sync.Once
	jobs chan *batchJob[In, Out]
}

type batchJob[In, Out any] struct {
	in   In
	out  Out
	err  error
	done chan struct{}
}

// Do hands in to the next run and returns its output once the run is done.
func (b *Batch[In, Out]) Do(ctx context.Context, in In) (Out, error) {
	b.once.Do(b.start)
	j := &batchJob[In, Out]{in: in, done: make(chan struct{})}
	select {
	case b.jobs <- j:
	case <-ctx.Done():
		var zero Out
		return zero, ctx.Err()
	}
	<-j.done
	return j.out, j.err
}

// Waiting is how many inputs wait for a run (for tests).
func (b *Batch[In, Out]) Waiting() int {
	b.once.Do(b.start)
	return len(b.jobs)
}

func (b *Batch[In, Out]) start() {
	if b.Max <= 0 {
		b.Max = 64
	}
	if b.Runners <= 0 {
		b.Runners = 4
	}
	if b.Timeout <= 0 {
		b.Timeout = 30 * time.Second
	}
	b.jobs = make(chan *batchJob[In, Out], 4*b.Max)
	// The runners live as long as the process: a Batch belongs to a long-lived service.
	for range b.Runners {
		go b.runner()
	}
}

func (b *Batch[In, Out]) runner() {
	for j := range b.jobs {
		group := []*batchJob[In, Out]{j}
	gather:
		for len(group) < b.Max {
			select {
			case j := <-b.jobs:
				group = append(group, j)
			default:
				break gather
			}
		}
		b.run(group)
	}
}

func (b *Batch[In, Out]) run(group []*batchJob[In, Out]) {
	ctx, cancel := context.WithTimeout(context.Background(), b.Timeout)
	defer cancel()
	in := make([]In, len(group))
	for i, j := range group {
		in[i] = j.in
	}
	out, err := b.Run(ctx, in)
	if err == nil && len(out) != len(in) {
		err = fmt.Errorf("batch: %d outputs for %d inputs", len(out), len(in))
	}
	for i, j := range group {
		if err != nil {
			j.err = err
		} else {
			j.out = out[i]
		}
		close(j.done)
	}
}
