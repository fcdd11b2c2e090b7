package store

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"redress/migrations"
)

// MarkWorkflowStarted flags a work order whose workflow is known to exist.
//
// On PostgreSQL the flag commits without waiting for its WAL to reach the disk
// (synchronous_commit off for this transaction alone): it is a hint the reconciler reads, not a
// record. Only a crash of PostgreSQL or of the machine within a fraction of a second of the
// commit can lose it (a crash of this process cannot: the commit is PostgreSQL's); that leaves
// the order unstarted in the read-model until the reconciler starts it again, which finds the
// workflow already there and sets the flag (engine.Starter.Reconcile).
// Waiting for the disk made every bad rating's answer wait for one more flush (about 5 ms on
// this machine's disk when nothing else queues for it, far more at p99 when the engine's and
// the ratings' commits do: BENCHMARKS.md, point 9, seventh sitting). Nothing else is
// written in the transaction, so nothing else is made less durable.
func MarkWorkflowStarted(ctx context.Context, db *DB, workOrderID string) error {
	mark := func(tx *gorm.DB) error {
		return tx.Table("work_orders").Where("id = ? AND NOT workflow_started", workOrderID).Update("workflow_started", true).Error
	}
	var err error
	if db.Dialect == migrations.Postgres {
		err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SET LOCAL synchronous_commit = off").Error; err != nil {
				return err
			}
			return mark(tx)
		})
	} else {
		err = mark(db.WithContext(ctx))
	}
	if err != nil {
		return fmt.Errorf("mark workflow started %s: %w", workOrderID, err)
	}
	return nil
}
