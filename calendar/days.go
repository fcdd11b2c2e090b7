package calendar

import (
	"fmt"
	"time"
)

// cstOffset is China Standard Time's offset from UTC. China has no daylight saving since 1991,
// so a fixed offset is exact and spares a dependency on the system's tzdata.
const cstOffset = 8 * 3600

// Range of instants the arithmetic accepts; outside it the second counts would overflow, and no
// calendar covers those years anyway.
const (
	minUnix = -62135596800 // 0001-01-01T00:00:00Z
	maxUnix = 253402300799 // 9999-12-31T23:59:59Z
)

// Zone is China Standard Time (Asia/Shanghai) as a fixed zone, for rendering instants.
func Zone() *time.Location { return time.FixedZone("CST", cstOffset) }

// day is a civil date in China Standard Time as a count of days since 1970-01-01.
type day int64

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// dayOf is the China Standard Time date of t. Callers keep t within [minUnix, maxUnix].
func dayOf(t time.Time) day { return day(floorDiv(t.Unix()+cstOffset, 86400)) }

// start is 00:00 +08:00 of d, in UTC.
func (d day) start() time.Time { return time.Unix(int64(d)*86400-cstOffset, 0).UTC() }

// end is 24:00 +08:00 of d (the next day's start), in UTC.
func (d day) end() time.Time { return (d + 1).start() }

// civil is midnight UTC of the same year, month and day, for calendar fields.
func (d day) civil() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

func (d day) String() string { return d.civil().Format(time.DateOnly) }

func (d day) year() int { return d.civil().Year() }

func (d day) weekday() time.Weekday {
	// 1970-01-01 was a Thursday.
	return time.Weekday((int64(d)%7 + 7 + 4) % 7)
}

func (d day) weekend() bool {
	w := d.weekday()
	return w == time.Saturday || w == time.Sunday
}

func firstDay(year int) day {
	return day(floorDiv(time.Date(year, time.January, 1, 0, 0, 0, 0, time.UTC).Unix(), 86400))
}

// parseDay accepts exactly YYYY-MM-DD with a real month and day.
func parseDay(s string) (day, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != 10 {
		return 0, fmt.Errorf("date %q: want YYYY-MM-DD", s)
	}
	return day(floorDiv(t.Unix(), 86400)), nil
}

// instantOK reports whether t lies in years 1–9999, where day arithmetic cannot overflow.
func instantOK(t time.Time) bool {
	u := t.Unix()
	return u >= minUnix && u <= maxUnix
}
