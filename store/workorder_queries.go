package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"redress/migrations"
	"redress/models"
)

// StaffRoles are the roles that read work orders.
var StaffRoles = []string{models.RoleOfficer, models.RoleUnitLeader, models.RoleAdministrator, models.RoleSupervisor, models.RoleAuditor}

// OversightRoles are the roles that oversee a jurisdiction's results: they read its alarms,
// its publications and its monthly reports, and make reports.
var OversightRoles = []string{models.RoleAdministrator, models.RoleSupervisor, models.RoleAuditor}

// OrderFilter narrows a work-order list.
type OrderFilter struct {
	State    string
	UnitPath string // the unit's own orders (exact), when set
	Overdue  bool
	Q        string
	Page     int
	PageSize int
	Now      time.Time
	// CountCap stops counting the matching orders past this many (0 counts them all): the
	// total of a whole city's million orders cost seconds a page (BENCHMARKS.md, point 4),
	// and nobody pages through more than a few thousand. ListOrders then answers
	// CountCap+1 as the total, which reads as "more than CountCap".
	CountCap int

	// The inbox's filters for a day's work (issue 18): the overall level, the staff member
	// (staff id), the rating's channel, the supervision level (exact), the opening time
	// [From, To), orders due before DueBefore (open ones: the supervisor board's overdue and
	// soon-due orders) and orders with an undecided extension request (the extension queue).
	Level            string
	Staff            string
	Channel          string
	Supervision      *int
	From, To         *time.Time
	DueBefore        *time.Time
	PendingExtension bool
	// Sort is one of OrderSorts ("" is "due").
	Sort string
}

// OrderSorts are the orders a list may be sorted in: by the nearest deadline (the default;
// the work_orders_due index serves it), latest deadline first, newest or oldest opened first,
// highest supervision level first.
var OrderSorts = map[string]string{
	"due":          "work_orders.next_due_at ASC NULLS LAST, work_orders.opened_at, work_orders.id",
	"-due":         "work_orders.next_due_at DESC NULLS LAST, work_orders.opened_at, work_orders.id",
	"opened":       "work_orders.opened_at, work_orders.id",
	"-opened":      "work_orders.opened_at DESC, work_orders.id",
	"-supervision": "work_orders.supervision_level DESC, work_orders.next_due_at ASC NULLS LAST, work_orders.opened_at, work_orders.id",
}

// pendingExtensionSQL is true of a rectifying order whose last rectification event is a
// request_extension (api's pendingExtension reads the same events for one order).
const pendingExtensionSQL = `work_orders.state = 'rectifying' AND (SELECT te.type FROM timeline_events te
	WHERE te.work_order_id = work_orders.id AND te.type IN ('request_extension', 'decide_extension', 'dispose', 'review', 'reopen', 'decide_appeal')
	ORDER BY te.seq DESC LIMIT 1) = 'request_extension'`

// OrderRow is a work order with the names a list shows.
type OrderRow struct {
	models.WorkOrder
	UnitCode     string
	UnitName     string
	ClientEvalID string
	// From the evaluation and the staff table: what a list shows besides the order itself.
	Channel   string
	RatedAt   *time.Time
	StaffName *string
	// ServiceName is the service item of the order's first case, to title the order by.
	ServiceName *string
}

// ListOrders returns one page of the work orders in scope, nearest deadline first, and the
// total matching (up to f.CountCap+1).
func ListOrders(ctx context.Context, db *DB, scope Scope, f OrderFilter) ([]OrderRow, int64, error) {
	var (
		rows  []OrderRow
		total int64
	)
	// The count and the page are read from one snapshot: read apart, an order dispatched
	// between them was on the page but not in the total ("total 0" above one item). On
	// PostgreSQL that takes REPEATABLE READ; SQLite's read transaction is one snapshot anyway.
	var opts []*sql.TxOptions
	if db.Dialect == migrations.Postgres {
		opts = append(opts, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		base := func() *gorm.DB {
			return filterOrders(scope.Apply(tx.Table("work_orders"), "work_orders.unit_path"), f)
		}
		count := base()
		if f.CountCap > 0 {
			capped := base().Select("1")
			if f.Overdue {
				// Overdue orders are the head of the work_orders_due index: counted in its order,
				// an index scan stops at the cap. Unordered, PostgreSQL fetched every overdue order
				// with a bitmap scan to count the first 10 001 (74 000 at BENCHMARKS.md's scale).
				capped = capped.Order("work_orders.next_due_at ASC NULLS LAST, work_orders.opened_at, work_orders.id")
			}
			count = tx.Table("(?) AS capped", capped.Limit(f.CountCap+1))
		}
		if err := count.Count(&total).Error; err != nil {
			return fmt.Errorf("list work orders: count: %w", err)
		}
		err := base().Select(orderColumns).
			Joins("LEFT JOIN units ON units.id = work_orders.unit_id").
			Joins("JOIN evaluations ON evaluations.id = work_orders.evaluation_id").
			// Open orders with a deadline first, nearest first; then by age. Written so that the
			// work_orders_due index (migration 00009) serves it: a page of a large scope reads
			// its first rows in order instead of sorting the scope.
			Joins("LEFT JOIN staff ON staff.id = work_orders.staff_id").
			Order(orderSort(f.Sort)).
			Offset((f.Page - 1) * f.PageSize).Limit(f.PageSize).Scan(&rows).Error
		if err != nil {
			return fmt.Errorf("list work orders: %w", err)
		}
		return nil
	}, opts...)
	if err != nil {
		return nil, 0, err
	}
	return rows, total, nil
}

const orderColumns = "work_orders.*, units.code AS unit_code, units.name AS unit_name, evaluations.evaluation_id AS client_eval_id, " +
	"evaluations.channel AS channel, evaluations.rated_at AS rated_at, staff.name AS staff_name, " +
	// The order's own first case (a theme rating's evaluation may have orders at several
	// units, each with its cases; case_nos is the order's JSON list of them).
	"(SELECT service_cases.item_name FROM evaluation_cases JOIN service_cases ON service_cases.case_no = evaluation_cases.case_no " +
	"WHERE evaluation_cases.evaluation_id = work_orders.evaluation_id AND work_orders.case_nos LIKE '%\"' || evaluation_cases.case_no || '\"%' " +
	"ORDER BY evaluation_cases.case_no LIMIT 1) AS service_name"

func orderSort(s string) string {
	if o, ok := OrderSorts[s]; ok {
		return o
	}
	return OrderSorts["due"]
}

func filterOrders(q *gorm.DB, f OrderFilter) *gorm.DB {
	if f.State != "" {
		q = q.Where("work_orders.state = ?", f.State)
	}
	if f.UnitPath != "" {
		q = q.Where("work_orders.unit_path = ?", f.UnitPath)
	}
	if f.Overdue {
		q = q.Where("work_orders.next_due_at < ? AND work_orders.state <> ?", f.Now, models.StateClosed)
	}
	if f.Level != "" {
		q = q.Where("work_orders.overall = ?", f.Level)
	}
	if f.Staff != "" {
		q = q.Where("work_orders.staff_id = ?", f.Staff)
	}
	if f.Channel != "" {
		q = q.Where("work_orders.evaluation_id IN (SELECT evaluations.id FROM evaluations WHERE evaluations.channel = ?)", f.Channel)
	}
	if f.Supervision != nil {
		q = q.Where("work_orders.supervision_level = ?", *f.Supervision)
	}
	// The bounds are instants compared in UTC: SQLite compares the stored text, so a bound
	// given in Asia/Shanghai (a day's 00:00 there) would be compared with UTC times as text and
	// miss the orders opened between 00:00 and 08:00 Shanghai time.
	if f.From != nil {
		q = q.Where("work_orders.opened_at >= ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("work_orders.opened_at < ?", f.To.UTC())
	}
	if f.DueBefore != nil {
		q = q.Where("work_orders.next_due_at < ? AND work_orders.state <> ?", *f.DueBefore, models.StateClosed)
	}
	if f.PendingExtension {
		q = q.Where(pendingExtensionSQL)
	}
	if s := strings.TrimSpace(f.Q); s != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
		q = q.Where(`(work_orders.id LIKE ? ESCAPE '\' OR work_orders.case_nos LIKE ? ESCAPE '\' OR work_orders.comment LIKE ? ESCAPE '\')`, like, like, like)
	}
	return q
}

// GetOrder returns one work order if it is in scope; ok=false otherwise (also for an id of
// another unit, which must not be told apart from a missing one).
func GetOrder(ctx context.Context, db *DB, scope Scope, id string) (OrderRow, bool, error) {
	var rows []OrderRow
	err := scope.Apply(db.WithContext(ctx).Table("work_orders"), "work_orders.unit_path").
		Select(orderColumns).
		Joins("LEFT JOIN units ON units.id = work_orders.unit_id").
		Joins("JOIN evaluations ON evaluations.id = work_orders.evaluation_id").
		Joins("LEFT JOIN staff ON staff.id = work_orders.staff_id").
		Where("work_orders.id = ?", id).Limit(1).Scan(&rows).Error
	if err != nil {
		return OrderRow{}, false, fmt.Errorf("get work order %s: %w", id, err)
	}
	if len(rows) == 0 {
		return OrderRow{}, false, nil
	}
	return rows[0], true, nil
}

// Timeline returns an order's events, oldest first (an event written beside the workflow, such
// as an evidence upload, shares the number of the workflow event it follows).
func Timeline(ctx context.Context, db *DB, workOrderID string) ([]models.TimelineEvent, error) {
	var evs []models.TimelineEvent
	if err := db.WithContext(ctx).Where("work_order_id = ? AND NOT superseded", workOrderID).Order("seq, at, id").Find(&evs).Error; err != nil {
		return nil, fmt.Errorf("timeline %s: %w", workOrderID, err)
	}
	return evs, nil
}

// EvaluatorOf returns the sealed evaluator identity of an order's evaluation.
func EvaluatorOf(ctx context.Context, db *DB, evaluationID string) (name, phone string, err error) {
	var e models.Evaluation
	if err := db.WithContext(ctx).Select("evaluator_name", "evaluator_phone").Where("id = ?", evaluationID).First(&e).Error; err != nil {
		return "", "", fmt.Errorf("evaluator of %s: %w", evaluationID, err)
	}
	return e.EvaluatorName, e.EvaluatorPhone, nil
}
