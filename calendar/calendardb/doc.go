// Package calendardb keeps the working-day calendar of package calendar in the database: the
// national years imported (holiday-cn JSON or the shipped data), the local overrides of a unit
// subtree, the stored versions, and the Cache that loads the Calendar of a unit and reloads it
// when the data change. Package calendar itself (the arithmetic) imports no storage, so that
// workflow code can count working days without linking a database (issue 20).
//
// calendar_years holds one row per imported version of a national year (revision 1, 2, … of
// that year; version string "2025.1"); calendar_days holds that version's exceptions only
// (holidays and weekends made working days). A changed notice is stored as a new revision and
// old revisions are kept, so a deadline can be recomputed with the data it was computed with
// (LoadVersion). calendar_overrides holds local deviations for a unit subtree; each add or
// remove bumps the revision of that subtree in calendar_override_scopes, and removed rows are
// kept with the revision that removed them.
package calendardb
