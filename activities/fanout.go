package activities

import (
	"context"
	"fmt"
)

// OpenOrders lists a page of the open work orders whose workflow runs, in id order (the
// calendar fan-out's cursor).
func (a *Activities) OpenOrders(ctx context.Context, p OrdersPage) ([]OrderRef, error) {
	q := a.DB.WithContext(ctx).Table("work_orders").Select("id, workflow_id").
		Where("workflow_started AND state <> ? AND id > ?", "closed", p.After)
	if len(p.Units) > 0 {
		or := a.DB.WithContext(ctx)
		for i, u := range p.Units {
			if i == 0 {
				or = or.Where("unit_path LIKE ?", u+"%")
			} else {
				or = or.Or("unit_path LIKE ?", u+"%")
			}
		}
		q = q.Where(or)
	}
	var out []OrderRef
	if err := q.Order("id").Limit(p.Limit).Scan(&out).Error; err != nil {
		return nil, fmt.Errorf("open orders after %q: %w", p.After, err)
	}
	return out, nil
}
