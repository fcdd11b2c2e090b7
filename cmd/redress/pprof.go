//go:build !noembed

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof" //nolint:gosec // G108: served only on servePprof's own listener, under redress dev --pprof (nothing serves http.DefaultServeMux, where the import also registers them); the production build has no dev
	"time"
)

// servePprof serves Go's profiler (net/http/pprof) on addr until ctx ends, on a listener of
// its own: `redress dev --pprof` (and redress-bench profile, which takes a CPU profile of the
// redress dev it drives) reach it there, never through the API's address. Only the dev build
// has it; the production binaries serve no profiler.
func servePprof(ctx context.Context, addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("profiler address %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Warn("profiler stopped", "addr", ln.Addr().String(), "err", err)
		}
	}()
	context.AfterFunc(ctx, func() { _ = srv.Close() }) // a profile cut short by the end of dev is of no use anyway
	return ln.Addr(), nil
}
