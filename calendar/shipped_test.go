package calendar

import (
	"testing"
)

// The shipped file must say exactly what holiday-cn says, for every day it covers.
func TestShippedMatchesHolidayCN(t *testing.T) {
	o := loadOracle(t)
	c := shippedCalendar(t, "", nil)
	if got, want := c.Years(), []int{2019, 2020, 2021, 2022, 2023, 2024, 2025, 2026}; len(got) != len(want) || got[0] != 2019 || got[len(got)-1] != 2026 {
		t.Fatalf("years %v, want %v", got, want)
	}
	n := 0
	for d := mustDay(t, "2019-01-01"); d <= mustDay(t, "2026-12-31"); d++ {
		working, err := c.IsWorkingDay(d.String())
		if err != nil {
			t.Fatal(err)
		}
		if working == o.off(d) {
			t.Errorf("%s (%s): shipped working=%v, holiday-cn off=%v", d, d.weekday(), working, o.off(d))
		}
		n++
	}
	if n != 2922 {
		t.Fatalf("checked %d days", n)
	}
}

func TestShippedVersion(t *testing.T) {
	c := shippedCalendar(t, "", nil)
	if got, want := c.Version(), "cn-2019.1,2020.1,2021.1,2022.1,2023.1,2024.1,2025.1,2026.1"; got != want {
		t.Fatalf("version %q, want %q", got, want)
	}
}
