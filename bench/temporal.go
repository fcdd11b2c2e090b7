package bench

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// The production shape of the engine: a Temporal server of its own process whose persistence
// is PostgreSQL, built from the go.temporal.io/server module go.mod already pins (the tool
// directives there), its schemas laid down by the module's own temporal-sql-tool. Nothing is
// downloaded beyond the module proxy and no container runs.

// TemporalTools are the Temporal server binaries and the module's SQL schema directory.
type TemporalTools struct {
	Server, SQLTool string
	// SchemaDir holds postgresql/v12/{temporal,visibility}/versioned.
	SchemaDir string
}

// TemporalModule answers the directory of the go.temporal.io/server module that the go.mod of
// the current directory (or one above it) pins, or an error that says to run the harness from
// the repository root: the production topology builds its Temporal server from that go.mod,
// and a run started elsewhere used to learn so only when it reached the production point,
// in the go command's own words.
func TemporalModule(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "go.temporal.io/server").Output()
	if err != nil {
		wd, _ := os.Getwd()
		return "", fmt.Errorf("the production topology builds the Temporal server from the go.mod of the redress repository: run redress-bench from the repository root (it ran in %s): go list -m go.temporal.io/server: %w", wd, err)
	}
	return strings.TrimSpace(string(out)), nil
}

// BuildTemporalTools builds temporal-server and temporal-sql-tool into dir with the go command
// of the module in the current directory (or one above it) and finds the schema directory in
// the module cache. A second build is a cache hit and takes seconds.
func BuildTemporalTools(ctx context.Context, dir string) (TemporalTools, error) {
	t := TemporalTools{Server: filepath.Join(dir, "temporal-server"), SQLTool: filepath.Join(dir, "temporal-sql-tool")}
	mod, err := TemporalModule(ctx)
	if err != nil {
		return t, err
	}
	for _, b := range []struct{ out, pkg string }{
		{t.Server, "go.temporal.io/server/cmd/server"},
		{t.SQLTool, "go.temporal.io/server/cmd/tools/sql"},
	} {
		cmd := exec.CommandContext(ctx, "go", "build", "-o", b.out, b.pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			return t, fmt.Errorf("build %s: %w: %s", b.pkg, err, out)
		}
	}
	t.SchemaDir = filepath.Join(mod, "schema")
	if _, err := os.Stat(filepath.Join(t.SchemaDir, "postgresql", "v12", "temporal", "versioned")); err != nil {
		return t, fmt.Errorf("temporal schema: %w", err)
	}
	return t, nil
}

// TemporalPG is a running (or stopped) Temporal server on two fresh PostgreSQL databases.
type TemporalPG struct {
	Addr    string // frontend host:port
	tools   TemporalTools
	config  string
	logDir  string
	proc    *Proc
	dbs     []*PGDatabase
	started []time.Time
}

// TemporalPGOptions say where the server's state goes.
type TemporalPGOptions struct {
	Tools  TemporalTools
	Admin  string // PostgreSQL maintenance URL (AdminURL())
	Dir    string // configuration and logs
	Prefix string // database names: prefix_random and prefix_vis_random
	// DynamicConfig is a file of the server's dynamic configuration (the one docker-compose
	// mounts, deploy/temporal/dynamicconfig/docker.yaml); empty writes an empty one.
	DynamicConfig string
}

// StartTemporalPG creates the two databases with temporal-sql-tool (create-database,
// setup-schema -v 0.0, update-schema from the module's versioned directories), writes a
// configuration like the module's config/development-postgres12.yaml on free ports, starts the
// server, registers the namespace "default" and waits until the namespace serves requests.
func StartTemporalPG(ctx context.Context, o TemporalPGOptions) (*TemporalPG, error) {
	u, err := url.Parse(o.Admin)
	if err != nil {
		return nil, fmt.Errorf("admin url: %w", err)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5432"
	}
	user := u.User.Username()
	pass, _ := u.User.Password()
	ts := &TemporalPG{tools: o.Tools, logDir: filepath.Join(o.Dir, "logs")}
	suffix := strconv.FormatInt(time.Now().UnixNano()%1e9, 36)
	names := []string{o.Prefix + "_" + suffix, o.Prefix + "_vis_" + suffix}
	schemas := []string{"temporal", "visibility"}
	for i, name := range names {
		base := []string{"--plugin", "postgres12", "--ep", host, "-p", port, "-u", user, "--db", name}
		if pass != "" {
			base = append(base, "--pw", pass)
		}
		steps := [][]string{
			{"create-database"},
			{"setup-schema", "-v", "0.0"},
			{"update-schema", "-d", filepath.Join(o.Tools.SchemaDir, "postgresql", "v12", schemas[i], "versioned")},
		}
		for _, s := range steps {
			cmd := exec.CommandContext(ctx, o.Tools.SQLTool, append(append([]string{}, base...), s...)...)
			out, err := cmd.CombinedOutput()
			if s[0] == "create-database" && err == nil {
				ts.dbs = append(ts.dbs, &PGDatabase{URL: "", name: name, admin: o.Admin})
			}
			if err != nil {
				ts.Drop()
				return nil, fmt.Errorf("temporal-sql-tool %s %s: %w: %s", name, s[0], err, out)
			}
		}
	}
	ports := make([]int, 9)
	for i := range ports {
		if ports[i], err = FreePort(); err != nil {
			ts.Drop()
			return nil, err
		}
	}
	ts.Addr = hostPort(ports[0])
	dyn := o.DynamicConfig
	if dyn == "" {
		dyn = filepath.Join(o.Dir, "dynamicconfig.yaml")
		if err := os.WriteFile(dyn, []byte("{}\n"), 0o600); err != nil {
			ts.Drop()
			return nil, err
		}
	}
	if dyn, err = filepath.Abs(dyn); err != nil {
		ts.Drop()
		return nil, err
	}
	conf := fmt.Sprintf(temporalConfig, names[0], host+":"+port, user, pass, names[1], ports[0], ports[1], ports[2], ports[3], ports[4], ports[5], ports[6], ports[7], ports[8], ts.Addr, dyn)
	ts.config = filepath.Join(o.Dir, "temporal.yaml")
	if err := os.WriteFile(ts.config, []byte(conf), 0o600); err != nil {
		ts.Drop()
		return nil, err
	}
	if err := ts.Start(ctx); err != nil {
		ts.Drop()
		return nil, err
	}
	if err := ts.registerNamespace(ctx); err != nil {
		ts.Stop()
		ts.Drop()
		return nil, err
	}
	return ts, nil
}

// temporalConfig follows go.temporal.io/server's config/development-postgres12.yaml: one
// process runs all four services, each on its own free port; no archival, no metrics listener,
// no pprof (ports nobody else must take); small connection pools, since the
// shared PostgreSQL also serves the other tests running in parallel.
const temporalConfig = `log:
  stdout: true
  level: warn
persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  numHistoryShards: 4
  datastores:
    postgres-default:
      sql:
        pluginName: postgres12
        databaseName: %q
        connectAddr: %q
        connectProtocol: tcp
        user: %q
        password: %q
        maxConns: 10
        maxIdleConns: 10
        maxConnLifetime: 1h
    postgres-visibility:
      sql:
        pluginName: postgres12
        databaseName: %q
        connectAddr: %[2]q
        connectProtocol: tcp
        user: %[3]q
        password: %[4]q
        maxConns: 2
        maxIdleConns: 2
        maxConnLifetime: 1h
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
services:
  frontend:
    rpc:
      grpcPort: %[6]d
      membershipPort: %d
      httpPort: %d
      bindOnLocalHost: true
  matching:
    rpc:
      grpcPort: %d
      membershipPort: %d
      bindOnLocalHost: true
  history:
    rpc:
      grpcPort: %d
      membershipPort: %d
      bindOnLocalHost: true
  worker:
    rpc:
      grpcPort: %d
      membershipPort: %d
      bindOnLocalHost: true
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: %q
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: %q
  pollInterval: 10s
`

// Start runs the server process and waits until its frontend answers a health check.
func (ts *TemporalPG) Start(ctx context.Context) error {
	p, err := StartProc(ctx, "temporal", ts.tools.Server, []string{"--config-file", ts.config, "--allow-no-auth", "start"}, os.Environ(), ts.logDir, "")
	if err != nil {
		return err
	}
	ts.proc = p
	ts.started = append(ts.started, time.Now())
	deadline := time.Now().Add(2 * time.Minute)
	for {
		c, err := client.DialContext(ctx, client.Options{HostPort: ts.Addr, Logger: quietLogger{}})
		if err == nil {
			_, err = c.CheckHealth(ctx, &client.CheckHealthRequest{})
			c.Close()
			if err == nil {
				return nil
			}
		}
		select {
		case <-p.exited:
			return fmt.Errorf("temporal server exited (%v); log %s: %s", p.cmd.ProcessState, p.Log, tail(p.Log))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("temporal server not healthy within 2m: %v; log %s", err, tail(p.Log))
		}
	}
}

// registerNamespace registers "default" (what ProdOptions' processes use) and waits until a
// namespace-scoped call succeeds: the frontend learns new namespaces from its periodic cache
// refresh, and a worker started before that fails its polls.
func (ts *TemporalPG) registerNamespace(ctx context.Context) error {
	nc, err := client.NewNamespaceClient(client.Options{HostPort: ts.Addr, Logger: quietLogger{}})
	if err != nil {
		return err
	}
	defer nc.Close()
	err = nc.Register(ctx, &workflowservice.RegisterNamespaceRequest{Namespace: "default", WorkflowExecutionRetentionPeriod: durationpb.New(72 * time.Hour)})
	var exists *serviceerror.NamespaceAlreadyExists
	if err != nil && !errors.As(err, &exists) {
		return fmt.Errorf("register namespace: %w", err)
	}
	c, err := client.DialContext(ctx, client.Options{HostPort: ts.Addr, Namespace: "default", Logger: quietLogger{}})
	if err != nil {
		return err
	}
	defer c.Close()
	deadline := time.Now().Add(time.Minute)
	for {
		_, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{})
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("namespace default not served within 1m: %w", err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// Stop stops the server with SIGTERM (SIGKILL after 20 s).
func (ts *TemporalPG) Stop() {
	if ts.proc != nil {
		ts.proc.Stop()
	}
}

// Kill stops the server with SIGKILL.
func (ts *TemporalPG) Kill() {
	if ts.proc != nil {
		ts.proc.Kill()
	}
}

// Restart stops the server and starts it again on the same ports and databases.
func (ts *TemporalPG) Restart(ctx context.Context) error {
	ts.Stop()
	return ts.Start(ctx)
}

// Log is the current server process's log file.
func (ts *TemporalPG) Log() string {
	if ts.proc == nil {
		return ""
	}
	return ts.proc.Log
}

// Drop drops the server's databases (the server must be stopped).
func (ts *TemporalPG) Drop() {
	for _, d := range ts.dbs {
		_ = d.Drop() // best effort: a leftover test database is harmless and named as such
	}
	ts.dbs = nil
}
