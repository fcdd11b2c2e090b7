package migrations_test

import (
	"context"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"testing"

	"redress/migrations"
	"redress/store"
	"redress/store/storetest"
)

// gooseTable is goose's own bookkeeping table, which is not part of redress's schema.
const gooseTable = "goose_db_version"

// schema maps each table of a database to its sorted column names.
type schema map[string][]string

func readSchema(t *testing.T, db *store.DB) schema {
	t.Helper()
	ctx := context.Background()
	var q string
	switch db.Dialect {
	case migrations.Postgres:
		q = `SELECT c.table_name, c.column_name
		       FROM information_schema.columns c
		       JOIN information_schema.tables t
		         ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		      WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'`
	case migrations.SQLite:
		q = `SELECT m.name, p.name
		       FROM sqlite_master m, pragma_table_info(m.name) p
		      WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'`
	default:
		t.Fatalf("unknown dialect %q", db.Dialect)
	}
	rows, err := db.SQL().QueryContext(ctx, q)
	if err != nil {
		t.Fatalf("%s: read schema: %v", db.Dialect, err)
	}
	defer func() {
		if err := rows.Close(); err != nil {
			t.Errorf("close the schema rows: %v", err)
		}
	}()
	s := schema{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatalf("%s: scan schema: %v", db.Dialect, err)
		}
		if table == gooseTable {
			continue
		}
		s[table] = append(s[table], col)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: read schema: %v", db.Dialect, err)
	}
	for _, cols := range s {
		sort.Strings(cols)
	}
	return s
}

func keys(s schema) []string {
	out := make([]string, 0, len(s))
	for k := range s {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// diff lists what a has and b lacks.
func diff(a, b []string) []string {
	in := make(map[string]bool, len(b))
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	return out
}

// TestSchemasMatch applies both dialects' migrations and requires the same tables with the
// same columns: a column added to one dialect only fails here.
func TestSchemasMatch(t *testing.T) {
	pg := readSchema(t, storetest.Open(t, migrations.Postgres))
	lite := readSchema(t, storetest.Open(t, migrations.SQLite))

	if len(pg) == 0 || len(lite) == 0 {
		t.Fatalf("empty schema: postgres has %d tables, sqlite %d", len(pg), len(lite))
	}
	if d := diff(keys(pg), keys(lite)); len(d) > 0 {
		t.Errorf("tables only in postgres: %v", d)
	}
	if d := diff(keys(lite), keys(pg)); len(d) > 0 {
		t.Errorf("tables only in sqlite: %v", d)
	}
	for _, table := range keys(pg) {
		lc, ok := lite[table]
		if !ok {
			continue
		}
		if d := diff(pg[table], lc); len(d) > 0 {
			t.Errorf("table %s: columns only in postgres: %v", table, d)
		}
		if d := diff(lc, pg[table]); len(d) > 0 {
			t.Errorf("table %s: columns only in sqlite: %v", table, d)
		}
	}
}

// versions reads the version numbers of a dialect's embedded migration files.
func versions(t *testing.T, d migrations.Dialect) []int64 {
	t.Helper()
	ents, err := fs.ReadDir(migrations.Files, string(d))
	if err != nil {
		t.Fatalf("read embedded %s migrations: %v", d, err)
	}
	var out []int64
	seen := map[int64]string{}
	for _, e := range ents {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".sql") {
			continue
		}
		num, _, ok := strings.Cut(name, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 {
			t.Errorf("%s/%s: name must start with a positive version number and _", d, name)
			continue
		}
		if prev, dup := seen[v]; dup {
			t.Errorf("%s: version %d used by both %s and %s", d, v, prev, name)
		}
		seen[v] = name
		out = append(out, v)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func TestSameVersions(t *testing.T) {
	pg, lite := versions(t, migrations.Postgres), versions(t, migrations.SQLite)
	if len(pg) == 0 {
		t.Fatal("no embedded migrations")
	}
	if fmt.Sprint(pg) != fmt.Sprint(lite) {
		t.Errorf("migration versions differ: postgres %v, sqlite %v", pg, lite)
	}
}

// TestUpIdempotent: a second Up changes nothing and leaves nothing pending.
func TestUpIdempotent(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		want := versions(t, db.Dialect)
		before := readSchema(t, db)
		var applied int
		if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM "+gooseTable).Scan(&applied); err != nil {
			t.Fatal(err)
		}
		v, err := migrations.Up(ctx, db.SQL(), db.Dialect)
		if err != nil {
			t.Fatalf("second Up: %v", err)
		}
		if last := want[len(want)-1]; v != last {
			t.Errorf("version after second Up = %d, want %d", v, last)
		}
		var again int
		if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM "+gooseTable).Scan(&again); err != nil {
			t.Fatal(err)
		}
		if again != applied {
			t.Errorf("second Up recorded %d more migrations", again-applied)
		}
		if fmt.Sprint(readSchema(t, db)) != fmt.Sprint(before) {
			t.Error("second Up changed the schema")
		}
		pending, err := migrations.HasPending(ctx, db.SQL(), db.Dialect)
		if err != nil {
			t.Fatal(err)
		}
		if pending {
			t.Error("HasPending = true after Up")
		}
		if err := db.Ready(ctx); err != nil {
			t.Errorf("Ready after Up: %v", err)
		}
	})
}

// TestPendingOnEmpty: an empty database has pending migrations (and is not ready).
func TestPendingOnEmpty(t *testing.T) {
	ctx := context.Background()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			db, err := store.Open(ctx, storetest.URL(t, d))
			if err != nil {
				t.Fatal(err)
			}
			defer func() {
				if err := db.Close(); err != nil {
					t.Errorf("close the database: %v", err)
				}
			}()
			pending, err := migrations.HasPending(ctx, db.SQL(), d)
			if err != nil {
				t.Fatal(err)
			}
			if !pending {
				t.Error("HasPending = false on an empty database")
			}
			if err := db.Ready(ctx); err == nil {
				t.Error("Ready = nil on an empty database")
			}
		})
	}
}
