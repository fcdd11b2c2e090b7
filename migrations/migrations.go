// Package migrations holds the versioned schema of redress as SQL files, one set per database
// (postgres/ and sqlite/, same version numbers, same tables), applied by goose. Production runs
// them with `redress migrate`; `redress dev` and the tests apply them on start. A test checks
// that both sets produce the same tables and columns.
package migrations

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Dialect names a database family.
type Dialect string

// The supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

func provider(db *sql.DB, d Dialect) (*goose.Provider, error) {
	sub, err := fs.Sub(files, string(d))
	if err != nil {
		return nil, err
	}
	var gd goose.Dialect
	switch d {
	case Postgres:
		gd = goose.DialectPostgres
	case SQLite:
		gd = goose.DialectSQLite3
	default:
		return nil, fmt.Errorf("migrations: unknown dialect %q", d)
	}
	return goose.NewProvider(gd, db, sub)
}

// Up applies every pending migration and returns the schema version reached.
func Up(ctx context.Context, db *sql.DB, d Dialect) (int64, error) {
	p, err := provider(db, d)
	if err != nil {
		return 0, fmt.Errorf("migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrations up (%s): %w", d, err)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrations version: %w", err)
	}
	return v, nil
}

// HasPending reports whether a migration is not applied yet; readiness requires none.
func HasPending(ctx context.Context, db *sql.DB, d Dialect) (bool, error) {
	p, err := provider(db, d)
	if err != nil {
		return false, err
	}
	return p.HasPending(ctx)
}
