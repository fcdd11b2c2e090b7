// Package jobs holds the background jobs a worker runs beside the Temporal worker: goroutines
// on a ticker, not activities (nothing records them in a workflow's history). Each is
// idempotent and safe to run in several processes at once.
package jobs

import (
	"context"
	"time"

	"redress/pii"
	"redress/profiles"
	"redress/retention"
	"redress/signing"
	"redress/stats"
	"redress/store"
	"redress/upstream"
)

// Results are the background jobs of the results (issue 8): the statistics rollup, the
// upstream feed and its delivery queue, and the erasure of evaluators' personal data.
type Results struct {
	Endpoints   map[string]upstream.Endpoint
	MaxAttempts int
	Every       time.Duration
	// Signer, when set, signs every upstream push (SM2 under REDRESS_CRYPTO=gm).
	Signer *signing.Signer
	// Retention is the period after which evaluators' personal data is erased (0: the
	// default 180 days).
	Retention time.Duration
	// Profile shapes the upstream push (nil: GB/T 39046); PII opens the evaluator's name so
	// that the push carries it masked.
	Profile *profiles.Profile
	PII     *pii.Box
}

// Run starts the jobs on db, with the working-day calendars of cals, and returns at once;
// they stop when ctx ends.
func (j Results) Run(ctx context.Context, db *store.DB, cals stats.CalendarSource) {
	every := j.Every
	if every <= 0 {
		every = time.Minute
	}
	go (&stats.Roller{DB: db, Calendars: cals}).Run(ctx, every)
	go (&upstream.Feeder{DB: db, Profile: j.Profile, PII: j.PII}).Run(ctx, min(every, 10*time.Second))
	go (&retention.Eraser{DB: db, After: j.Retention}).Run(ctx, time.Hour)
	go (&upstream.Deliverer{DB: db, Endpoints: j.Endpoints, MaxAttempts: j.MaxAttempts, Signer: j.Signer, Profile: j.Profile}).Run(ctx, time.Second)
}
