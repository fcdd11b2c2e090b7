//go:build !noembed

package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"redress/calendar/calendardb"
	"redress/config"
	"redress/devserver"
	"redress/engine"
	"redress/models"
	"redress/orgfile"
	"redress/store"
	"redress/worker"
)

func init() { embeddedCommands = append(embeddedCommands, devCmd) } // the embedded default

func devCmd() *cobra.Command {
	var (
		dbf          dbFlags
		httpAddr     string
		temporalPort int
		noDemo       bool
		pprofAddr    string
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "run everything in one process: embedded Temporal and database, worker, API and web UI",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load()
			if err != nil {
				return err
			}
			dbf.resolve(&cfg)
			if httpAddr != "" {
				cfg.HTTPAddr = httpAddr
			}
			setupLogging(cfg.LogLevel, false)
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if pprofAddr != "" {
				a, err := servePprof(ctx, pprofAddr)
				if err != nil {
					return err
				}
				slog.Info("profiler serving", "addr", a.String())
			}
			return runDev(ctx, cfg, temporalPort, !noDemo, nil)
		},
	}
	dbf.add(cmd)
	cmd.Flags().StringVar(&httpAddr, "http", "", "listen address of the API and web UI (env REDRESS_HTTP_ADDR, default 127.0.0.1:8080)")
	cmd.Flags().IntVar(&temporalPort, "temporal-port", 7233, "port of the embedded Temporal frontend")
	cmd.Flags().BoolVar(&noDemo, "no-demo", false, "do not seed the demo organisation on first start")
	cmd.Flags().StringVar(&pprofAddr, "pprof", "", "serve Go's profiler (/debug/pprof/) on this address, e.g. 127.0.0.1:6060 (redress-bench profile uses it); off by default")
	return cmd
}

// runDev runs the all-in-one process until ctx ends. ready, if set, is told the HTTP address
// once everything serves (tests use it).
func runDev(ctx context.Context, cfg config.Config, temporalPort int, demo bool, ready func(net.Addr)) error {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	if err := loadDevSecrets(&cfg, true); err != nil {
		return err
	}
	db, err := openDB(ctx, cfg, true)
	if err != nil {
		return err
	}
	defer db.Close() //nolint:errcheck // the command ends here and every write is committed; closing the pool loses nothing if it fails
	if demo {
		if err := seedDemo(ctx, db); err != nil {
			return err
		}
	}
	if _, err := calendardb.EnsureShipped(ctx, db); err != nil {
		return err
	}

	// The SDK's workflow cache is one per process, sized when its first worker starts: here
	// that is one of the embedded server's own workers, so the size is set before the server.
	worker.SetWorkflowCache(cfg.WorkflowCache)
	uiPort := cfg.TemporalUIPort
	ts, err := devserver.Start(devserver.Options{
		DatabaseFile: filepath.Join(cfg.DataDir, "temporal.db"),
		FrontendPort: temporalPort,
		UIPort:       uiPort,
		Namespace:    cfg.TemporalNamespace,
		// Payloads are encrypted (issue 16 finding 6): the UI asks the API to decode them.
		CodecEndpoint: devCodecEndpoint(cfg.HTTPAddr),
	})
	if err != nil {
		return err
	}
	defer ts.Stop()

	box, err := openBox(cfg)
	if err != nil {
		return err
	}
	tc, err := engine.Dial(ctx, ts.FrontendAddr, cfg.TemporalNamespace, prometheus.DefaultRegisterer, box)
	if err != nil {
		return err
	}
	defer tc.Close()

	demoOrg, err := hasDemoOrganisation(ctx, db)
	if err != nil {
		return err
	}
	signIn, why := demoSignIn(cfg.HTTPAddr, demo, demoOrg)
	if signIn {
		fmt.Fprintln(os.Stderr, "\n  WARNING: password-less demo sign-in is on: anyone who reaches "+cfg.HTTPAddr+" may sign in as a demo user.\n  It is only for trying redress out on this machine (demo organisation, loopback address).")
		slog.Warn("password-less demo sign-in is on", "addr", cfg.HTTPAddr)
	} else {
		slog.Info("password-less demo sign-in is off", "why", why)
	}
	if ts.UIAddr != "" && cfg.TemporalUIOrigins == "" {
		cfg.TemporalUIOrigins = "http://" + ts.UIAddr // the embedded UI may call the codec endpoint
	}
	srv, err := buildAPI(ctx, cfg, db, tc, signIn)
	if err != nil {
		return err
	}

	notifier, err := buildNotifier(cfg, db, true)
	if err != nil {
		return err
	}
	jobs, err := resultsJobs(cfg)
	if err != nil {
		return err
	}
	deps := worker.Deps{Client: tc, TaskQueue: cfg.TemporalTaskQueue, DB: db, ReconcileEvery: cfg.ReconcileEvery, WorkflowCache: cfg.WorkflowCache, Notify: notifier, Results: jobs}
	err = serveAndWork(ctx, cfg, srv, deps, func(a net.Addr) {
		slog.Info("redress dev is up",
			"web", "http://"+a.String()+"/",
			"api", "http://"+a.String()+"/api/v1",
			"temporal", ts.FrontendAddr,
			"temporal_ui", uiURL(ts.UIAddr),
			"data", cfg.DataDir)
		fmt.Fprintf(os.Stderr, "\n  Web UI:       http://%s/\n  Temporal UI:  %s\n  Workflows:    temporal workflow list --address %s --namespace %s\n\n",
			a, uiURL(ts.UIAddr), ts.FrontendAddr, cfg.TemporalNamespace)
		if ready != nil {
			ready(a)
		}
	})
	slog.Info("redress dev stopped")
	return err
}

// devCodecEndpoint is the codec endpoint of the API on httpAddr as the embedded UI's browser
// reaches it; none when the port is only chosen at listening (tests).
func devCodecEndpoint(httpAddr string) string {
	host, port, err := net.SplitHostPort(httpAddr)
	if err != nil || port == "0" {
		return ""
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/api/v1/system/temporal-codec"
}

// demoSignIn decides whether redress dev offers the password-less demo sign-in: only with the
// demo organisation (not --no-demo, not a real organisation imported into the data
// directory) and only on a loopback address, where nobody but this machine's user reaches it.
// It answers why not otherwise.
func demoSignIn(httpAddr string, demo, demoOrg bool) (bool, string) {
	switch {
	case !demo:
		return false, "--no-demo"
	case !demoOrg:
		return false, "the database holds no demo organisation"
	case !loopbackAddr(httpAddr):
		return false, "the --http address " + httpAddr + " is not a loopback address"
	}
	return true, ""
}

// loopbackAddr reports whether host:port names a loopback interface only ("localhost",
// 127.0.0.0/8, ::1); an empty host or 0.0.0.0 listens on every interface.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// hasDemoOrganisation reports whether the database's root units are the demo organisation's.
func hasDemoOrganisation(ctx context.Context, db *store.DB) (bool, error) {
	demo := orgfile.Demo()
	want := map[string]string{}
	for _, u := range demo.Units {
		want[u.Code] = u.Name
	}
	var units []models.Unit
	if err := db.WithContext(ctx).Where("parent_id IS NULL").Find(&units).Error; err != nil {
		return false, fmt.Errorf("look for the demo organisation: %w", err)
	}
	if len(units) == 0 {
		return false, nil
	}
	for _, u := range units {
		if name, ok := want[u.Code]; !ok || name != u.Name {
			return false, nil
		}
	}
	return true, nil
}

func uiURL(addr string) string {
	if addr == "" {
		return "(disabled)"
	}
	return "http://" + addr + "/"
}

// seedDemo applies the demo organisation when the database has no units yet (first start).
func seedDemo(ctx context.Context, db *store.DB) error {
	var n int64
	if err := db.WithContext(ctx).Model(&models.Unit{}).Count(&n).Error; err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	if n > 0 {
		return nil
	}
	sum, err := orgfile.Apply(ctx, db, orgfile.Demo())
	if err != nil {
		return fmt.Errorf("seed demo: %w", err)
	}
	slog.Info("demo organisation seeded", "summary", sum.String())
	return nil
}
