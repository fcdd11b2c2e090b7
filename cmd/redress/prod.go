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

	"redress/authz"
	"redress/config"
	"redress/engine"
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
	return &cobra.Command{
		Use:   "api",
		Short: "serve the HTTP API and web UI against PostgreSQL and a Temporal cluster",
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
			slog.Info("redress api listening", "addr", cfg.HTTPAddr)
			return serveAPI(ctx, cfg, srv, nil)
		},
	}
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
			notifier, err := buildNotifier(cfg, db, false)
			if err != nil {
				return err
			}
			jobs, err := resultsJobs(cfg)
			if err != nil {
				return err
			}
			err = worker.Run(ctx, worker.Deps{Client: tc, TaskQueue: cfg.TemporalTaskQueue, DB: db, ReconcileEvery: cfg.ReconcileEvery, WorkflowCache: cfg.WorkflowCache, Notify: notifier, Results: jobs})
			if errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		},
	}
}
