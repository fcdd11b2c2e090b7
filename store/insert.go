package store

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"redress/migrations"
)

// InsertAll inserts rows (pointers to models or to slices of them, parents before children)
// atomically. On PostgreSQL it sends the inserts as one pgx batch: pipelined in one round trip
// and run in one implicit transaction (one commit), where a transaction of the same inserts
// costs a round trip each plus BEGIN and COMMIT. Intake writes every rating this way; its
// statements, not the database, were what limited it (BENCHMARKS.md, point 1). A unique or
// foreign-key violation in any insert fails the batch and none of its rows stay, as in a
// transaction. On SQLite (one writer, no network), or when db is already a transaction, the
// inserts are plain statements in a transaction (the caller's, if any).
//
// The SQL of each insert is one unnest statement per model (insert_unnest.go) or GORM's own (a
// dry run of Create); the columns and values are the models' either way.
func InsertAll(ctx context.Context, db *DB, rows ...any) error {
	if len(rows) == 0 {
		return nil
	}
	pool, ok := db.Statement.ConnPool.(*sql.DB)
	if db.Dialect != migrations.Postgres || !ok {
		return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			for _, r := range rows {
				if err := tx.Create(r).Error; err != nil {
					return err
				}
			}
			return nil
		})
	}
	dry := db.WithContext(ctx).Session(&gorm.Session{DryRun: true, SkipDefaultTransaction: true})
	// Sent on the pool's own pgx connection, beside GORM; errors are translated as GORM's
	// would be, so callers see gorm.ErrDuplicatedKey alike.
	err := OnPgx(ctx, pool, func(c *pgx.Conn) error {
		var batch pgx.Batch
		for _, r := range rows {
			// A model's rows as one unnest insert where it allows it (insert_unnest.go), else
			// GORM's.
			queued, err := unnestInsert(ctx, db, c, &batch, r)
			if err != nil {
				return err
			}
			if queued {
				continue
			}
			st := dry.Create(r).Statement
			if st.Error != nil {
				return fmt.Errorf("insert all: build %T: %w", r, st.Error)
			}
			batch.Queue(st.SQL.String(), st.Vars...)
		}
		return c.SendBatch(ctx, &batch).Close()
	})
	if err != nil {
		if t, ok := db.Dialector.(gorm.ErrorTranslator); ok && db.TranslateError {
			return t.Translate(err)
		}
		return err
	}
	return nil
}

// OnPgx runs f on one of pool's connections as pgx sees it (pool must use the pgx driver),
// for what database/sql cannot say, such as a pgx.Batch of several statements sent in one
// round trip.
func OnPgx(ctx context.Context, pool *sql.DB, f func(*pgx.Conn) error) error {
	conn, err := pool.Conn(ctx)
	if err != nil {
		return fmt.Errorf("pgx connection: %w", err)
	}
	// Close hands the connection back to the pool; its error (a connection already gone) leaves
	// nothing to undo: f's outcome is what counts.
	defer func() { _ = conn.Close() }()
	return conn.Raw(func(dc any) error { return f(dc.(*stdlib.Conn).Conn()) })
}
