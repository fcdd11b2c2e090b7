// Package storetest gives tests a migrated, empty database of either dialect: an SQLite file in
// the test's temporary directory, or a fresh PostgreSQL database on REDRESS_TEST_POSTGRES
// (default postgres://postgres@127.0.0.1:5432/postgres) that is dropped afterwards. A PostgreSQL
// test skips when no server answers, unless REDRESS_REQUIRE_POSTGRES=1 (CI sets it), where it
// fails instead, so that CI cannot pass while skipping.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for creating and dropping test databases

	"redress/migrations"
	"redress/store"
)

// Dialects lists both dialects, for tests that run once per database.
var Dialects = []migrations.Dialect{migrations.SQLite, migrations.Postgres}

// Open returns a migrated empty database of dialect d, closed and removed at the test's end.
func Open(t testing.TB, d migrations.Dialect) *store.DB {
	t.Helper()
	u := URL(t, d)
	db, err := store.Open(context.Background(), u)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close %s: %v", d, err)
		}
	})
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// URL creates an empty database of dialect d (not migrated) and returns its URL.
func URL(t testing.TB, d migrations.Dialect) string {
	t.Helper()
	if d == migrations.SQLite {
		return "sqlite:" + filepath.Join(t.TempDir(), "redress.db")
	}
	admin := os.Getenv("REDRESS_TEST_POSTGRES")
	if admin == "" {
		admin = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	adb, err := sql.Open("pgx", admin)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = adb.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("REDRESS_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("PostgreSQL required (REDRESS_REQUIRE_POSTGRES=1) but unreachable: %v", err)
		}
		t.Skipf("PostgreSQL unreachable, skipping: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "redress_test_" + hex.EncodeToString(b[:])
	if _, err := adb.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		_, _ = adb.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		if err := adb.Close(); err != nil {
			t.Errorf("close the admin connection: %v", err)
		}
	})
	pu, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("REDRESS_TEST_POSTGRES: %v", err)
	}
	pu.Path = "/" + name
	return pu.String()
}

// Each runs f once per dialect as a subtest.
func Each(t *testing.T, f func(t *testing.T, db *store.DB)) {
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) { f(t, Open(t, d)) })
	}
}

// QueryLines reads a query's rows as text, one line a row, columns joined by "|": rows
// compared whole, whatever their columns' types.
func QueryLines(t *testing.T, db *store.DB, q string) []string {
	t.Helper()
	rows, err := db.SQL().QueryContext(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close() //nolint:errcheck // read-only rows: rows.Err() below reports a failed read
	cols, err := rows.Columns()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		for i, v := range vals {
			if i > 0 {
				b.WriteString("|")
			}
			if s, ok := v.([]byte); ok {
				v = string(s)
			}
			fmt.Fprint(&b, v)
		}
		out = append(out, b.String())
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// Plan is PostgreSQL's plan of q (EXPLAIN q, one line a node) on conn: a connection of the
// test's own, which may carry planner settings (SET …) or prepared statements for q to use.
func Plan(t testing.TB, conn *sql.Conn, q string) string {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), "EXPLAIN "+q)
	if err != nil {
		t.Fatalf("EXPLAIN %s: %v", q, err)
	}
	defer rows.Close() //nolint:errcheck // read-only rows: rows.Err() below reports a failed read
	var plan strings.Builder
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan.WriteString(line + "\n")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan.String()
}
