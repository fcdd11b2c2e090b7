//go:build unix

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"redress/auth"
	"redress/config"
	"redress/store"
)

// Every wait in these tests is bounded by this.
const waitLimit = 60 * time.Second

// cleanEnv keeps the developer's or CI's environment from pointing the commands elsewhere:
// the database and the keys must come from the test's data directory.
func cleanEnv(t *testing.T) {
	for _, k := range []string{"DATABASE_URL", "REDRESS_DATA", "REDRESS_JWT_KEY", "REDRESS_PII_KEYS", "REDRESS_PII_HASH_KEY"} {
		t.Setenv(k, "")
	}
	t.Setenv("REDRESS_LOG_LEVEL", "warn")
	prev := slog.Default()
	setupLogging("warn", false)
	t.Cleanup(func() { slog.SetDefault(prev) })
}

// devConfig is the configuration `redress dev --data dir --http 127.0.0.1:0` resolves to, with
// the Temporal web UI off and a quick reconciler.
func devConfig(t testing.TB, dir string) config.Config {
	t.Helper()
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.DatabaseURL = ""
	(&dbFlags{data: dir}).resolve(&cfg)
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.TemporalUIPort = 0
	cfg.ReconcileEvery = time.Second
	return cfg
}

func freeTCPPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := l.Close(); err != nil {
			t.Errorf("close the port probe: %v", err)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port
}

// inProcess is a runDev running in a goroutine of the test.
type inProcess struct {
	base   string
	cancel context.CancelFunc
	done   chan error
	err    error
	ended  bool
}

func startInProcess(t *testing.T, dir string, opts ...func(*config.Config)) *inProcess {
	t.Helper()
	cfg := devConfig(t, dir)
	for _, o := range opts {
		o(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &inProcess{cancel: cancel, done: make(chan error, 1)}
	addrc := make(chan net.Addr, 1)
	port := freeTCPPort(t)
	go func() { p.done <- runDev(ctx, cfg, port, true, func(a net.Addr) { addrc <- a }) }()
	t.Cleanup(func() {
		if err := p.stop(t); err != nil {
			t.Errorf("redress dev ended with: %v", err)
		}
	})
	select {
	case a := <-addrc:
		p.base = "http://" + a.String()
	case err := <-p.done:
		p.ended, p.err = true, err
		t.Fatalf("runDev ended before it was ready: %v", err)
	case <-time.After(waitLimit):
		t.Fatalf("runDev not ready within %s", waitLimit)
	}
	return p
}

// stop cancels the context (as SIGINT does) and waits for runDev to return.
func (p *inProcess) stop(t *testing.T) error {
	t.Helper()
	if p.ended {
		return p.err
	}
	p.cancel()
	select {
	case p.err = <-p.done:
		p.ended = true
	case <-time.After(waitLimit):
		t.Fatalf("runDev did not return within %s of cancellation", waitLimit)
	}
	return p.err
}

// runCLI runs the redress command line in-process and returns its standard output.
func runCLI(args ...string) (string, error) {
	var out bytes.Buffer
	root := rootCmd()
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(io.Discard)
	err := root.Execute()
	return out.String(), err
}

// token issues a token the way `redress token --data dir --user login` does.
func token(t *testing.T, dir, login string) string {
	t.Helper()
	out, err := runCLI("token", "--data", dir, "--user", login)
	if err != nil {
		t.Fatalf("redress token --user %s: %v", login, err)
	}
	tok := strings.TrimSpace(out)
	if strings.Count(tok, ".") != 2 {
		t.Fatalf("redress token printed %q, not a JWT", out)
	}
	return tok
}

// call sends a JSON request and decodes a JSON answer into out (if non-nil); it returns the
// status and the raw body.
func call(t *testing.T, method, url, tok string, body, out any, header ...string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer func() {
		if err := resp.Body.Close(); err != nil {
			t.Errorf("close the answer: %v", err)
		}
	}()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, url, raw, err)
		}
	}
	return resp.StatusCode, string(raw)
}

// badRating is one service case of sz-ft-tax (staff S0001) and a 非常不满意 rating of it.
type badRating struct {
	caseReq, evalReq map[string]any
}

func newBadRating(id string) badRating {
	now := time.Now().UTC().Truncate(time.Second)
	caseNo := "C-" + id
	return badRating{
		caseReq: map[string]any{
			"case_no":      caseNo,
			"service_item": map[string]string{"code": "T01", "name": "税务登记"},
			"unit":         "sz-ft-tax",
			"staff":        "S0001",
			"channel":      "window_device",
			"completed_at": now.Add(-2 * time.Hour).Format(time.RFC3339),
			"applicant":    map[string]string{"name": "张三", "phone": "13800001234"},
		},
		evalReq: map[string]any{
			"evaluation_id": "E-" + id,
			"case_nos":      []string{caseNo},
			"channel":       "qr_code",
			"levels":        map[string]string{"overall": "very_dissatisfied"},
			"comment":       "等了两个小时",
			"rated_at":      now.Add(-time.Hour).Format(time.RFC3339),
			"evaluator":     map[string]string{"name": "张三", "phone": "13800001234"},
		},
	}
}

type evalResult struct {
	ID          string  `json:"id"`
	Bad         bool    `json:"bad"`
	WorkOrderID *string `json:"work_order_id"`
}

// post registers the case and the rating and returns the work order's id.
func (r badRating) post(t *testing.T, base, tok string) string {
	t.Helper()
	if st, body := call(t, "POST", base+"/api/v1/service-cases", tok, r.caseReq, nil); st != http.StatusCreated {
		t.Fatalf("POST /service-cases = %d %s", st, body)
	}
	var res evalResult
	if st, body := call(t, "POST", base+"/api/v1/evaluations", tok, r.evalReq, &res); st != http.StatusCreated {
		t.Fatalf("POST /evaluations = %d %s", st, body)
	}
	if !res.Bad || res.WorkOrderID == nil || *res.WorkOrderID == "" {
		t.Fatalf("POST /evaluations = %+v, want a bad rating with a work order", res)
	}
	return *res.WorkOrderID
}

type order struct {
	ID    string `json:"id"`
	State string `json:"state"`
	Unit  *struct {
		Code string `json:"code"`
	} `json:"unit"`
}

type orderList struct {
	Items []order `json:"items"`
	Total int64   `json:"total"`
}

// listOrders returns the officer's inbox (first page is enough: the tests make one order).
func listOrders(t *testing.T, base, tok string) orderList {
	t.Helper()
	var l orderList
	if st, body := call(t, "GET", base+"/api/v1/work-orders?page_size=100", tok, nil, &l); st != http.StatusOK {
		t.Fatalf("GET /work-orders = %d %s", st, body)
	}
	return l
}

// waitState polls the inbox until the order shows state.
func waitState(t *testing.T, base, tok, id, state string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	last := "(not listed)"
	for time.Now().Before(deadline) {
		for _, o := range listOrders(t, base, tok).Items {
			if o.ID == id {
				last = o.State
				if o.State == state {
					if o.Unit == nil || o.Unit.Code != "sz-ft-tax" {
						t.Fatalf("order %s is %s at %+v, want unit sz-ft-tax", id, state, o.Unit)
					}
					return
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("order %s not %s within %s; last seen: %s", id, state, waitLimit, last)
}

// sign signs the order as the officer, retrying while the engine is still coming up (the
// Idempotency-Key makes a retry the same update), and checks the order is then signed.
func sign(t *testing.T, base, tok, id string) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		var o order
		st, body := call(t, "POST", base+"/api/v1/work-orders/"+id+"/actions", tok,
			map[string]string{"action": "sign"}, &o, "Idempotency-Key", "sign-"+id)
		if st == http.StatusOK {
			if o.ID != id || o.State != "signed" {
				t.Fatalf("sign answered %s", body)
			}
			return
		}
		if st < 500 || time.Now().After(deadline) {
			t.Fatalf("sign = %d %s", st, body)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func checkHealth(t *testing.T, base string) {
	t.Helper()
	for _, p := range []string{"/healthz", "/readyz", "/metrics"} {
		if st, body := call(t, "GET", base+p, "", nil, nil); st != http.StatusOK {
			t.Errorf("GET %s = %d %s", p, st, body)
		}
	}
	// The metrics carry the API's own and the Temporal SDK's (the worker's pollers report
	// once they have started).
	deadline := time.Now().Add(20 * time.Second)
	for {
		_, body := call(t, "GET", base+"/metrics", "", nil, nil)
		if strings.Contains(body, "redress_http_requests_total") && strings.Contains(body, "\ntemporal_request") {
			// The SDK's latencies are in seconds: buckets fine enough to tell 5 ms from
			// 50 ms (OpenTelemetry's defaults, meant for milliseconds, start at 5).
			if !regexp.MustCompile(`\ntemporal_request_latency_seconds_bucket\{[^}]*le="0.005"`).MatchString(body) {
				t.Errorf("GET /metrics: the Temporal SDK's latency histograms lack second-sized buckets")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("GET /metrics lacks the API's or the Temporal SDK's metrics")
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// checkMetricsAddr: with REDRESS_METRICS_ADDR the API address answers /metrics 404 and the
// metrics address serves the metrics (the API's and the Temporal SDK's) and nothing else.
func checkMetricsAddr(t *testing.T, base, metricsBase string) {
	t.Helper()
	for _, p := range []string{"/healthz", "/readyz"} {
		if st, body := call(t, "GET", base+p, "", nil, nil); st != http.StatusOK {
			t.Errorf("GET %s = %d %s", p, st, body)
		}
	}
	if st, body := call(t, "GET", base+"/metrics", "", nil, nil); st != http.StatusNotFound || strings.Contains(body, "redress_http_requests_total") {
		t.Errorf("GET /metrics on the API address with REDRESS_METRICS_ADDR set = %d %.200s, want 404", st, body)
	}
	// The metrics listener starts beside the API's: wait until it accepts connections.
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(metricsBase, "http://"), time.Second)
		if err == nil {
			if err := c.Close(); err != nil {
				t.Fatalf("close the metrics probe: %v", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on the metrics address %s: %v", metricsBase, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		st, body := call(t, "GET", metricsBase+"/metrics", "", nil, nil)
		if st == http.StatusOK && strings.Contains(body, "redress_http_requests_total") && strings.Contains(body, "\ntemporal_request") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s/metrics = %d, lacks the API's or the Temporal SDK's metrics", metricsBase, st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	for _, p := range []string{"/api/v1/me", "/", "/metrics/x"} {
		if st, body := call(t, "GET", metricsBase+p, "", nil, nil); st != http.StatusNotFound {
			t.Errorf("the metrics address answers GET %s = %d %.100s, want 404 (it serves /metrics only)", p, st, body)
		}
	}
}

// openData opens the data directory's database beside the running process (SQLite in WAL
// mode allows it).
func openData(t *testing.T, dir string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), "sqlite:"+filepath.Join(dir, "redress.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("close the database: %v", err)
		}
	})
	return db
}

func count(t *testing.T, db *store.DB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := db.Raw(q, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestDevRestart runs the whole system in-process, opens a work order, stops gracefully,
// starts again on the same data directory and works the order: nothing is lost and the demo
// organisation is not seeded twice.
func TestDevRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server")
	}
	cleanEnv(t)
	dir := t.TempDir()

	p := startInProcess(t, dir)
	checkHealth(t, p.base)
	if _, err := os.Stat(secretsPath(dir)); err != nil {
		t.Fatalf("dev did not write its keys: %v", err)
	}
	channel, officer := token(t, dir, "channel"), token(t, dir, "ft-officer")
	r := newBadRating("restart-1")
	id := r.post(t, p.base, channel)
	waitState(t, p.base, officer, id, "dispatched")
	if err := p.stop(t); err != nil {
		t.Fatalf("runDev after cancellation: %v", err)
	}

	// Between the runs: count the units and rename one, so that a second seeding (which
	// would restore the demo name) shows.
	db := openData(t, dir)
	units := count(t, db, "SELECT COUNT(*) FROM units")
	if units == 0 {
		t.Fatal("demo organisation not seeded")
	}
	if err := db.Exec("UPDATE units SET name = ? WHERE code = ?", "改名测试", "sz-ns-hall").Error; err != nil {
		t.Fatal(err)
	}

	// The second run serves its metrics on a separate address (REDRESS_METRICS_ADDR): there
	// and only there.
	metricsBase := fmt.Sprintf("http://127.0.0.1:%d", freeTCPPort(t))
	p = startInProcess(t, dir, func(c *config.Config) { c.MetricsAddr = strings.TrimPrefix(metricsBase, "http://") })
	checkMetricsAddr(t, p.base, metricsBase)
	if n := count(t, db, "SELECT COUNT(*) FROM units"); n != units {
		t.Errorf("units after restart = %d, want %d", n, units)
	}
	var name string
	if err := db.Raw("SELECT name FROM units WHERE code = ?", "sz-ns-hall").Scan(&name).Error; err != nil {
		t.Fatal(err)
	}
	if name != "改名测试" {
		t.Errorf("demo organisation seeded again on restart (unit renamed back to %q)", name)
	}
	// The token issued before the restart still works: the key is kept in the data directory.
	l := listOrders(t, p.base, officer)
	if l.Total != 1 || len(l.Items) != 1 || l.Items[0].ID != id || l.Items[0].State != "dispatched" {
		t.Fatalf("inbox after restart = %+v, want order %s dispatched", l, id)
	}
	sign(t, p.base, officer, id)
	if err := p.stop(t); err != nil {
		t.Fatalf("second runDev after cancellation: %v", err)
	}
}

// Environment of the helper process of TestDevKill9.
const (
	helperDataEnv = "REDRESS_TEST_HELPER_DATA"
	helperPortEnv = "REDRESS_TEST_HELPER_TEMPORAL_PORT"
	helperAddrEnv = "REDRESS_TEST_HELPER_ADDR_FILE"
)

// TestHelperProcess is not a test: TestDevKill9 runs the test binary again with only this
// test selected and the environment above set, and the child runs `redress dev`.
func TestHelperProcess(t *testing.T) {
	dir := os.Getenv(helperDataEnv)
	if dir == "" {
		t.Skip("helper process of TestDevKill9")
	}
	port, err := strconv.Atoi(os.Getenv(helperPortEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		os.Exit(2)
	}
	addrFile := os.Getenv(helperAddrEnv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = runDev(ctx, devConfig(t, dir), port, true, func(a net.Addr) {
		// Write then rename, so the parent never reads half an address.
		// A failure here would leave the parent waiting for an address: end loudly instead.
		tmp := addrFile + ".tmp"
		err := os.WriteFile(tmp, []byte(a.String()), 0o600)
		if err == nil {
			err = os.Rename(tmp, addrFile)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "helper: write the address:", err)
			os.Exit(1)
		}
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper: runDev:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// child is a `redress dev` in another process.
type child struct {
	cmd    *exec.Cmd
	base   string
	exited chan struct{}
	log    string
}

func startChild(t *testing.T, dir string) *child {
	t.Helper()
	run := t.TempDir()
	addrFile := filepath.Join(run, "addr")
	logFile := filepath.Join(run, "output.log")
	logf, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := logf.Close(); err != nil {
			t.Errorf("close the child's log: %v", err)
		}
	}()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1", "-test.timeout=5m")
	cmd.Env = append(os.Environ(),
		helperDataEnv+"="+dir,
		helperPortEnv+"="+strconv.Itoa(freeTCPPort(t)),
		helperAddrEnv+"="+addrFile)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd, exited: make(chan struct{}), log: logFile}
	go func() { _ = cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		c.kill(t)
		if t.Failed() {
			if b, err := os.ReadFile(logFile); err == nil && len(b) > 0 {
				if len(b) > 4000 {
					b = b[len(b)-4000:]
				}
				t.Logf("child %d output (tail):\n%s", cmd.Process.Pid, b)
			}
		}
	})
	deadline := time.Now().Add(waitLimit)
	for {
		if b, err := os.ReadFile(addrFile); err == nil && len(b) > 0 {
			c.base = "http://" + string(b)
			return c
		}
		select {
		case <-c.exited:
			t.Fatalf("child exited before it was ready: %v", cmd.ProcessState)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("child not ready within %s", waitLimit)
		}
	}
}

// kill sends SIGKILL and waits until the child is gone.
func (c *child) kill(t *testing.T) {
	t.Helper()
	select {
	case <-c.exited:
		return
	default:
	}
	if err := syscall.Kill(c.cmd.Process.Pid, syscall.SIGKILL); err != nil && err != syscall.ESRCH {
		t.Errorf("kill %d: %v", c.cmd.Process.Pid, err)
	}
	select {
	case <-c.exited:
	case <-time.After(waitLimit):
		t.Errorf("child %d still running %s after SIGKILL", c.cmd.Process.Pid, waitLimit)
	}
}

// TestDevKill9 kills `redress dev` with SIGKILL once a work order is dispatched and starts it
// again: the order, its rating and its workflow survive exactly once.
func TestDevKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the embedded Temporal server in child processes")
	}
	cleanEnv(t)
	dir := t.TempDir()

	c := startChild(t, dir)
	checkHealth(t, c.base)
	channel, officer := token(t, dir, "channel"), token(t, dir, "ft-officer")
	r := newBadRating("kill-1")
	id := r.post(t, c.base, channel)
	waitState(t, c.base, officer, id, "dispatched")
	c.kill(t)
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("child ended with %v, want killed by SIGKILL", c.cmd.ProcessState)
	}

	c = startChild(t, dir)
	checkHealth(t, c.base)
	l := listOrders(t, c.base, officer)
	if l.Total != 1 || len(l.Items) != 1 || l.Items[0].ID != id {
		t.Fatalf("inbox after kill -9 = %+v, want exactly order %s", l, id)
	}
	if l.Items[0].State != "dispatched" {
		t.Errorf("order state after kill -9 = %s, want dispatched", l.Items[0].State)
	}
	db := openData(t, dir)
	evalID := r.evalReq["evaluation_id"]
	if n := count(t, db, "SELECT COUNT(*) FROM evaluations WHERE evaluation_id = ?", evalID); n != 1 {
		t.Errorf("evaluation %s stored %d times", evalID, n)
	}
	if n := count(t, db, "SELECT COUNT(*) FROM work_orders"); n != 1 {
		t.Errorf("%d work orders, want 1", n)
	}

	// The same rating again is recognised: 200 and the same order.
	var res evalResult
	if st, body := call(t, "POST", c.base+"/api/v1/evaluations", channel, r.evalReq, &res); st != http.StatusOK {
		t.Fatalf("repeated POST /evaluations = %d %s, want 200", st, body)
	}
	if res.WorkOrderID == nil || *res.WorkOrderID != id || !res.Bad {
		t.Errorf("repeated POST /evaluations = %+v, want work_order_id %s", res, id)
	}

	sign(t, c.base, officer, id)
	if n := count(t, db, "SELECT COUNT(*) FROM evaluations"); n != 1 {
		t.Errorf("%d evaluations after the repeat, want 1", n)
	}
}

// prepareDataDir makes a dev data directory the way runDev does before it starts the engine:
// keys, migrated database, demo organisation.
func prepareDataDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	cfg := devConfig(t, dir)
	if err := loadDevSecrets(&cfg, true); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := openDB(ctx, cfg, true)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := db.Close(); err != nil {
			t.Errorf("close the database: %v", err)
		}
	}()
	if err := seedDemo(ctx, db); err != nil {
		t.Fatal(err)
	}
	return dir
}

const orgFile = `{
  "units": [
    {"code": "gd", "name": "广东省政务服务数据管理局", "parent": null, "kind": "administration", "division_code": "440000000", "level": 2},
    {"code": "sz", "name": "深圳市政务服务数据管理局", "parent": "gd", "kind": "administration", "division_code": "440300000", "level": 3},
    {"code": "sz-lh", "name": "龙华区政务服务数据管理局", "parent": "sz", "kind": "administration", "division_code": "440309000", "level": 4},
    {"code": "sz-lh-tax", "name": "龙华区税务局", "parent": "sz-lh", "kind": "department"}
  ],
  "staff": [{"id": "L0001", "name": "陈一", "unit": "sz-lh-tax"}],
  "users": [
    {"login": "lh-officer", "name": "林二", "roles": [{"role": "officer", "unit": "sz-lh-tax"}]}
  ],
  "policies": [
    {"unit": "sz-lh",
     "deadlines": {"sign": {"hours": 24}, "callback": {"working_days": 3},
                   "rectify": {"working_days": 10}, "appeal_decision": {"working_days": 5},
                   "review": {"working_days": 3}, "feedback": {"natural_days": 7}},
     "rating_window": {"natural_days": 7}, "default_level": "basically_satisfied",
     "remind_before": "25%", "reopen_limit": 1}
  ]
}`

// TestImportCommand applies an organisation file through `redress import` twice: the second
// run changes nothing and says so.
func TestImportCommand(t *testing.T) {
	cleanEnv(t)
	dir := prepareDataDir(t)
	file := filepath.Join(t.TempDir(), "org.json")
	if err := os.WriteFile(file, []byte(orgFile), 0o600); err != nil {
		t.Fatal(err)
	}
	first, err := runCLI("import", "--data", dir, file)
	if err != nil {
		t.Fatalf("first import: %v", err)
	}
	for _, want := range []string{"units: 2 created, 0 updated, 2 unchanged", "staff: 1 created", "users: 1 created", "policies: 1 created"} {
		if !strings.Contains(first, want) {
			t.Errorf("first import printed %q, want it to contain %q", first, want)
		}
	}
	if strings.Contains(first, "nothing changed") {
		t.Errorf("first import says nothing changed: %q", first)
	}
	second, err := runCLI("import", "--data", dir, file)
	if err != nil {
		t.Fatalf("second import: %v", err)
	}
	want := "units: 0 created, 0 updated, 4 unchanged; staff: 0 created, 0 updated, 1 unchanged; " +
		"users: 0 created, 0 updated, 1 unchanged (roles: 0 added, 0 removed); policies: 0 created, 0 updated, 1 unchanged\n" +
		"nothing changed\n"
	if second != want {
		t.Errorf("second import printed\n%q\nwant\n%q", second, want)
	}
	// The imported user can be given a token at once.
	tok := token(t, dir, "lh-officer")
	if tok == "" {
		t.Fatal("no token for the imported user")
	}

	if _, err := runCLI("import", "--data", t.TempDir(), file); err == nil {
		t.Error("import into a directory without a database succeeded")
	}
}

// TestTokenCommand: `redress token` signs with the data directory's key and refuses unknown
// users.
func TestTokenCommand(t *testing.T) {
	cleanEnv(t)
	dir := prepareDataDir(t)

	if out, err := runCLI("token", "--data", dir, "--user", "nobody"); err == nil || !strings.Contains(err.Error(), `no user "nobody"`) {
		t.Errorf("token for an unknown user = %q, %v; want error no user", out, err)
	}
	if _, err := runCLI("token", "--data", dir); err == nil {
		t.Error("token without --user succeeded")
	}

	out, err := runCLI("token", "--data", dir, "--user", "ft-officer", "--ttl", "10m")
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimSpace(out)
	var s devSecrets
	b, err := os.ReadFile(secretsPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	cfg := devConfig(t, dir)
	iss, err := auth.NewIssuer(jwtKeyBytes(s.JWTKey), cfg.JWTIssuer, cfg.JWTAudience)
	if err != nil {
		t.Fatal(err)
	}
	c, err := iss.Verify(tok)
	if err != nil {
		t.Fatalf("token does not verify with the data directory's key: %v", err)
	}
	if c.Login != "ft-officer" {
		t.Errorf("token names %q, want ft-officer", c.Login)
	}
	if d := time.Until(c.ExpiresAt); d <= 9*time.Minute || d > 10*time.Minute+time.Second {
		t.Errorf("token expires in %s, want 10m", d)
	}

	// Another directory's key does not verify it.
	other := prepareDataDir(t)
	b, _ = os.ReadFile(secretsPath(other))
	var s2 devSecrets
	_ = json.Unmarshal(b, &s2)
	iss2, err := auth.NewIssuer(jwtKeyBytes(s2.JWTKey), cfg.JWTIssuer, cfg.JWTAudience)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iss2.Verify(tok); err == nil {
		t.Error("token verifies with another data directory's key")
	}
}
