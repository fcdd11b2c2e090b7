package activities

import (
	"context"
	"fmt"

	"redress/reports"
	"redress/stats"
)

// GenerateMonthlyReports brings the statistics rollups up to date and makes the scheduled
// report of the month for every administration (idempotent: existing ones are kept).
func (a *Activities) GenerateMonthlyReports(ctx context.Context, month string) (int, error) {
	if _, err := (&stats.Roller{DB: a.DB, Calendars: a.Calendars}).Pass(ctx); err != nil {
		return 0, fmt.Errorf("monthly reports %s: %w", month, err)
	}
	return reports.Scheduled(ctx, a.DB, month)
}
