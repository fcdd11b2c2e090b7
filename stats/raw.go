package stats

import (
	"context"
	"fmt"
	"time"

	"redress/calendar"

	"redress/models"
	"redress/store"
)

// FromRaw computes the per-unit figures of a period straight from the raw evaluations, cases,
// work orders and timelines, without the rollups. It is the reference the rollups and the
// published figures are checked against; it reads every rating of the period, so it is for
// checks and audits, not for requests.
func FromRaw(ctx context.Context, db *store.DB, cals CalendarSource, scope store.Scope, p Period) ([]UnitFigures, error) {
	wd := CalendarWorkingDays(cals)
	var units []models.Unit
	if err := scope.Apply(db.WithContext(ctx).Model(&models.Unit{}), "path").Order("path").Find(&units).Error; err != nil {
		return nil, fmt.Errorf("stats raw: units: %w", err)
	}
	out := make([]UnitFigures, len(units))
	byID := map[int64]*UnitFigures{}
	for i, u := range units {
		out[i] = UnitFigures{Code: u.Code, Name: u.Name, Path: u.Path}
		byID[u.ID] = &out[i]
	}
	from := DayStart(p.From)
	to := DayStart(p.To).AddDate(0, 0, 1)
	rows, err := db.WithContext(ctx).Raw(`
		SELECT e.id, e.channel, COALESCE(ec.overall, e.overall), COALESCE(ec.bad, e.bad), e.excluded OR ec.excluded, sc.unit_id
		  FROM evaluations e
		  JOIN evaluation_cases ec ON ec.evaluation_id = e.id
		  JOIN service_cases sc ON sc.case_no = ec.case_no
		 WHERE e.rated_at >= ? AND e.rated_at < ? AND e.kind <> 'follow_up'`, from, to).Rows()
	if err != nil {
		return nil, fmt.Errorf("stats raw: ratings: %w", err)
	}
	defer rows.Close() //nolint:errcheck // read-only rows: rows.Err() after the loop reports a failed read; Close only frees the connection
	type seenKey struct {
		eval string
		unit int64
	}
	seen := map[seenKey]bool{}
	for rows.Next() {
		var (
			id, channel, overall string
			bad, excluded        bool
			unitID               int64
		)
		if err := rows.Scan(&id, &channel, &overall, &bad, &excluded, &unitID); err != nil {
			return nil, fmt.Errorf("stats raw: scan: %w", err)
		}
		f := byID[unitID]
		if f == nil || seen[seenKey{id, unitID}] {
			continue // out of scope, or a second case of the same unit in a batch rating
		}
		seen[seenKey{id, unitID}] = true
		switch {
		case excluded:
			f.Ratings.Excluded++
		case channel == models.ChannelDefault:
			f.Ratings.Default.Add(overall, 1)
		default:
			f.Ratings.Active.Add(overall, 1)
		}
		if bad && !excluded {
			f.Ratings.Bad++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("stats raw: ratings: %w", err)
	}
	recs, events, err := LoadOrders(ctx, db, from, to)
	if err != nil {
		return nil, fmt.Errorf("stats raw: %w", err)
	}
	byPath := map[string]*UnitFigures{}
	for i := range out {
		byPath[out[i].Path] = &out[i]
	}
	now := time.Now()
	for _, r := range recs {
		facts := Facts(r.RealName, events[r.ID])
		own, other := OrderCharges(ctx, cals, r, facts, now)
		for _, c := range other {
			if g := byPath[c.Path]; g != nil {
				g.Orders.AddCharge(c.Breached, c.Supervised, c.OverdueDays)
			}
		}
		f := byID[r.UnitID]
		if f == nil {
			continue
		}
		if err := f.Orders.AddOrder(ctx, facts, r.UnitPath, r.OpenedAt, own, wd); err != nil {
			return nil, fmt.Errorf("stats raw: order %s: %w", r.ID, err)
		}
	}
	for i := range out {
		out[i].Ratings.Derive()
		out[i].Orders.Derive()
	}
	return out, nil
}

// MonthPeriod is the period of a YYYY-MM month.
func MonthPeriod(month string) (Period, error) {
	start, err := time.ParseInLocation("2006-01", month, calendar.Zone())
	if err != nil || len(month) != 7 {
		return Period{}, fmt.Errorf("month %q is not YYYY-MM", month)
	}
	// Month arithmetic in the Shanghai zone: in UTC the month would start on the last day of
	// the month before.
	last := Day(start.AddDate(0, 1, -1))
	return Period{From: month + "-01", To: last}, nil
}
