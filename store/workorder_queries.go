package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"redress/models"
)

// StaffRoles are the roles that read work orders.
var StaffRoles = []string{models.RoleOfficer, models.RoleUnitLeader, models.RoleAdministrator, models.RoleSupervisor, models.RoleAuditor}

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
}

// OrderRow is a work order with the names a list shows.
type OrderRow struct {
	models.WorkOrder
	UnitCode     string
	UnitName     string
	ClientEvalID string
}

// ListOrders returns one page of the work orders in scope, nearest deadline first, and the
// total matching (up to f.CountCap+1).
func ListOrders(ctx context.Context, db *DB, scope Scope, f OrderFilter) ([]OrderRow, int64, error) {
	base := func() *gorm.DB {
		return filterOrders(scope.Apply(db.WithContext(ctx).Table("work_orders"), "work_orders.unit_path"), f)
	}
	var total int64
	count := base()
	if f.CountCap > 0 {
		capped := base().Select("1")
		if f.Overdue {
			// Overdue orders are the head of the work_orders_due index: counted in its order,
			// an index scan stops at the cap. Unordered, PostgreSQL fetched every overdue order
			// with a bitmap scan to count the first 10 001 (74 000 at BENCHMARKS.md's scale).
			capped = capped.Order("work_orders.next_due_at ASC NULLS LAST, work_orders.opened_at, work_orders.id")
		}
		count = db.WithContext(ctx).Table("(?) AS capped", capped.Limit(f.CountCap+1))
	}
	if err := count.Count(&total).Error; err != nil {
		return nil, 0, fmt.Errorf("list work orders: count: %w", err)
	}
	var rows []OrderRow
	err := base().Select(orderColumns).
		Joins("LEFT JOIN units ON units.id = work_orders.unit_id").
		Joins("JOIN evaluations ON evaluations.id = work_orders.evaluation_id").
		// Open orders with a deadline first, nearest first; then by age. Written so that the
		// work_orders_due index (migration 00009) serves it: a page of a large scope reads
		// its first rows in order instead of sorting the scope.
		Order("work_orders.next_due_at ASC NULLS LAST, work_orders.opened_at, work_orders.id").
		Offset((f.Page - 1) * f.PageSize).Limit(f.PageSize).Scan(&rows).Error
	if err != nil {
		return nil, 0, fmt.Errorf("list work orders: %w", err)
	}
	return rows, total, nil
}

const orderColumns = "work_orders.*, units.code AS unit_code, units.name AS unit_name, evaluations.evaluation_id AS client_eval_id"

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
		Where("work_orders.id = ?", id).Limit(1).Scan(&rows).Error
	if err != nil {
		return OrderRow{}, false, fmt.Errorf("get work order %s: %w", id, err)
	}
	if len(rows) == 0 {
		return OrderRow{}, false, nil
	}
	return rows[0], true, nil
}

// Timeline returns an order's events, oldest first.
func Timeline(ctx context.Context, db *DB, workOrderID string) ([]models.TimelineEvent, error) {
	var evs []models.TimelineEvent
	if err := db.WithContext(ctx).Where("work_order_id = ? AND NOT superseded", workOrderID).Order("seq").Find(&evs).Error; err != nil {
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
