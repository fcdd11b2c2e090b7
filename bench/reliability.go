package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"redress/devserver"
	"redress/models"
	"redress/store"
)

// ReliabilityOptions configure point 5.
type ReliabilityOptions struct {
	Long bool
}

// RunReliability runs every reliability scenario (the long form with Long).
func RunReliability(ctx context.Context, o Options, ro ReliabilityOptions) error {
	kills, soak := 3, 20*time.Second
	if ro.Long {
		kills, soak = 10, 10*time.Minute
	}
	var failed []string
	note := func(name string, err error) {
		if err != nil {
			o.Report.Add("reliability %s: FAILED: %v", name, err)
			failed = append(failed, name)
		}
	}
	note("dev kill -9", DevKill9(ctx, o, kills))
	// The PostgreSQL restart runs only on a cluster of the harness's own (ProdScenarios); where
	// none can start, the other scenarios run and the report says the restart did not.
	pgErr := CanRunPrivatePostgres(o.PGBin)
	if pgErr != nil {
		o.Report.Add("reliability PostgreSQL restart: NOT RUN: no private cluster can start here (%v); the harness restarts no server it did not start", pgErr)
	}
	note("prod", ProdScenarios(ctx, o, ProdScenarioOptions{WorkerKills: max(1, kills/2), PGRestart: pgErr == nil, TemporalOutage: 5 * time.Second}))
	note("soak", Soak(ctx, o, soak))
	if len(failed) > 0 {
		return fmt.Errorf("reliability failed: %v", failed)
	}
	return nil
}

// signer signs dispatched orders of sz-ft-tax as its officer while ratings flow, remembering
// every sign that was answered 200 (those must survive anything).
type signer struct {
	mu      sync.Mutex
	signed  map[string]bool
	lastErr string // the last refusal, to say why when nothing was signed
}

func (s *signer) run(ctx context.Context, base, token string) {
	c := Client()
	for ctx.Err() == nil {
		st, body, err := Do(ctx, c, "GET", base+"/api/v1/work-orders?state=dispatched&page_size=10", token, nil)
		var l struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		if err != nil || st != 200 || json.Unmarshal(body, &l) != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		for _, it := range l.Items {
			st, body, err := Do(ctx, c, "POST", base+"/api/v1/work-orders/"+it.ID+"/actions", token, map[string]string{"action": "sign"}, "Idempotency-Key", "sign-"+it.ID)
			s.mu.Lock()
			if err == nil && st == 200 {
				s.signed[it.ID] = true
			} else if err == nil {
				s.lastErr = fmt.Sprintf("%d %s", st, trunc(body))
			}
			s.mu.Unlock()
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *signer) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.signed)
}

// checkSigned proves every sign answered 200 is still in force: the order is signed (nothing
// else acts on these orders in the scenarios).
func (s *signer) check(ctx context.Context, databaseURL string) error {
	db, err := store.Open(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // reads, or writes already committed: a close error loses nothing
	s.mu.Lock()
	ids := make([]string, 0, len(s.signed))
	for id := range s.signed {
		ids = append(ids, id)
	}
	s.mu.Unlock()
	for i := 0; i < len(ids); i += 500 {
		chunk := ids[i:min(i+500, len(ids))]
		var n int64
		if err := db.WithContext(ctx).Table("work_orders").Where("id IN ? AND state = ?", chunk, models.StateSigned).Count(&n).Error; err != nil {
			return err
		}
		if int(n) != len(chunk) {
			return fmt.Errorf("%d of %d signs answered 200 are not in force", len(chunk)-int(n), len(chunk))
		}
	}
	return nil
}

// DevKill9 runs `redress dev` (SQLite), and kills it with SIGKILL `kills` times at random
// points while ratings (one in ten bad) and sign actions flow; after the last restart it
// resends every rating whose answer was lost and proves the promises (Verify), and that every
// sign answered 200 held.
func DevKill9(ctx context.Context, o Options, kills int) error {
	p, dev, dbURL, err := startFreshDev(ctx, o, "kill9")
	if err != nil {
		return err
	}
	defer func() { p.Kill() }()
	cases, err := SeedCases(ctx, dbURL, "K9", 2000, []string{"sz-ft-tax"})
	if err != nil {
		return err
	}
	channel, _ := dev.Keys.Token("channel")
	officer, _ := dev.Keys.Token("ft-officer")
	exp := NewExpect("k9-")
	sg := &signer{signed: map[string]bool{}}
	var unknown []struct {
		l IntakeLoad
		n []int64
	}
	// Orders waiting in the inbox before the first kill, so that sign actions flow from the
	// start (dispatch takes seconds on a loaded machine; the kill phases are short).
	warm := IntakeLoad{Base: p.Base, Token: channel, Prefix: "k9-warm", Cases: cases[1900:], BadEvery: 1, Conc: 2, Duration: time.Minute, Max: 10}
	wres := warm.Run(ctx)
	if len(wres.Bad) != 10 {
		return fmt.Errorf("warm-up ratings: %d of 10 accepted (%v)", len(wres.Bad), nonOK(wres.Statuses))
	}
	exp.Add(wres)
	if err := waitEvaluationsDispatched(ctx, dbURL, wres.Bad, 2*time.Minute); err != nil {
		return err
	}
	cases = cases[:1900]
	sent := wres.Sent
	// Some signs answered 200 before the first kill, so that "every sign answered 200 holds"
	// is proven across the kills even when the machine is too loaded for a sign to complete
	// inside the short kill windows (CI runs other packages' tests at the same time).
	sctx, scancel := context.WithTimeout(ctx, time.Minute)
	go func() {
		for sctx.Err() == nil && sg.count() < 3 {
			time.Sleep(50 * time.Millisecond)
		}
		scancel()
	}()
	sg.run(sctx, p.Base, officer)
	scancel()
	for k := 0; k < kills; k++ {
		l := IntakeLoad{Base: p.Base, Token: channel, Prefix: fmt.Sprintf("k9-%d", k), Cases: cases, BadEvery: 10, Conc: 8, Duration: time.Minute}
		lctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		var res LoadResult
		wg.Add(2)
		go func() { defer wg.Done(); res = l.Run(lctx) }()
		go func() { defer wg.Done(); sg.run(lctx, p.Base, officer) }()
		// A random point: between 0.5 and 3 s into the flow.
		time.Sleep(500*time.Millisecond + rand.N(2500*time.Millisecond))
		p.Kill()
		if !p.KilledBySIGKILL() {
			stop()
			return fmt.Errorf("dev ended with %v, not SIGKILL", p.cmd.ProcessState)
		}
		stop()
		wg.Wait()
		exp.Add(res)
		sent += res.Sent
		unknown = append(unknown, struct {
			l IntakeLoad
			n []int64
		}{l, res.Unknown})
		if p, err = StartDev(ctx, dev); err != nil {
			return fmt.Errorf("restart %d after kill -9: %w", k+1, err)
		}
	}
	resent := 0
	for _, u := range unknown {
		u.l.Base = p.Base
		r, err := u.l.Resend(ctx, u.n, time.Minute)
		if err != nil {
			return err
		}
		exp.Add(r)
		resent += len(u.n)
	}
	if err := Verify(ctx, dbURL, hostPort(dev.TemporalPort), dev.Keys, exp, 90*time.Second); err != nil {
		return fmt.Errorf("after %d kills: %w", kills, err)
	}
	if err := sg.check(ctx, dbURL); err != nil {
		return err
	}
	if len(sg.signed) == 0 {
		return fmt.Errorf("no sign action was answered 200 while the kills went on (last refusal: %s)", sg.lastErr)
	}
	o.Report.Add("reliability dev kill -9 ×%d (SQLite): %d ratings sent, %d accepted (%d bad, %d answers lost or connections refused around the kills, all resent), %d signs answered 200; all stored once, one work order and one workflow each, timers armed, signs held",
		kills, sent, len(exp.Accepted), len(exp.Bad), resent, len(sg.signed))
	return nil
}

func hostPort(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

// ProdScenarioOptions choose the scenarios run against `redress api` + `redress worker`.
type ProdScenarioOptions struct {
	WorkerKills    int
	PGRestart      bool
	TemporalOutage time.Duration
}

// ProdScenarios runs `redress api` and `redress worker` as separate processes against a fresh
// PostgreSQL database and an embedded Temporal server in this process, and, while ratings
// flow: kills the worker with SIGKILL (and starts it again), restarts PostgreSQL, and stops
// Temporal for a while (intake must keep accepting; the reconciler starts the workflows when it
// is back). After each it proves the promises.
func ProdScenarios(ctx context.Context, o Options, so ProdScenarioOptions) error {
	dir, err := os.MkdirTemp(o.Work, "prod-")
	if err != nil {
		return err
	}
	// The PostgreSQL restart goes only ever to a cluster the harness started itself
	// (pgprivate.go: its own data directory and port), never to the server on AdminURL: that
	// one belongs to others (a production database, or tests of other packages running at the
	// same time), and a harness run as root could otherwise restart it. Where no private
	// cluster can start, the scenario refuses before anything runs.
	admin, restartPG := AdminURL(), func() error { return errors.New("no PostgreSQL restart in this run") }
	if so.PGRestart {
		pp, err := StartPrivatePostgres(dir, o.PGBin)
		if err != nil {
			return fmt.Errorf("the PostgreSQL restart scenario restarts only a cluster the harness starts itself, and none could start here: %w", err)
		}
		defer pp.Stop() //nolint:errcheck // best effort
		admin, restartPG = pp.AdminURL(), pp.Restart
	}
	pg, err := CreateDatabaseOn(ctx, admin, "redress_rely")
	if err != nil {
		return err
	}
	defer pg.Drop() //nolint:errcheck // best effort
	tport, err := FreePort()
	if err != nil {
		return err
	}
	tdb := filepath.Join(dir, "temporal.db")
	startTemporal := func() (*devserver.Server, error) {
		return devserver.Start(devserver.Options{DatabaseFile: tdb, FrontendPort: tport, Namespace: "default"})
	}
	ts, err := startTemporal()
	if err != nil {
		return err
	}
	defer func() {
		if ts != nil {
			ts.Stop()
		}
	}()
	addr, err := FreeAddr()
	if err != nil {
		return err
	}
	po := ProdOptions{Bin: o.Bin, DatabaseURL: pg.URL, TemporalAddr: hostPort(tport), HTTPAddr: addr, LogDir: filepath.Join(dir, "logs"), Keys: NewKeys()}
	if err := po.Migrate(ctx); err != nil {
		return err
	}
	api, err := po.StartAPI(ctx)
	if err != nil {
		return err
	}
	defer func() { api.Stop() }()
	wk, err := po.StartWorker(ctx)
	if err != nil {
		return err
	}
	defer func() { wk.Stop() }()
	cases, err := SeedCases(ctx, pg.URL, "PR", 2000, []string{"sz-ft-tax"})
	if err != nil {
		return err
	}
	channel, _ := po.Keys.Token("channel")
	exp := NewExpect("pr-")
	phase := 0
	// flow runs ratings for d while disrupt runs, then resends what was lost and verifies.
	flow := func(name string, d time.Duration, disrupt func() error) error {
		phase++
		l := IntakeLoad{Base: api.Base, Token: channel, Prefix: fmt.Sprintf("pr-%d", phase), Cases: cases, BadEvery: 10, Conc: 8, Duration: d}
		var res LoadResult
		done := make(chan struct{})
		go func() { res = l.Run(ctx); close(done) }()
		derr := disrupt()
		<-done
		if derr != nil {
			return fmt.Errorf("%s: %w", name, derr)
		}
		exp.Add(res)
		r, err := l.Resend(ctx, res.Unknown, 90*time.Second)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		exp.Add(r)
		if err := Verify(ctx, pg.URL, hostPort(tport), po.Keys, exp, 90*time.Second); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		o.Report.Add("reliability %s: %d ratings sent, %d accepted during it, %d answered 5xx or lost and resent, statuses %v; all %d accepted so far stored once, one order and one workflow per bad one, timers armed",
			name, res.Sent, res.OK, len(res.Unknown), nonOK(res.Statuses), len(exp.Accepted))
		return nil
	}
	for k := 0; k < so.WorkerKills; k++ {
		err := flow(fmt.Sprintf("worker kill -9 #%d", k+1), 4*time.Second, func() error {
			time.Sleep(500*time.Millisecond + rand.N(1500*time.Millisecond))
			wk.Kill()
			if !wk.KilledBySIGKILL() {
				return fmt.Errorf("worker ended with %v", wk.cmd.ProcessState)
			}
			time.Sleep(time.Second) // ratings keep coming with no worker at all
			var err error
			wk, err = po.StartWorker(ctx)
			return err
		})
		if err != nil {
			return err
		}
	}
	if so.PGRestart {
		err := flow("PostgreSQL restart under load", 6*time.Second, func() error {
			time.Sleep(time.Second + rand.N(time.Second))
			return restartPG()
		})
		if err != nil {
			return err
		}
	}
	if so.TemporalOutage > 0 {
		var during LoadResult
		err := flow(fmt.Sprintf("Temporal down for %s", so.TemporalOutage), so.TemporalOutage+4*time.Second, func() error {
			time.Sleep(time.Second)
			ts.Stop()
			ts = nil
			// While it is down, a separate client checks intake still accepts bad ratings.
			l := IntakeLoad{Base: api.Base, Token: channel, Prefix: fmt.Sprintf("pr-down-%d", phase), Cases: cases, BadEvery: 2, Conc: 2, Duration: so.TemporalOutage}
			during = l.Run(ctx)
			exp.Add(during)
			var err error
			if ts, err = startTemporal(); err != nil {
				return err
			}
			r, err := l.Resend(ctx, during.Unknown, 90*time.Second)
			exp.Add(r)
			return err
		})
		if err != nil {
			return err
		}
		if during.OK == 0 || len(during.Bad) == 0 {
			return fmt.Errorf("with Temporal down: intake accepted %d ratings (%d bad) while it was down, want some (statuses %v)", during.OK, len(during.Bad), during.Statuses)
		}
		// Intake must not wait on the engine: a bad rating's workflow start is bounded
		// (intake/startguard.go), so even bad ratings are answered promptly.
		if p99 := Percentile(during.Latencies, 99); p99 > 5*time.Second {
			return fmt.Errorf("with Temporal down: intake p99 %s while the engine was unreachable, want < 5s", p99)
		}
		o.Report.Add("reliability Temporal down: intake accepted %d ratings (%d bad) while the engine was unreachable, p99 %s; their workflows started when it was back",
			during.OK, len(during.Bad), ms(Percentile(during.Latencies, 99)))
	}
	return nil
}

// soakWorkflowCache is the workflow cache of the soak's system (see Soak).
const soakWorkflowCache = 200

// Soak runs `redress dev` under a steady mixed load (50 ratings/s, 5 % bad, officers signing)
// for d and samples its goroutines and heap from /metrics: after the first fifth (warm-up) they
// must stay flat: goroutines within +25 % + 20 and heap within ×1.5 + 16 MB of the warm level.
//
// Every bad rating opens an order whose workflow stays running (for weeks, in production), and
// the worker keeps running workflows in memory up to REDRESS_WORKFLOW_CACHE: goroutines and
// heap grow with the cache until it is full, by design. The soak runs with a cache of
// soakWorkflowCache, which the load fills during the warm-up of the long form (2.5 orders a
// second), so what it checks is that nothing else grows; evicted orders replay their history
// at their next event, which the signing officers exercise.
func Soak(ctx context.Context, o Options, d time.Duration) error {
	p, dev, dbURL, err := startFreshDev(ctx, o, "soak", fmt.Sprintf("REDRESS_WORKFLOW_CACHE=%d", soakWorkflowCache))
	if err != nil {
		return err
	}
	defer p.Stop()
	cases, err := SeedCases(ctx, dbURL, "SK", int(50*d.Seconds())+1000, []string{"sz-ft-tax"})
	if err != nil {
		return err
	}
	channel, _ := dev.Keys.Token("channel")
	officer, _ := dev.Keys.Token("ft-officer")
	lctx, stop := context.WithTimeout(ctx, d)
	defer stop()
	sg := &signer{signed: map[string]bool{}}
	go sg.run(lctx, p.Base, officer)
	var res LoadResult
	done := make(chan struct{})
	go func() {
		res = IntakeLoad{Base: p.Base, Token: channel, Prefix: "soak", Cases: cases, BadEvery: 20, Pace: 20 * time.Millisecond, Duration: d}.Run(lctx)
		close(done)
	}()
	type sample struct{ goroutines, heap float64 }
	var samples []sample
	every := max(d/20, time.Second)
	for lctx.Err() == nil {
		select {
		case <-lctx.Done():
		case <-time.After(every):
			g, h, err := goMetrics(ctx, p.Base)
			if err != nil {
				return err
			}
			samples = append(samples, sample{g, h})
		}
	}
	<-done
	if len(samples) < 5 {
		return fmt.Errorf("soak: only %d samples", len(samples))
	}
	warm := samples[len(samples)/5]
	var maxG, maxH float64
	for _, s := range samples[len(samples)/5:] {
		maxG, maxH = max(maxG, s.goroutines), max(maxH, s.heap)
	}
	last := samples[len(samples)-1]
	o.Report.Add("reliability soak %s: %d ratings accepted (%.0f/s, %d failed), %d signs; goroutines warm %.0f → end %.0f (max %.0f), heap in use warm %.1f MB → end %.1f MB (max %.1f MB)",
		d, res.OK, res.Rate(), res.Failed, len(sg.signed), warm.goroutines, last.goroutines, maxG, warm.heap/1e6, last.heap/1e6, maxH/1e6)
	if res.Failed > 0 {
		return fmt.Errorf("soak: %d ratings failed: %v; log %s", res.Failed, nonOK(res.Statuses), p.Log)
	}
	if last.goroutines > warm.goroutines*1.25+20 {
		return fmt.Errorf("soak: goroutines grew from %.0f to %.0f", warm.goroutines, last.goroutines)
	}
	if last.heap > warm.heap*1.5+16e6 {
		return fmt.Errorf("soak: heap grew from %.1f MB to %.1f MB", warm.heap/1e6, last.heap/1e6)
	}
	return nil
}

// goMetrics reads go_goroutines and go_memstats_heap_inuse_bytes from /metrics.
func goMetrics(ctx context.Context, base string) (float64, float64, error) {
	st, body, err := Do(ctx, Client(), "GET", base+"/metrics", "", nil)
	if err != nil || st != 200 {
		return 0, 0, fmt.Errorf("GET /metrics: %d %v", st, err)
	}
	var g, h float64 = -1, -1
	for _, l := range strings.Split(string(body), "\n") {
		f := strings.Fields(l)
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "go_goroutines":
			g = v
		case "go_memstats_heap_inuse_bytes":
			h = v
		}
	}
	if g < 0 || h < 0 {
		return 0, 0, errors.New("/metrics lacks go_goroutines or go_memstats_heap_inuse_bytes")
	}
	return g, h, nil
}

// waitEvaluationsDispatched waits until the work orders of the given evaluation ids stand
// dispatched.
func waitEvaluationsDispatched(ctx context.Context, dbURL string, evalIDs []string, limit time.Duration) error {
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	var ids []string
	err = db.WithContext(ctx).Table("evaluations").Where("evaluation_id IN ? AND work_order_id IS NOT NULL", evalIDs).Pluck("work_order_id", &ids).Error
	_ = db.Close() // read only
	if err != nil {
		return err
	}
	return WaitDispatched(ctx, dbURL, ids, limit)
}
