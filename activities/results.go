package activities

import (
	"context"
	"fmt"
	"time"

	"redress/pii"
	"redress/profiles"
	"redress/reports"
	"redress/retention"
	"redress/signing"
	"redress/stats"
	"redress/upstream"
)

// GenerateMonthlyReports brings the statistics rollups up to date and makes the scheduled
// report of the month for every administration (idempotent: existing ones are kept).
func (a *Activities) GenerateMonthlyReports(ctx context.Context, month string) (int, error) {
	if _, err := (&stats.Roller{DB: a.DB, Calendars: a.Calendars}).Pass(ctx); err != nil {
		return 0, fmt.Errorf("monthly reports %s: %w", month, err)
	}
	return reports.Scheduled(ctx, a.DB, month)
}

// ResultsJobs are the background jobs of the results (run by every worker beside the
// Temporal worker; each is idempotent and safe to run in several processes): the statistics
// rollup, the upstream feed and the delivery queue.
type ResultsJobs struct {
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

// Run starts the jobs and returns at once; they stop when ctx ends.
func (j ResultsJobs) Run(ctx context.Context, a *Activities) {
	every := j.Every
	if every <= 0 {
		every = time.Minute
	}
	go (&stats.Roller{DB: a.DB, Calendars: a.Calendars}).Run(ctx, every)
	go (&upstream.Feeder{DB: a.DB, Profile: j.Profile, PII: j.PII}).Run(ctx, min(every, 10*time.Second))
	go (&retention.Eraser{DB: a.DB, After: j.Retention}).Run(ctx, time.Hour)
	go (&upstream.Deliverer{DB: a.DB, Endpoints: j.Endpoints, MaxAttempts: j.MaxAttempts, Signer: j.Signer, Profile: j.Profile}).Run(ctx, time.Second)
}
