package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"redress/calendar"
	"redress/calendar/calendardb"
	"redress/intake"
	"redress/stats"
	"redress/store"
	"redress/upstream"
	"redress/workflows"
)

// The red-team reproduction of issue 16 finding 1, measured (`redress-bench redteam`). The
// original drove 58 callback actions with 900 kB notes into one order: Temporal terminated the
// workflow at its history limit, the timeline grew to 54 MB, and every statistics rollup and
// upstream-feed pass afterwards logged 1.6–3.4 s statements. Notes are now refused past
// workflows.MaxTextLength characters and an action past workflows.MaxRepeats per stage, so the
// scenario drives the most an officer may: 58 callbacks per order with notes of the maximum
// length (the first MaxRepeats accepted, the rest refused 409), on several orders at once,
// then checks that every order still takes its next actions and times the statistics rollup,
// the upstream feed and the statistics read before and after.

// redTeamAttempts is the reproduction's number of callback actions per order.
const redTeamAttempts = 58

// passTimes are one statistics rollup pass and one upstream-feed pass, timed in the harness
// against the system's database, and the statistics read over HTTP.
type passTimes struct {
	rollup, feed   time.Duration
	days, enqueued int
	readP50        time.Duration
	readP99        time.Duration
}

// RunRedTeam runs the reproduction on `redress dev` over PostgreSQL (where it was found) with
// orders orders.
func RunRedTeam(ctx context.Context, o Options, orders int) error {
	sys, err := StartSystem(ctx, o, "postgres")
	if err != nil {
		return err
	}
	defer sys.Close()
	ids, _, err := openOrders(ctx, sys, "RT", orders, orders)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, sys.DBURL)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // the harness's reads and the passes' own commits: nothing to lose
	roller := &stats.Roller{DB: db, Calendars: calendardb.NewCache(db, time.Minute)}
	feeder := &upstream.Feeder{DB: db}
	// The first passes catch up with everything since the marks (the whole database); the
	// figures compare passes over the same touched day, before and after the actions.
	if _, err := roller.Pass(ctx); err != nil {
		return fmt.Errorf("red team: first rollup: %w", err)
	}
	if _, err := feeder.Pass(ctx); err != nil {
		return fmt.Errorf("red team: first feed: %w", err)
	}
	c := Client()
	act := func(id, login, key string, body map[string]any) (int, []byte, error) {
		return Do(ctx, c, "POST", sys.Base()+"/api/v1/work-orders/"+id+"/actions", sys.Tokens[login], body, "Idempotency-Key", key)
	}
	if err := eachConcurrently(ctx, len(ids), 8, func(i int) error {
		st, body, err := act(ids[i], "ft-officer", ids[i]+"-sign", map[string]any{"action": "sign"})
		if err != nil || st != 200 {
			return fmt.Errorf("red team: sign %s = %d %s %v", ids[i], st, trunc(body), err)
		}
		return nil
	}); err != nil {
		return err
	}
	before, err := timePasses(ctx, sys, roller, feeder)
	if err != nil {
		return err
	}

	note := strings.Repeat("记", workflows.MaxTextLength) // 6 000 bytes of UTF-8, the longest allowed
	var accepted, refused atomic.Int64
	lat := NewDriver()
	start := time.Now()
	if err := eachConcurrently(ctx, len(ids), len(ids), func(i int) error {
		for k := range redTeamAttempts {
			st, body, err := lat.Do(ctx, sys.Base()+"/api/v1/work-orders/"+ids[i]+"/actions", sys.Tokens["ft-officer"],
				map[string]any{"action": "callback", "reached": false, "method": "phone", "note": note}, fmt.Sprintf("%s-cb-%d", ids[i], k))
			switch {
			case err != nil:
				return fmt.Errorf("red team: callback %d of %s: %w", k, ids[i], err)
			case st == 200:
				accepted.Add(1)
			case st == 409 && strings.Contains(string(body), "too_many_actions"):
				refused.Add(1)
			default:
				return fmt.Errorf("red team: callback %d of %s = %d %s", k, ids[i], st, trunc(body))
			}
		}
		return nil
	}); err != nil {
		return err
	}
	took := time.Since(start)
	al := Sorted(lat.latencies())

	// The orders still work: each takes its next two actions.
	next := NewDriver()
	if err := eachConcurrently(ctx, len(ids), 8, func(i int) error {
		for _, s := range []Stage{FullPath[1], FullPath[2]} {
			st, body, err := next.Do(ctx, sys.Base()+"/api/v1/work-orders/"+ids[i]+"/actions", sys.Tokens[s.Login], s.Body, ids[i]+"-"+s.Body["action"].(string)+"-next")
			var res struct {
				State string `json:"state"`
			}
			if err != nil || st != 200 || json.Unmarshal(body, &res) != nil || res.State != s.Want {
				return fmt.Errorf("red team: after the callbacks %s %v = %d %s %v, want %s", ids[i], s.Body["action"], st, trunc(body), err, s.Want)
			}
		}
		return nil
	}); err != nil {
		return err
	}
	nl := Sorted(next.latencies())
	// The timeline an auditor reads: its size and time.
	var tlBytes int
	var tlLat []time.Duration
	for _, id := range ids {
		t0 := time.Now()
		st, body, err := Do(ctx, c, "GET", sys.Base()+"/api/v1/work-orders/"+id+"/timeline", sys.Tokens["sz-admin"], nil)
		if err != nil || st != 200 {
			return fmt.Errorf("red team: timeline %s = %d %s %v", id, st, trunc(body), err)
		}
		tlLat = append(tlLat, time.Since(t0))
		tlBytes = max(tlBytes, len(body))
	}
	Sorted(tlLat)
	// The workflow histories on the Temporal server: the original grew past the server's limit.
	tc, err := dialTemporal(ctx, sys.TemporalAddr(), sys.Dev.Keys)
	if err != nil {
		return err
	}
	defer tc.Close()
	var histBytes, histEvents int64
	for _, id := range ids {
		d, err := tc.DescribeWorkflowExecution(ctx, intake.WorkflowID(id), "")
		if err != nil {
			return fmt.Errorf("red team: describe %s: %w", id, err)
		}
		histBytes = max(histBytes, d.WorkflowExecutionInfo.GetHistorySizeBytes())
		histEvents = max(histEvents, d.WorkflowExecutionInfo.GetHistoryLength())
	}
	after, err := timePasses(ctx, sys, roller, feeder)
	if err != nil {
		return err
	}
	slow, err := countSlowStatements(sys.Proc.Log)
	if err != nil {
		return err
	}
	o.Report.Add("redteam: %d orders × %d callbacks with %d-character notes (all at once, %s): %d accepted, %d refused 409 too_many_actions; accepted action p50 %s p99 %s",
		len(ids), redTeamAttempts, workflows.MaxTextLength, took.Round(time.Millisecond), accepted.Load(), refused.Load(), ms(Percentile(al, 50)), ms(Percentile(al, 99)))
	o.Report.Add("redteam: afterwards every order takes callback+dispose (p50 %s p99 %s); timeline of an order %d kB, GET p50 %s p99 %s; largest workflow history %d events, %d kB",
		ms(Percentile(nl, 50)), ms(Percentile(nl, 99)), tlBytes/1024, ms(Percentile(tlLat, 50)), ms(Percentile(tlLat, 99)), histEvents, histBytes/1024)
	for _, p := range []struct {
		name string
		t    passTimes
	}{{"before the callbacks", before}, {"after the callbacks", after}} {
		o.Report.Add("redteam: %-20s statistics rollup pass %s (median of 5; %d day recomputed), upstream feed pass %s (median of 5; %d messages enqueued), GET /stats/units p50 %s p99 %s",
			p.name, ms(p.t.rollup), p.t.days, ms(p.t.feed), p.t.enqueued, ms(p.t.readP50), ms(p.t.readP99))
	}
	o.Report.Add("redteam: statements the system logged as slow (≥ 500 ms) during the whole scenario: %d", slow)
	return nil
}

// timePasses times five rollup passes and five feed passes (the median: the machine is
// shared) and 20 statistics reads.
func timePasses(ctx context.Context, sys *System, roller *stats.Roller, feeder *upstream.Feeder) (passTimes, error) {
	var p passTimes
	var rl, fl []time.Duration
	for range 5 {
		t0 := time.Now()
		days, err := roller.Pass(ctx)
		if err != nil {
			return p, fmt.Errorf("rollup pass: %w", err)
		}
		rl, p.days = append(rl, time.Since(t0)), max(p.days, len(days))
		t0 = time.Now()
		n, err := feeder.Pass(ctx)
		if err != nil {
			return p, fmt.Errorf("feed pass: %w", err)
		}
		fl, p.enqueued = append(fl, time.Since(t0)), p.enqueued+n
	}
	p.rollup, p.feed = Percentile(Sorted(rl), 50), Percentile(Sorted(fl), 50)
	now := time.Now().In(calendar.Zone())
	path := "/api/v1/stats/units?from=" + now.AddDate(0, 0, -30).Format(time.DateOnly) + "&to=" + now.Format(time.DateOnly)
	c := Client()
	var lat []time.Duration
	for range 20 {
		t0 := time.Now()
		st, body, err := Do(ctx, c, "GET", sys.Base()+path, sys.Tokens["sz-admin"], nil)
		if err != nil || st != 200 {
			return p, fmt.Errorf("GET %s = %d %s %v", path, st, trunc(body), err)
		}
		lat = append(lat, time.Since(t0))
	}
	Sorted(lat)
	p.readP50, p.readP99 = Percentile(lat, 50), Percentile(lat, 99)
	return p, nil
}

// countSlowStatements counts the slow-statement warnings (store.Open's logger: ≥ 500 ms) in a
// process's log.
func countSlowStatements(logPath string) (int, error) {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return 0, fmt.Errorf("read %s: %w", logPath, err)
	}
	return strings.Count(string(b), "SLOW SQL"), nil
}

// openOrders seeds n cases in 福田区税务局 and rates each bad, conc at a time, and waits until
// every order is dispatched: it answers the orders and the rate at which they were opened
// (orders per second from the first rating to the last order dispatched, as polled every
// 100 ms).
func openOrders(ctx context.Context, sys *System, prefix string, n, conc int) ([]string, float64, error) {
	cases, err := SeedCases(ctx, sys.DBURL, prefix, n, []string{"sz-ft-tax"})
	if err != nil {
		return nil, 0, err
	}
	c := Client()
	ids := make([]string, len(cases))
	start := time.Now()
	if err := eachConcurrently(ctx, len(cases), conc, func(i int) error {
		st, body, err := Do(ctx, c, "POST", sys.Base()+"/api/v1/evaluations", sys.Tokens["channel"], Rating(fmt.Sprintf("%s-%d-%d", prefix, start.UnixNano(), i), cases[i], true))
		var res struct {
			WorkOrderID *string `json:"work_order_id"`
		}
		if err != nil || st != 201 || json.Unmarshal(body, &res) != nil || res.WorkOrderID == nil {
			return fmt.Errorf("rating %d = %d %s %v", i, st, trunc(body), err)
		}
		ids[i] = *res.WorkOrderID
		return nil
	}); err != nil {
		return nil, 0, err
	}
	if err := WaitDispatched(ctx, sys.DBURL, ids, 2*time.Minute); err != nil {
		return nil, 0, err
	}
	return ids, float64(len(ids)) / time.Since(start).Seconds(), nil
}

// The cost of the worker-picks-path version marker (issue 16 finding 4,
// `redress-bench marker`). workflow.GetVersion on a new run records a marker event and upserts
// the TemporalChangeVersion search attribute (one more visibility write per order). The
// order workflow cannot be run without it (the choice is recorded in every history), so the
// marker's own cost is measured on the engine: the same workflow with and without the one
// GetVersion call the order workflow makes, started like work orders (eagerly), alternated in
// rounds so that the shared machine's drift falls on both; the real order start rate (bad
// ratings answered, each starting an order) is measured beside it for scale.

// markerWorkflow is the empty workflow plus the order workflow's version check.
func markerWorkflow(ctx workflow.Context) error {
	_ = workflow.GetVersion(ctx, workflows.WorkerPicksPathChange, workflow.DefaultVersion, 1)
	return nil
}

// RunVersionMarker measures the marker's cost per workflow: n workflows, conc at a time, every
// other one with the marker, so that both kinds meet the same load at the same moments (this
// machine is shared, and rounds of one kind after the other measured its drift, not the
// marker); then the order start rate of the real system (orders bad ratings, conc at a time).
func RunVersionMarker(ctx context.Context, o Options, n, conc, orders int) error {
	sys, err := StartSystem(ctx, o, "sqlite")
	if err != nil {
		return err
	}
	defer sys.Close()
	cl, err := dialTemporal(ctx, sys.TemporalAddr(), NewKeys())
	if err != nil {
		return err
	}
	defer cl.Close()
	queue := fmt.Sprintf("bench-marker-%d", time.Now().UnixNano())
	wk := worker.New(cl, queue, worker.Options{})
	wk.RegisterWorkflowWithOptions(emptyWorkflow, workflow.RegisterOptions{Name: "bench-empty"})
	wk.RegisterWorkflowWithOptions(markerWorkflow, workflow.RegisterOptions{Name: "bench-marker"})
	if err := wk.Start(); err != nil {
		return err
	}
	defer wk.Stop()
	kinds := []string{"bench-empty", "bench-marker"}
	lat := make([]time.Duration, n)
	run := func(round string, n int) (time.Duration, error) {
		start := time.Now()
		err := eachConcurrently(ctx, n, conc, func(i int) error {
			t0 := time.Now()
			r, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: fmt.Sprintf("%s-%s-%d", queue, round, i), TaskQueue: queue, EnableEagerStart: true,
			}, kinds[i%2])
			if err != nil {
				return err
			}
			if err := r.Get(ctx, nil); err != nil {
				return err
			}
			lat[i] = time.Since(t0)
			return nil
		})
		return time.Since(start), err
	}
	if _, err := run("warm", min(n, 200)); err != nil { // connections, the worker's caches
		return err
	}
	took, err := run("m", n)
	if err != nil {
		return err
	}
	var by [2][]time.Duration
	for i, d := range lat {
		by[i%2] = append(by[i%2], d)
	}
	mean := func(v []time.Duration) (m, se float64) {
		for _, d := range v {
			m += float64(d) / float64(time.Millisecond)
		}
		m /= float64(len(v))
		for _, d := range v {
			x := float64(d)/float64(time.Millisecond) - m
			se += x * x
		}
		return m, se / float64(len(v)-1) / float64(len(v)) // the variance of the mean
	}
	m0, v0 := mean(by[0])
	m1, v1 := mean(by[1])
	Sorted(by[0])
	Sorted(by[1])
	events := func(i int) int64 { // workflow i of the measured run (i%2: its kind)
		d, err := cl.DescribeWorkflowExecution(ctx, fmt.Sprintf("%s-m-%d", queue, i), "")
		if err != nil {
			return -1
		}
		return d.WorkflowExecutionInfo.GetHistoryLength()
	}
	// Throughput: phases of one kind and then the other, alternated many times so that the
	// machine's drift falls on both alike; each pair of neighbouring phases gives a ratio.
	const phases, per = 12, 200
	var ratios []float64
	var ph [2]float64
	for p := range phases {
		var r [2]float64
		for k, kind := range kinds {
			if p%2 == 1 {
				k, kind = 1-k, kinds[1-k] // ABBA: neither kind always runs first
			}
			start := time.Now()
			if err := eachConcurrently(ctx, per, conc, func(i int) error {
				run, err := cl.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
					ID: fmt.Sprintf("%s-p%d-%d", queue, p, k*per+i), TaskQueue: queue, EnableEagerStart: true,
				}, kind)
				if err != nil {
					return err
				}
				return run.Get(ctx, nil)
			}); err != nil {
				return err
			}
			r[k] = float64(per) / time.Since(start).Seconds()
			ph[k] += r[k] / phases
		}
		ratios = append(ratios, r[1]/r[0])
	}
	var rm, rv float64
	for _, x := range ratios {
		rm += x / float64(len(ratios))
	}
	for _, x := range ratios {
		rv += (x - rm) * (x - rm) / float64(len(ratios)-1) / float64(len(ratios))
	}
	o.Report.Add("marker: throughput, %d alternating phases of %d workflows each kind, %d at a time: without the marker %.1f/s, with it %.1f/s (means); with/without per phase pair %.3f ± %.3f (2 standard errors), i.e. %+.1f %% starts per second",
		phases, per, conc, ph[0], ph[1], rm, 2*math.Sqrt(rv), 100*(rm-1))
	o.Report.Add("marker: %d workflows, %d at a time, every other one with the GetVersion marker (%.1f workflows/s in all): start to completion without it mean %.1f ms (p50 %s), with it mean %.1f ms (p50 %s): %+.1f ms ± %.1f (2 standard errors) per workflow; history %d events without, %d with",
		n, conc, float64(n)/took.Seconds(), m0, ms(Percentile(by[0], 50)), m1, ms(Percentile(by[1], 50)), m1-m0, 2*math.Sqrt(v0+v1), events(0), events(1))
	_, orate, err := openOrders(ctx, sys, "MK", orders, conc)
	if err != nil {
		return err
	}
	o.Report.Add("marker: for scale, the real order start rate: %d bad ratings (each starting its order, marker included), %d at a time = %.1f orders/s",
		orders, conc, orate)
	return nil
}
