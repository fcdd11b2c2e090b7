package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"redress/config"
	"redress/store"
)

func rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "redress",
		Short:         "好差评 bad-review redress: intake, work orders, deadlines, supervision",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(apiCmd(), workerCmd(), migrateCmd(), importCmd(), tokenCmd(), calendarCmd())
	root.AddCommand(piiCmd()) // issue 4: personal-data key rotation
	for _, c := range embeddedCommands {
		root.AddCommand(c())
	}
	return root
}

// embeddedCommands are the commands that carry the embedded Temporal server (`redress dev`),
// registered by their files. The production build (`go build -tags noembed`, as the Dockerfile
// builds it) leaves those files out, and with them the server module and its cloud clients:
// `redress api` and `redress worker` never use them. The benchmark harness is a command of its
// own (cmd/redress-bench) that drives a redress binary; no build of redress links it.
var embeddedCommands []func() *cobra.Command

// dbFlags are the flags of the administrator's tools that name the database: --data for
// `redress dev`'s SQLite file, --database-url (or DATABASE_URL) for PostgreSQL.
type dbFlags struct {
	data, databaseURL string
}

func (f *dbFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.data, "data", "", "data directory of redress dev (env REDRESS_DATA, default ./redress-data)")
	cmd.Flags().StringVar(&f.databaseURL, "database-url", "", "database URL (env DATABASE_URL); overrides --data")
}

// resolve fills the configuration's database from the flags: flag, then environment, then
// the SQLite file of the data directory.
func (f *dbFlags) resolve(cfg *config.Config) {
	if f.data != "" {
		cfg.DataDir = f.data
	}
	if f.databaseURL != "" {
		cfg.DatabaseURL = f.databaseURL
	}
	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL = "sqlite:" + filepath.Join(cfg.DataDir, "redress.db")
	}
}

// openDB opens and migrates the database named by the configuration. SQLite is migrated on
// open (dev); PostgreSQL must have been migrated by `redress migrate`.
func openDB(ctx context.Context, cfg config.Config, migrate bool) (*store.DB, error) {
	if strings.HasPrefix(cfg.DatabaseURL, "sqlite:") {
		if _, err := os.Stat(strings.TrimPrefix(cfg.DatabaseURL, "sqlite:")); errors.Is(err, os.ErrNotExist) && !migrate {
			return nil, fmt.Errorf("no database at %s: start `redress dev` first or pass --database-url", cfg.DatabaseURL)
		}
	}
	db, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	if migrate {
		v, err := db.Migrate(ctx)
		if err != nil {
			return nil, errors.Join(err, db.Close())
		}
		slog.Debug("schema migrated", "version", v)
	}
	return db, nil
}

func setupLogging(level string, json bool) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	opts := &slog.HandlerOptions{Level: l}
	var h slog.Handler = slog.NewTextHandler(os.Stderr, opts)
	if json {
		h = slog.NewJSONHandler(os.Stderr, opts)
	}
	slog.SetDefault(slog.New(h))
}
