package stats

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"redress/store"
)

// Kept keeps the sums behind every unit's statistics (Reader.Units) per scope and period,
// each under the rollups' generation it was summed at: the roller adds one to the generation
// in the transaction that replaces a day (migration 00027), so sums are exact while the
// generation stands, and the generation is read on every request — a recomputed day is
// served at once, by every process. Summing a month of 1 010 units read ~2 000 month rows
// (and every dead version of them between vacuums) on each request: 25–35 ms of the
// administrator's 35 ms at the scale point (BENCHMARKS.md, point 9).
type Kept struct {
	mu      sync.Mutex
	entries map[string]keptSums
	// limit bounds the entries (each is two small maps per unit in its scope).
	limit int
	sums  int // sums read from the rollups, for the tests
}

type keptSums struct {
	generation int64
	sums       unitSums
}

const keptLimit = 256

// NewKept makes an empty Kept.
func NewKept() *Kept { return &Kept{entries: map[string]keptSums{}, limit: keptLimit} }

// Generation reads the rollups' generation.
func Generation(ctx context.Context, db *store.DB) (int64, error) {
	var g int64
	if err := db.WithContext(ctx).Raw("SELECT generation FROM stats_generation WHERE id = 1").Scan(&g).Error; err != nil {
		return 0, fmt.Errorf("stats generation: %w", err)
	}
	return g, nil
}

// unitSums answers the sums of scope and period: kept ones when they were summed at the
// current generation, else summed now (a nil Kept always sums). Sums taken after the
// generation was read are at least as new as it, so keeping them under it never serves
// older figures than a request that read it.
func (k *Kept) unitSums(ctx context.Context, db *store.DB, scope store.Scope, p Period) (unitSums, error) {
	if k == nil {
		return sumUnits(ctx, db, scope, p)
	}
	g, err := Generation(ctx, db)
	if err != nil {
		return unitSums{}, err
	}
	key := keptKey(scope, p)
	k.mu.Lock()
	e, ok := k.entries[key]
	k.mu.Unlock()
	if ok && e.generation == g {
		return e.sums, nil
	}
	s, err := sumUnits(ctx, db, scope, p)
	if err != nil {
		return s, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.sums++
	if k.entries == nil {
		k.entries = map[string]keptSums{}
	}
	if _, ok := k.entries[key]; !ok {
		for other := range k.entries {
			if len(k.entries) < max(k.limit, 1) {
				break
			}
			delete(k.entries, other)
		}
	}
	k.entries[key] = keptSums{generation: g, sums: s}
	return s, nil
}

// keptKey names a scope and period: the scope's paths in order, then the period, apart by a
// byte no path or day holds.
func keptKey(scope store.Scope, p Period) string {
	exact, sub := slices.Clone(scope.Exact), slices.Clone(scope.Subtrees)
	slices.Sort(exact)
	slices.Sort(sub)
	return strings.Join([]string{strings.Join(exact, "\x00"), strings.Join(sub, "\x00"), p.From, p.To}, "\x01")
}
