// Package stats computes the results of the 好差评 scheme: per unit, staff member, service item,
// channel and period, the ratings by level (active apart from the system's default ratings),
// the satisfaction rate and score, and the handling of bad reviews (called back, rectified,
// explained, appealed and upheld, on time, overdue, overdue days, handling time in working
// days). Ratings not adopted after an upheld appeal are left out of every figure but counted
// apart.
//
// Requests never scan the raw ratings: a rollup job (Roller) keeps daily aggregates per unit and
// dimension in stats_ratings_daily and stats_orders_daily, recomputing whole days that changed
// since its high-water mark, with monthly sums per unit beside them (stats_ratings_monthly,
// stats_orders_monthly) recomputed in the same transaction, and the queries sum those rows over
// the period and the caller's units: whole months from the monthly rows, the days at the
// period's edges from the daily rows. FromRaw computes the same figures straight from evaluations and timelines; tests and the
// publication check use it to prove the rollups agree with the raw data.
package stats

import (
	"math"

	"redress/models"
)

// Points are the score points of each level (非常满意 10, 满意 8, 基本满意 6, 不满意 3,
// 非常不满意 0).
var Points = map[string]int{
	models.VerySatisfied:      10,
	models.Satisfied:          8,
	models.BasicallySatisfied: 6,
	models.Dissatisfied:       3,
	models.VeryDissatisfied:   0,
}

// LevelCounts counts ratings by overall level.
type LevelCounts struct {
	VerySatisfied      int `json:"very_satisfied"`
	Satisfied          int `json:"satisfied"`
	BasicallySatisfied int `json:"basically_satisfied"`
	Dissatisfied       int `json:"dissatisfied"`
	VeryDissatisfied   int `json:"very_dissatisfied"`
}

// Add counts one rating of level l.
func (c *LevelCounts) Add(l string, n int) {
	switch l {
	case models.VerySatisfied:
		c.VerySatisfied += n
	case models.Satisfied:
		c.Satisfied += n
	case models.BasicallySatisfied:
		c.BasicallySatisfied += n
	case models.Dissatisfied:
		c.Dissatisfied += n
	case models.VeryDissatisfied:
		c.VeryDissatisfied += n
	}
}

// Total is the number of ratings counted.
func (c LevelCounts) Total() int {
	return c.VerySatisfied + c.Satisfied + c.BasicallySatisfied + c.Dissatisfied + c.VeryDissatisfied
}

// Satisfied is the number rated 非常满意, 满意 or 基本满意.
func (c LevelCounts) satisfiedTotal() int {
	return c.VerySatisfied + c.Satisfied + c.BasicallySatisfied
}

func (c LevelCounts) points() int {
	return c.VerySatisfied*Points[models.VerySatisfied] + c.Satisfied*Points[models.Satisfied] +
		c.BasicallySatisfied*Points[models.BasicallySatisfied] + c.Dissatisfied*Points[models.Dissatisfied] +
		c.VeryDissatisfied*Points[models.VeryDissatisfied]
}

func (c *LevelCounts) plus(o LevelCounts) {
	c.VerySatisfied += o.VerySatisfied
	c.Satisfied += o.Satisfied
	c.BasicallySatisfied += o.BasicallySatisfied
	c.Dissatisfied += o.Dissatisfied
	c.VeryDissatisfied += o.VeryDissatisfied
}

// Ratings are the rating figures of one unit, staff member, item, channel or period.
type Ratings struct {
	// Active are the ratings people gave, by overall level; Default the system's default
	// ratings of cases nobody rated in time (shown apart: they flatter the figures).
	Active  LevelCounts `json:"active"`
	Default LevelCounts `json:"default"`
	// Bad counts adopted bad reviews (any indicator 不满意 or 非常不满意).
	Bad int `json:"bad"`
	// Excluded counts ratings not adopted after an upheld appeal; they are in no other figure.
	Excluded int `json:"excluded"`
	Derived
}

// Derived are the rates, computed by Derive from the counts, never summed.
type Derived struct {
	// Total = active + default (adopted ratings only).
	Total int `json:"total"`
	// ActiveRate = active / total (主动评价率).
	ActiveRate *float64 `json:"active_rate"`
	// SatisfactionRate = (非常满意 + 满意 + 基本满意) / active, over active ratings only.
	SatisfactionRate *float64 `json:"satisfaction_rate"`
	// SatisfactionRateWithDefaults is the same rate over active and default ratings together.
	SatisfactionRateWithDefaults *float64 `json:"satisfaction_rate_with_defaults"`
	// Score = the mean of the level points (10/8/6/3/0) over active ratings.
	Score *float64 `json:"score"`
}

// Derive fills the rates from the counts. These are the scheme's formulas; docs/results.md
// states the same. Rates are fractions rounded to 4 decimals, the score to 2; a figure whose
// denominator is zero is null (no ratings is not a 100 % rate).
func (r *Ratings) Derive() {
	a := r.Active.Total()
	r.Total = a + r.Default.Total()
	r.ActiveRate = ratio(a, r.Total, 4)
	r.SatisfactionRate = ratio(r.Active.satisfiedTotal(), a, 4)
	r.SatisfactionRateWithDefaults = ratio(r.Active.satisfiedTotal()+r.Default.satisfiedTotal(), r.Total, 4)
	r.Score = ratio(r.Active.points(), a, 2)
}

// Plus adds the counts of o (the rates must be derived again).
func (r *Ratings) Plus(o Ratings) {
	r.Active.plus(o.Active)
	r.Default.plus(o.Default)
	r.Bad += o.Bad
	r.Excluded += o.Excluded
}

// Orders are the work-order figures of a unit and period (orders opened in the period).
type Orders struct {
	Orders              int `json:"orders"`
	RealName            int `json:"real_name"`
	CalledBack          int `json:"called_back"`
	CalledBackRealName  int `json:"called_back_real_name"`
	Rectified           int `json:"rectified"`
	Explained           int `json:"explained"`
	Appealed            int `json:"appealed"`
	Upheld              int `json:"upheld"`
	Rejected            int `json:"rejected"`
	Closed              int `json:"closed"`
	OnTime              int `json:"on_time"`
	Overdue             int `json:"overdue"`
	OverdueDays         int `json:"overdue_days"`
	Supervised          int `json:"supervised"`
	Handled             int `json:"handled"`
	HandlingWorkingDays int `json:"handling_working_days"`
	// CallbackRate = called back among real-name orders / real-name orders (target 100 %).
	CallbackRate *float64 `json:"callback_rate"`
	// AvgHandlingWorkingDays = handling working days / handled orders.
	AvgHandlingWorkingDays *float64 `json:"avg_handling_working_days"`
}

// Plus adds the counts of o.
func (o *Orders) Plus(p Orders) {
	o.Orders += p.Orders
	o.RealName += p.RealName
	o.CalledBack += p.CalledBack
	o.CalledBackRealName += p.CalledBackRealName
	o.Rectified += p.Rectified
	o.Explained += p.Explained
	o.Appealed += p.Appealed
	o.Upheld += p.Upheld
	o.Rejected += p.Rejected
	o.Closed += p.Closed
	o.OnTime += p.OnTime
	o.Overdue += p.Overdue
	o.OverdueDays += p.OverdueDays
	o.Supervised += p.Supervised
	o.Handled += p.Handled
	o.HandlingWorkingDays += p.HandlingWorkingDays
}

// Derive fills the rates (see the field comments; same rounding as Ratings.Derive).
func (o *Orders) Derive() {
	o.CallbackRate = ratio(o.CalledBackRealName, o.RealName, 4)
	o.AvgHandlingWorkingDays = ratio(o.HandlingWorkingDays, o.Handled, 2)
}

func ratio(num, den, places int) *float64 {
	if den == 0 {
		return nil
	}
	p := math.Pow10(places)
	v := math.Round(float64(num)/float64(den)*p) / p
	return &v
}
