package stats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"redress/calendar"
	"redress/clock"
	"redress/migrations"
	"redress/models"
	"redress/store"
)

// CalendarSource gives the working-day calendar of a unit (a *calendardb.Cache).
type CalendarSource interface {
	Calendar(ctx context.Context, unitPath string) (*calendar.Calendar, error)
}

// CalendarWorkingDays counts handling time the way deadlines count: the day of the start does
// not count, the day of the end does (an order opened on Monday and approved on Tuesday took
// one working day).
func CalendarWorkingDays(src CalendarSource) WorkingDays {
	return func(ctx context.Context, unitPath string, from, to time.Time) (int, error) {
		cal, err := src.Calendar(ctx, unitPath)
		if err != nil {
			return 0, err
		}
		end := DayStart(Day(to)).AddDate(0, 0, 1)
		return cal.WorkingDaysBetween(from, end)
	}
}

// Day is the Asia/Shanghai date of t as YYYY-MM-DD: the day a figure belongs to.
func Day(t time.Time) string { return t.In(calendar.Zone()).Format(time.DateOnly) }

// DayStart is the instant a YYYY-MM-DD day begins in Asia/Shanghai.
func DayStart(day string) time.Time {
	t, err := time.ParseInLocation(time.DateOnly, day, calendar.Zone())
	if err != nil {
		return time.Time{}
	}
	return t.UTC()
}

// Roller keeps the daily rollups current. Each pass finds the days touched since its mark —
// ratings received or excluded, work orders changed — minus a safety window for transactions
// that committed late, and recomputes each such day whole from the raw rows, so a pass is
// idempotent and may run in several workers at once.
type Roller struct {
	DB        *store.DB
	Calendars CalendarSource
	// Lag is the safety window re-read before the mark (default 10 minutes); every pass
	// re-reads the last Recent of it (default 1 minute), the first and one every Lag/2 the
	// whole of it (Rereads says why and how).
	Lag, Recent time.Duration
	Now         func() time.Time

	rereads Rereads
}

const markName = "stats_rollup"

func (r *Roller) now() time.Time {
	if r.Now != nil {
		return r.Now().UTC()
	}
	return time.Now().UTC()
}

// Run passes every period until ctx ends.
func (r *Roller) Run(ctx context.Context, every time.Duration) {
	if every <= 0 {
		every = time.Minute
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := r.Pass(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("stats rollup", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass recomputes the days touched since the mark and moves the mark; it answers the days.
func (r *Roller) Pass(ctx context.Context) ([]string, error) {
	now := r.now()
	mark, err := LoadMark(ctx, r.DB, markName)
	if err != nil {
		return nil, err
	}
	since, whole := r.rereads.Since(mark, now, r.Lag, r.Recent)
	// The days come from the database as the UTC hours they touch, a few rows a pass: it used
	// to send every rated_at of the window, under intake at thousands a second millions of
	// rows a pass, to learn which of one or two days they fell on. An hour lies in one day of
	// Asia/Shanghai (its offset is whole hours), so the hours give the days exactly.
	hour := "strftime('%Y-%m-%d %H', {col})"
	if r.DB.Dialect == migrations.Postgres {
		hour = "to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24')"
	}
	distinctHours := func(col string) string { return "SELECT DISTINCT " + strings.ReplaceAll(hour, "{col}", col) }
	days := map[string]bool{}
	collect := func(q string, args ...any) error {
		var hours []string
		if err := r.DB.WithContext(ctx).Raw(q, args...).Scan(&hours).Error; err != nil {
			return err
		}
		for _, h := range hours {
			t, err := time.ParseInLocation("2006-01-02 15", h, time.UTC)
			if err != nil {
				return fmt.Errorf("hour %q: %w", h, err)
			}
			days[Day(t)] = true
		}
		return nil
	}
	if err := collect(distinctHours("rated_at")+` FROM evaluations WHERE received_at >= ? OR excluded_at >= ?`, since, since); err != nil {
		return nil, fmt.Errorf("stats rollup: changed ratings: %w", err)
	}
	if err := collect(distinctHours("opened_at")+` FROM work_orders WHERE updated_at >= ? OR opened_at >= ?`, since, since); err != nil {
		return nil, fmt.Errorf("stats rollup: changed orders: %w", err)
	}
	// Overdue days are live: an open order past its deadline grows a day at each midnight
	// without any event. Its day is recomputed when its deadline passes and, once a day, for
	// every open overdue order (they are the head of the work_orders_due index).
	overdue := distinctHours("opened_at") + ` FROM work_orders WHERE next_due_at < ? AND state <> ? AND next_due_at >= ?`
	overdueArgs := []any{now, models.StateClosed, since}
	if Day(mark) != Day(now) {
		overdue = distinctHours("opened_at") + ` FROM work_orders WHERE next_due_at < ? AND state <> ?`
		overdueArgs = overdueArgs[:2]
	}
	if err := collect(overdue, overdueArgs...); err != nil {
		return nil, fmt.Errorf("stats rollup: overdue orders: %w", err)
	}
	out := make([]string, 0, len(days))
	for d := range days {
		out = append(out, d)
	}
	sort.Strings(out)
	for _, d := range out {
		if err := r.RecomputeDay(ctx, d); err != nil {
			return nil, err
		}
	}
	if err := SaveMark(ctx, r.DB, markName, now); err != nil {
		return nil, err
	}
	if whole {
		r.rereads.Whole(now)
	}
	return out, nil
}

// LoadMark reads a job's high-water mark (zero time when it never ran).
func LoadMark(ctx context.Context, db *store.DB, name string) (time.Time, error) {
	var m struct{ Mark time.Time }
	err := db.WithContext(ctx).Table("job_marks").Select("mark").Where("name = ?", name).Take(&m).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return time.Unix(0, 0).UTC(), nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("load mark %s: %w", name, err)
	}
	return m.Mark.UTC(), nil
}

// SaveMark stores a job's high-water mark; it never moves back.
func SaveMark(ctx context.Context, db *store.DB, name string, mark time.Time) error {
	err := db.WithContext(ctx).Table("job_marks").Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "name"}},
		DoUpdates: clause.Assignments(map[string]any{"mark": gorm.Expr("CASE WHEN job_marks.mark > excluded.mark THEN job_marks.mark ELSE excluded.mark END"), "updated_at": time.Now().UTC()}),
	}).Create(map[string]any{"name": name, "mark": mark.UTC(), "updated_at": time.Now().UTC()}).Error
	if err != nil {
		return fmt.Errorf("save mark %s: %w", name, err)
	}
	return nil
}

// ratingRow is one row of stats_ratings_daily.
type ratingRow struct {
	Day      string
	Dim      string
	DimKey   string
	UnitID   int64
	UnitPath string
	Label    string
	AVs      int `gorm:"column:a_vs"`
	AS       int `gorm:"column:a_s"`
	ABs      int `gorm:"column:a_bs"`
	AD       int `gorm:"column:a_d"`
	AVd      int `gorm:"column:a_vd"`
	DVs      int `gorm:"column:d_vs"`
	DS       int `gorm:"column:d_s"`
	DBs      int `gorm:"column:d_bs"`
	DD       int `gorm:"column:d_d"`
	DVd      int `gorm:"column:d_vd"`
	Bad      int
	Excluded int
}

func (ratingRow) TableName() string { return "stats_ratings_daily" }

func (r ratingRow) ratings() Ratings {
	return Ratings{
		Active:   LevelCounts{r.AVs, r.AS, r.ABs, r.AD, r.AVd},
		Default:  LevelCounts{r.DVs, r.DS, r.DBs, r.DD, r.DVd},
		Bad:      r.Bad,
		Excluded: r.Excluded,
	}
}

// orderRow is one row of stats_orders_daily.
type orderRow struct {
	Day                string
	UnitID             int64
	UnitPath           string
	Orders             int
	RealName           int
	CalledBack         int
	CalledBackRealName int
	Rectified          int
	Explained          int
	Appealed           int
	Upheld             int
	Rejected           int
	Closed             int
	OnTime             int
	Overdue            int
	OverdueDays        int
	Supervised         int
	Handled            int
	HandlingDays       int
}

func (orderRow) TableName() string { return "stats_orders_daily" }

func (r orderRow) orders() Orders {
	return Orders{Orders: r.Orders, RealName: r.RealName, CalledBack: r.CalledBack, CalledBackRealName: r.CalledBackRealName,
		Rectified: r.Rectified, Explained: r.Explained, Appealed: r.Appealed, Upheld: r.Upheld, Rejected: r.Rejected,
		Closed: r.Closed, OnTime: r.OnTime, Overdue: r.Overdue, OverdueDays: r.OverdueDays, Supervised: r.Supervised,
		Handled: r.Handled, HandlingWorkingDays: r.HandlingDays}
}

// dayCases reads a day's ratings once, a row for each of their cases, with everything a
// dimension groups by and counts; the four dimensions' rows are summed from it in one
// statement. Each dimension used to join the day's ratings with their cases, units and staff
// again: 22-25 s for a day of 1.5 million ratings, against 10.5-11.4 s read once, most of it
// now the COUNT(DISTINCT)s (BENCHMARKS.md, point 9, seventh sitting).
//
// The level and badness a rating charges one of its cases are a theme-service rating's
// case's own item's (evaluation_cases.overall/bad, 谁办理、谁负责), any other case the
// rating's. A rating is not adopted in a case's group when it is excluded as a whole
// (excl: a fraud ruling or every case excluded on evaluations, or this case by an appeal
// upheld on its work order, never another unit's case of a split theme rating), and not for
// the staff member also when the appeal excluded only its staff indicators because it
// complains of the process or platform (staff_excl), which leaves it counted for the
// unit, item and channel.
const dayCases = `SELECT e.id AS id, sc.unit_id AS unit_id, u.path AS unit_path, u.code AS unit_code, u.name AS unit_name,
		       COALESCE(sc.staff_id, '') AS staff_id, COALESCE(st.name, '') AS staff_name, sc.item_code AS item_code,
		       sc.item_name AS item_name, e.channel AS channel, COALESCE(ec.overall, e.overall) AS overall,
		       COALESCE(ec.bad, e.bad) AS bad, (e.excluded OR ec.excluded) AS excl,
		       (e.excluded OR ec.excluded OR ec.excluded_indicators <> '[]') AS staff_excl
		  FROM evaluations e
		  JOIN evaluation_cases ec ON ec.evaluation_id = e.id
		  JOIN service_cases sc ON sc.case_no = ec.case_no
		  JOIN units u ON u.id = sc.unit_id
		  LEFT JOIN staff st ON st.id = sc.staff_id
		 WHERE e.rated_at >= ? AND e.rated_at < ? AND e.kind <> 'follow_up'`

// dims are the rating dimensions: the key and label of each in dayCases, and the column that
// says a rating is not adopted in it.
var dims = []struct{ name, key, label, excluded string }{
	{DimUnit, "unit_code", "MAX(unit_name)", "excl"},
	{DimStaff, "staff_id", "MAX(staff_name)", "staff_excl"},
	{DimItem, "item_code", "MAX(item_name)", "excl"},
	{DimChannel, "channel", "channel", "excl"},
}

// Dimensions of the rating rollup.
const (
	DimUnit    = "unit"
	DimStaff   = "staff"
	DimItem    = "item"
	DimChannel = "channel"
)

// countExpr counts distinct ratings matching cond, so a batch rating of several cases counts
// once per group.
func countExpr(cond, as string) string {
	return "COUNT(DISTINCT CASE WHEN " + cond + " THEN id END) AS " + as
}

// levelCols counts a group's ratings of dayCases by level, leaving out those not adopted in
// the group (the column excluded) but for the count of them.
func levelCols(excluded string) string {
	s := ""
	abbrev := map[string]string{models.VerySatisfied: "vs", models.Satisfied: "s", models.BasicallySatisfied: "bs", models.Dissatisfied: "d", models.VeryDissatisfied: "vd"}
	for _, l := range models.Levels {
		s += countExpr("NOT "+excluded+" AND channel <> '"+models.ChannelDefault+"' AND overall = '"+l+"'", "a_"+abbrev[l]) + ", "
		s += countExpr("NOT "+excluded+" AND channel = '"+models.ChannelDefault+"' AND overall = '"+l+"'", "d_"+abbrev[l]) + ", "
	}
	return s + countExpr("NOT "+excluded+" AND bad", "bad") + ", " + countExpr(excluded, "excluded")
}

// ratingRowsQuery sums every dimension's rows of a day from dayCases read once (MATERIALIZED:
// PostgreSQL would otherwise inline it into each of the four).
func ratingRowsQuery() string {
	parts := make([]string, 0, len(dims))
	for _, d := range dims {
		parts = append(parts, "SELECT '"+d.name+"' AS dim, unit_id, MAX(unit_path) AS unit_path, "+d.key+" AS dim_key, "+d.label+" AS label, "+
			levelCols(d.excluded)+" FROM day_cases GROUP BY unit_id, "+d.key)
	}
	return "WITH day_cases AS MATERIALIZED (" + dayCases + ") " + strings.Join(parts, " UNION ALL ")
}

// RecomputeDay replaces a day's rollup rows with fresh aggregates of the raw rows, and the
// month rows of the units the day had or has rows for with fresh sums of the month's daily
// rows, in one transaction (readers see the old day and month or the new ones, never half).
func (r *Roller) RecomputeDay(ctx context.Context, day string) error {
	start := DayStart(day)
	end := start.AddDate(0, 0, 1)
	if len(day) != len(time.DateOnly) || start.IsZero() {
		return fmt.Errorf("stats rollup: day %q is not YYYY-MM-DD", day)
	}
	month := day[:7]
	var all []ratingRow
	if err := r.DB.WithContext(ctx).Raw(ratingRowsQuery(), start, end).Scan(&all).Error; err != nil {
		return fmt.Errorf("stats rollup %s: ratings: %w", day, err)
	}
	for i := range all {
		all[i].Day = day
	}
	orders, err := r.orderRows(ctx, day, start, end)
	if err != nil {
		return err
	}
	return r.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Two recomputations of one day (the background job and a publication) must not
		// interleave their delete and insert, nor two days of one month (each sums the
		// month's daily rows into the month rows, and would sum the other day's old rows, or
		// insert the same month row twice): on PostgreSQL they queue on a lock per month,
		// taken before the day's; SQLite serialises writers anyway.
		if r.DB.Dialect == migrations.Postgres {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('stats-rollup-month:' || ?))", month).Error; err != nil {
				return fmt.Errorf("stats rollup %s: month lock: %w", day, err)
			}
			if err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('stats-rollup:' || ?))", day).Error; err != nil {
				return fmt.Errorf("stats rollup %s: lock: %w", day, err)
			}
		}
		// The old rows' paths are read by the delete itself (RETURNING): on SQLite a read
		// before the transaction's first write could see a snapshot another writer then
		// moves past, which fails the upgrade to a write instead of waiting.
		var oldRatings []struct{ Dim, UnitPath string }
		if err := tx.Raw("DELETE FROM stats_ratings_daily WHERE day = ? RETURNING dim, unit_path", day).Scan(&oldRatings).Error; err != nil {
			return fmt.Errorf("stats rollup %s: clear ratings: %w", day, err)
		}
		var oldOrders []struct{ UnitPath string }
		if err := tx.Raw("DELETE FROM stats_orders_daily WHERE day = ? RETURNING unit_path", day).Scan(&oldOrders).Error; err != nil {
			return fmt.Errorf("stats rollup %s: clear orders: %w", day, err)
		}
		ratingPaths, orderPaths := map[string]bool{}, map[string]bool{}
		for _, o := range oldRatings {
			if o.Dim == DimUnit {
				ratingPaths[o.UnitPath] = true
			}
		}
		for _, o := range all {
			if o.Dim == DimUnit {
				ratingPaths[o.UnitPath] = true
			}
		}
		for _, o := range oldOrders {
			orderPaths[o.UnitPath] = true
		}
		for _, o := range orders {
			orderPaths[o.UnitPath] = true
		}
		if len(all) > 0 {
			if err := tx.CreateInBatches(all, 500).Error; err != nil {
				return fmt.Errorf("stats rollup %s: write ratings: %w", day, err)
			}
		}
		if len(orders) > 0 {
			if err := tx.CreateInBatches(orders, 500).Error; err != nil {
				return fmt.Errorf("stats rollup %s: write orders: %w", day, err)
			}
		}
		if err := recomputeMonth(tx, "stats_ratings_monthly", "stats_ratings_daily", "dim = '"+DimUnit+"' AND ", ratingCounts, month, ratingPaths); err != nil {
			return fmt.Errorf("stats rollup %s: month ratings: %w", day, err)
		}
		if err := recomputeMonth(tx, "stats_orders_monthly", "stats_orders_daily", "", orderCounts, month, orderPaths); err != nil {
			return fmt.Errorf("stats rollup %s: month orders: %w", day, err)
		}
		// Last, so that the row's lock is held only until the commit: sums kept under the
		// previous generation (Kept) are not served once this day's rows are.
		if err := tx.Exec("UPDATE stats_generation SET generation = generation + 1 WHERE id = 1").Error; err != nil {
			return fmt.Errorf("stats rollup %s: generation: %w", day, err)
		}
		return nil
	})
}

// recomputeMonth replaces the month rows of the units under the given paths (the paths a day's
// old and new rows carry) with the sums of the month's daily rows under those paths. A path,
// not a unit id, selects the rows: the month rows are kept per path as the daily rows are
// (migration 00026), and the (…, unit_path, day) index of the daily table serves a list of
// paths with a month's range of days (31 rows for each unit).
func recomputeMonth(tx *gorm.DB, monthly, daily, where string, cols []string, month string, paths map[string]bool) error {
	list := make([]string, 0, len(paths))
	for p := range paths {
		list = append(list, p)
	}
	sort.Strings(list)
	insert := "INSERT INTO " + monthly + " (month, unit_id, unit_path, " + strings.Join(cols, ", ") + ") SELECT CAST(? AS TEXT), " +
		sums("unit_id, unit_path", cols) + " FROM " + daily + " WHERE " + where + "day >= ? AND day <= ? AND unit_path IN ? GROUP BY unit_id, unit_path"
	for i := 0; i < len(list); i += 500 {
		chunk := list[i:min(i+500, len(list))]
		if err := tx.Exec("DELETE FROM "+monthly+" WHERE month = ? AND unit_path IN ?", month, chunk).Error; err != nil {
			return err
		}
		if err := tx.Exec(insert, month, month+"-01", month+"-31", chunk).Error; err != nil {
			return err
		}
	}
	return nil
}

// OrderRecord is a work order as the figures need it.
type OrderRecord struct {
	ID          string
	UnitID      int64
	UnitPath    string
	OpenedAt    time.Time
	OverdueDays int
	RealName    bool
	// Deadlines are the order's clocks with their owners (clock.OwnerDays reads them).
	Deadlines models.JSON[[]models.Deadline]
}

// UnitIDs maps unit paths to ids (for figures charged to an owner by path).
func UnitIDs(ctx context.Context, db *store.DB, paths []string) (map[string]int64, error) {
	out := map[string]int64{}
	if len(paths) == 0 {
		return out, nil
	}
	var rows []struct {
		ID   int64
		Path string
	}
	if err := db.WithContext(ctx).Table("units").Select("id, path").Where("path IN ?", paths).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("units by path: %w", err)
	}
	for _, r := range rows {
		out[r.Path] = r.ID
	}
	return out, nil
}

// Charges are what one order charges to the owners that do not hold it.
type Charge struct {
	Path                 string
	Breached, Supervised bool
	OverdueDays          int
}

// OrderCharges splits an order's timeliness: the overdue days of its own unit, and the
// charges of every other owner (the administration, a misrouting unit). Overdue days are
// counted as of now with clock.OwnerDays, the count the API shows.
func OrderCharges(ctx context.Context, cals clock.Source, rec OrderRecord, f OrderFacts, now time.Time) (int, []Charge) {
	days := clock.OwnerDays(ctx, cals, rec.UnitPath, rec.Deadlines.V, now)
	var out []Charge
	for p, c := range f.Charged(rec.UnitPath) {
		if p == rec.UnitPath {
			continue
		}
		out = append(out, Charge{Path: p, Breached: c[0], Supervised: c[1], OverdueDays: days[p]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return days[rec.UnitPath], out
}

// LoadOrders reads the orders opened in [from, to) with their responsible unit (the
// administration's queue while pending) and timelines.
func LoadOrders(ctx context.Context, db *store.DB, from, to time.Time) ([]OrderRecord, map[string][]TimelineEvent, error) {
	var recs []OrderRecord
	err := db.WithContext(ctx).Raw(`
		SELECT w.id AS id, u.id AS unit_id, u.path AS unit_path, w.opened_at AS opened_at, w.overdue_days AS overdue_days, w.deadlines AS deadlines,
		       CASE WHEN e.evaluator_phone_hash <> '' OR e.evaluator_id_hash <> '' THEN 1 ELSE 0 END AS real_name
		  FROM work_orders w
		  JOIN evaluations e ON e.id = w.evaluation_id
		  JOIN units u ON u.path = w.unit_path
		 WHERE w.opened_at >= ? AND w.opened_at < ?
		 ORDER BY w.id`, from, to).Scan(&recs).Error
	if err != nil {
		return nil, nil, fmt.Errorf("load orders: %w", err)
	}
	events := map[string][]TimelineEvent{}
	for i := 0; i < len(recs); i += 500 {
		j := min(i+500, len(recs))
		ids := make([]string, 0, j-i)
		for _, r := range recs[i:j] {
			ids = append(ids, r.ID)
		}
		var evs []models.TimelineEvent
		if err := db.WithContext(ctx).Where("work_order_id IN ?", ids).Order("work_order_id, seq").Find(&evs).Error; err != nil {
			return nil, nil, fmt.Errorf("load timelines: %w", err)
		}
		for _, e := range evs {
			events[e.WorkOrderID] = append(events[e.WorkOrderID], TimelineEvent{Type: e.Type, At: e.At, Data: e.Data.V})
		}
	}
	return recs, events, nil
}

func (r *Roller) orderRows(ctx context.Context, day string, start, end time.Time) ([]orderRow, error) {
	recs, events, err := LoadOrders(ctx, r.DB, start, end)
	if err != nil {
		return nil, fmt.Errorf("stats rollup %s: %w", day, err)
	}
	byUnit := map[int64]*Orders{}
	paths := map[int64]string{}
	wd := CalendarWorkingDays(r.Calendars)
	now := r.now()
	var charges []Charge
	for _, rec := range recs {
		o := byUnit[rec.UnitID]
		if o == nil {
			o = &Orders{}
			byUnit[rec.UnitID], paths[rec.UnitID] = o, rec.UnitPath
		}
		f := Facts(rec.RealName, events[rec.ID])
		own, other := OrderCharges(ctx, r.Calendars, rec, f, now)
		if err := o.AddOrder(ctx, f, rec.UnitPath, rec.OpenedAt, own, wd); err != nil {
			return nil, fmt.Errorf("stats rollup %s: order %s: %w", day, rec.ID, err)
		}
		charges = append(charges, other...)
	}
	if len(charges) > 0 {
		var ps []string
		for _, c := range charges {
			ps = append(ps, c.Path)
		}
		ids, err := UnitIDs(ctx, r.DB, ps)
		if err != nil {
			return nil, fmt.Errorf("stats rollup %s: %w", day, err)
		}
		for _, c := range charges {
			id, ok := ids[c.Path]
			if !ok {
				continue
			}
			o := byUnit[id]
			if o == nil {
				o = &Orders{}
				byUnit[id], paths[id] = o, c.Path
			}
			o.AddCharge(c.Breached, c.Supervised, c.OverdueDays)
		}
	}
	out := make([]orderRow, 0, len(byUnit))
	for id, o := range byUnit {
		out = append(out, orderRow{Day: day, UnitID: id, UnitPath: paths[id], Orders: o.Orders, RealName: o.RealName,
			CalledBack: o.CalledBack, CalledBackRealName: o.CalledBackRealName, Rectified: o.Rectified, Explained: o.Explained,
			Appealed: o.Appealed, Upheld: o.Upheld, Rejected: o.Rejected, Closed: o.Closed, OnTime: o.OnTime,
			Overdue: o.Overdue, OverdueDays: o.OverdueDays, Supervised: o.Supervised, Handled: o.Handled, HandlingDays: o.HandlingWorkingDays})
	}
	return out, nil
}
