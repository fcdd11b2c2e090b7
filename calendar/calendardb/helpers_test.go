package calendardb

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"redress/calendar"
)

// sharedHolidayCN finds shared/calendar/holiday-cn beside the repository root by walking up from
// the package directory. Absent, the test skips, except under CI=true where it fails.
func sharedHolidayCN(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		cand := filepath.Join(dir, "shared", "calendar", "holiday-cn")
		if st, err := os.Stat(cand); err == nil && st.IsDir() {
			return cand
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("shared/calendar/holiday-cn not found beside the repository (required under CI=true)")
	}
	t.Skip("shared/calendar/holiday-cn not found beside the repository")
	return ""
}

// shippedCalendar is the shipped national data as revision 1, as EnsureShipped stores it.
func shippedCalendar(t testing.TB) *calendar.Calendar {
	t.Helper()
	c, err := calendar.Shipped()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func itoa(i int) string { return strconv.Itoa(i) }

func at(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
