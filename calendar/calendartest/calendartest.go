// Package calendartest holds what the calendar's tests share: where the State Council's
// calendars (shared/calendar/holiday-cn) are found, to check the project's calendar against,
// and the instants their tables are written in.
package calendartest

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// HolidayCN finds shared/calendar/holiday-cn beside the repository root by walking up from the
// test's directory. Absent, the test skips, except under CI=true where it fails.
func HolidayCN(t testing.TB) string {
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

// At parses an RFC 3339 instant of a test's table, failing the test on a typo.
func At(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
