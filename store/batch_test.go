package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"redress/store"
)

// TestBatch: concurrent calls share runs, each gets its own output, every run starts after all
// of its callers arrived (what makes a group read see what was committed before any caller
// asked), and a run's error answers each of its callers.
func TestBatch(t *testing.T) {
	var runs, inputs atomic.Int64
	var mu sync.Mutex
	arrived := map[int]time.Time{}
	late := 0
	release := make(chan struct{})
	b := &store.Batch[int, int]{Max: 8, Runners: 1, Run: func(ctx context.Context, in []int) ([]int, error) {
		start := time.Now()
		mu.Lock()
		for _, v := range in {
			if a, ok := arrived[v]; !ok || a.After(start) {
				late++
			}
		}
		mu.Unlock()
		if runs.Add(1) == 1 {
			<-release // hold the first run so that the others queue up behind it
		}
		inputs.Add(int64(len(in)))
		out := make([]int, len(in))
		for i, v := range in {
			out[i] = v * v
		}
		return out, nil
	}}
	const n = 40
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			arrived[i] = time.Now()
			mu.Unlock()
			got, err := b.Do(context.Background(), i)
			if err != nil || got != i*i {
				t.Errorf("Do(%d) = %d, %v", i, got, err)
			}
		}()
		if i == 0 {
			waitFor(t, "the first call's run is under way", func() bool { return runs.Load() == 1 })
		}
	}
	// Every other call is queued behind the held run (the queue holds 4*Max; the rest wait
	// to enter it, as callers do under load).
	waitFor(t, "the other calls queued behind the first run", func() bool {
		return store.BatchQueued(b) >= min(n-1, 4*b.Max)
	})
	close(release)
	wg.Wait()
	if inputs.Load() != n {
		t.Errorf("%d inputs run, want %d", inputs.Load(), n)
	}
	if r := runs.Load(); r >= n || r < n/8 {
		t.Errorf("%d runs for %d calls held up behind one run (at most 8 a run)", r, n)
	}
	if late != 0 {
		t.Errorf("%d inputs were in a run that started before they arrived", late)
	}

	boom := errors.New("boom")
	bad := &store.Batch[int, int]{Run: func(ctx context.Context, in []int) ([]int, error) { return nil, boom }}
	if _, err := bad.Do(context.Background(), 1); !errors.Is(err, boom) {
		t.Errorf("a failed run answered %v", err)
	}
	short := &store.Batch[int, int]{Run: func(ctx context.Context, in []int) ([]int, error) { return nil, nil }}
	if _, err := short.Do(context.Background(), 1); err == nil {
		t.Error("a run that answered no output for an input was taken")
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: not yet: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}
