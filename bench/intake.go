package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"log/slog"
	"regexp"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"redress/intake"
	"redress/migrations"
	"redress/models"
	"redress/store"
)

// DemoDepartments are the demo organisation's units that handle services.
var DemoDepartments = []string{"sz-ft-tax", "sz-ft-amr", "sz-ft-hrss", "sz-ft-hukou", "sz-ft-realty",
	"sz-ns-tax", "sz-ns-amr", "sz-ns-hrss", "sz-ns-hukou", "sz-ns-realty"}

// SeedCases stores n completed service cases named prefix-0…n-1 straight into the database
// (registering them is not what is measured), spread over units (DemoDepartments if nil).
func SeedCases(ctx context.Context, databaseURL, prefix string, n int, units []string) ([]string, error) {
	db, err := store.Open(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	defer func() { _ = db.Close() }() // reads, or writes already committed: a close error loses nothing
	if units == nil {
		units = DemoDepartments
	}
	var rows []models.Unit
	if err := db.WithContext(ctx).Where("code IN ?", units).Find(&rows).Error; err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("seed cases: units %v: %v (found %d)", units, err, len(rows))
	}
	completed := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Microsecond)
	// Registration freezes each case's rating window into it; so does the seed, so that
	// ratings take the path they take in production. The window goes in with the row: set by
	// an UPDATE afterwards, it left every case a dead version and a second entry in each index
	// (the window has an index of its own), which no deployment's tables carry and which
	// every rating's case look-up then stepped over (autovacuum is off on this machine).
	in := &intake.Service{DB: db}
	closes := make([]time.Time, len(rows))
	for i, u := range rows {
		if closes[i], err = in.WindowCloses(ctx, u.Path, completed); err != nil {
			return nil, fmt.Errorf("seed cases: rating window of %s: %w", u.Code, err)
		}
	}
	nos := make([]string, n)
	batch := make([]seedCase, 0, 500)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := db.WithContext(ctx).Create(&batch).Error
		batch = batch[:0]
		return err
	}
	for i := range n {
		no := fmt.Sprintf("%s-%d", prefix, i)
		nos[i] = no
		u := i % len(rows)
		batch = append(batch, seedCase{ServiceCase: models.ServiceCase{ID: uuid.NewString(), CaseNo: no, ItemCode: "T01", ItemName: "税务登记",
			UnitID: rows[u].ID, Channel: "window_device", CompletedAt: completed, ContentHash: "bench", CreatedAt: completed},
			Ratable: true, RatingClosesAt: closes[u]})
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return nil, fmt.Errorf("seed cases: %w", err)
			}
		}
	}
	if err := flush(); err != nil {
		return nil, fmt.Errorf("seed cases: %w", err)
	}
	if db.Dialect == migrations.Postgres {
		// The seed's writes are the harness's, not the system's: checkpointed now, they are
		// not written out again in the middle of the measurement that follows. CHECKPOINT
		// needs a superuser or pg_checkpoint; without either the measurement goes on as before.
		// Past GORM, whose logger would call the checkpoint's second a slow statement.
		if _, err := db.SQL().ExecContext(ctx, "CHECKPOINT"); err != nil {
			slog.WarnContext(ctx, "seed cases: no checkpoint after the seed", "err", err)
		}
	}
	return nos, nil
}

// seedCase is a service_cases row as registration leaves it: with its rating window.
type seedCase struct {
	models.ServiceCase `gorm:"embedded"`
	Ratable            bool
	RatingClosesAt     time.Time
}

func (seedCase) TableName() string { return "service_cases" }

// ratedAt is the rating time of every rating the harness sends: fixed, so that a resent rating
// is the same request (intake answers a changed one under the same id with a conflict).
var ratedAt = time.Now().UTC().Add(-time.Hour).Truncate(time.Second)

// Rating returns the body of one rating of caseNo; bad ones are 非常不满意. Each evaluator
// rates a case once (intake refuses a second first rating), so the harness gives every rating
// its own case and its evaluator a phone number derived from the rating's id.
func Rating(evalID, caseNo string, bad bool) []byte {
	// Most ratings carry no comment; a bad one says what went wrong, in its own words.
	level, comment := "satisfied", ""
	if bad {
		level, comment = "very_dissatisfied", "办理很慢，等了两个小时（"+evalID+"）"
	}
	rated := ratedAt.Format(time.RFC3339)
	return fmt.Appendf(nil, `{"evaluation_id":%q,"case_nos":[%q],"channel":"qr_code","levels":{"overall":%q,"attitude":%q},`+
		`"tags":["bench"],"comment":%q,"rated_at":%q,"evaluator":{"name":"张三","phone":"139%08d"}}`,
		evalID, caseNo, level, level, comment, rated, crc32.ChecksumIEEE([]byte(evalID))%100000000)
}

// LoadResult is one intake run.
type LoadResult struct {
	Sent, OK, Failed int64
	Elapsed          time.Duration
	Latencies        []time.Duration // sorted, of the 2xx answers
	Accepted         []string        // evaluation ids answered 2xx
	Bad              []string        // of those, the bad ones
	Statuses         map[int]int64
	// Unknown are the ratings (by number) whose answer was lost or a 5xx: they may or may
	// not be stored, and must be resent (Resend) before the promises are checked.
	Unknown []int64
}

// Rate is accepted ratings per second.
func (r LoadResult) Rate() float64 { return float64(r.OK) / r.Elapsed.Seconds() }

// IntakeLoad posts ratings with conc concurrent clients for d (closed loop: each client sends
// its next rating when the previous one is answered). One rating in badEvery is bad (0: none).
// Rating n rates Cases[n] (the load stops when they are used up); evaluation ids are prefix-n.
type IntakeLoad struct {
	Base, Token, Prefix string
	Cases               []string
	BadEvery            int
	Conc                int
	Duration            time.Duration
	// Pace, if set, makes the load open loop: one rating every Pace regardless of answers.
	Pace time.Duration
	// Max stops after this many ratings (0: no limit).
	Max int64
}

// Run runs the load until Duration passes or ctx ends.
func (l IntakeLoad) Run(ctx context.Context) LoadResult {
	c := Client()
	ctx, cancel := context.WithTimeout(ctx, l.Duration)
	defer cancel()
	var next atomic.Int64
	var mu sync.Mutex
	res := LoadResult{Statuses: map[int]int64{}}
	one := func(n int64) {
		id, body, bad := l.body(n)
		t0 := time.Now()
		st, _, err := Do(context.WithoutCancel(ctx), c, "POST", l.Base+"/api/v1/evaluations", l.Token, body)
		d := time.Since(t0)
		mu.Lock()
		defer mu.Unlock()
		res.Sent++
		res.Statuses[st]++
		if err == nil && st >= 200 && st < 300 {
			res.OK++
			res.Latencies = append(res.Latencies, d)
			res.Accepted = append(res.Accepted, id)
			if bad {
				res.Bad = append(res.Bad, id)
			}
		} else {
			res.Failed++
			if err != nil || st >= 500 {
				res.Unknown = append(res.Unknown, n)
			}
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	if l.Pace > 0 {
		// At most 64 ratings in flight: past that the generator waits (and falls behind its
		// pace) instead of opening connections without bound.
		inflight := make(chan struct{}, 64)
		t := time.NewTicker(l.Pace)
	loop:
		for {
			select {
			case <-ctx.Done():
				break loop
			case <-t.C:
				n := next.Add(1) - 1
				if (l.Max > 0 && n >= l.Max) || n >= int64(len(l.Cases)) {
					break loop
				}
				select {
				case inflight <- struct{}{}:
				case <-ctx.Done():
					break loop
				}
				wg.Add(1)
				go func() { defer wg.Done(); defer func() { <-inflight }(); one(n) }()
			}
		}
		t.Stop()
	} else {
		for range l.Conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					n := next.Add(1) - 1
					if (l.Max > 0 && n >= l.Max) || n >= int64(len(l.Cases)) {
						return
					}
					one(n)
				}
			}()
		}
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	Sorted(res.Latencies)
	return res
}

// body returns rating n's id and body.
func (l IntakeLoad) body(n int64) (string, []byte, bool) {
	id := fmt.Sprintf("%s-%d", l.Prefix, n)
	bad := l.BadEvery > 0 && n%int64(l.BadEvery) == int64(l.BadEvery-1)
	return id, Rating(id, l.Cases[n], bad), bad
}

// Resend sends the given ratings again, each until it is answered 2xx (or limit passes), and
// returns them as accepted: the idempotency promise says a resent rating is stored once.
func (l IntakeLoad) Resend(ctx context.Context, ns []int64, limit time.Duration) (LoadResult, error) {
	c := Client()
	res := LoadResult{Statuses: map[int]int64{}}
	deadline := time.Now().Add(limit)
	for _, n := range ns {
		id, body, bad := l.body(n)
		for {
			st, raw, err := Do(ctx, c, "POST", l.Base+"/api/v1/evaluations", l.Token, body)
			if err == nil && st >= 200 && st < 300 {
				res.OK++
				res.Accepted = append(res.Accepted, id)
				if bad {
					res.Bad = append(res.Bad, id)
				}
				break
			}
			if (err == nil && st < 500) || time.Now().After(deadline) {
				return res, fmt.Errorf("resend %s: %d %s %v", id, st, raw, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return res, nil
}

// CopyCeiling measures how fast PostgreSQL takes, with the fastest method there is, the very
// rows a measured run stored: every row intake wrote for the given evaluation ids (the
// evaluations, their case links with the evaluators' slots, their fraud flags, the bad ones'
// work orders and opening timeline events) and the audit entries of the run's requests
// (path, between since and until). They are read back with COPY … TO (binary, before the
// clock starts) and written with COPY … FROM in one transaction into empty copies of their
// tables: the same columns, defaults, constraints, indexes and foreign keys (to the copies,
// and to the real service cases). It answers ratings per second. The copies are dropped
// afterwards.
func CopyCeiling(ctx context.Context, databaseURL string, evalIDs []string, auditPath string, since, until time.Time) (float64, error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return 0, err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }() // the copy or query has finished: a close error loses nothing
	// Parents first, as COPY checks foreign keys row by row.
	tables := []struct{ name, rows string }{
		{"evaluations", "SELECT t.* FROM evaluations t JOIN ceiling_ids i ON i.evaluation_id = t.evaluation_id"},
		{"evaluation_cases", "SELECT t.* FROM evaluation_cases t JOIN evaluations e ON e.id = t.evaluation_id JOIN ceiling_ids i ON i.evaluation_id = e.evaluation_id"},
		{"fraud_flags", "SELECT t.* FROM fraud_flags t JOIN evaluations e ON e.id = t.evaluation_id JOIN ceiling_ids i ON i.evaluation_id = e.evaluation_id"},
		{"work_orders", "SELECT t.* FROM work_orders t JOIN evaluations e ON e.id = t.evaluation_id JOIN ceiling_ids i ON i.evaluation_id = e.evaluation_id"},
		{"timeline_events", "SELECT t.* FROM timeline_events t JOIN work_orders w ON w.id = t.work_order_id JOIN evaluations e ON e.id = w.evaluation_id JOIN ceiling_ids i ON i.evaluation_id = e.evaluation_id WHERE t.seq = 0"},
		{"audit_log", "SELECT t.* FROM audit_log t JOIN ceiling_audit a ON a.id = t.id"},
	}
	copied := map[string]bool{}
	for _, t := range tables {
		copied[t.name] = true
	}
	defer func() {
		for _, t := range tables {
			_, _ = conn.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS ceiling_"+t.name+" CASCADE")
		}
	}()
	setup := []string{
		"CREATE TEMP TABLE ceiling_ids (evaluation_id TEXT PRIMARY KEY)",
		"CREATE TEMP TABLE ceiling_audit (id BIGINT PRIMARY KEY)",
	}
	for _, t := range tables {
		setup = append(setup, "DROP TABLE IF EXISTS ceiling_"+t.name+" CASCADE",
			"CREATE TABLE ceiling_"+t.name+" (LIKE "+t.name+" INCLUDING ALL)")
	}
	for _, q := range setup {
		if _, err := conn.Exec(ctx, q); err != nil {
			return 0, fmt.Errorf("ceiling: %s: %w", q, err)
		}
	}
	for _, t := range tables {
		rs, err := conn.Query(ctx, "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = $1::regclass AND contype = 'f'", t.name)
		if err != nil {
			return 0, err
		}
		defs, err := pgx.CollectRows(rs, pgx.RowTo[string])
		if err != nil {
			return 0, err
		}
		for _, d := range defs {
			d = references.ReplaceAllStringFunc(d, func(m string) string {
				if to := references.FindStringSubmatch(m)[1]; copied[to] {
					return "REFERENCES ceiling_" + to + "("
				}
				return m
			})
			if _, err := conn.Exec(ctx, "ALTER TABLE ceiling_"+t.name+" ADD "+d); err != nil {
				return 0, fmt.Errorf("ceiling: foreign key of %s: %w", t.name, err)
			}
		}
	}
	ids := make([][]any, len(evalIDs))
	for i, id := range evalIDs {
		ids[i] = []any{id}
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"ceiling_ids"}, []string{"evaluation_id"}, pgx.CopyFromRows(ids)); err != nil {
		return 0, fmt.Errorf("ceiling: ids: %w", err)
	}
	if _, err := conn.Exec(ctx, "INSERT INTO ceiling_audit SELECT id FROM audit_log WHERE path = $1 AND at BETWEEN $2 AND $3", auditPath, since, until); err != nil {
		return 0, fmt.Errorf("ceiling: audit entries: %w", err)
	}
	data := make([]bytes.Buffer, len(tables))
	for i, t := range tables {
		if _, err := conn.PgConn().CopyTo(ctx, &data[i], "COPY ("+t.rows+") TO STDOUT (FORMAT binary)"); err != nil {
			return 0, fmt.Errorf("ceiling: read %s: %w", t.name, err)
		}
	}
	start := time.Now()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it is a no-op
	var ratings int64
	for i, t := range tables {
		tag, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(data[i].Bytes()), "COPY ceiling_"+t.name+" FROM STDIN (FORMAT binary)")
		if err != nil {
			return 0, fmt.Errorf("ceiling: copy %s: %w", t.name, err)
		}
		if i == 0 {
			ratings = tag.RowsAffected()
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	elapsed := time.Since(start)
	if ratings != int64(len(evalIDs)) {
		return 0, fmt.Errorf("ceiling: %d of the run's %d ratings found", ratings, len(evalIDs))
	}
	return float64(ratings) / elapsed.Seconds(), nil
}

var references = regexp.MustCompile(`REFERENCES (\w+)\(`)

// InboxLatency posts bad ratings at rate per second for d and measures, for each, the time
// from sending the POST to its order standing dispatched to its unit in the read-model the
// inbox reads (polled every 5 ms). It returns the sorted latencies, how many never showed
// within the grace period after the load, and the sorted times the POSTs took to be answered
// (the part of the latency that is intake's; the rest is the workflow's dispatch).
func InboxLatency(ctx context.Context, base, token, databaseURL, prefix string, cases []string, rate int, d time.Duration) ([]time.Duration, int, []time.Duration, error) {
	db, err := store.Open(ctx, databaseURL)
	if err != nil {
		return nil, 0, nil, err
	}
	defer func() { _ = db.Close() }() // reads, or writes already committed: a close error loses nothing
	c := Client()
	var mu sync.Mutex
	pending := map[string]time.Time{} // work order id → POST sent
	var lat, answered []time.Duration
	var failed atomic.Int64
	loadCtx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var wg sync.WaitGroup
	go func() {
		t := time.NewTicker(time.Second / time.Duration(rate))
		defer t.Stop()
		for n := 0; ; n++ {
			select {
			case <-loadCtx.Done():
				return
			case <-t.C:
			}
			wg.Add(1)
			go func(n int) {
				defer wg.Done()
				t0 := time.Now()
				st, body, err := Do(ctx, c, "POST", base+"/api/v1/evaluations", token, Rating(fmt.Sprintf("%s-%d", prefix, n), cases[n%len(cases)], true))
				var r struct {
					WorkOrderID *string `json:"work_order_id"`
				}
				if err != nil || st >= 300 || json.Unmarshal(body, &r) != nil || r.WorkOrderID == nil {
					failed.Add(1)
					return
				}
				mu.Lock()
				pending[*r.WorkOrderID] = t0
				answered = append(answered, time.Since(t0))
				mu.Unlock()
			}(n)
		}
	}()
	poll := func() error {
		mu.Lock()
		ids := make([]string, 0, len(pending))
		for id := range pending {
			ids = append(ids, id)
		}
		mu.Unlock()
		if len(ids) == 0 {
			return nil
		}
		var seen []string
		// The inbox's own condition: dispatched to a unit.
		if err := db.WithContext(ctx).Table("work_orders").Where("id IN ? AND state = ? AND unit_path <> ''", ids, models.StateDispatched).
			Pluck("id", &seen).Error; err != nil {
			return err
		}
		now := time.Now()
		mu.Lock()
		for _, id := range seen {
			if t0, ok := pending[id]; ok {
				lat = append(lat, now.Sub(t0))
				delete(pending, id)
			}
		}
		mu.Unlock()
		return nil
	}
	for loadCtx.Err() == nil {
		if err := poll(); err != nil {
			return nil, 0, nil, err
		}
		time.Sleep(5 * time.Millisecond)
	}
	wg.Wait()
	grace := time.Now().Add(30 * time.Second)
	for time.Now().Before(grace) {
		if err := poll(); err != nil {
			return nil, 0, nil, err
		}
		mu.Lock()
		left := len(pending)
		mu.Unlock()
		if left == 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	return Sorted(lat), len(pending) + int(failed.Load()), Sorted(answered), nil
}

// BulkCases registers service cases through POST /service-cases/bulk, size per request, with
// conc concurrent clients for d, and returns cases registered per second and the request
// latencies. Every case must come back created (201 inside the answer).
func BulkCases(ctx context.Context, base, token, prefix string, size, conc int, d time.Duration) (float64, []time.Duration, error) {
	completed := time.Now().UTC().Add(-3 * time.Hour).Format(time.RFC3339)
	var created atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	start := time.Now()
	err := postBulk(ctx, base+"/api/v1/service-cases/bulk", token, size, conc, d, func(k int) ([]byte, bool) {
		cases := make([]map[string]any, size)
		for i := range cases {
			cases[i] = map[string]any{"case_no": fmt.Sprintf("%s-%d-%d", prefix, k, i), "service_item": map[string]string{"code": "T01", "name": "税务登记"},
				"unit": DemoDepartments[i%len(DemoDepartments)], "channel": "window_device", "completed_at": completed,
				"applicant": map[string]string{"name": "张三", "phone": "13800001234"}}
		}
		b, _ := json.Marshal(map[string]any{"cases": cases})
		return b, true
	}, func(k int, took time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		lat = append(lat, took)
		created.Add(int64(size))
	})
	return float64(created.Load()) / time.Since(start).Seconds(), Sorted(lat), err
}

// postBulk posts bulk bodies with conc clients for d (closed loop): body(k) is the k-th request
// (false: no more), whose answer must be 200 with all size items created; done(k, latency) is
// called for each such answer. The first other answer stops its client and is returned.
func postBulk(ctx context.Context, url, token string, size, conc int, d time.Duration, body func(k int) ([]byte, bool), done func(k int, took time.Duration)) error {
	c := Client()
	ctx2, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx2.Err() == nil {
				k := int(next.Add(1) - 1)
				b, ok := body(k)
				if !ok {
					return
				}
				t0 := time.Now()
				st, raw, err := Do(context.WithoutCancel(ctx2), c, "POST", url, token, b)
				took := time.Since(t0)
				var ans struct {
					Summary struct{ Created int } `json:"summary"`
				}
				if err != nil || st != 200 || json.Unmarshal(raw, &ans) != nil || ans.Summary.Created != size {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("POST %s: %d %s %v", url, st, trunc(raw), err)
					}
					mu.Unlock()
					return
				}
				done(k, took)
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// BulkRatings posts ratings through POST /evaluations/bulk, size a request, with conc
// concurrent clients for d; rating n rates cases[n] and is bad when n%badEvery is badEvery-1,
// as IntakeLoad's. Every rating must come back 201. The bodies are built before the clock
// starts, so that the harness spends its share of the two cores on HTTP only.
func BulkRatings(ctx context.Context, base, token, prefix string, cases []string, badEvery, size, conc int, d time.Duration) (LoadResult, error) {
	l := IntakeLoad{Prefix: prefix, Cases: cases, BadEvery: badEvery}
	var bodies [][]byte
	var ids [][]string
	var bads [][]bool
	for lo := 0; lo+size <= len(cases); lo += size {
		var b []byte
		var bi []string
		var bb []bool
		b = append(b, `{"evaluations":[`...)
		for n := lo; n < lo+size; n++ {
			id, body, bad := l.body(int64(n))
			if n > lo {
				b = append(b, ',')
			}
			b = append(b, body...)
			bi, bb = append(bi, id), append(bb, bad)
		}
		b = append(b, "]}"...)
		bodies, ids, bads = append(bodies, b), append(ids, bi), append(bads, bb)
	}
	var mu sync.Mutex
	res := LoadResult{Statuses: map[int]int64{}}
	start := time.Now()
	err := postBulk(ctx, base+"/api/v1/evaluations/bulk", token, size, conc, d, func(k int) ([]byte, bool) {
		if k >= len(bodies) {
			return nil, false
		}
		return bodies[k], true
	}, func(k int, took time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		res.OK += int64(size)
		res.Latencies = append(res.Latencies, took)
		res.Accepted = append(res.Accepted, ids[k]...)
		for i, bad := range bads[k] {
			if bad {
				res.Bad = append(res.Bad, ids[k][i])
			}
		}
	})
	res.Sent, res.Elapsed = res.OK, time.Since(start)
	Sorted(res.Latencies)
	return res, err
}
