package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"redress/api"
	"redress/auth"
	"redress/authz"
	"redress/calendar/calendardb"
	"redress/config"
	"redress/engine"
	"redress/intake"
	"redress/jobs"
	"redress/profiles"
	"redress/retention"
	"redress/stats"
	"redress/store"
	"redress/upstream"
	"redress/web"
	"redress/worker"
)

// buildAPI assembles the HTTP server from the configuration and its connections.
// The policy store seeds and loads the route policy from the database and, until ctx ends,
// reloads it whenever another process edits it.
func buildAPI(ctx context.Context, cfg config.Config, db *store.DB, tc client.Client, dev bool) (*api.Server, error) {
	tokens, err := auth.NewIssuer(jwtKeyBytes(cfg.JWTKey), cfg.JWTIssuer, cfg.JWTAudience)
	if err != nil {
		return nil, fmt.Errorf("REDRESS_JWT_KEY: %w", err)
	}
	box, err := openBox(cfg)
	if err != nil {
		return nil, err
	}
	// The profiles channel systems may post ratings in: a configured province's too.
	if _, err := upstreamProfile(cfg); err != nil {
		return nil, err
	}
	signer, err := openSigner(cfg)
	if err != nil {
		return nil, err
	}
	ps, err := authz.Open(ctx, db.DB)
	if err != nil {
		return nil, err
	}
	go ps.Watch(ctx, cfg.PolicyRefresh)
	// Identity hashes of rows stored before phones and ID numbers were normalised are
	// recomputed once (issue 17), beside serving: a large table takes a while, and ratings
	// keep coming meanwhile (the rewrite only touches rows that still hold what it read).
	go func() {
		if res, ran, err := intake.RehashIdentitiesOnce(ctx, db, box); err != nil {
			slog.Error("rehashing identities of rows stored before normalisation failed; it runs again at the next start", "err", err)
		} else if ran {
			slog.Info("identity hashes recomputed after normalisation", "rehashed", res.Rehashed, "resealed", res.Resealed)
		}
	}()
	oidcSignIn, err := buildOIDC(cfg, tokens)
	if err != nil {
		return nil, err
	}
	proxies, err := api.ParseTrustedProxies(cfg.TrustedProxies)
	if err != nil {
		return nil, fmt.Errorf("REDRESS_TRUSTED_PROXIES: %w", err)
	}
	starter := &engine.Starter{Client: tc, TaskQueue: cfg.TemporalTaskQueue, DB: db}
	// Without an SMS gateway, production workers keep evaluators' SMS queued (buildNotifier).
	smsHeld := cfg.SMSWebhookURL == "" && !dev
	var smsBanners func(context.Context) []api.Banner
	if smsHeld {
		smsBanners = api.SMSBanners(db)
	}
	return api.New(api.Deps{
		SMSHeld:   smsHeld,
		DB:        db,
		Temporal:  tc,
		Tokens:    tokens,
		Enforcer:  ps.Enforcer(),
		Policies:  ps,
		OIDC:      oidcSignIn,
		PII:       box,
		Signer:    signer,
		Intake:    &intake.Service{DB: db, PII: box, Starter: starter},
		Web:       web.FS,
		Calendars: calendardb.NewCache(db, 2*time.Second),
		Banners: api.JoinBanners(api.CalendarBanners(db, time.Now),
			api.ResultsBanners(db, stats.AlarmPolicy{Days: cfg.AlarmDays, MinRatings: cfg.AlarmMinRatings}, time.Now),
			smsBanners),
		Results: api.ResultsOptions{
			Alarm:         stats.AlarmPolicy{Days: cfg.AlarmDays, MinRatings: cfg.AlarmMinRatings},
			HotlineSecret: cfg.HotlineSecret,
		},
		BodyLimit:      cfg.BodyLimit,
		TrustedProxies: proxies,
		TokenTTL:       cfg.TokenTTL,
		Dev:            dev,
		Limits:         api.Limits{Anonymous: cfg.AnonymousRate, AnonymousBurst: int(3 * cfg.AnonymousRate), SignIn: cfg.SignInRate},
		MetricsToken:   cfg.MetricsToken,
		MetricsOff:     cfg.MetricsAddr != "",
		// Browsers of these Temporal UIs may ask for payloads decoded (issue 16 finding 6).
		TemporalUIOrigins: splitList(cfg.TemporalUIOrigins),
	}), nil
}

// splitList reads a comma-separated setting, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// serveAPI serves the API on cfg.HTTPAddr and, when REDRESS_METRICS_ADDR is set, the
// metrics on that separate address, with the server's background jobs, until ctx ends.
func serveAPI(ctx context.Context, cfg config.Config, srv *api.Server, ready func(net.Addr)) error {
	go srv.Run(ctx)
	if cfg.MetricsAddr != "" {
		go func() {
			if err := serveHTTP(ctx, cfg.MetricsAddr, srv.MetricsHandler(), nil); err != nil {
				slog.Error("metrics listener", "addr", cfg.MetricsAddr, "err", err)
			}
		}()
	}
	return serveHTTP(ctx, cfg.HTTPAddr, srv.Handler(), ready)
}

// serveAndWork serves the API and runs the worker beside it on the API's own Temporal client
// (`redress dev`, and `redress api --worker`): a workflow start from the API is then eager —
// the server hands the first workflow task back in the start's answer to this process's
// worker, with no trip through its matching — which a process without a worker cannot have
// (BENCHMARKS.md points 2 and 9). A worker that cannot start stops the API too.
func serveAndWork(ctx context.Context, cfg config.Config, srv *api.Server, deps worker.Deps, ready func(net.Addr)) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	werr := make(chan error, 1)
	go func() {
		err := worker.Run(ctx, deps)
		if err != nil {
			cancel()
		}
		werr <- err
	}()
	err := serveAPI(ctx, cfg, srv, ready)
	cancel()
	if e := <-werr; e != nil {
		return e
	}
	return err
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

// buildOIDC configures sign-in through the OpenID Connect provider, if one is configured.
func buildOIDC(cfg config.Config, tokens *auth.Issuer) (*auth.OIDC, error) {
	if cfg.OIDCIssuer == "" {
		return nil, nil
	}
	redirect := cfg.OIDCRedirectURL
	if redirect == "" {
		redirect = strings.TrimRight(cfg.PublicURL, "/") + "/api/v1/auth/oidc/callback"
	}
	var scopes []string
	for _, sc := range strings.Split(cfg.OIDCScopes, ",") {
		if sc = strings.TrimSpace(sc); sc != "" {
			scopes = append(scopes, sc)
		}
	}
	o, err := auth.NewOIDC(auth.OIDCConfig{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
		RedirectURL: redirect, Scopes: scopes, LoginClaim: cfg.OIDCLoginClaim, RolesClaim: cfg.OIDCRolesClaim}, tokens)
	if err != nil {
		return nil, fmt.Errorf("REDRESS_OIDC_*: %w", err)
	}
	return o, nil
}

// resultsJobs are the worker's results jobs (issue 8) from the configuration.
func resultsJobs(cfg config.Config) (*jobs.Results, error) {
	signer, err := openSigner(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Retention < retention.ReopenWindow {
		return nil, fmt.Errorf("REDRESS_RETENTION %s: at least %s (the reopen window)", cfg.Retention, retention.ReopenWindow)
	}
	prof, err := upstreamProfile(cfg)
	if err != nil {
		return nil, err
	}
	box, err := openBox(cfg)
	if err != nil {
		return nil, err
	}
	return &jobs.Results{
		Signer:    signer,
		Retention: cfg.Retention,
		Profile:   prof,
		PII:       box,
		Endpoints: map[string]upstream.Endpoint{
			upstream.TargetUpstream: {URL: cfg.UpstreamURL, Secret: cfg.UpstreamSecret},
			upstream.TargetHotline:  {URL: cfg.HotlineURL, Secret: cfg.HotlineSecret},
		},
		MaxAttempts: cfg.UpstreamMaxAttempts,
		Every:       cfg.ResultsEvery,
	}, nil
}

// upstreamProfile loads REDRESS_UPSTREAM_PROFILE_FILE, if any, and answers the profile
// REDRESS_UPSTREAM_PROFILE names.
func upstreamProfile(cfg config.Config) (*profiles.Profile, error) {
	if cfg.UpstreamProfileFile != "" {
		if _, err := profiles.LoadFile(cfg.UpstreamProfileFile); err != nil {
			return nil, fmt.Errorf("REDRESS_UPSTREAM_PROFILE_FILE: %w", err)
		}
	}
	name := cfg.UpstreamProfile
	if name == "" {
		name = profiles.National
	}
	p, err := profiles.Get(name)
	if err != nil {
		return nil, fmt.Errorf("REDRESS_UPSTREAM_PROFILE: %w", err)
	}
	return p, nil
}
