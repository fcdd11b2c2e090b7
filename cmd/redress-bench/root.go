package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"redress/bench"
)

// rootCmd is `redress-bench`: the sub-commands and flags `redress bench` had before the
// harness left the product's binary (issue 20), plus --redress, the binary it drives, and
// --pg-bin, the server binaries of its private PostgreSQL.
func rootCmd() *cobra.Command {
	var (
		redress, pgBin        string
		vegeta                string
		work                  string
		duration              time.Duration
		conc                  int
		keep, checkpointFirst bool
	)
	// opts resolves the run's options: the binary under test and the scratch directory
	// (removed afterwards unless kept or given).
	opts := func(ctx context.Context, needsDev bool) (bench.Options, func(), error) {
		self, _ := os.Executable() // "" only leaves the look-up next to it out
		bin, err := findRedress(redress, self)
		if err != nil {
			return bench.Options{}, nil, err
		}
		if needsDev {
			if err := checkDev(ctx, bin); err != nil {
				return bench.Options{}, nil, err
			}
		}
		dir := work
		if dir == "" {
			if dir, err = os.MkdirTemp("", "redress-bench-"); err != nil {
				return bench.Options{}, nil, err
			}
		}
		cleanup := func() {
			if !keep && work == "" {
				_ = os.RemoveAll(dir) // a scratch directory left behind harms nothing
			}
		}
		return bench.Options{Bin: bin, Work: dir, Duration: duration, Conc: conc, PGBin: pgBin, Vegeta: vegeta, CheckpointFirst: checkpointFirst, Report: &bench.Report{Out: os.Stdout}}, cleanup, nil
	}
	cmd := &cobra.Command{
		Use:           "redress-bench",
		Short:         "benchmarks and reliability scenarios of a redress binary (see BENCHMARKS.md)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	cmd.PersistentFlags().StringVar(&redress, "redress", "", "the redress binary under test (default: redress next to this executable, else on PATH)")
	cmd.PersistentFlags().StringVar(&pgBin, "pg-bin", "", "directory of the PostgreSQL server binaries (initdb, pg_ctl) for the reliability scenarios' private cluster (default: the newest under /usr/lib/postgresql)")
	cmd.PersistentFlags().StringVar(&vegeta, "vegeta", "", "the vegeta binary confirming the intake figures (default: on PATH, else built with go install "+bench.VegetaModule+")")
	cmd.PersistentFlags().StringVar(&work, "work", "", "scratch directory (default: a temporary one, removed afterwards)")
	cmd.PersistentFlags().DurationVar(&duration, "duration", 20*time.Second, "length of each intake measurement")
	cmd.PersistentFlags().IntVar(&conc, "conc", 32, "concurrent clients of the intake measurements")
	cmd.PersistentFlags().BoolVar(&checkpointFirst, "checkpoint-first", true, "on PostgreSQL, start every measured turn of the intake point (each form's, vegeta's, each floor's) and the inbox point's run right after a CHECKPOINT, so that none meets one of PostgreSQL's timed checkpoints; each turn's line says how many began in it either way")
	cmd.PersistentFlags().BoolVar(&keep, "keep", false, "keep the scratch directory (logs of the processes under test)")

	var (
		inboxRate                          int
		inboxFor                           time.Duration
		wfOrders, wfConc                   int
		ratings, orders                    int
		long                               bool
		scaleURL                           string
		scaleKeep                          bool
		rollupLimit                        time.Duration
		fuzzCount, profBadEvery, profCases int
		profileOut, profDB                 string
		skipScale, skipRely                bool
		skipProd                           bool
	)
	// The production topology's figures are taken with the sizes of the dev ones (points 2, 3).
	prodDefaults := bench.ProductionOptions{InboxRate: 50, InboxFor: 30 * time.Second, Orders: 200, Drivers: 16,
		DynamicConfig: "deploy/temporal/dynamicconfig/docker.yaml"}
	// run makes a sub-command; needsDev: it runs `redress dev` (all but topology, which runs
	// the production processes and works with the production build too).
	run := func(name string, needsDev bool, f func(context.Context, bench.Options) error) *cobra.Command {
		return &cobra.Command{Use: name, RunE: func(c *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			o, cleanup, err := opts(ctx, needsDev)
			if err != nil {
				return err
			}
			defer cleanup()
			slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
			fmt.Printf("redress-bench %s — %s — %s — load %s — %s\n", name, time.Now().Format("2006-01-02 15:04 MST"), bench.Machine(), bench.Load(), o.Bin)
			return f(ctx, o)
		}}
	}
	var intakeDBs, inboxDBs []string
	intakeC := run("intake", true, func(ctx context.Context, o bench.Options) error { return bench.RunIntake(ctx, o, intakeDBs...) })
	intakeC.Short = "point 1: POST /evaluations and its bulk form, throughput and latency, PostgreSQL and SQLite, against pgbench's INSERT floor and the COPY ceiling, confirmed by vegeta"
	intakeC.Flags().StringSliceVar(&intakeDBs, "db", []string{"postgres", "sqlite"}, "databases to measure")
	inboxC := run("inbox", true, func(ctx context.Context, o bench.Options) error {
		return bench.RunInbox(ctx, o, inboxRate, inboxFor, inboxDBs...)
	})
	inboxC.Short = "point 2: bad rating to the unit's inbox"
	inboxC.Flags().IntVar(&inboxRate, "rate", 50, "bad ratings per second")
	inboxC.Flags().DurationVar(&inboxFor, "for", 30*time.Second, "how long")
	inboxC.Flags().StringSliceVar(&inboxDBs, "db", []string{"postgres", "sqlite"}, "databases to measure")
	wfC := run("workflow", true, func(ctx context.Context, o bench.Options) error { return bench.RunWorkflow(ctx, o, wfOrders, wfConc) })
	wfC.Short = "point 3: whole work orders per second next to empty workflows on the embedded Temporal server"
	wfC.Flags().IntVar(&wfOrders, "orders", 200, "work orders to drive")
	wfC.Flags().IntVar(&wfConc, "drivers", 16, "concurrent drivers")
	scaleC := run("scale", true, func(ctx context.Context, o bench.Options) error {
		return bench.RunScale(ctx, o, bench.ScaleOptions{Ratings: ratings, Orders: orders, DatabaseURL: scaleURL, Keep: scaleKeep, RollupLimit: rollupLimit})
	})
	scaleC.Short = "point 4: inbox, statistics and public results at 10 million ratings and 1 million orders (PostgreSQL)"
	scaleC.Flags().IntVar(&ratings, "ratings", 10_000_000, "ratings to generate")
	scaleC.Flags().IntVar(&orders, "orders", 1_000_000, "work orders to generate")
	scaleC.Flags().StringVar(&scaleURL, "database-url", "", "reuse an already generated database instead of creating one")
	scaleC.Flags().BoolVar(&scaleKeep, "keep-database", false, "do not drop the generated database")
	scaleC.Flags().DurationVar(&rollupLimit, "rollup-limit", 90*time.Minute, "how long to wait for the first statistics pass over the generated year")
	prodOpts := prodDefaults
	prodC := run("production", false, func(ctx context.Context, o bench.Options) error { return bench.RunProduction(ctx, o, prodOpts) })
	prodC.Short = "points 1–3 on the production topology: redress api and redress worker as separate processes, Temporal server on PostgreSQL (run from the repository root)"
	prodC.Flags().IntVar(&prodOpts.InboxRate, "rate", prodDefaults.InboxRate, "bad ratings per second of the inbox measurement")
	prodC.Flags().DurationVar(&prodOpts.InboxFor, "for", prodDefaults.InboxFor, "how long the inbox measurement runs")
	prodC.Flags().IntVar(&prodOpts.Orders, "orders", prodDefaults.Orders, "work orders driven through every stage")
	prodC.Flags().IntVar(&prodOpts.Drivers, "drivers", prodDefaults.Drivers, "concurrent drivers")
	var topoOrders int
	topoC := run("topology", false, func(ctx context.Context, o bench.Options) error {
		_, err := bench.Topology(ctx, o, bench.TopologyOptions{Orders: topoOrders, DynamicConfig: "deploy/temporal/dynamicconfig/docker.yaml"})
		return err
	})
	topoC.Short = "the production topology's long form: intake, bad rating to inbox and orders per second with two apis, two workers and Temporal on PostgreSQL (run from the repository root)"
	topoC.Flags().IntVar(&topoOrders, "orders", 40, "orders driven through the whole chain")
	relC := run("reliability", true, func(ctx context.Context, o bench.Options) error {
		return bench.RunReliability(ctx, o, bench.ReliabilityOptions{Long: long})
	})
	relC.Short = "point 5: kill -9 of dev and of the worker, PostgreSQL restart (on a private cluster of its own), Temporal outage, soak"
	relC.Flags().BoolVar(&long, "long", false, "the long form: more kills, a 10-minute soak")
	fuzzC := run("fuzz", true, func(ctx context.Context, o bench.Options) error { return bench.RunFuzz(ctx, o, fuzzCount) })
	fuzzC.Short = "point 6: hostile input at volume against the public endpoints"
	fuzzC.Flags().IntVar(&fuzzCount, "count", 5000, "requests")
	profC := run("profile", true, func(ctx context.Context, o bench.Options) error {
		return bench.RunProfile(ctx, o, profDB, profileOut, profBadEvery, profCases)
	})
	profC.Short = "CPU profile of intake under load: of the redress dev it drives, through its profiler (redress dev --pprof)"
	profC.Flags().StringVar(&profileOut, "out", "intake.pprof", "profile file")
	profC.Flags().StringVar(&profDB, "db", "postgres", "postgres or sqlite")
	profC.Flags().IntVar(&profBadEvery, "bad-every", 20, "one rating in this many is bad (1: all, to profile order dispatch)")
	profC.Flags().IntVar(&profCases, "cases", 20000, "service cases seeded before the load (the intake point seeds about a million)")
	allC := run("all", true, func(ctx context.Context, o bench.Options) error {
		steps := []struct {
			name string
			f    func() error
			skip bool
		}{
			{"intake", func() error { return bench.RunIntake(ctx, o) }, false},
			{"inbox", func() error { return bench.RunInbox(ctx, o, 50, 30*time.Second) }, false},
			{"workflow", func() error { return bench.RunWorkflow(ctx, o, 200, 16) }, false},
			{"production", func() error { return bench.RunProduction(ctx, o, prodDefaults) }, skipProd},
			{"fuzz", func() error { return bench.RunFuzz(ctx, o, 5000) }, false},
			{"redteam", func() error { return bench.RunRedTeam(ctx, o, 10) }, false},
			{"marker", func() error { return bench.RunVersionMarker(ctx, o, 3000, 16, 500) }, false},
			{"reliability", func() error { return bench.RunReliability(ctx, o, bench.ReliabilityOptions{Long: long}) }, skipRely},
			{"scale", func() error {
				return bench.RunScale(ctx, o, bench.ScaleOptions{Ratings: 10_000_000, Orders: 1_000_000})
			}, skipScale},
		}
		if !skipProd {
			// Said before the first point, not forty minutes in when the production point
			// builds its server.
			if _, err := bench.TemporalModule(ctx); err != nil {
				return err
			}
		}
		var failed []string
		for _, s := range steps {
			if s.skip {
				continue
			}
			if err := s.f(); err != nil {
				fmt.Printf("%s FAILED: %v\n", s.name, err)
				failed = append(failed, s.name)
			}
		}
		if len(failed) > 0 {
			return fmt.Errorf("failed: %v", failed)
		}
		return nil
	})
	allC.Short = "every benchmark and the long reliability scenarios"
	allC.Flags().BoolVar(&long, "long", true, "long reliability form")
	allC.Flags().BoolVar(&skipScale, "skip-scale", false, "leave out the 10-million-rating scale test")
	allC.Flags().BoolVar(&skipRely, "skip-reliability", false, "leave out the reliability scenarios")
	allC.Flags().BoolVar(&skipProd, "skip-production", false, "leave out the production topology's figures (they build the Temporal server)")
	var rtOrders, mkN, mkConc, mkOrders int
	rtC := run("redteam", true, func(ctx context.Context, o bench.Options) error { return bench.RunRedTeam(ctx, o, rtOrders) })
	rtC.Short = "issue 16: the red-team reproduction (58 callbacks with the longest notes per order), then statistics and the upstream feed timed"
	rtC.Flags().IntVar(&rtOrders, "orders", 10, "orders attacked at once")
	mkC := run("marker", true, func(ctx context.Context, o bench.Options) error {
		return bench.RunVersionMarker(ctx, o, mkN, mkConc, mkOrders)
	})
	mkC.Short = "issue 16: cost of the worker-picks-path GetVersion marker on workflow starts, beside the order start rate"
	mkC.Flags().IntVar(&mkN, "workflows", 3000, "workflows measured, every other one with the marker")
	mkC.Flags().IntVar(&mkConc, "starters", 16, "concurrent starts")
	mkC.Flags().IntVar(&mkOrders, "orders", 500, "work orders opened for the order start rate")
	cmd.AddCommand(allC, intakeC, inboxC, wfC, prodC, scaleC, relC, topoC, fuzzC, profC, rtC, mkC)
	return cmd
}
