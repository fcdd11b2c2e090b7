package migrations

import (
	"context"
	"database/sql"
)

// Files exposes the embedded migration files to the external test package (which cannot be
// package migrations itself: storetest imports store, which imports migrations).
var Files = files

// DownTo rolls a database back to version v (the index-name test runs 00025's Down).
func DownTo(ctx context.Context, db *sql.DB, d Dialect, v int64) error {
	p, err := provider(db, d)
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, v)
	return err
}
