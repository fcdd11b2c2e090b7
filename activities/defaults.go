package activities

import (
	"context"
	"fmt"
	"log/slog"

	"redress/intake"
)

// ApplyDefaultRatings gives every ratable case whose rating window closed without a rating the
// policy's default rating (channel "default"). It is state-based and idempotent (the default's
// evaluation_id is derived from the case number), so a retry, an overlapping run or a run
// after downtime stores each default once and catches up every window that closed meanwhile.
func (a *Activities) ApplyDefaultRatings(ctx context.Context, batch int) (intake.DefaultRun, error) {
	svc := &intake.Service{DB: a.DB, Calendars: a.Calendars}
	run, err := svc.ApplyDefaultRatings(ctx, batch)
	if err != nil {
		return run, fmt.Errorf("apply default ratings: %w", err)
	}
	if run.Applied > 0 || run.Pending > 0 {
		slog.InfoContext(ctx, "default ratings applied", "applied", run.Applied, "windows_computed", run.WindowsComputed, "pending", run.Pending)
	}
	return run, nil
}
