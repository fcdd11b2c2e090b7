package migrations_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"redress/migrations"
	"redress/store"
	"redress/store/storetest"
)

// rollupIndexes are the five indexes of 00008 under the names 00025 gives them (old → new).
var rollupIndexes = [][2]string{
	{"evaluations_rated_at", "evaluations_rollup_by_rated_at"},
	{"evaluations_received_at", "evaluations_rollup_and_feed_by_received_at"},
	{"evaluations_excluded_at", "evaluations_rollup_and_feed_by_excluded_at"},
	{"work_orders_updated_at", "work_orders_rollup_by_updated_at"},
	{"work_orders_opened_at", "work_orders_rollup_by_opened_at"},
}

// indexDefs maps the index names of evaluations and work_orders to their definitions with the
// name taken out (so that an index renamed with the same columns compares equal). On
// PostgreSQL an index left invalid by an interrupted concurrent build is marked as such.
func indexDefs(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	var q string
	switch db.Dialect {
	case migrations.Postgres:
		q = `SELECT c.relname, pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END
		       FROM pg_index i
		       JOIN pg_class c ON c.oid = i.indexrelid
		       JOIN pg_class tb ON tb.oid = i.indrelid
		      WHERE tb.relname IN ('evaluations', 'work_orders') AND tb.relnamespace = to_regnamespace(current_schema())`
	case migrations.SQLite:
		q = `SELECT name, sql FROM sqlite_master
		      WHERE type = 'index' AND tbl_name IN ('evaluations', 'work_orders') AND sql IS NOT NULL`
	}
	rows, err := db.SQL().QueryContext(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: read indexes: %v", db.Dialect, err)
	}
	defer func() {
		if err := rows.Close(); err != nil {
			t.Errorf("close the index rows: %v", err)
		}
	}()
	out := map[string]string{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			t.Fatal(err)
		}
		def = strings.Replace(def, " IF NOT EXISTS", "", 1)
		out[name] = strings.Join(strings.Fields(strings.Replace(def, " "+name+" ", " _ ", 1)), " ")
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestRollupIndexNames: 00025 gives 00008's indexes the names of the queries they serve, with
// the same definitions, and nothing is left under the old names; its Down gives the old names
// back, and Up again (on PostgreSQL, concurrent builds outside a transaction) is clean, even
// after a first run that was interrupted half-way.
func TestRollupIndexNames(t *testing.T) {
	ctx := context.Background()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		named := func(which int) []string {
			var out []string
			for _, p := range rollupIndexes {
				out = append(out, p[which])
			}
			return out
		}
		check := func(when string, want, gone []string, defs map[string]string) {
			t.Helper()
			for _, n := range want {
				if d, ok := defs[n]; !ok {
					t.Errorf("%s: index %s missing", when, n)
				} else if strings.HasSuffix(d, "INVALID") {
					t.Errorf("%s: index %s is invalid", when, n)
				}
			}
			for _, n := range gone {
				if _, ok := defs[n]; ok {
					t.Errorf("%s: index %s still there", when, n)
				}
			}
		}
		// 00028 drops an index of evaluations: this test is about 00025's, so it starts at 27.
		if err := migrations.DownTo(ctx, db.SQL(), db.Dialect, 27); err != nil {
			t.Fatalf("down to 27: %v", err)
		}
		up := indexDefs(t, db)
		check("after Up", named(1), named(0), up)

		if err := migrations.DownTo(ctx, db.SQL(), db.Dialect, 24); err != nil {
			t.Fatalf("down to 24: %v", err)
		}
		down := indexDefs(t, db)
		check("after Down", named(0), named(1), down)
		for _, p := range rollupIndexes {
			if up[p[1]] != down[p[0]] {
				t.Errorf("%s after Down is %q, but %s after Up was %q", p[0], down[p[0]], p[1], up[p[1]])
			}
		}
		if len(up) != len(down) {
			t.Errorf("Up leaves %d indexes on evaluations and work_orders, Down %d: %v / %v", len(up), len(down), sortedKeys(up), sortedKeys(down))
		}

		// Up again as if a first run had been interrupted: the second index already renamed,
		// and on PostgreSQL the first one's concurrent build cut short (its index left invalid).
		interrupted := []string{
			"CREATE INDEX " + rollupIndexes[1][1] + " ON evaluations (received_at)",
			"DROP INDEX " + rollupIndexes[1][0],
		}
		if db.Dialect == migrations.Postgres {
			interrupted = append(interrupted,
				"CREATE INDEX "+rollupIndexes[0][1]+" ON evaluations (rated_at)",
				"UPDATE pg_index SET indisvalid = false WHERE indexrelid = '"+rollupIndexes[0][1]+"'::regclass")
		}
		for _, q := range interrupted {
			if _, err := db.SQL().ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		if _, err := migrations.Up(ctx, db.SQL(), db.Dialect); err != nil {
			t.Fatalf("Up again: %v", err)
		}
		if err := migrations.DownTo(ctx, db.SQL(), db.Dialect, 27); err != nil {
			t.Fatalf("down to 27 again: %v", err)
		}
		again := indexDefs(t, db)
		for _, n := range sortedKeys(up) {
			if again[n] != up[n] {
				t.Errorf("Up after an interrupted run: %s is %q, want %q", n, again[n], up[n])
			}
		}
		if len(again) != len(up) {
			t.Errorf("Up after an interrupted run leaves %v, want %v", sortedKeys(again), sortedKeys(up))
		}
	})
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestIntakeIndexCuts: 00028 drops the two indexes no query needs (evaluations_phone_hash,
// evaluation_slots_evaluation) and its Down builds them again as 00001 and 00004 did; on
// PostgreSQL the statements they served still find an index: the look-up by phone hash
// evaluations_phone_recent, the key rotation's update of a rating's slots (on its case links
// since 00029) the links' primary key.
func TestIntakeIndexCuts(t *testing.T) {
	ctx := context.Background()
	cut := []string{"evaluations_phone_hash", "evaluation_slots_evaluation"}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		exists := func(name string) bool { t.Helper(); return indexExists(t, db, name) }
		for _, n := range cut {
			if exists(n) {
				t.Errorf("after Up: index %s still there", n)
			}
		}
		if db.Dialect == migrations.Postgres {
			plans := map[string]string{
				"SELECT id FROM evaluations WHERE evaluator_phone_hash = 'h'":                                              "evaluations_phone_recent",
				"SELECT id FROM evaluations WHERE evaluator_phone_hash = 'h' AND received_at >= now() - interval '1 hour'": "evaluations_phone_recent",
				`UPDATE evaluation_cases SET evaluator_key = 'k2' WHERE evaluation_id = 'e' AND evaluator_key = 'k'`:       "evaluation_cases_pkey",
			}
			conn, err := db.SQL().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }() // back to the pool, seqscan setting and all: the database is this test's
			if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
				t.Fatal(err)
			}
			for q, index := range plans {
				if plan := storetest.Plan(t, conn, q); !strings.Contains(plan, index) {
					t.Errorf("%s: plan without %s:\n%s", q, index, plan)
				}
			}
			if _, err := conn.ExecContext(ctx, "RESET enable_seqscan"); err != nil {
				t.Fatal(err)
			}
		}
		if err := migrations.DownTo(ctx, db.SQL(), db.Dialect, 27); err != nil {
			t.Fatalf("down to 27: %v", err)
		}
		for _, n := range cut {
			if !exists(n) {
				t.Errorf("after Down: index %s missing", n)
			}
		}
		if _, err := migrations.Up(ctx, db.SQL(), db.Dialect); err != nil {
			t.Fatalf("Up again: %v", err)
		}
		for _, n := range cut {
			if exists(n) {
				t.Errorf("after Up again: index %s still there", n)
			}
		}
	})
}

// TestTimelineFeedIndex: 00030 gives the upstream feed's page of order outcomes (timeline
// events since its mark, by (at, id); upstream/feed.go) an index, where every page scanned the
// whole timeline; its Down drops it. On PostgreSQL the page's statement, sequential scans
// priced out, is planned through it.
func TestTimelineFeedIndex(t *testing.T) {
	ctx := context.Background()
	const index = "timeline_events_feed_by_at"
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		exists := func() bool { t.Helper(); return indexExists(t, db, index) }
		if !exists() {
			t.Fatalf("after Up: no index %s", index)
		}
		if db.Dialect == migrations.Postgres {
			conn, err := db.SQL().Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = conn.Close() }() // back to the pool, seqscan setting and all: the database is this test's
			if _, err := conn.ExecContext(ctx, "SET enable_seqscan = off"); err != nil {
				t.Fatal(err)
			}
			plan := storetest.Plan(t, conn, `SELECT te.id FROM timeline_events te
				WHERE te.at >= now() - interval '1 minute' AND te.type IN ('dispatched', 'callback') AND NOT te.superseded
				AND (te.at >= now() AND (te.at > now() OR te.id > 'x')) ORDER BY te.at, te.id LIMIT 500`)
			if !strings.Contains(plan, index) {
				t.Errorf("the feed's page of outcomes is planned without %s:\n%s", index, plan)
			}
		}
		if err := migrations.DownTo(ctx, db.SQL(), db.Dialect, 29); err != nil {
			t.Fatalf("down to 29: %v", err)
		}
		if exists() {
			t.Errorf("after Down: index %s still there", index)
		}
		if _, err := migrations.Up(ctx, db.SQL(), db.Dialect); err != nil {
			t.Fatalf("Up again: %v", err)
		}
		if !exists() {
			t.Errorf("after Up again: no index %s", index)
		}
	})
}

// indexExists reports whether db has an index of that name (in its schema, on PostgreSQL).
func indexExists(t *testing.T, db *store.DB, name string) bool {
	t.Helper()
	q := "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?"
	if db.Dialect == migrations.Postgres {
		q = "SELECT count(*) FROM pg_indexes WHERE indexname = $1 AND schemaname = current_schema()"
	}
	var n int
	if err := db.SQL().QueryRowContext(context.Background(), q, name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}
