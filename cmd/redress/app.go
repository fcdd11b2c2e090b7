package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"go.temporal.io/sdk/client"

	"redress/api"
	"redress/auth"
	"redress/calendar"
	"redress/config"
	"redress/engine"
	"redress/intake"
	"redress/pii"
	"redress/policies"
	"redress/store"
	"redress/web"
)

// buildAPI assembles the HTTP server from the configuration and its connections.
func buildAPI(cfg config.Config, db *store.DB, tc client.Client, dev bool) (*api.Server, error) {
	tokens, err := auth.NewIssuer(jwtKeyBytes(cfg.JWTKey), cfg.JWTIssuer, cfg.JWTAudience)
	if err != nil {
		return nil, fmt.Errorf("REDRESS_JWT_KEY: %w", err)
	}
	box, err := pii.ParseKeys(cfg.PIIKeys, cfg.PIIHashKey)
	if err != nil {
		return nil, fmt.Errorf("REDRESS_PII_KEYS / REDRESS_PII_HASH_KEY: %w", err)
	}
	enf, err := policies.NewEnforcer()
	if err != nil {
		return nil, err
	}
	starter := &engine.Starter{Client: tc, TaskQueue: cfg.TemporalTaskQueue, DB: db}
	return api.New(api.Deps{
		DB:        db,
		Temporal:  tc,
		Tokens:    tokens,
		Enforcer:  enf,
		PII:       box,
		Intake:    &intake.Service{DB: db, PII: box, Starter: starter},
		Web:       web.FS,
		Calendars: calendar.NewCache(db, 2*time.Second),
		Banners:   api.CalendarBanners(db, time.Now),
		BodyLimit: cfg.BodyLimit,
		TokenTTL:  cfg.TokenTTL,
		Dev:       dev,
	}), nil
}

// serveHTTP listens on addr and serves until ctx ends, then drains for up to 10 s.
func serveHTTP(ctx context.Context, addr string, h http.Handler, ready func(net.Addr)) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", addr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, IdleTimeout: 2 * time.Minute}
	if ready != nil {
		ready(ln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		slog.Warn("http shutdown", "err", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
