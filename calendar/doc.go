// Package calendar is the versioned Chinese working-day calendar and the deadline engine of
// redress: the State Council's yearly holiday notices as data (shipped in data/cn.json and
// importable from the holiday-cn JSON format), local overrides for a unit subtree, and the
// arithmetic that turns a start instant and a budget into a due date, counts working days and
// overdue days, and stops the clock during pauses.
//
// # Storage
//
// This package reads and writes no database, so that workflow code can compute with a
// Calendar without linking storage (issue 20). The calendar's tables, its import, the local
// overrides, the stored versions and the Cache are package calendar/calendardb, which
// assembles Calendars from the pieces exported here (NationalYear, ScopeRevision,
// OverrideDay, Build).
//
// # Calendar version
//
// Every Result carries a calendar version string that identifies exactly the data behind it:
//
//	cn-<year>.<revision>[,<year>.<revision>…][+<scope>.<revision>…]
//
// e.g. "cn-2025.1,2026.1+gd.2+sz.3". The national part lists, ascending, every year whose data
// the computation read (a year's notice may also fix the last days of December of the year
// before, so using such a day also lists the later year). The override part lists, from the
// root down, every override scope on the unit's path that has ever been changed (revision ≥ 1),
// named by its unit code (the last segment of the scope path; unit codes are unique), whether
// or not one of its overrides fell inside the period: the revision fixes the scope's whole
// override set. The string is deterministic: the same data gives the same string.
// Calendar.Version gives the same format for all loaded years.
//
// # Counting (民法典 art. 201–203)
//
// All dates are China Standard Time (UTC+8, no daylight saving since 1991), computed by fixed
// offset so that the system's tzdata does not matter.
//
//   - The day of the start instant does not count; counting starts the next day.
//   - Working days skip rest days (weekends unless made working days, and holidays); natural
//     days count every day. With Budget.ExtendToWorkingDay a natural-day period whose last day
//     is a rest day ends on the next working day instead (policy; default off).
//   - A day budget ends at 24:00 of its last day: DueDate is that day, DueAt the next day's
//     00:00 +08:00 (returned in UTC).
//   - A budget of 0 working or natural days ends at 24:00 of the start day itself, whatever kind
//     of day that is ("the same day").
//   - Hours and durations are exact: DueAt = start + budget. DueDate is then the date of the last
//     instant allowed (DueAt minus one nanosecond), so a DueAt of exactly 00:00 belongs to the
//     day before, as it does for day budgets.
//   - Every day from the start day to the due day must lie in a covered year, for every kind of
//     budget (also hours and natural days): a computation that reaches an uncovered year fails
//     with *YearNotCoveredError instead of falling back to plain weekends, is counted in the
//     metric redress_calendar_uncovered_year_total and logged at Error level.
//
// Chaining: for working days (and natural days without extension) Add(s, a+b) equals
// Add(t, b) for any instant t on the date Add(s, a).DueDate — continuing from the due date
// treats that date as the new start day. Chaining from Add(s, a).DueAt (the next day's 00:00)
// would skip one more day.
//
// WorkingDaysBetween(a, b) counts the working days that have wholly elapsed after the day of a
// and by b, so WorkingDaysBetween(s, Add(s, n).DueAt) == n. OverdueDays(dueAt, now) counts the
// working days that have begun after dueAt and by now, partial days included: a deadline that
// passed at 00:00 is one overdue day at 09:00 the same (working) day. A deadline that passed
// over a weekend is overdue with 0 overdue days until the next working day begins.
//
// # Pauses
//
// A pause (e.g. an appeal pending) stops the clock from From to To; an open pause (To zero)
// has not ended. Pauses are clipped to the start, merged where they overlap, and a pause that
// begins at or after the due instant has no effect (the deadline had already passed).
//
//   - Hours and durations: paused time does not consume the budget; DueAt moves by exactly the
//     paused time that began before the due instant.
//   - Day budgets: a day on which the clock stood still at any moment does not count, and the
//     day a pause ends is treated like a new start day (its event day, not counted), so counting
//     resumes the day after. In effect every day from the pause's first day to its last day is
//     skipped, whether working or not, and the due date moves by the working (or natural) days
//     so skipped.
//   - A pause that is still open and began before the due instant gives Result{Paused: true}
//     with no DueDate and no DueAt.
package calendar

//go:generate go run ./internal/gen -src ../../shared/calendar/holiday-cn -out data/cn.json
