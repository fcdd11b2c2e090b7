package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"redress/authz"
	"redress/config"
	"redress/engine"
	"redress/store"
	"redress/worker"
)

// loadProd reads the environment of a production process and checks what it requires.
func loadProd(needKeys bool) (config.Config, error) {
	cfg, err := config.Load()
	if err != nil {
		return cfg, err
	}
	setupLogging(cfg.LogLevel, true)
	var missing []string
	if cfg.DatabaseURL == "" {
		missing = append(missing, "DATABASE_URL")
	}
	if needKeys {
		for name, v := range map[string]string{"REDRESS_JWT_KEY": cfg.JWTKey, "REDRESS_PII_KEYS": cfg.PIIKeys, "REDRESS_PII_HASH_KEY": cfg.PIIHashKey} {
			if v == "" {
				missing = append(missing, name)
			}
		}
	}
	if len(missing) > 0 {
		return cfg, fmt.Errorf("missing configuration: %s (see the README's configuration table)", strings.Join(missing, ", "))
	}
	return cfg, nil
}

func signalContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

func migrateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "apply the database migrations (DATABASE_URL) and exit",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadProd(false)
			if err != nil {
				return err
			}
			ctx, stop := signalContext()
			defer stop()
			db, err := openDB(ctx, cfg, true)
			if err != nil {
				return err
			}
			defer db.Close() //nolint:errcheck // the command ends here and every write is committed; closing the pool loses nothing if it fails
			v, err := db.Migrate(ctx)
			if err != nil {
				return err
			}
			if err := authz.SeedDefaults(ctx, db.DB); err != nil {
				return err
			}
			slog.Info("database migrated", "version", v)
			return nil
		},
	}
}

func apiCmd() *cobra.Command {
	var withWorker bool
	cmd := &cobra.Command{
		Use:   "api [--worker]",
		Short: "serve the HTTP API and web UI against PostgreSQL and a Temporal cluster",
		Long: `Serves the HTTP API and web UI. With --worker the process also runs a worker (what
'redress worker' runs) on its own Temporal client, so that a bad rating's workflow starts
eagerly: the Temporal server hands the order's first workflow task back to this process in
the start's answer instead of through its matching to some worker's poll.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadProd(true)
			if err != nil {
				return err
			}
			ctx, stop := signalContext()
			defer stop()
			db, err := openDB(ctx, cfg, false)
			if err != nil {
				return err
			}
			defer db.Close() //nolint:errcheck // the command ends here and every write is committed; closing the pool loses nothing if it fails
			if err := db.Ready(ctx); err != nil {
				return err
			}
			// The personal-data keys also encrypt every workflow payload (issue 16 finding 6).
			box, err := openBox(cfg)
			if err != nil {
				return err
			}
			tc, err := engine.Dial(ctx, cfg.TemporalAddress, cfg.TemporalNamespace, prometheus.DefaultRegisterer, box)
			if err != nil {
				return err
			}
			defer tc.Close()
			srv, err := buildAPI(ctx, cfg, db, tc, false)
			if err != nil {
				return err
			}
			if !withWorker {
				slog.Info("redress api listening", "addr", cfg.HTTPAddr)
				return serveAPI(ctx, cfg, srv, nil)
			}
			deps, err := workerDeps(cfg, db, tc)
			if err != nil {
				return err
			}
			slog.Info("redress api listening, with a worker", "addr", cfg.HTTPAddr, "task_queue", cfg.TemporalTaskQueue)
			return serveAndWork(ctx, cfg, srv, deps, nil)
		},
	}
	cmd.Flags().BoolVar(&withWorker, "worker", false, "also run a worker in this process, so that workflow starts are eager")
	return cmd
}

// workerDeps assembles what a production worker runs with.
func workerDeps(cfg config.Config, db *store.DB, tc client.Client) (worker.Deps, error) {
	notifier, err := buildNotifier(cfg, db, false)
	if err != nil {
		return worker.Deps{}, err
	}
	jobs, err := resultsJobs(cfg)
	if err != nil {
		return worker.Deps{}, err
	}
	return worker.Deps{Client: tc, TaskQueue: cfg.TemporalTaskQueue, DB: db, ReconcileEvery: cfg.ReconcileEvery, WorkflowCache: cfg.WorkflowCache, Notify: notifier, Results: jobs}, nil
}

func workerCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "worker",
		Short: "run the Temporal worker (workflows, activities, reconciler)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := loadProd(false)
			if err != nil {
				return err
			}
			ctx, stop := signalContext()
			defer stop()
			db, err := openDB(ctx, cfg, false)
			if err != nil {
				return err
			}
			defer db.Close() //nolint:errcheck // the command ends here and every write is committed; closing the pool loses nothing if it fails
			if err := db.Ready(ctx); err != nil {
				return err
			}
			// The personal-data keys also encrypt every workflow payload (issue 16 finding 6).
			box, err := openBox(cfg)
			if err != nil {
				return err
			}
			tc, err := engine.Dial(ctx, cfg.TemporalAddress, cfg.TemporalNamespace, prometheus.DefaultRegisterer, box)
			if err != nil {
				return err
			}
			defer tc.Close()
			slog.Info("redress worker running", "task_queue", cfg.TemporalTaskQueue)
			deps, err := workerDeps(cfg, db, tc)
			if err != nil {
				return err
			}
			err = worker.Run(ctx, deps)
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
}
