package stats

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"redress/models"
	"redress/store"
)

// Period is a range of Asia/Shanghai days, both ends included (YYYY-MM-DD).
type Period struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// UnitFigures are one unit's figures over a period.
type UnitFigures struct {
	Code    string  `json:"code"`
	Name    string  `json:"name"`
	Path    string  `json:"-"`
	Ratings Ratings `json:"ratings"`
	Orders  Orders  `json:"orders"`
}

// DimFigures are the rating figures of one staff member, item or channel over a period.
type DimFigures struct {
	Key     string  `json:"key"`
	Label   string  `json:"label"`
	Unit    string  `json:"unit,omitempty"` // staff members: their unit's code
	Ratings Ratings `json:"ratings"`
}

// Units sums the rollups per unit for every unit in scope (units without ratings or orders
// included, with zeros), ordered by the unit tree.
func Units(ctx context.Context, db *store.DB, scope store.Scope, p Period) ([]UnitFigures, error) {
	return unitsFrom(ctx, db, scope, p, nil)
}

// unitsFrom is Units with the sums taken from kept when it has them at the rollups' current
// generation (nil: always summed). The units themselves are read every time, so a renamed or
// moved unit shows at once.
func unitsFrom(ctx context.Context, db *store.DB, scope store.Scope, p Period, kept *Kept) ([]UnitFigures, error) {
	var units []models.Unit
	if err := scope.Apply(db.WithContext(ctx).Model(&models.Unit{}), "path").Order("path").Find(&units).Error; err != nil {
		return nil, fmt.Errorf("stats units: %w", err)
	}
	sums, err := kept.unitSums(ctx, db, scope, p)
	if err != nil {
		return nil, err
	}
	out := make([]UnitFigures, len(units))
	for i, u := range units {
		out[i] = UnitFigures{Code: u.Code, Name: u.Name, Path: u.Path}
		out[i].Ratings.Plus(sums.ratings[u.ID])
		out[i].Orders.Plus(sums.orders[u.ID])
		out[i].Ratings.Derive()
		out[i].Orders.Derive()
	}
	return out, nil
}

// unitSums are a period's counts per unit id in a scope, as the rollups hold them (never
// derived: the rates are computed on copies).
type unitSums struct {
	ratings map[int64]Ratings
	orders  map[int64]Orders
}

// sumUnits sums the rollups of a period per unit. Summed by the database: a month of a city's
// daily rows is tens of thousands of rows, and reading them one by one took a second
// (BENCHMARKS.md, point 4). The period's whole months are read from the month rows (one per
// unit and month), its partial months at the edges from the daily rows.
func sumUnits(ctx context.Context, db *store.DB, scope store.Scope, p Period) (unitSums, error) {
	out := unitSums{ratings: map[int64]Ratings{}, orders: map[int64]Orders{}}
	sp := splitPeriod(p)
	for _, src := range sp.sources(DimUnit) {
		var rr []ratingRow
		q := db.WithContext(ctx).Table(src.ratings).Select(sums("unit_id", ratingCounts)).Where(src.where, src.args...)
		if err := scope.Apply(q, "unit_path").Group("unit_id").Scan(&rr).Error; err != nil {
			return out, fmt.Errorf("stats units: ratings: %w", err)
		}
		for _, r := range rr {
			f := out.ratings[r.UnitID]
			f.Plus(r.ratings())
			out.ratings[r.UnitID] = f
		}
	}
	for _, src := range sp.sources("") {
		var or []orderRow
		q := db.WithContext(ctx).Table(src.orders).Select(sums("unit_id", orderCounts)).Where(src.where, src.args...)
		if err := scope.Apply(q, "unit_path").Group("unit_id").Scan(&or).Error; err != nil {
			return out, fmt.Errorf("stats units: orders: %w", err)
		}
		for _, r := range or {
			f := out.orders[r.UnitID]
			f.Plus(r.orders())
			out.orders[r.UnitID] = f
		}
	}
	return out, nil
}

// periodSplit is a period cut into whole calendar months (months[0] to months[1], YYYY-MM,
// both included; none when empty) and the ranges of days outside them (the partial months at
// its edges, or the whole period when it holds no whole month).
type periodSplit struct {
	days   [][2]string
	months [2]string
}

// splitPeriod cuts p into whole months and the days at its edges. A period whose ends are not
// both YYYY-MM-DD days, or that ends before it starts, is left as days, compared as the
// strings they are (as the daily rows always were).
func splitPeriod(p Period) periodSplit {
	all := periodSplit{days: [][2]string{{p.From, p.To}}}
	from, err1 := time.Parse(time.DateOnly, p.From)
	to, err2 := time.Parse(time.DateOnly, p.To)
	if err1 != nil || err2 != nil || from.Format(time.DateOnly) != p.From || to.Format(time.DateOnly) != p.To || to.Before(from) {
		return all
	}
	first := from // the first day of the first whole month
	if from.Day() != 1 {
		first = time.Date(from.Year(), from.Month()+1, 1, 0, 0, 0, 0, time.UTC)
	}
	last := to // the last day of the last whole month
	if to.AddDate(0, 0, 1).Day() != 1 {
		last = time.Date(to.Year(), to.Month(), 0, 0, 0, 0, 0, time.UTC)
	}
	if last.Before(first) {
		return all
	}
	out := periodSplit{months: [2]string{first.Format("2006-01"), last.Format("2006-01")}}
	if from.Before(first) {
		out.days = append(out.days, [2]string{p.From, first.AddDate(0, 0, -1).Format(time.DateOnly)})
	}
	if last.Before(to) {
		out.days = append(out.days, [2]string{last.AddDate(0, 0, 1).Format(time.DateOnly), p.To})
	}
	return out
}

// rollupSource is one table pair to read a split period's part from: the daily rows of its
// edge days or the month rows of its whole months. day is the column a trend point is named
// by (as "day"), group the column it groups by.
type rollupSource struct {
	ratings, orders string
	where           string
	args            []any
	day, group      string
}

// sources are the reads of the split period; dim, when given, selects the rating dimension
// of the daily rows (the month rows hold the unit dimension only).
func (s periodSplit) sources(dim string) []rollupSource {
	var out []rollupSource
	if len(s.days) > 0 {
		var conds []string
		var args []any
		for _, d := range s.days {
			conds = append(conds, "(day >= ? AND day <= ?)")
			args = append(args, d[0], d[1])
		}
		where := "(" + strings.Join(conds, " OR ") + ")"
		if dim != "" {
			where = "dim = ? AND " + where
			args = append([]any{dim}, args...)
		}
		out = append(out, rollupSource{ratings: "stats_ratings_daily", orders: "stats_orders_daily", where: where, args: args, day: "day", group: "day"})
	}
	if s.months[0] != "" {
		out = append(out, rollupSource{ratings: "stats_ratings_monthly", orders: "stats_orders_monthly", where: "month >= ? AND month <= ?",
			args: []any{s.months[0], s.months[1]}, day: "month AS day", group: "month"})
	}
	return out
}

// The count columns of the two rollup tables (ratingRow, orderRow).
var (
	ratingCounts = []string{"a_vs", "a_s", "a_bs", "a_d", "a_vd", "d_vs", "d_s", "d_bs", "d_d", "d_vd", "bad", "excluded"}
	orderCounts  = []string{"orders", "real_name", "called_back", "called_back_real_name", "rectified", "explained", "appealed",
		"upheld", "rejected", "closed", "on_time", "overdue", "overdue_days", "supervised", "handled", "handling_days"}
)

// sums selects the group column and the sum of each count column under its own name.
func sums(group string, cols []string) string {
	var b strings.Builder
	b.WriteString(group)
	for _, c := range cols {
		fmt.Fprintf(&b, ", SUM(%s) AS %s", c, c)
	}
	return b.String()
}

// Total sums unit figures (a jurisdiction's total).
func Total(units []UnitFigures) (Ratings, Orders) {
	var r Ratings
	var o Orders
	for _, u := range units {
		r.Plus(u.Ratings)
		o.Plus(u.Orders)
	}
	r.Derive()
	o.Derive()
	return r, o
}

// ByDim sums the rollups of one dimension (staff, item or channel) over the units in scope.
// Staff members are listed per unit; items and channels across units.
func ByDim(ctx context.Context, db *store.DB, scope store.Scope, dim string, p Period) ([]DimFigures, error) {
	var rr []ratingRow
	q := db.WithContext(ctx).Model(&ratingRow{}).Where("dim = ? AND day >= ? AND day <= ?", dim, p.From, p.To)
	if err := scope.Apply(q, "unit_path").Find(&rr).Error; err != nil {
		return nil, fmt.Errorf("stats %s: %w", dim, err)
	}
	codes := map[int64]string{}
	if dim == DimStaff {
		var units []models.Unit
		if err := scope.Apply(db.WithContext(ctx).Model(&models.Unit{}), "path").Find(&units).Error; err != nil {
			return nil, fmt.Errorf("stats %s: units: %w", dim, err)
		}
		for _, u := range units {
			codes[u.ID] = u.Code
		}
	}
	type key struct {
		k    string
		unit int64
	}
	agg := map[key]*DimFigures{}
	for _, r := range rr {
		k := key{k: r.DimKey}
		if dim == DimStaff {
			k.unit = r.UnitID
		}
		f := agg[k]
		if f == nil {
			f = &DimFigures{Key: r.DimKey, Label: r.Label, Unit: codes[k.unit]}
			agg[k] = f
		}
		f.Ratings.Plus(r.ratings())
	}
	out := make([]DimFigures, 0, len(agg))
	for _, f := range agg {
		f.Ratings.Derive()
		out = append(out, *f)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key != out[j].Key {
			return out[i].Key < out[j].Key
		}
		return out[i].Unit < out[j].Unit
	})
	return out, nil
}

// TrendPoint is the figures of one day or month.
type TrendPoint struct {
	Period  string  `json:"period"`
	Ratings Ratings `json:"ratings"`
	Orders  Orders  `json:"orders"`
}

// Trend sums the scope's figures per day or month ("day" or "month").
func Trend(ctx context.Context, db *store.DB, scope store.Scope, p Period, granularity string) ([]TrendPoint, error) {
	cut := 10
	if granularity == "month" {
		cut = 7
	}
	agg := map[string]*TrendPoint{}
	get := func(day string) *TrendPoint {
		k := day[:cut]
		if agg[k] == nil {
			agg[k] = &TrendPoint{Period: k}
		}
		return agg[k]
	}
	// By month, the whole months come from the month rows (their "day" is the month, which is
	// its own point) and the partial months at the edges from the daily rows; by day, every
	// point from the daily rows.
	sp := periodSplit{days: [][2]string{{p.From, p.To}}}
	if granularity == "month" {
		sp = splitPeriod(p)
	}
	for _, src := range sp.sources(DimUnit) {
		var rr []ratingRow
		q := db.WithContext(ctx).Table(src.ratings).Select(sums(src.day, ratingCounts)).Where(src.where, src.args...)
		if err := scope.Apply(q, "unit_path").Group(src.group).Scan(&rr).Error; err != nil {
			return nil, fmt.Errorf("stats trend: ratings: %w", err)
		}
		for _, r := range rr {
			get(r.Day).Ratings.Plus(r.ratings())
		}
	}
	for _, src := range sp.sources("") {
		var or []orderRow
		q := db.WithContext(ctx).Table(src.orders).Select(sums(src.day, orderCounts)).Where(src.where, src.args...)
		if err := scope.Apply(q, "unit_path").Group(src.group).Scan(&or).Error; err != nil {
			return nil, fmt.Errorf("stats trend: orders: %w", err)
		}
		for _, r := range or {
			get(r.Day).Orders.Plus(r.orders())
		}
	}
	out := make([]TrendPoint, 0, len(agg))
	for _, t := range agg {
		t.Ratings.Derive()
		t.Orders.Derive()
		out = append(out, *t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Period < out[j].Period })
	return out, nil
}

// Alarm flags a unit whose ratings are many but never bad over a long window: a sign that bad
// ratings are suppressed (blocked devices, prompted ratings).
type Alarm struct {
	Code    string `json:"code"`
	Name    string `json:"name"`
	Ratings int    `json:"ratings"`
	Since   string `json:"since"`
	Until   string `json:"until"`
}

// AlarmPolicy holds the thresholds of the suppression alarm.
type AlarmPolicy struct {
	// Days is the window (e.g. 90), MinRatings the volume (active ratings) above which a
	// window with no bad review at all (adopted or excluded) is flagged.
	Days       int
	MinRatings int
}

// Alarms lists the units in scope that the policy flags for the window ending on the day
// `until` (included).
func Alarms(ctx context.Context, db *store.DB, scope store.Scope, until string, pol AlarmPolicy) ([]Alarm, error) {
	if pol.Days <= 0 || pol.MinRatings <= 0 {
		return []Alarm{}, nil
	}
	since := Day(DayStart(until).AddDate(0, 0, -(pol.Days - 1)))
	var rows []struct {
		UnitID int64
		Code   string
		Name   string
		Active int
		Bad    int
	}
	q := db.WithContext(ctx).Table("stats_ratings_daily r").
		Select("r.unit_id, MAX(u.code) AS code, MAX(u.name) AS name, SUM(r.a_vs + r.a_s + r.a_bs + r.a_d + r.a_vd) AS active, SUM(r.bad + r.excluded) AS bad").
		Joins("JOIN units u ON u.id = r.unit_id").
		Where("r.dim = ? AND r.day >= ? AND r.day <= ?", DimUnit, since, until)
	if err := scope.Apply(q, "r.unit_path").Group("r.unit_id").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("stats alarms: %w", err)
	}
	out := []Alarm{}
	for _, r := range rows {
		if r.Bad == 0 && r.Active >= pol.MinRatings {
			out = append(out, Alarm{Code: r.Code, Name: r.Name, Ratings: r.Active, Since: since, Until: until})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out, nil
}
