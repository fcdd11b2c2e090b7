// Package store opens the relational database (PostgreSQL, or an SQLite file through the pure-Go
// modernc driver that the embedded Temporal server also uses) and holds the queries that the API,
// the activities and the commands share, each scoped to the caller's units where it reads or
// changes work orders.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	_ "modernc.org/sqlite" // registers driver "sqlite"; shared with the embedded Temporal server

	"redress/migrations"
)

// DB is an open database and its dialect.
type DB struct {
	*gorm.DB
	Dialect migrations.Dialect
	// plans holds InsertAll's statements per model on PostgreSQL (insert_unnest.go): built
	// once per connection pool, from its database's column types.
	plans *sync.Map // reflect.Type -> *unnestPlan
}

// Open connects to url: postgres://… or postgresql://… for PostgreSQL, sqlite:PATH for SQLite.
// It does not migrate; call Migrate (dev, tests, `redress migrate`).
func Open(ctx context.Context, url string) (*DB, error) {
	var (
		dial gorm.Dialector
		d    migrations.Dialect
	)
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		dial, d = postgres.New(postgres.Config{DSN: url}), migrations.Postgres
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(url, "sqlite:")
		if path == "" {
			return nil, errors.New("store: sqlite: URL needs a path")
		}
		// WAL lets readers run beside the writer; busy_timeout makes writers queue instead of
		// failing; foreign keys are off by default in SQLite.
		dsn := "file:" + path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_time_format=sqlite"
		dial, d = sqlite.New(sqlite.Config{DriverName: "sqlite", DSN: dsn}), migrations.SQLite
	default:
		return nil, fmt.Errorf("store: unsupported database URL %q (want postgres://… or sqlite:PATH)", redactURL(url))
	}
	gdb, err := gorm.Open(dial, &gorm.Config{
		Logger:                 logger.New(slogWriter{}, logger.Config{SlowThreshold: 500 * time.Millisecond, LogLevel: logger.Warn, IgnoreRecordNotFoundError: true}),
		SkipDefaultTransaction: true,
		NowFunc:                func() time.Time { return time.Now().UTC() },
		TranslateError:         true,
	})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", d, err)
	}
	sqlDB, err := gdb.DB()
	if err != nil {
		return nil, err
	}
	if d == migrations.SQLite {
		// One writer at a time is SQLite's rule; a small pool keeps readers concurrent.
		sqlDB.SetMaxOpenConns(8)
	} else {
		sqlDB.SetMaxOpenConns(32)
		sqlDB.SetMaxIdleConns(32)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		return nil, fmt.Errorf("store: ping %s: %w", d, err)
	}
	return &DB{DB: gdb, Dialect: d, plans: &sync.Map{}}, nil
}

// Migrate applies pending migrations.
func (db *DB) Migrate(ctx context.Context) (int64, error) {
	sqlDB, err := db.DB.DB()
	if err != nil {
		return 0, err
	}
	return migrations.Up(ctx, sqlDB, db.Dialect)
}

// SQL returns the underlying *sql.DB.
func (db *DB) SQL() *sql.DB {
	s, _ := db.DB.DB()
	return s
}

// Close closes the pool.
func (db *DB) Close() error { return db.SQL().Close() }

// Ready checks that the database answers and its schema is current.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.SQL().PingContext(ctx); err != nil {
		return fmt.Errorf("database unreachable: %w", err)
	}
	pending, err := migrations.HasPending(ctx, db.SQL(), db.Dialect)
	if err != nil {
		return fmt.Errorf("database schema: %w", err)
	}
	if pending {
		return errors.New("database schema has pending migrations (run redress migrate)")
	}
	return nil
}

func redactURL(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		if j := strings.Index(u, "://"); j > 0 && j < i {
			return u[:j+3] + "…" + u[i:]
		}
	}
	return u
}

type slogWriter struct{}

func (slogWriter) Printf(format string, args ...any) {
	slog.Warn("database", "msg", fmt.Sprintf(format, args...))
}
