// Package reports makes the monthly report (定期报告) of a jurisdiction as an XLSX workbook:
// the jurisdiction's totals, the ranking of its units by satisfaction score (with a bar chart),
// the worst service items, the overdue work orders and the supervised ones. Reports are made
// on demand and by a monthly Temporal Schedule; each is stored in the database, and a
// scheduled one exists at most once per jurisdiction and month.
package reports

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"
	"github.com/xuri/excelize/v2"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"redress/apperr"
	"redress/calendar/calendardb"
	"redress/clock"
	"redress/models"
	"redress/publish"
	"redress/stats"
	"redress/store"
)

// Triggers.
const (
	TriggerSchedule = "schedule"
	TriggerOnDemand = "on_demand"
)

// ContentType of the workbooks.
const ContentType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// Report is a stored report.
type Report struct {
	ID          string    `gorm:"primaryKey" json:"id"`
	UnitID      int64     `json:"-"`
	UnitPath    string    `json:"-"`
	Unit        string    `gorm:"-" json:"unit"`
	Month       string    `json:"month"`
	Trigger     string    `json:"trigger"`
	CreatedBy   string    `json:"created_by"`
	CreatedAt   time.Time `json:"created_at"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int       `json:"size"`
	Content     []byte    `json:"-"`
}

// TableName names the reports table.
func (Report) TableName() string { return "reports" }

// Build makes the workbook of a jurisdiction's month from the rollups.
func Build(ctx context.Context, db *store.DB, unit models.Unit, month string) (_ []byte, err error) {
	fig, err := publish.Compute(ctx, db, unit, month)
	if err != nil {
		return nil, err
	}
	p := fig.Period
	items, err := stats.ByDim(ctx, db, store.Scope{Subtrees: []string{unit.Path}}, stats.DimItem, p)
	if err != nil {
		return nil, err
	}
	overdue, supervised, err := orderLists(ctx, db, unit.Path, p)
	if err != nil {
		return nil, err
	}
	f := excelize.NewFile()
	defer func() {
		// Close removes the workbook's temporary files; a failure is worth knowing.
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("report: close the workbook: %w", cerr)
		}
	}()
	w := sheetWriter{f: f}

	w.sheet("Summary")
	w.row("Monthly report", fig.Jurisdiction.Name+" ("+fig.Jurisdiction.Code+")")
	w.row("Period", p.From+" to "+p.To)
	w.row("Formulas", "satisfaction rate = (very satisfied + satisfied + basically satisfied) / active ratings; score = mean points 10/8/6/3/0 of active ratings; appeal-upheld ratings excluded")
	w.row()
	r, o := fig.Total.Ratings, fig.Total.Orders
	for _, kv := range [][2]any{
		{"Ratings (adopted)", r.Total}, {"Active ratings", r.Active.Total()}, {"Default ratings", r.Default.Total()},
		{"Active rate", val(r.ActiveRate)}, {"Satisfaction rate", val(r.SatisfactionRate)}, {"Score", val(r.Score)},
		{"Bad reviews", r.Bad}, {"Excluded (appeal upheld)", r.Excluded}, {"Work orders", o.Orders},
		{"Called back (real name)", o.CalledBackRealName}, {"Callback rate (real name)", val(o.CallbackRate)},
		{"Rectified", o.Rectified}, {"Explained", o.Explained}, {"Appealed", o.Appealed}, {"Upheld", o.Upheld},
		{"On time", o.OnTime}, {"Overdue", o.Overdue}, {"Overdue days", o.OverdueDays}, {"Supervised", o.Supervised},
		{"Average handling (working days)", val(o.AvgHandlingWorkingDays)},
	} {
		w.row(kv[0], kv[1])
	}

	w.sheet("Ranking")
	units := append([]stats.UnitFigures(nil), fig.Units...)
	sort.SliceStable(units, func(i, j int) bool { return score(units[i]) > score(units[j]) })
	w.row("Rank", "Unit", "Code", "Ratings", "Active", "Default", "Satisfaction rate", "Score", "Bad", "Orders", "Callback rate", "On time", "Overdue", "Overdue days", "Avg handling (wd)")
	ranked := 0
	for _, u := range units {
		if u.Ratings.Total == 0 && u.Orders.Orders == 0 {
			continue
		}
		ranked++
		w.row(ranked, u.Name, u.Code, u.Ratings.Total, u.Ratings.Active.Total(), u.Ratings.Default.Total(),
			val(u.Ratings.SatisfactionRate), val(u.Ratings.Score), u.Ratings.Bad, u.Orders.Orders, val(u.Orders.CallbackRate),
			u.Orders.OnTime, u.Orders.Overdue, u.Orders.OverdueDays, val(u.Orders.AvgHandlingWorkingDays))
	}
	if ranked > 0 {
		last := fmt.Sprint(ranked + 1)
		err := f.AddChart("Ranking", "Q2", &excelize.Chart{
			Type: excelize.Bar,
			Series: []excelize.ChartSeries{{
				Name: "Ranking!$H$1", Categories: "Ranking!$B$2:$B$" + last, Values: "Ranking!$H$2:$H$" + last,
			}},
			Title:  excelize.ChartTitle{Paragraph: []excelize.RichTextRun{{Text: "Satisfaction score by unit"}}},
			Legend: excelize.ChartLegend{Position: "none"},
		})
		if err != nil {
			return nil, fmt.Errorf("report chart: %w", err)
		}
	}

	w.sheet("Worst items")
	sort.SliceStable(items, func(i, j int) bool {
		if items[i].Ratings.Bad != items[j].Ratings.Bad {
			return items[i].Ratings.Bad > items[j].Ratings.Bad
		}
		return rate(items[i].Ratings) < rate(items[j].Ratings)
	})
	w.row("Item code", "Item", "Ratings", "Bad", "Satisfaction rate", "Score")
	for i, it := range items {
		if i == 20 {
			break
		}
		w.row(it.Key, it.Label, it.Ratings.Total, it.Ratings.Bad, val(it.Ratings.SatisfactionRate), val(it.Ratings.Score))
	}

	w.sheet("Overdue orders")
	w.row("Work order", "Unit", "State", "Opened", "Overdue days", "Supervision level")
	for _, r := range overdue {
		w.row(r.ID, r.Unit, r.State, r.OpenedAt.In(zone()).Format(time.DateOnly), r.OverdueDays, r.SupervisionLevel)
	}
	w.sheet("Supervision")
	w.row("Work order", "Unit", "State", "Opened", "Supervision level", "Overdue days")
	for _, r := range supervised {
		w.row(r.ID, r.Unit, r.State, r.OpenedAt.In(zone()).Format(time.DateOnly), r.SupervisionLevel, r.OverdueDays)
	}
	if err := w.err; err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	if err := f.DeleteSheet("Sheet1"); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		return nil, fmt.Errorf("report: write: %w", err)
	}
	return buf.Bytes(), nil
}

func zone() *time.Location { return time.FixedZone("CST", 8*3600) }

func score(u stats.UnitFigures) float64 {
	if u.Ratings.Score == nil {
		return -1
	}
	return *u.Ratings.Score
}

func rate(r stats.Ratings) float64 {
	if r.SatisfactionRate == nil {
		return 2
	}
	return *r.SatisfactionRate
}

func val(f *float64) any {
	if f == nil {
		return ""
	}
	return *f
}

type orderLine struct {
	ID               string
	Unit             string
	UnitPath         string
	State            string
	OpenedAt         time.Time
	OverdueDays      int
	SupervisionLevel int
	Deadlines        models.JSON[[]models.Deadline]
}

// maxListed bounds each order list of a report.
const maxListed = 500

// orderLists reads the report's overdue and supervised orders. Overdue days are live (issue 15):
// computed as of now from the order's deadlines (clock.OrderDays, in each deadline's own unit),
// the same number the list, the order page, the export and the board show — the stored
// overdue_days is as of the order's last event and reads 0 for an order nobody has acted on
// since its deadline passed.
func orderLists(ctx context.Context, db *store.DB, path string, p stats.Period) (overdue, supervised []orderLine, err error) {
	from, to := stats.DayStart(p.From), stats.DayStart(p.To).AddDate(0, 0, 1)
	now := time.Now()
	cals := calendardb.NewCache(db, time.Minute)
	q := func(cond string, order string, limit int, args ...any) ([]orderLine, error) {
		var rows []orderLine
		err := db.WithContext(ctx).Table("work_orders w").
			Select("w.id, COALESCE(u.code, '') AS unit, w.unit_path, w.state, w.opened_at, w.overdue_days, w.supervision_level, w.deadlines").
			Joins("LEFT JOIN units u ON u.path = w.unit_path").
			Where("w.unit_path LIKE ? AND w.opened_at >= ? AND w.opened_at < ?", path+"%", from, to).
			Where(cond, args...).
			Order(order).Limit(limit).Scan(&rows).Error
		for i := range rows {
			// An order stored without deadlines (imported or generated rows) keeps its figure.
			if len(rows[i].Deadlines.V) > 0 {
				rows[i].OverdueDays = clock.OrderDays(ctx, cals, rows[i].UnitPath, rows[i].Deadlines.V, now)
			}
		}
		return rows, err
	}
	// Late as of now: late when last acted on, or a clock that ran past its due instant since.
	cands, err := q("w.overdue_days > 0 OR w.next_due_at < ?", "w.id", 20*maxListed, now.UTC())
	if err != nil {
		return nil, nil, fmt.Errorf("report: overdue orders: %w", err)
	}
	for _, r := range cands {
		if r.OverdueDays > 0 {
			overdue = append(overdue, r)
		}
	}
	sort.SliceStable(overdue, func(i, j int) bool { return overdue[i].OverdueDays > overdue[j].OverdueDays })
	if len(overdue) > maxListed {
		overdue = overdue[:maxListed]
	}
	if supervised, err = q("w.supervision_level > 0", "w.supervision_level DESC, w.id", maxListed); err != nil {
		return nil, nil, fmt.Errorf("report: supervised orders: %w", err)
	}
	return overdue, supervised, nil
}

// sheetWriter appends rows to the current sheet and keeps the first error.
type sheetWriter struct {
	f    *excelize.File
	name string
	n    int
	err  error
}

func (w *sheetWriter) sheet(name string) {
	if w.err != nil {
		return
	}
	_, w.err = w.f.NewSheet(name)
	w.name, w.n = name, 0
}

func (w *sheetWriter) row(cells ...any) {
	if w.err != nil {
		return
	}
	w.n++
	cell, err := excelize.CoordinatesToCellName(1, w.n)
	if err != nil {
		w.err = err
		return
	}
	if len(cells) > 0 {
		w.err = w.f.SetSheetRow(w.name, cell, &cells)
	}
}

// Create builds and stores a report. A scheduled report of a jurisdiction and month that
// exists already is not made again (the existing one is answered).
func Create(ctx context.Context, db *store.DB, unit models.Unit, month, trigger, by string) (Report, error) {
	if _, err := stats.MonthPeriod(month); err != nil {
		return Report{}, apperr.Invalid("month", "invalid_month", "month must be YYYY-MM")
	}
	if trigger == TriggerSchedule {
		var r Report
		err := db.WithContext(ctx).Omit("content").Where("unit_id = ? AND month = ? AND trigger = ?", unit.ID, month, TriggerSchedule).Take(&r).Error
		if err == nil {
			r.Unit = unit.Code
			return r, nil
		}
		if !errors.Is(err, gorm.ErrRecordNotFound) {
			return Report{}, fmt.Errorf("report %s %s: %w", unit.Code, month, err)
		}
	}
	content, err := Build(ctx, db, unit, month)
	if err != nil {
		return Report{}, err
	}
	r := Report{ID: uuid.NewString(), UnitID: unit.ID, UnitPath: unit.Path, Unit: unit.Code, Month: month, Trigger: trigger,
		CreatedBy: by, CreatedAt: time.Now().UTC(), Filename: fmt.Sprintf("redress-report-%s-%s.xlsx", unit.Code, month),
		ContentType: ContentType, Size: len(content), Content: content}
	q := db.WithContext(ctx)
	if trigger == TriggerSchedule {
		q = q.Clauses(clause.OnConflict{DoNothing: true}) // a concurrent run stored it first
	}
	if err := q.Create(&r).Error; err != nil {
		return Report{}, fmt.Errorf("report %s %s: store: %w", unit.Code, month, err)
	}
	return r, nil
}

// Get loads a report in scope, with its content.
func Get(ctx context.Context, db *store.DB, scope store.Scope, id string) (Report, error) {
	var r Report
	if _, err := uuid.Parse(id); err != nil {
		return r, apperr.NotFound("report")
	}
	err := scope.Apply(db.WithContext(ctx).Where("id = ?", id), "unit_path").Take(&r).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return r, apperr.NotFound("report")
	}
	if err != nil {
		return r, fmt.Errorf("report %s: %w", id, err)
	}
	return r, nil
}

// List lists the reports in scope, newest first, without content.
func List(ctx context.Context, db *store.DB, scope store.Scope, month string) ([]Report, error) {
	q := db.WithContext(ctx).Omit("content")
	if month != "" {
		q = q.Where("month = ?", month)
	}
	var out []Report
	if err := scope.Apply(q, "unit_path").Order("created_at DESC").Limit(200).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	var units []models.Unit
	if err := db.WithContext(ctx).Find(&units).Error; err != nil {
		return nil, fmt.Errorf("reports: units: %w", err)
	}
	codes := map[int64]string{}
	for _, u := range units {
		codes[u.ID] = u.Code
	}
	for i := range out {
		out[i].Unit = codes[out[i].UnitID]
	}
	return out, nil
}

// Scheduled makes the scheduled report of every administration for a month (idempotent).
func Scheduled(ctx context.Context, db *store.DB, month string) (int, error) {
	var admins []models.Unit
	if err := db.WithContext(ctx).Where("kind = ?", "administration").Order("path").Find(&admins).Error; err != nil {
		return 0, fmt.Errorf("scheduled reports: %w", err)
	}
	for _, u := range admins {
		if _, err := Create(ctx, db, u, month, TriggerSchedule, "schedule"); err != nil {
			return 0, err
		}
	}
	return len(admins), nil
}
