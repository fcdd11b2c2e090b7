package stats

import (
	"context"
	"fmt"
	"sort"

	"redress/models"
	"redress/store"
)

// The readers as they were before the monthly rollup (migration 00026): every period summed
// from the daily rows alone. They are the oracle the tests hold the month-reading readers to.
var (
	UnitsDaily = unitsDaily
	TrendDaily = trendDaily
)

// SplitPeriod exposes the cut of a period into whole months and edge days.
func SplitPeriod(p Period) (days [][2]string, months [2]string) {
	s := splitPeriod(p)
	return s.days, s.months
}

// unitsDaily is stats.Units before the monthly rollup, unchanged.
func unitsDaily(ctx context.Context, db *store.DB, scope store.Scope, p Period) ([]UnitFigures, error) {
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

// trendDaily is stats.Trend before the monthly rollup, unchanged.
func trendDaily(ctx context.Context, db *store.DB, scope store.Scope, p Period, granularity string) ([]TrendPoint, error) {
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

// UnitsKept is Reader.Units's reading with its Kept, for a scope.
func UnitsKept(ctx context.Context, db *store.DB, scope store.Scope, p Period, k *Kept) ([]UnitFigures, error) {
	return unitsFrom(ctx, db, scope, p, k)
}

// Summed is how many times k summed the rollups.
func (k *Kept) Summed() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.sums
}
