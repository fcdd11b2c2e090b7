package calendardb

import (
	"strconv"
	"testing"
	"time"

	"redress/calendar"
	"redress/calendar/calendartest"
)

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
	return calendartest.At(t, s)
}
