package bench

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"redress/migrations"
	"redress/store"
	"redress/store/storetest"
)

// The pgbench floor runs against the real evaluations table: a stored row, with its
// timestamps and its sealed personal data (whose colons pgbench would read as variables:
// "k1:…" is the key's name, then the sealed text) and its unique keys, is inserted again and
// again into the copy, and the copy is gone afterwards.
func TestInsertFloor(t *testing.T) {
	requirePostgres(t)
	pgbench, err := PgbenchPath("")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	url := storetest.URL(t, migrations.Postgres)
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }() // the test's database is dropped at its end
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(ctx) }() // reads only after the insert
	if _, err := conn.Exec(ctx, `INSERT INTO evaluations (id, evaluation_id, channel, overall, levels, bad, comment, rated_at, received_at, evaluator_phone, request_hash)
		VALUES ('e1', 'qr-1', 'qr_code', 'satisfied', '{"overall":"satisfied"}', false, '办理很快：十分钟', '2026-12-03 09:15:30+08', now(), 'k1:c2VhbGVk', 'h1')`); err != nil {
		t.Fatal(err)
	}
	rate, err := InsertFloor(ctx, pgbench, url, "qr-1", 2, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if rate <= 0 {
		t.Errorf("floor %.1f rows/s; want a rate", rate)
	}
	var left int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relname IN ('bench_floor_evaluations', 'bench_floor_seq')`).Scan(&left); err != nil || left != 0 {
		t.Errorf("the floor's copy left behind: %d relations (%v)", left, err)
	}
	if _, err := InsertFloor(ctx, pgbench, url, "no-such-rating", 2, time.Second); err == nil {
		t.Error("a floor of a rating never stored measured something")
	}
}

func TestPgbenchTPS(t *testing.T) {
	for _, c := range []struct {
		out  string
		want float64
	}{
		{"number of transactions actually processed: 10\nlatency average = 1.2 ms\ntps = 9876.543210 (without initial connection time)\n", 9876.54321},
		{"tps = 512.5 (excluding connections establishing)\n", 512.5},
	} {
		got, err := pgbenchTPS([]byte(c.out))
		if err != nil || got != c.want {
			t.Errorf("pgbenchTPS(%q) = %v, %v; want %v", c.out, got, err, c.want)
		}
	}
	if _, err := pgbenchTPS([]byte("pgbench: error: Run was aborted")); err == nil {
		t.Error("an aborted run read as a rate")
	}
}

// TestReadMemory reads this process's own resident memory: both figures present, the peak
// not below the current.
func TestReadMemory(t *testing.T) {
	m, err := ReadMemory(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if m.Resident <= 0 || m.Peak < m.Resident {
		t.Fatalf("memory %+v", m)
	}
	if _, err := ReadMemory(-1); err == nil {
		t.Fatal("memory of no process")
	}
}
