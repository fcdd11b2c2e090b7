package publish

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"redress/models"
	"redress/stats"
	"redress/store"
)

// MonthlyShape names the shape of Monthly, the figures provinces publish each month (the
// shape of Guangdong's monthly 好差评 数据发布), so old versions stay interpretable.
// gd-monthly-2 (issue 21) adds each unit's 行使层级 and the total's ratings per level.
const MonthlyShape = "gd-monthly-2"

// TopTags is how many of the most frequent bad-rating tags a unit lists.
const TopTags = 5

// Monthly is the month as provinces publish it, per unit and for the jurisdiction: ratings per
// channel and per level with active and default ratings apart, valid bad-review orders (an
// order whose rating was not set aside by an upheld appeal), the most frequent tags of bad
// ratings, the on-time rectification rate and the average score.
type Monthly struct {
	Shape string        `json:"shape"`
	Total MonthlyFigure `json:"total"`
	Units []MonthlyUnit `json:"units"`
}

// MonthlyUnit is one unit's monthly figure.
type MonthlyUnit struct {
	Code string `json:"code"`
	Name string `json:"name"`
	// Level is the unit's 行使层级 (GB/T 39046-2020 A.2: 1 国家级 … 7 村/社区), its own or, for a
	// unit without one, the nearest unit's above it (a department's is its district's); 0 when
	// none is given.
	Level int `json:"level"`
	MonthlyFigure
}

// MonthlyFigure are the published figures of a unit or the jurisdiction.
type MonthlyFigure struct {
	// Ratings counts by level, active apart from default (from the same rollups as the units).
	Ratings stats.Ratings `json:"ratings"`
	// Channels are the ratings per channel (models.Channels and "default").
	Channels map[string]stats.Ratings `json:"channels"`
	// ValidBadOrders = orders opened in the month whose rating stands (orders − upheld appeals).
	ValidBadOrders int `json:"valid_bad_orders"`
	// TopBadTags are the most frequent tags of the month's adopted bad ratings, most first.
	TopBadTags []TagCount `json:"top_bad_tags"`
	// OnTimeRectificationRate = on time / (on time + overdue) among the month's orders; null
	// when none finished.
	OnTimeRectificationRate *float64 `json:"on_time_rectification_rate"`
	// AverageScore = mean of the level points (10/8/6/3/0) over active ratings (stats.Score).
	AverageScore *float64 `json:"average_score"`
	// Levels are the ratings per 行使层级 (省级, 市级, 县级 … apart, keyed "2", "3", "4" …), active
	// and default apart: in the jurisdiction's total only.
	Levels map[string]stats.Ratings `json:"levels,omitempty"`
}

// TagCount is a tag and how many bad ratings carried it.
type TagCount struct {
	Tag   string `json:"tag"`
	Count int    `json:"count"`
}

// ComputeMonthly computes the monthly figures of a jurisdiction's units (as Compute returned
// them) for period p.
func ComputeMonthly(ctx context.Context, db *store.DB, unit models.Unit, p stats.Period, units []stats.UnitFigures) (Monthly, error) {
	var us []models.Unit
	if err := db.WithContext(ctx).Where("path LIKE ?", unit.Path+"%").Find(&us).Error; err != nil {
		return Monthly{}, fmt.Errorf("monthly: units: %w", err)
	}
	byCode := map[string]models.Unit{}
	codeByID := map[int64]string{}
	for _, u := range us {
		byCode[u.Code], codeByID[u.ID] = u, u.Code
	}
	levels, err := unitLevels(ctx, db, us)
	if err != nil {
		return Monthly{}, err
	}
	// Ratings per unit and channel, from the daily rollups.
	type chRow struct {
		UnitID   int64  `gorm:"column:unit_id"`
		DimKey   string `gorm:"column:dim_key"`
		AVs      int    `gorm:"column:a_vs"`
		AS       int    `gorm:"column:a_s"`
		ABs      int    `gorm:"column:a_bs"`
		AD       int    `gorm:"column:a_d"`
		AVd      int    `gorm:"column:a_vd"`
		DVs      int    `gorm:"column:d_vs"`
		DS       int    `gorm:"column:d_s"`
		DBs      int    `gorm:"column:d_bs"`
		DD       int    `gorm:"column:d_d"`
		DVd      int    `gorm:"column:d_vd"`
		Bad      int    `gorm:"column:bad"`
		Excluded int    `gorm:"column:excluded"`
	}
	var rows []chRow
	err = db.WithContext(ctx).Table("stats_ratings_daily").
		Select("unit_id, dim_key, SUM(a_vs) AS a_vs, SUM(a_s) AS a_s, SUM(a_bs) AS a_bs, SUM(a_d) AS a_d, SUM(a_vd) AS a_vd, "+
			"SUM(d_vs) AS d_vs, SUM(d_s) AS d_s, SUM(d_bs) AS d_bs, SUM(d_d) AS d_d, SUM(d_vd) AS d_vd, SUM(bad) AS bad, SUM(excluded) AS excluded").
		Where("dim = ? AND day >= ? AND day <= ? AND unit_path LIKE ?", stats.DimChannel, p.From, p.To, unit.Path+"%").
		Group("unit_id, dim_key").Scan(&rows).Error
	if err != nil {
		return Monthly{}, fmt.Errorf("monthly: channels: %w", err)
	}
	channels := map[string]map[string]stats.Ratings{}
	for _, r := range rows {
		code := codeByID[r.UnitID]
		if channels[code] == nil {
			channels[code] = map[string]stats.Ratings{}
		}
		rt := channels[code][r.DimKey]
		rt.Plus(stats.Ratings{Active: stats.LevelCounts{VerySatisfied: r.AVs, Satisfied: r.AS, BasicallySatisfied: r.ABs, Dissatisfied: r.AD, VeryDissatisfied: r.AVd},
			Default: stats.LevelCounts{VerySatisfied: r.DVs, Satisfied: r.DS, BasicallySatisfied: r.DBs, Dissatisfied: r.DD, VeryDissatisfied: r.DVd},
			Bad:     r.Bad, Excluded: r.Excluded})
		rt.Derive()
		channels[code][r.DimKey] = rt
	}
	tags, err := badTags(ctx, db, unit, p, codeByID)
	if err != nil {
		return Monthly{}, err
	}
	out := Monthly{Shape: MonthlyShape, Units: make([]MonthlyUnit, 0, len(units))}
	total := MonthlyFigure{Channels: map[string]stats.Ratings{}}
	allTags := map[string]int{}
	byLevel := map[string]stats.Ratings{}
	var orders stats.Orders
	for _, uf := range units {
		f := figure(uf.Ratings, uf.Orders, channels[uf.Code], tags[uf.Code])
		lv := levels[byCode[uf.Code].Path]
		out.Units = append(out.Units, MonthlyUnit{Code: uf.Code, Name: uf.Name, Level: lv, MonthlyFigure: f})
		r := byLevel[strconv.Itoa(lv)]
		r.Plus(uf.Ratings)
		r.Derive()
		byLevel[strconv.Itoa(lv)] = r
		total.Ratings.Plus(uf.Ratings)
		orders.Plus(uf.Orders)
		for ch, r := range channels[uf.Code] {
			t := total.Channels[ch]
			t.Plus(r)
			t.Derive()
			total.Channels[ch] = t
		}
		for tag, n := range tags[uf.Code] {
			allTags[tag] += n
		}
	}
	total.Ratings.Derive()
	out.Total = figure(total.Ratings, orders, total.Channels, allTags)
	out.Total.Levels = byLevel
	return out, nil
}

// unitLevels answers the 行使层级 of each unit by path: its own, else the nearest one's above it
// (the jurisdiction's ancestors too, read here), 0 when none is given.
func unitLevels(ctx context.Context, db *store.DB, us []models.Unit) (map[string]int, error) {
	var given []models.Unit
	if err := db.WithContext(ctx).Select("path, level").Where("level > 0").Find(&given).Error; err != nil {
		return nil, fmt.Errorf("monthly: unit levels: %w", err)
	}
	own := make(map[string]int, len(given))
	for _, u := range given {
		own[u.Path] = u.Level
	}
	out := make(map[string]int, len(us))
	for _, u := range us {
		for p := u.Path; p != "" && p != "/"; {
			if lv, ok := own[p]; ok {
				out[u.Path] = lv
				break
			}
			i := strings.LastIndex(strings.TrimSuffix(p, "/"), "/")
			if i < 0 {
				break
			}
			p = p[:i+1]
		}
	}
	return out, nil
}

func figure(r stats.Ratings, o stats.Orders, channels map[string]stats.Ratings, tags map[string]int) MonthlyFigure {
	if channels == nil {
		channels = map[string]stats.Ratings{}
	}
	f := MonthlyFigure{Ratings: r, Channels: channels, ValidBadOrders: o.Orders - o.Upheld, AverageScore: r.Score, TopBadTags: top(tags)}
	if n := o.OnTime + o.Overdue; n > 0 {
		v := float64(int(float64(o.OnTime)/float64(n)*10000+0.5)) / 10000
		f.OnTimeRectificationRate = &v
	}
	return f
}

func top(tags map[string]int) []TagCount {
	out := make([]TagCount, 0, len(tags))
	for t, n := range tags {
		out = append(out, TagCount{t, n})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		return out[i].Tag < out[j].Tag
	})
	if len(out) > TopTags {
		out = out[:TopTags]
	}
	return out
}

// badTags counts the tags of the month's adopted bad ratings per unit (a batch rating counts
// once for each unit of its cases). Bad ratings are rare, so the raw rows are few.
func badTags(ctx context.Context, db *store.DB, unit models.Unit, p stats.Period, codeByID map[int64]string) (map[string]map[string]int, error) {
	from, to := stats.DayStart(p.From), stats.DayStart(p.To).AddDate(0, 0, 1)
	var rows []struct {
		ID     string
		UnitID int64
		Tags   string
	}
	err := db.WithContext(ctx).Table("evaluations e").Distinct("e.id, sc.unit_id, e.tags").
		Joins("JOIN evaluation_cases ec ON ec.evaluation_id = e.id").
		Joins("JOIN service_cases sc ON sc.case_no = ec.case_no").
		Joins("JOIN units u ON u.id = sc.unit_id").
		Where("COALESCE(ec.bad, e.bad) AND NOT (e.excluded OR ec.excluded) AND e.rated_at >= ? AND e.rated_at < ? AND u.path LIKE ?", from, to, unit.Path+"%").
		Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("monthly: bad tags: %w", err)
	}
	out := map[string]map[string]int{}
	for _, r := range rows {
		var tags []string
		if err := json.Unmarshal([]byte(r.Tags), &tags); err != nil {
			continue // not a tag list: nothing to count
		}
		code := codeByID[r.UnitID]
		if out[code] == nil {
			out[code] = map[string]int{}
		}
		for _, t := range tags {
			out[code][t]++
		}
	}
	return out, nil
}
