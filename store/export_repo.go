package store

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"

	"redress/models"
)

// Exports reads what an export of work orders adds to the orders themselves, only for the
// orders in the caller's staff scope: a list of ids from a client or a stale page never
// reaches another unit's rows.
type Exports struct{ DB *DB }

// ordersIn is the ids of the orders among ids in the caller's scope, as a subquery.
func (r Exports) ordersIn(ctx context.Context, c Caller, ids []string, column string) *gorm.DB {
	return c.Scope(StaffRoles...).Apply(r.DB.WithContext(ctx).Table("work_orders").Select(column).
		Where("work_orders.id IN ?", ids), "work_orders.unit_path")
}

// FollowUps reports, for the evaluations of the orders, which are a second rating (a
// follow-up of an earlier one).
func (r Exports) FollowUps(ctx context.Context, c Caller, orders []OrderRow) (map[string]bool, error) {
	second := map[string]bool{}
	if len(orders) == 0 {
		return second, nil
	}
	var follows []struct {
		ID         string
		FollowUpOf *string
	}
	if err := r.DB.WithContext(ctx).Table("evaluations").Select("id, follow_up_of").
		Where("id IN (?)", r.ordersIn(ctx, c, orderIDs(orders), "work_orders.evaluation_id")).Scan(&follows).Error; err != nil {
		return nil, fmt.Errorf("export work orders: ratings: %w", err)
	}
	for _, f := range follows {
		second[f.ID] = f.FollowUpOf != nil && *f.FollowUpOf != ""
	}
	return second, nil
}

// CaseKinds returns the applicant's kind and the promise kind (migration 00024) of the
// orders' cases, by case number (the cases the orders name: orders the caller has read).
func (r Exports) CaseKinds(ctx context.Context, orders []OrderRow) (applicant, promise map[string]string, err error) {
	applicant, promise = map[string]string{}, map[string]string{}
	var caseNos []string
	for _, o := range orders {
		caseNos = append(caseNos, o.CaseNos.V...)
	}
	if len(caseNos) == 0 {
		return applicant, promise, nil
	}
	var kinds []struct{ CaseNo, ApplicantType, PromiseKind string }
	if err := r.DB.WithContext(ctx).Table("service_cases").Select("case_no, applicant_type, promise_kind").
		Where("case_no IN ?", caseNos).Scan(&kinds).Error; err != nil {
		return nil, nil, fmt.Errorf("export work orders: case kinds: %w", err)
	}
	for _, k := range kinds {
		applicant[k.CaseNo], promise[k.CaseNo] = k.ApplicantType, k.PromiseKind
	}
	return applicant, promise, nil
}

// Supervision is one supervision (督办) event of an order.
type Supervision struct {
	ID, WorkOrderID string
	At              time.Time
	Data            models.JSON[map[string]any]
}

// Supervisions returns the supervisions of the orders, by order, in the order they were
// issued.
func (r Exports) Supervisions(ctx context.Context, c Caller, orders []OrderRow) ([]Supervision, error) {
	if len(orders) == 0 {
		return nil, nil
	}
	var evs []Supervision
	if err := r.DB.WithContext(ctx).Table("timeline_events").Select("id, work_order_id, at, data").
		Where("work_order_id IN (?) AND type = ? AND NOT superseded", r.ordersIn(ctx, c, orderIDs(orders), "work_orders.id"), "supervision").
		Order("work_order_id, at, id").Scan(&evs).Error; err != nil {
		return nil, fmt.Errorf("export supervisions: %w", err)
	}
	return evs, nil
}

func orderIDs(orders []OrderRow) []string {
	ids := make([]string, len(orders))
	for i, o := range orders {
		ids[i] = o.ID
	}
	return ids
}
