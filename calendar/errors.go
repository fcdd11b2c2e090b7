package calendar

import (
	"errors"
	"fmt"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// ErrYearNotCovered matches every *YearNotCoveredError with errors.Is.
var ErrYearNotCovered = errors.New("calendar: year not covered")

// ErrOverrideNotFound is returned when removing an override that is not in force.
var ErrOverrideNotFound = errors.New("calendar: no such override")

// YearNotCoveredError means a computation needed a year for which no national calendar is
// loaded. It is never papered over with plain weekends: the notice for the year must be
// imported (redress calendar import).
type YearNotCoveredError struct {
	Year int
}

func (e *YearNotCoveredError) Error() string {
	return fmt.Sprintf("calendar: year %d is not covered by the working-day calendar; import the State Council notice for %d", e.Year, e.Year)
}

// Is makes errors.Is(err, ErrYearNotCovered) true.
func (e *YearNotCoveredError) Is(target error) bool { return target == ErrYearNotCovered }

// uncoveredYears lets operators alert on a missing year before users notice wrong deadlines. It
// has no year label so that arbitrary input cannot create unbounded series; the log has the year.
var uncoveredYears = promauto.NewCounter(prometheus.CounterOpts{
	Name: "redress_calendar_uncovered_year_total",
	Help: "Deadline computations that failed because a year is not covered by the working-day calendar.",
})

func (c *Calendar) notCovered(year int) error {
	uncoveredYears.Inc()
	slog.Error("calendar: year not covered; import the State Council notice", "year", year, "unit_path", c.unitPath, "calendar_version", c.version)
	return &YearNotCoveredError{Year: year}
}
