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
)

// RunProfile takes a CPU profile of `redress dev` (dialect "postgres" or "sqlite") under the
// intake load of RunIntake, with one rating in badEvery bad, and writes it to out (read it with
// `go tool pprof -top out`). The dev process serves its profiler on an address of its own
// (`redress dev --pprof`); the profile covers the measured load only, not the start and the
// warm-up, and the harness's load generator is not in it.
func RunProfile(ctx context.Context, o Options, dialect, out string, badEvery int) error {
	pprofAddr, err := FreeAddr()
	if err != nil {
		return err
	}
	sys, err := startSystem(ctx, o, dialect, func(d *DevOptions) { d.Pprof = pprofAddr })
	if err != nil {
		return err
	}
	defer sys.Close()
	cases, err := SeedCases(ctx, sys.DBURL, "PC", 20000, nil)
	if err != nil {
		return err
	}
	IntakeLoad{Base: sys.Base(), Token: sys.Tokens["channel"], Prefix: "pwarm", Cases: cases, Conc: o.Conc, Duration: 2 * time.Second}.Run(ctx)

	// The profile runs for whole seconds; the load runs as long and starts with it.
	secs := max(1, int(math.Ceil(o.Duration.Seconds())))
	profc := make(chan error, 1)
	go func() {
		profc <- fetchProfile(ctx, "http://"+pprofAddr+fmt.Sprintf("/debug/pprof/profile?seconds=%d", secs), out)
	}()
	res := IntakeLoad{Base: sys.Base(), Token: sys.Tokens["channel"], Prefix: "prof", Cases: cases, BadEvery: badEvery, Conc: o.Conc, Duration: time.Duration(secs) * time.Second}.Run(ctx)
	if err := <-profc; err != nil {
		return err
	}
	o.Report.Add("profile %s: %.0f ratings/s with the profiler on (harness and server share the CPUs), p50 %s p99 %s; profile of redress dev in %s (go tool pprof -top %s)",
		dialect, res.Rate(), ms(Percentile(res.Latencies, 50)), ms(Percentile(res.Latencies, 99)), out, out)
	return nil
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
