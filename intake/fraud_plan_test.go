package intake

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"redress/migrations"
	"redress/store/storetest"
)

// TestFraudLookupPlanIgnoresStatistics: the burst checks' look-ups go through each source
// column's own index whatever PostgreSQL's statistics say of the column. Where a column has few
// values — ratings sent by a few channel servers share an address; retention leaves half a
// year's ratings under one erased hash; the scale point's generated data had one phone — the
// generic plan of "column = value … ORDER BY received_at DESC LIMIT n" walked the received_at
// index backwards through the whole window, filtering: 0.4–1.1 s a group at 10 M ratings
// (BENCHMARKS.md, point 9, eighth sitting), against 0.1–0.7 ms through the column's index.
func TestFraudLookupPlanIgnoresStatistics(t *testing.T) {
	db := storetest.Open(t, migrations.Postgres)
	ctx := context.Background()
	// 20 000 ratings over the last days, every source column with two values.
	if err := db.WithContext(ctx).Exec(`INSERT INTO evaluations (id, evaluation_id, channel, overall, levels, bad, rated_at, received_at, request_hash,
			evaluator_phone_hash, evaluator_id_hash, device_hash, ip_hash, comment_hash)
		SELECT 'e' || g, 'E' || g, 'qr_code', 'satisfied', '{}', false, now() - g * interval '10 seconds', now() - g * interval '10 seconds', 'h',
			v, v, v, v, v
		FROM generate_series(1, 20000) AS g, LATERAL (SELECT CASE WHEN g % 2 = 0 THEN 'a' ELSE 'b' END AS v) AS x`).Error; err != nil {
		t.Fatal(err)
	}
	if err := db.WithContext(ctx).Exec(`ANALYZE evaluations`).Error; err != nil {
		t.Fatal(err)
	}
	var srcs []source
	for _, c := range fraudColumns {
		srcs = append(srcs, source{column: c, hash: "a", since: time.Now().Add(-24 * time.Hour), limit: 5})
	}
	q, args, err := recentQueryPG(srcs)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	// As intake runs it: a prepared statement, planned without its values.
	if _, err := conn.ExecContext(ctx, `SET plan_cache_mode = force_generic_plan`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(ctx, "PREPARE recent AS "+q); err != nil {
		t.Fatal(err)
	}
	// EXPLAIN EXECUTE takes no parameters of its own: the arguments are written in (fixed
	// test values).
	var lits []string
	for i := 0; i < len(args); i += 4 {
		lits = append(lits, `ARRAY['a']`, fmt.Sprintf("ARRAY[%d]", i/4), `ARRAY[now() - interval '1 day']`, `ARRAY[5]`)
	}
	text := storetest.Plan(t, conn, "EXECUTE recent("+strings.Join(lits, ", ")+")")
	for _, bad := range []string{"received_at on evaluations", "Seq Scan on evaluations", "by_received_at"} {
		if strings.Contains(text, bad) {
			t.Fatalf("a fraud look-up is planned past its column's index (%q):\n%s", bad, text)
		}
	}
	for _, idx := range []string{"evaluations_id_hash", "evaluations_phone", "evaluations_device", "evaluations_ip", "evaluations_comment"} {
		if !strings.Contains(text, idx) {
			t.Fatalf("no look-up through %s:\n%s", idx, text)
		}
	}
}
