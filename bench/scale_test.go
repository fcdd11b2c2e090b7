package bench

import (
	"strings"
	"testing"
	"time"

	"redress/retention"
	"redress/store"
	"redress/store/storetest"
)

// TestGeneratedRatingsArePeoples: the scale point's generated ratings carry the look-up
// hashes of a population, as a deployment's do, so that PostgreSQL's statistics of them are a
// deployment's. With one phone for every rating the column had two values, and the fraud
// check's look-up by phone (in its form before 4c6d944) walked the received_at index through
// its whole window (0.4–1.1 s a group at 10 M ratings) instead of the phone index (0.5 ms).
func TestGeneratedRatingsArePeoples(t *testing.T) {
	requirePostgres(t)
	ctx := testContext(t, 5*time.Minute)
	pg, err := CreateDatabase(ctx, "redress_gen")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pg.Drop() })
	const n = 30000
	if err := Generate(ctx, pg.URL, ScaleOptions{Ratings: n, Orders: n / 10, Units: 20}, &Report{Out: logWriter{t}}); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(ctx, pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }()
	var live, phones, ids int64
	if err := db.WithContext(ctx).Raw(`SELECT count(*), count(DISTINCT evaluator_phone_hash), count(DISTINCT evaluator_id_hash)
		FROM evaluations WHERE evaluator_phone_hash <> ?`, retention.ErasedHash).Row().Scan(&live, &phones, &ids); err != nil {
		t.Fatal(err)
	}
	if live == 0 || phones < live/5 || ids < live/5 {
		t.Fatalf("%d ratings with personal data carry %d phone and %d identity hashes, want about one person in three ratings", live, phones, ids)
	}
	// A look-up by phone of the newest rating in the form whose plan follows the statistics
	// (intake's before 4c6d944), prepared so that PostgreSQL plans it without the value, goes
	// through the phone index: the statistics are a population's.
	var hash string
	if err := db.WithContext(ctx).Raw(`SELECT evaluator_phone_hash FROM evaluations ORDER BY received_at DESC LIMIT 1`).Row().Scan(&hash); err != nil {
		t.Fatal(err)
	}
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, `PREPARE recent(text, timestamptz, int) AS
		SELECT evaluation_id, received_at FROM evaluations WHERE evaluator_phone_hash = $1 AND evaluator_phone_hash <> '' AND received_at > $2
		ORDER BY received_at DESC LIMIT $3`); err != nil {
		t.Fatal(err)
	}
	if strings.Trim(hash, "0123456789abcdef") != "" {
		t.Fatalf("phone hash %q is not hex", hash)
	}
	// EXPLAIN EXECUTE takes no parameters of its own: the hash, hex, is written in.
	plan := storetest.Plan(t, conn, `EXECUTE recent('`+hash+`', now() - interval '30 days', 5)`)
	if !strings.Contains(plan, "evaluations_phone_recent") {
		t.Fatalf("a look-up by phone over generated ratings is planned without the phone index: the statistics are not a population's:\n%s", plan)
	}
}
