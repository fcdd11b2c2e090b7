package publish_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"redress/calendar"
	"redress/calendar/calendardb"
	"redress/models"
	"redress/publish"
	"redress/stats"
	"redress/stats/statstest"
	"redress/store"
	"redress/store/storetest"
)

// TestPublishedFiguresRecomputeFromRaw is the definition of done: generate ratings and
// orders, publish a month, recompute the month from the raw ratings and timelines, and find the
// same figures; then a correction makes version 2 while version 1 stays as it was.
func TestPublishedFiguresRecomputeFromRaw(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		statstest.Seed(t, db)
		statstest.Generate(t, db, 3, 250, time.Date(2025, 6, 1, 0, 0, 0, 0, calendar.Zone()), 45*24*time.Hour)
		cals := calendardb.NewCache(db, 0)
		roller := &stats.Roller{DB: db, Calendars: cals}
		var sz models.Unit
		if err := db.Where("code = ?", "sz").Take(&sz).Error; err != nil {
			t.Fatal(err)
		}
		now := time.Date(2025, 7, 20, 10, 0, 0, 0, time.UTC)
		if _, err := publish.Publish(ctx, db, roller, sz, "2025-07", "sz-admin", "", now); err == nil {
			t.Fatal("a month that has not ended was published")
		}
		v1, err := publish.Publish(ctx, db, roller, sz, "2025-06", "sz-admin", "first", now)
		if err != nil {
			t.Fatal(err)
		}
		if v1.Version != 1 {
			t.Fatalf("version %d", v1.Version)
		}
		pub, err := publish.Latest(ctx, db, "2025-06", "")
		if err != nil || len(pub.Jurisdictions) != 1 {
			t.Fatalf("latest: %v %+v", err, pub)
		}
		recompute := func() []stats.UnitFigures {
			p, _ := stats.MonthPeriod("2025-06")
			raw, err := stats.FromRaw(ctx, db, cals, store.Scope{Subtrees: []string{sz.Path}}, p)
			if err != nil {
				t.Fatal(err)
			}
			return raw
		}
		first := js(t, pub.Jurisdictions[0].Units)
		if raw := js(t, recompute()); first != raw {
			t.Fatalf("published figures differ from the raw recomputation:\npublished %s\nraw       %s", first, raw)
		}
		total := pub.Jurisdictions[0].Total
		if total.Ratings.Total == 0 || total.Orders.Orders == 0 {
			t.Fatalf("empty month: %+v", total)
		}
		// No personal data in the public answer.
		body := js(t, pub)
		for _, bad := range []string{"evaluator", "phone", "S0001", "staff", "comment", "/gd/"} {
			if strings.Contains(body, bad) {
				t.Fatalf("public results contain %q", bad)
			}
		}

		// A correction: an appeal upheld after publication; version 1 is frozen, version 2
		// has the new figures and again equals the raw data.
		if err := db.Exec(`UPDATE evaluations SET excluded = ?, excluded_at = ? WHERE id = (SELECT MIN(id) FROM evaluations WHERE bad AND NOT excluded AND rated_at >= ? AND rated_at < ?)`,
			true, time.Now().UTC(), time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC), time.Date(2025, 6, 29, 0, 0, 0, 0, time.UTC)).Error; err != nil {
			t.Fatal(err)
		}
		v2, err := publish.Publish(ctx, db, roller, sz, "2025-06", "sz-admin", "appeal upheld", now)
		if err != nil || v2.Version != 2 {
			t.Fatalf("correction: %v %+v", err, v2)
		}
		pub2, _ := publish.Latest(ctx, db, "2025-06", "sz")
		if raw := js(t, recompute()); js(t, pub2.Jurisdictions[0].Units) != raw {
			t.Fatal("version 2 differs from the raw recomputation")
		}
		if pub2.Jurisdictions[0].Version != 2 || pub2.Jurisdictions[0].Total.Ratings.Excluded != total.Ratings.Excluded+1 {
			t.Fatalf("latest is not the correction: %+v", pub2.Jurisdictions[0].Total)
		}
		old, err := publish.Version(ctx, db, sz.ID, "2025-06", 1)
		if err != nil || js(t, old.Figures.V.Units) != first {
			t.Fatalf("version 1 changed: %v", err)
		}
		vs, err := publish.Versions(ctx, db, store.Scope{Subtrees: []string{"/gd/"}}, "2025-06")
		if err != nil || len(vs) != 2 || vs[0].Version != 2 {
			t.Fatalf("versions: %v %+v", err, vs)
		}
	})
}

func js(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestMonthlyShape: the publication carries the month in the provinces' shape, and its
// figures agree with the raw ratings: per channel, per level (active and default apart), valid
// bad-review orders, the most frequent bad-rating tags, the on-time rate and the score; it is
// frozen with the version.
func TestMonthlyShape(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		statstest.Seed(t, db)
		statstest.Generate(t, db, 7, 300, time.Date(2025, 6, 1, 0, 0, 0, 0, calendar.Zone()), 29*24*time.Hour)
		// Tags on the bad ratings: every one says 等候时间长, every other also 态度差.
		var bad []string
		db.Table("evaluations").Where("bad").Order("id").Pluck("id", &bad)
		for i, id := range bad {
			tags := `["等候时间长"]`
			if i%2 == 0 {
				tags = `["态度差","等候时间长"]`
			}
			db.Table("evaluations").Where("id = ?", id).Update("tags", tags)
		}
		var sz models.Unit
		if err := db.Where("code = ?", "sz").Take(&sz).Error; err != nil {
			t.Fatal(err)
		}
		roller := &stats.Roller{DB: db, Calendars: calendardb.NewCache(db, 0)}
		if _, err := publish.Publish(ctx, db, roller, sz, "2025-06", "sz-admin", "", time.Date(2025, 7, 2, 0, 0, 0, 0, time.UTC)); err != nil {
			t.Fatal(err)
		}
		pub, err := publish.Latest(ctx, db, "2025-06", "sz")
		if err != nil || len(pub.Jurisdictions) != 1 || pub.Jurisdictions[0].Monthly == nil {
			t.Fatalf("latest: %v %+v", err, pub)
		}
		m := pub.Jurisdictions[0].Monthly
		if m.Shape != publish.MonthlyShape || len(m.Units) != len(pub.Jurisdictions[0].Units) {
			t.Fatalf("monthly shape %q with %d units", m.Shape, len(m.Units))
		}
		// Channels add up to the unit's ratings, active and default apart, level by level.
		for _, u := range m.Units {
			var sum stats.Ratings
			for _, r := range u.Channels {
				sum.Plus(r)
			}
			if sum.Active != u.Ratings.Active || sum.Default != u.Ratings.Default || sum.Bad != u.Ratings.Bad {
				t.Fatalf("unit %s: channels %+v do not add up to %+v", u.Code, sum, u.Ratings)
			}
			if d, ok := u.Channels[models.ChannelDefault]; ok && d.Active.Total() != 0 {
				t.Fatalf("unit %s: default channel with active ratings", u.Code)
			}
		}
		// Per 行使层级 (GB/T 39046-2020 A.2), as the provinces publish 省级/市级/县级 apart: each
		// unit carries its level (a department its district's), and the total's levels add up
		// the units of that level, active and default apart.
		wantLevel := func(code string) int {
			switch code {
			case "gd":
				return 2
			case "sz", "sz-platform":
				return 3
			}
			return 4 // sz-ft, sz-ns and their departments
		}
		byLevel := map[string]stats.Ratings{}
		for _, u := range m.Units {
			if u.Level != wantLevel(u.Code) {
				t.Fatalf("unit %s: level %d, want %d", u.Code, u.Level, wantLevel(u.Code))
			}
			r := byLevel[fmt.Sprint(u.Level)]
			r.Plus(u.Ratings)
			byLevel[fmt.Sprint(u.Level)] = r
		}
		if len(m.Total.Levels) == 0 {
			t.Fatal("the monthly total has no ratings per 行使层级")
		}
		for lv, want := range byLevel {
			got := m.Total.Levels[lv]
			if got.Active != want.Active || got.Default != want.Default || got.Bad != want.Bad {
				t.Fatalf("level %s: %+v, want %+v", lv, got, want)
			}
		}
		if m.Shape != "gd-monthly-2" {
			t.Fatalf("shape %q: the levels are a new shape", m.Shape)
		}
		// The jurisdiction's total is the units' total, which TestPublishedFiguresRecomputeFromRaw
		// proves equal to the raw ratings.
		tot := m.Total
		if tot.Ratings.Active != pub.Jurisdictions[0].Total.Ratings.Active || tot.Ratings.Default != pub.Jurisdictions[0].Total.Ratings.Default {
			t.Fatalf("monthly total %+v, units total %+v", tot.Ratings, pub.Jurisdictions[0].Total.Ratings)
		}
		from, to := time.Date(2025, 6, 1, 0, 0, 0, 0, calendar.Zone()), time.Date(2025, 7, 1, 0, 0, 0, 0, calendar.Zone())
		var adoptedBad, orders int64
		db.Table("evaluations").Where("NOT excluded AND bad AND rated_at >= ? AND rated_at < ?", from, to).Count(&adoptedBad)
		db.Table("work_orders").Where("opened_at >= ? AND opened_at < ?", from, to).Count(&orders)
		o := pub.Jurisdictions[0].Total.Orders
		if tot.ValidBadOrders != o.Orders-o.Upheld || tot.ValidBadOrders <= 0 || int64(tot.ValidBadOrders) > orders {
			t.Fatalf("valid bad orders %d (orders %d, upheld %d, raw %d)", tot.ValidBadOrders, o.Orders, o.Upheld, orders)
		}
		if len(tot.TopBadTags) != 2 || tot.TopBadTags[0].Tag != "等候时间长" || tot.TopBadTags[0].Count < tot.TopBadTags[1].Count || tot.TopBadTags[1].Tag != "态度差" {
			t.Fatalf("top bad tags %+v", tot.TopBadTags)
		}
		if adoptedBad == 0 || int64(tot.TopBadTags[0].Count) < adoptedBad {
			t.Fatalf("等候时间长 counted %d times, %d adopted bad ratings (batch ratings count per unit)", tot.TopBadTags[0].Count, adoptedBad)
		}
		if o.OnTime+o.Overdue > 0 {
			want := float64(o.OnTime) / float64(o.OnTime+o.Overdue)
			if tot.OnTimeRectificationRate == nil || *tot.OnTimeRectificationRate-want > 0.0001 || want-*tot.OnTimeRectificationRate > 0.0001 {
				t.Fatalf("on-time rate %v, want %v", tot.OnTimeRectificationRate, want)
			}
		}
		if tot.AverageScore == nil || tot.Ratings.Score == nil || *tot.AverageScore != *tot.Ratings.Score {
			t.Fatalf("average score %v", tot.AverageScore)
		}
		body := js(t, pub)
		for _, bad := range []string{"evaluator", "phone", "S0001", "staff", "comment", "/gd/"} {
			if strings.Contains(body, bad) {
				t.Fatalf("public results contain %q", bad)
			}
		}
		// Frozen: a later tag change does not move version 1.
		db.Table("evaluations").Where("bad").Update("tags", `["其他"]`)
		again, _ := publish.Latest(ctx, db, "2025-06", "sz")
		if js(t, again) != js(t, pub) {
			t.Fatal("the published month moved after publication")
		}
		var raw struct{ Monthly json.RawMessage }
		_ = json.Unmarshal([]byte(js(t, pub.Jurisdictions[0])), &raw)
		if len(raw.Monthly) == 0 {
			t.Fatal("no monthly in the public JSON")
		}
	})
}
