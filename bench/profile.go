package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"time"

	"redress/store"
)

// RunProfile takes a CPU profile of `redress dev` (dialect "postgres" or "sqlite") under the
// intake load of RunIntake, with one rating in badEvery bad, and writes it to out (read it with
// `go tool pprof -top out`). The dev process serves its profiler on an address of its own
// (`redress dev --pprof`); the profile covers the measured load only, not the start and the
// warm-up, and the harness's load generator is not in it. cases service cases are seeded
// first: the intake point seeds about a million, and the database's size changes what each
// rating costs PostgreSQL (pages out of its buffers, each written to the WAL in full the first
// time after a checkpoint), so the two are compared at the same size. Beside the profile it
// reports the CPU each part used and, on PostgreSQL, the WAL written per rating.
func RunProfile(ctx context.Context, o Options, dialect, out string, badEvery, cases int) error {
	pprofAddr, err := FreeAddr()
	if err != nil {
		return err
	}
	sys, err := startSystem(ctx, o, dialect, func(d *DevOptions) { d.Pprof = pprofAddr })
	if err != nil {
		return err
	}
	defer sys.Close()
	nos, err := SeedCases(ctx, sys.DBURL, "PC", cases, nil)
	if err != nil {
		return err
	}
	IntakeLoad{Base: sys.Base(), Token: sys.Tokens["channel"], Prefix: "pwarm", Cases: nos, Conc: o.Conc, Duration: 2 * time.Second}.Run(ctx)

	// The profile runs for whole seconds; the load runs as long and starts with it.
	secs := max(1, int(math.Ceil(o.Duration.Seconds())))
	profc := make(chan error, 1)
	go func() {
		profc <- fetchProfile(ctx, "http://"+pprofAddr+fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), out)
	}()
	var walDB *store.DB
	if dialect == "postgres" {
		if walDB, err = store.Open(ctx, sys.DBURL); err != nil {
			return err
		}
		defer func() { _ = walDB.Close() }() // reads
	}
	wal0, walErr := readWAL(ctx, walDB)
	cpu0 := ReadCPU()
	res := IntakeLoad{Base: sys.Base(), Token: sys.Tokens["channel"], Prefix: "prof", Cases: nos, BadEvery: badEvery, Conc: o.Conc, Duration: time.Duration(secs) * time.Second}.Run(ctx)
	cpu := ReadCPU().Since(cpu0, sys.Proc.Pid())
	wal1, walErr1 := readWAL(ctx, walDB)
	if err := <-profc; err != nil {
		return err
	}
	o.Report.Add("profile %s, %d cases: %.0f ratings/s with the profiler on (harness and server share the CPUs), p50 %s p99 %s; %s; profile of redress dev in %s (go tool pprof -top %s)",
		dialect, cases, res.Rate(), ms(Percentile(res.Latencies, 50)), ms(Percentile(res.Latencies, 99)), cpu.PerThousand(res.OK), out, out)
	switch {
	case dialect != "postgres":
	case walErr != nil || walErr1 != nil:
		o.Report.Add("profile %s: WAL not read: %v", dialect, errors.Join(walErr, walErr1))
	case res.OK > 0:
		n := float64(res.OK)
		o.Report.Add("profile %s: WAL per rating %.1f records, %.2f full-page images, %.0f bytes (the whole cluster's, pg_stat_wal; by kind: pg_waldump --stats=record -s %s -e %s)",
			dialect, float64(wal1.records-wal0.records)/n, float64(wal1.fpi-wal0.fpi)/n, float64(wal1.bytes-wal0.bytes)/n, wal0.lsn, wal1.lsn)
	}
	return nil
}

// walStats is PostgreSQL's pg_stat_wal: records, full-page images and bytes written.
type walStats struct {
	records, fpi, bytes int64
	lsn                 string // the insert position, for pg_waldump --stats=record -s … -e …
}

// readWAL reads the cluster's WAL counters (PostgreSQL 14 and later); nothing without db.
func readWAL(ctx context.Context, db *store.DB) (walStats, error) {
	var w walStats
	if db == nil {
		return w, nil
	}
	err := db.SQL().QueryRowContext(ctx, "SELECT wal_records, wal_fpi, wal_bytes::bigint, pg_current_wal_insert_lsn()::text FROM pg_stat_wal").Scan(&w.records, &w.fpi, &w.bytes, &w.lsn)
	return w, err
}

// fetchProfile saves the CPU profile served at url to the file out.
func fetchProfile(ctx context.Context, url, out string) (err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req) // no timeout: the profile takes as long as it asks for, and ctx ends it
	if err != nil {
		return fmt.Errorf("CPU profile of redress dev: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // read in full, or failed already
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 2000))
		return fmt.Errorf("CPU profile of redress dev: %s: %s", resp.Status, b)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer func() {
		// A failed Close may have lost the profile's end.
		if cerr := f.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("close the profile %s: %w", out, cerr)
		}
	}()
	n, err := io.Copy(f, resp.Body)
	if err != nil {
		return fmt.Errorf("CPU profile of redress dev: %w", err)
	}
	if n == 0 {
		return errors.New("CPU profile of redress dev: empty")
	}
	return nil
}
