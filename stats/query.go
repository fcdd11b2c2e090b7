package stats

import (
	"context"
	"fmt"
	"sort"
	"strings"

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
	var units []models.Unit
	if err := scope.Apply(db.WithContext(ctx).Model(&models.Unit{}), "path").Order("path").Find(&units).Error; err != nil {
		return nil, fmt.Errorf("stats units: %w", err)
	}
	byID := map[int64]*UnitFigures{}
	out := make([]UnitFigures, len(units))
	for i, u := range units {
		out[i] = UnitFigures{Code: u.Code, Name: u.Name, Path: u.Path}
		byID[u.ID] = &out[i]
	}
	// Summed by the database: a month of a city's daily rows is tens of thousands of rows,
	// and reading them one by one took a second (BENCHMARKS.md, point 4).
	var rr []ratingRow
	q := db.WithContext(ctx).Model(&ratingRow{}).Select(sums("unit_id", ratingCounts)).Where("dim = ? AND day >= ? AND day <= ?", DimUnit, p.From, p.To)
	if err := scope.Apply(q, "unit_path").Group("unit_id").Find(&rr).Error; err != nil {
		return nil, fmt.Errorf("stats units: ratings: %w", err)
	}
	for _, r := range rr {
		if f := byID[r.UnitID]; f != nil {
			f.Ratings.Plus(r.ratings())
		}
	}
	var or []orderRow
	q = db.WithContext(ctx).Model(&orderRow{}).Select(sums("unit_id", orderCounts)).Where("day >= ? AND day <= ?", p.From, p.To)
	if err := scope.Apply(q, "unit_path").Group("unit_id").Find(&or).Error; err != nil {
		return nil, fmt.Errorf("stats units: orders: %w", err)
	}
	for _, r := range or {
		if f := byID[r.UnitID]; f != nil {
			f.Orders.Plus(r.orders())
		}
	}
	for i := range out {
		out[i].Ratings.Derive()
		out[i].Orders.Derive()
	}
	return out, nil
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
	var rr []ratingRow
	q := db.WithContext(ctx).Model(&ratingRow{}).Select(sums("day", ratingCounts)).Where("dim = ? AND day >= ? AND day <= ?", DimUnit, p.From, p.To)
	if err := scope.Apply(q, "unit_path").Group("day").Find(&rr).Error; err != nil {
		return nil, fmt.Errorf("stats trend: ratings: %w", err)
	}
	for _, r := range rr {
		get(r.Day).Ratings.Plus(r.ratings())
	}
	var or []orderRow
	q = db.WithContext(ctx).Model(&orderRow{}).Select(sums("day", orderCounts)).Where("day >= ? AND day <= ?", p.From, p.To)
	if err := scope.Apply(q, "unit_path").Group("day").Find(&or).Error; err != nil {
		return nil, fmt.Errorf("stats trend: orders: %w", err)
	}
	for _, r := range or {
		get(r.Day).Orders.Plus(r.orders())
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
