//go:build !noembed

package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"redress/bench"
	"redress/config"
)

// benchCmd is `redress bench`: the harness that produces BENCHMARKS.md's figures, running this
// very binary as the system under test.
func init() { embeddedCommands = append(embeddedCommands, benchCmd) } // issue 9: the benchmark and reliability harness

func benchCmd() *cobra.Command {
	var (
		work     string
		duration time.Duration
		conc     int
		keep     bool
	)
	opts := func() (bench.Options, func(), error) {
		bin, err := os.Executable()
		if err != nil {
			return bench.Options{}, nil, err
		}
		dir := work
		if dir == "" {
			if dir, err = os.MkdirTemp("", "redress-bench-"); err != nil {
				return bench.Options{}, nil, err
			}
		}
		cleanup := func() {
			if !keep && work == "" {
				_ = os.RemoveAll(dir)
			}
		}
		return bench.Options{Bin: bin, Work: dir, Duration: duration, Conc: conc, Report: &bench.Report{Out: os.Stdout}}, cleanup, nil
	}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "benchmarks and reliability scenarios (see BENCHMARKS.md)",
	}
	cmd.PersistentFlags().StringVar(&work, "work", "", "scratch directory (default: a temporary one, removed afterwards)")
	cmd.PersistentFlags().DurationVar(&duration, "duration", 20*time.Second, "length of each intake measurement")
	cmd.PersistentFlags().IntVar(&conc, "conc", 32, "concurrent clients of the intake measurements")
	cmd.PersistentFlags().BoolVar(&keep, "keep", false, "keep the scratch directory (logs of the processes under test)")

	var (
		inboxRate               int
		inboxFor                time.Duration
		wfOrders, wfConc        int
		ratings, orders         int
		long                    bool
		scaleURL                string
		scaleKeep               bool
		fuzzCount, profBadEvery int
		profileOut, profDB      string
		skipScale, skipRely     bool
	)
	run := func(name string, f func(context.Context, bench.Options) error) *cobra.Command {
		return &cobra.Command{Use: name, RunE: func(c *cobra.Command, _ []string) error {
			o, cleanup, err := opts()
			if err != nil {
				return err
			}
			defer cleanup()
			setupLogging("warn", false)
			ctx, stop := signalContext()
			defer stop()
			fmt.Printf("redress bench %s — %s — %s — load %s\n", name, time.Now().Format("2006-01-02 15:04 MST"), bench.Machine(), bench.Load())
			return f(ctx, o)
		}}
	}
	var intakeDBs, inboxDBs []string
	intakeC := run("intake", func(ctx context.Context, o bench.Options) error { return bench.RunIntake(ctx, o, intakeDBs...) })
	intakeC.Short = "point 1: POST /evaluations and its bulk form, throughput and latency, PostgreSQL and SQLite, against the COPY ceiling"
	intakeC.Flags().StringSliceVar(&intakeDBs, "db", []string{"postgres", "sqlite"}, "databases to measure")
	inboxC := run("inbox", func(ctx context.Context, o bench.Options) error {
		return bench.RunInbox(ctx, o, inboxRate, inboxFor, inboxDBs...)
	})
	inboxC.Short = "point 2: bad rating to the unit's inbox"
	inboxC.Flags().IntVar(&inboxRate, "rate", 50, "bad ratings per second")
	inboxC.Flags().DurationVar(&inboxFor, "for", 30*time.Second, "how long")
	inboxC.Flags().StringSliceVar(&inboxDBs, "db", []string{"postgres", "sqlite"}, "databases to measure")
	wfC := run("workflow", func(ctx context.Context, o bench.Options) error { return bench.RunWorkflow(ctx, o, wfOrders, wfConc) })
	wfC.Short = "point 3: whole work orders per second next to empty workflows on the embedded Temporal server"
	wfC.Flags().IntVar(&wfOrders, "orders", 200, "work orders to drive")
	wfC.Flags().IntVar(&wfConc, "drivers", 16, "concurrent drivers")
	scaleC := run("scale", func(ctx context.Context, o bench.Options) error {
		return bench.RunScale(ctx, o, bench.ScaleOptions{Ratings: ratings, Orders: orders, DatabaseURL: scaleURL, Keep: scaleKeep})
	})
	scaleC.Short = "point 4: inbox, statistics and public results at 10 million ratings and 1 million orders (PostgreSQL)"
	scaleC.Flags().IntVar(&ratings, "ratings", 10_000_000, "ratings to generate")
	scaleC.Flags().IntVar(&orders, "orders", 1_000_000, "work orders to generate")
	scaleC.Flags().StringVar(&scaleURL, "database-url", "", "reuse an already generated database instead of creating one")
	scaleC.Flags().BoolVar(&scaleKeep, "keep-database", false, "do not drop the generated database")
	var topoOrders int
	topoC := run("topology", func(ctx context.Context, o bench.Options) error {
		_, err := bench.Topology(ctx, o, bench.TopologyOptions{Orders: topoOrders, DynamicConfig: "deploy/temporal/dynamicconfig/docker.yaml"})
		return err
	})
	topoC.Short = "the production topology's long form: intake, bad rating to inbox and orders per second with two apis, two workers and Temporal on PostgreSQL (run from the repository root)"
	topoC.Flags().IntVar(&topoOrders, "orders", 40, "orders driven through the whole chain")
	relC := run("reliability", func(ctx context.Context, o bench.Options) error {
		return bench.RunReliability(ctx, o, bench.ReliabilityOptions{Long: long})
	})
	relC.Short = "point 5: kill -9 of dev and of the worker, PostgreSQL restart, Temporal outage, soak"
	relC.Flags().BoolVar(&long, "long", false, "the long form: more kills, a 10-minute soak")
	fuzzC := run("fuzz", func(ctx context.Context, o bench.Options) error { return bench.RunFuzz(ctx, o, fuzzCount) })
	fuzzC.Short = "point 6: hostile input at volume against the public endpoints"
	fuzzC.Flags().IntVar(&fuzzCount, "count", 5000, "requests")
	profC := run("profile", func(ctx context.Context, o bench.Options) error {
		return profileIntake(ctx, o, profDB, profileOut, profBadEvery)
	})
	profC.Short = "CPU profile of intake under load: runs redress dev inside this process with pprof"
	profC.Flags().StringVar(&profileOut, "out", "intake.pprof", "profile file")
	profC.Flags().StringVar(&profDB, "db", "postgres", "postgres or sqlite")
	profC.Flags().IntVar(&profBadEvery, "bad-every", 20, "one rating in this many is bad (1: all, to profile order dispatch)")
	allC := run("all", func(ctx context.Context, o bench.Options) error {
		steps := []struct {
			name string
			f    func() error
			skip bool
		}{
			{"intake", func() error { return bench.RunIntake(ctx, o) }, false},
			{"inbox", func() error { return bench.RunInbox(ctx, o, 50, 30*time.Second) }, false},
			{"workflow", func() error { return bench.RunWorkflow(ctx, o, 200, 16) }, false},
			{"fuzz", func() error { return bench.RunFuzz(ctx, o, 5000) }, false},
			{"redteam", func() error { return bench.RunRedTeam(ctx, o, 10) }, false},
			{"marker", func() error { return bench.RunVersionMarker(ctx, o, 3000, 16, 500) }, false},
			{"reliability", func() error { return bench.RunReliability(ctx, o, bench.ReliabilityOptions{Long: long}) }, skipRely},
			{"scale", func() error {
				return bench.RunScale(ctx, o, bench.ScaleOptions{Ratings: 10_000_000, Orders: 1_000_000})
			}, skipScale},
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
	var rtOrders, mkN, mkConc, mkOrders int
	rtC := run("redteam", func(ctx context.Context, o bench.Options) error { return bench.RunRedTeam(ctx, o, rtOrders) })
	rtC.Short = "issue 16: the red-team reproduction (58 callbacks with the longest notes per order), then statistics and the upstream feed timed"
	rtC.Flags().IntVar(&rtOrders, "orders", 10, "orders attacked at once")
	mkC := run("marker", func(ctx context.Context, o bench.Options) error {
		return bench.RunVersionMarker(ctx, o, mkN, mkConc, mkOrders)
	})
	mkC.Short = "issue 16: cost of the worker-picks-path GetVersion marker on workflow starts, beside the order start rate"
	mkC.Flags().IntVar(&mkN, "workflows", 3000, "workflows measured, every other one with the marker")
	mkC.Flags().IntVar(&mkConc, "starters", 16, "concurrent starts")
	mkC.Flags().IntVar(&mkOrders, "orders", 500, "work orders opened for the order start rate")
	cmd.AddCommand(allC, intakeC, inboxC, wfC, scaleC, relC, topoC, fuzzC, profC, rtC, mkC)
	return cmd
}

// profileIntake runs `redress dev` inside this process (so that one CPU profile covers the
// HTTP layer, intake, the database driver and the embedded engine) and profiles it while the
// intake load of `redress bench intake` runs with one rating in badEvery bad.
func profileIntake(ctx context.Context, o bench.Options, dialect, out string, badEvery int) (err error) {
	cfg, err := config.Load()
	if err != nil {
		return err
	}
	keys := bench.NewKeys()
	if cfg.DataDir, err = os.MkdirTemp(o.Work, "profile-"); err != nil {
		return err
	}
	cfg.DatabaseURL = "sqlite:" + filepath.Join(cfg.DataDir, "redress.db")
	if dialect == "postgres" {
		pg, err := bench.CreateDatabase(ctx, "redress_bench_prof")
		if err != nil {
			return err
		}
		defer pg.Drop() //nolint:errcheck // best effort
		cfg.DatabaseURL = pg.URL
	}
	cfg.HTTPAddr, cfg.TemporalUIPort, cfg.JWTKey, cfg.PIIKeys, cfg.PIIHashKey = "127.0.0.1:0", 0, keys.JWT, keys.PII, keys.PIIHash
	port, err := bench.FreePort()
	if err != nil {
		return err
	}
	dctx, cancel := context.WithCancel(ctx)
	defer cancel()
	addrc, done := make(chan net.Addr, 1), make(chan error, 1)
	go func() { done <- runDev(dctx, cfg, port, true, func(a net.Addr) { addrc <- a }) }()
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a.String()
	case err := <-done:
		return err
	}
	cases, err := bench.SeedCases(ctx, cfg.DatabaseURL, "PC", 20000, nil)
	if err != nil {
		return err
	}
	tok, err := keys.Token("channel")
	if err != nil {
		return err
	}
	bench.IntakeLoad{Base: base, Token: tok, Prefix: "pwarm", Cases: cases, Conc: o.Conc, Duration: 2 * time.Second}.Run(ctx)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer func() {
		// The profile is written as it runs: a failed Close may have lost its end.
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close the profile %s: %w", out, cerr)
		}
	}()
	if err := pprof.StartCPUProfile(f); err != nil {
		return err
	}
	res := bench.IntakeLoad{Base: base, Token: tok, Prefix: "prof", Cases: cases, BadEvery: badEvery, Conc: o.Conc, Duration: o.Duration}.Run(ctx)
	pprof.StopCPUProfile()
	o.Report.Add("profile %s: %.0f ratings/s in-process (harness and server share the CPUs), p50 %.1f ms p99 %.1f ms; profile in %s (go tool pprof -top %s)",
		dialect, res.Rate(), float64(bench.Percentile(res.Latencies, 50))/1e6, float64(bench.Percentile(res.Latencies, 99))/1e6, out, out)
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("redress dev under the profile: %w", err)
	}
	return nil
}
