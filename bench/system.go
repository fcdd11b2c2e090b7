package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for the admin connection
	"go.temporal.io/sdk/client"

	"redress/auth"
	"redress/calendar/calendardb"
	"redress/orgfile"
	"redress/payloadcodec"
	"redress/pii"
	"redress/store"
)

// Keys are the deployment keys every process of one system under test shares, so that the
// harness can sign tokens itself and every process reads the same personal data.
type Keys struct {
	JWT, PII, PIIHash string
}

// NewKeys makes fresh keys.
func NewKeys() Keys {
	var k [32]byte
	_, _ = rand.Read(k[:])
	spec, hash := pii.NewKeySpec("bench1")
	return Keys{JWT: base64.StdEncoding.EncodeToString(k[:]), PII: spec, PIIHash: hash}
}

// dialTemporal connects to the system's Temporal frontend (namespace default) with the payload
// codec of the system's keys, as every redress process does: payloads it writes are encrypted
// and those the system wrote can be read.
func dialTemporal(ctx context.Context, addr string, k Keys) (client.Client, error) {
	box, err := pii.ParseKeys(k.PII, k.PIIHash)
	if err != nil {
		return nil, fmt.Errorf("bench keys: %w", err)
	}
	dc, err := payloadcodec.DataConverter(box)
	if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, client.Options{HostPort: addr, Namespace: "default", Logger: quietLogger{},
		DataConverter: dc, FailureConverter: payloadcodec.FailureConverter(dc)})
	if err != nil {
		return nil, fmt.Errorf("dial temporal %s: %w", addr, err)
	}
	return c, nil
}

// Token signs a bearer token for login the way `redress token` does.
func (k Keys) Token(login string) (string, error) {
	key, _ := base64.StdEncoding.DecodeString(k.JWT)
	iss, err := auth.NewIssuer(key, "redress", "redress-api")
	if err != nil {
		return "", err
	}
	tok, _, err := iss.Issue(login, 24*time.Hour)
	return tok, err
}

// env is the environment of a child process: the caller's, without anything that could point
// it at another database or Temporal, plus the system's settings.
func (k Keys) env(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "REDRESS_") || strings.HasPrefix(name, "TEMPORAL_") || name == "DATABASE_URL" {
			continue
		}
		out = append(out, kv)
	}
	out = append(out,
		"REDRESS_JWT_KEY="+k.JWT, "REDRESS_PII_KEYS="+k.PII, "REDRESS_PII_HASH_KEY="+k.PIIHash,
		"REDRESS_LOG_LEVEL=warn", "REDRESS_RECONCILE_EVERY=1s", "TEMPORAL_UI_PORT=0")
	return append(out, extra...)
}

// Proc is one redress process started by the harness.
type Proc struct {
	Name   string
	Base   string // http://host:port of its API ("" for a worker)
	cmd    *exec.Cmd
	exited chan struct{}
	Log    string
}

// StartProc runs bin with args and env; when httpAddr is set it waits until /readyz answers 200.
func StartProc(ctx context.Context, name, bin string, args, env []string, logDir, httpAddr string) (*Proc, error) {
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		return nil, err
	}
	logFile := filepath.Join(logDir, fmt.Sprintf("%s-%d.log", name, time.Now().UnixNano()))
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // the child writes through its own descriptor
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	// Its own process group: a harness interrupted by Ctrl-C does not take the system down
	// mid-measurement, and Kill reaches only this process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Proc{Name: name, cmd: cmd, exited: make(chan struct{}), Log: logFile}
	go func() { _ = cmd.Wait(); close(p.exited) }()
	if httpAddr == "" {
		return p, nil
	}
	p.Base = "http://" + httpAddr
	if err := p.waitReady(ctx, 90*time.Second); err != nil {
		p.Kill()
		return nil, err
	}
	return p, nil
}

func (p *Proc) waitReady(ctx context.Context, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before it was ready (%v); log %s: %s", p.Name, p.cmd.ProcessState, p.Log, tail(p.Log))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := http.Get(p.Base + "/readyz")
		if err == nil {
			_ = resp.Body.Close() // only the status matters
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("%s not ready within %s; log: %s", p.Name, limit, tail(p.Log))
}

// Kill sends SIGKILL and waits until the process is gone.
func (p *Proc) Kill() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.exited
}

// Stop sends SIGTERM and waits up to 20 s, then kills.
func (p *Proc) Stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	_ = syscall.Kill(p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.Kill()
	}
}

// KilledBySIGKILL reports whether the process ended by SIGKILL.
func (p *Proc) KilledBySIGKILL() bool {
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

func tail(file string) string {
	b, _ := os.ReadFile(file)
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return string(b)
}

// FreeAddr returns a free 127.0.0.1 address below the kernel's ephemeral range: the process
// under test binds it later, and the embedded Temporal server picks its internal ports from
// the ephemeral range (port 0) in between, so a port from there could be taken by then.
func FreeAddr() (string, error) {
	for range 100 {
		addr := fmt.Sprintf("127.0.0.1:%d", 20000+mathrand.IntN(12000))
		l, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		_ = l.Close() // the listener only proved the port free
		return addr, nil
	}
	return "", errors.New("no free port in 20000–32000")
}

// FreePort returns a free 127.0.0.1 port.
func FreePort() (int, error) {
	a, err := FreeAddr()
	if err != nil {
		return 0, err
	}
	_, p, _ := net.SplitHostPort(a)
	return strconv.Atoi(p)
}

// DevOptions describe one `redress dev` under test.
type DevOptions struct {
	Bin          string
	Data         string // data directory
	DatabaseURL  string // empty: the embedded SQLite
	HTTPAddr     string // fixed across restarts
	TemporalPort int    // fixed across restarts
	Keys         Keys
	LogDir       string
	Env          []string // more NAME=value for the process
	Pprof        string   // address of the process's profiler (redress dev --pprof); "": none
}

// NewDevOptions fills the addresses and keys of a dev system in dir.
func NewDevOptions(bin, dir, databaseURL string) (DevOptions, error) {
	addr, err := FreeAddr()
	if err != nil {
		return DevOptions{}, err
	}
	port, err := FreePort()
	if err != nil {
		return DevOptions{}, err
	}
	return DevOptions{Bin: bin, Data: filepath.Join(dir, "data"), DatabaseURL: databaseURL, HTTPAddr: addr,
		TemporalPort: port, Keys: NewKeys(), LogDir: filepath.Join(dir, "logs")}, nil
}

// StartDev runs `redress dev` and waits until it is ready.
func StartDev(ctx context.Context, o DevOptions) (*Proc, error) {
	args := []string{"dev", "--data", o.Data, "--http", o.HTTPAddr, "--temporal-port", strconv.Itoa(o.TemporalPort)}
	if o.DatabaseURL != "" {
		args = append(args, "--database-url", o.DatabaseURL)
	}
	if o.Pprof != "" {
		args = append(args, "--pprof", o.Pprof)
	}
	return StartProc(ctx, "dev", o.Bin, args, o.Keys.env(o.Env...), o.LogDir, o.HTTPAddr)
}

// ProdOptions describe `redress api` and `redress worker` processes against PostgreSQL and a
// Temporal frontend.
type ProdOptions struct {
	Bin, DatabaseURL, TemporalAddr, HTTPAddr, LogDir string
	Keys                                             Keys
	// APIWorker runs the api process with both roles (`redress api --worker`), so that its
	// workflow starts are eager.
	APIWorker bool
}

func (o ProdOptions) env() []string {
	return o.Keys.env("DATABASE_URL="+o.DatabaseURL, "TEMPORAL_ADDRESS="+o.TemporalAddr, "REDRESS_HTTP_ADDR="+o.HTTPAddr)
}

// Migrate runs `redress migrate`, then seeds the demo organisation and the shipped calendars
// the way `redress dev` does on first start.
func (o ProdOptions) Migrate(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, o.Bin, "migrate")
	cmd.Env = o.env()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("redress migrate: %w: %s", err, out)
	}
	return SeedDemo(ctx, o.DatabaseURL)
}

// SeedDemo applies the demo organisation and the shipped calendars to a migrated database.
func SeedDemo(ctx context.Context, databaseURL string) error {
	db, err := store.Open(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // reads, or writes already committed: a close error loses nothing
	if _, err := orgfile.Apply(ctx, db, orgfile.Demo()); err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	if _, err := calendardb.EnsureShipped(ctx, db); err != nil {
		return fmt.Errorf("seed calendars: %w", err)
	}
	return nil
}

// StartAPI runs `redress api`.
func (o ProdOptions) StartAPI(ctx context.Context) (*Proc, error) {
	args := []string{"api"}
	if o.APIWorker {
		args = append(args, "--worker")
	}
	return StartProc(ctx, "api", o.Bin, args, o.env(), o.LogDir, o.HTTPAddr)
}

// StartWorker runs `redress worker`.
func (o ProdOptions) StartWorker(ctx context.Context) (*Proc, error) {
	return StartProc(ctx, "worker", o.Bin, []string{"worker"}, o.env(), o.LogDir, "")
}

// AdminURL is the PostgreSQL maintenance database the harness creates its databases from
// (env REDRESS_BENCH_POSTGRES, else REDRESS_TEST_POSTGRES, else the CI default).
func AdminURL() string {
	for _, k := range []string{"REDRESS_BENCH_POSTGRES", "REDRESS_TEST_POSTGRES"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// PGDatabase is a database the harness created and drops.
type PGDatabase struct {
	URL   string
	name  string
	admin string
}

// CreateDatabase creates a fresh database named prefix_random on the AdminURL cluster.
func CreateDatabase(ctx context.Context, prefix string) (*PGDatabase, error) {
	return CreateDatabaseOn(ctx, AdminURL(), prefix)
}

// CreateDatabaseOn creates a fresh database named prefix_random on the cluster of admin.
func CreateDatabaseOn(ctx context.Context, admin, prefix string) (*PGDatabase, error) {
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		return nil, err
	}
	defer func() { _ = adb.Close() }() // the admin connection holds no data of its own
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := prefix + "_" + hex.EncodeToString(b[:])
	if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		return nil, fmt.Errorf("create database %s: %w", name, err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		return nil, err
	}
	u.Path = "/" + name
	return &PGDatabase{URL: u.String(), name: name, admin: admin}, nil
}

// PostgresReachable reports whether the admin database answers.
func PostgresReachable(ctx context.Context) error {
	adb, err := sql.Open("pgx", AdminURL())
	if err != nil {
		return err
	}
	defer func() { _ = adb.Close() }() // the admin connection holds no data of its own
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return adb.PingContext(ctx)
}

// Drop drops the database (closing other sessions).
func (d *PGDatabase) Drop() error {
	adb, err := sql.Open("pgx", d.admin)
	if err != nil {
		return err
	}
	defer func() { _ = adb.Close() }() // the admin connection holds no data of its own
	var lastErr error
	for i := 0; i < 10; i++ { // the server may be restarting (the PostgreSQL restart test)
		if _, lastErr = adb.Exec("DROP DATABASE IF EXISTS " + d.name + " WITH (FORCE)"); lastErr == nil {
			return nil
		}
		time.Sleep(time.Second)
	}
	return lastErr
}

// startFreshDev starts `redress dev` on its embedded SQLite in a new directory under o.Work
// (named after prefix) and returns the process, its options and its database URL.
func startFreshDev(ctx context.Context, o Options, prefix string, env ...string) (*Proc, DevOptions, string, error) {
	dir, err := os.MkdirTemp(o.Work, prefix+"-")
	if err != nil {
		return nil, DevOptions{}, "", err
	}
	dev, err := NewDevOptions(o.Bin, dir, "")
	if err != nil {
		return nil, DevOptions{}, "", err
	}
	dev.Env = env
	p, err := StartDev(ctx, dev)
	if err != nil {
		return nil, DevOptions{}, "", err
	}
	return p, dev, "sqlite:" + filepath.Join(dev.Data, "redress.db"), nil
}
