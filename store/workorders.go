package store

import (
	"context"
	"fmt"
)

// MarkWorkflowStarted flags a work order whose workflow is known to exist.
func MarkWorkflowStarted(ctx context.Context, db *DB, workOrderID string) error {
	err := db.WithContext(ctx).Table("work_orders").
		Where("id = ? AND NOT workflow_started", workOrderID).
		Update("workflow_started", true).Error
	if err != nil {
		return fmt.Errorf("mark workflow started %s: %w", workOrderID, err)
	}
	return nil
}
