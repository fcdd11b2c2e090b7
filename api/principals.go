package api

import (
	"context"
	"sync"
	"time"
)

// principalTTL is how long a signed-in caller's account and roles are reused between
// requests. Loading them was one of the dozen statements every rating cost (BENCHMARKS.md,
// point 1). Edits made through this process's API drop the cache at once; an edit made
// elsewhere (another api process, `redress import`) reaches this one within the TTL — far
// inside a token's lifetime, which is what a revoked account could otherwise use.
const principalTTL = 2 * time.Second

type cachedPrincipal struct {
	p  *Principal
	at time.Time
}

// principalCache remembers loaded principals by login for principalTTL.
type principalCache struct {
	mu sync.Mutex
	m  map[string]cachedPrincipal
}

func (pc *principalCache) get(login string, now time.Time) (*Principal, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	e, ok := pc.m[login]
	if !ok || now.Sub(e.at) >= principalTTL {
		return nil, false
	}
	return e.p, true
}

func (pc *principalCache) put(login string, p *Principal, now time.Time) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.m == nil || len(pc.m) > 10000 {
		pc.m = map[string]cachedPrincipal{} // bounded: a flood of logins cannot grow it
	}
	pc.m[login] = cachedPrincipal{p: p, at: now}
}

// forget drops every cached principal (after an account or role edit).
func (pc *principalCache) forget() {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	pc.m = nil
}

// signedInPrincipal is loadPrincipal for token-authenticated requests, through the cache.
// Unknown logins are not cached, so an account created elsewhere works at once.
func (s *Server) signedInPrincipal(ctx context.Context, login string) (*Principal, error) {
	now := time.Now()
	if p, ok := s.principals.get(login, now); ok {
		return p, nil
	}
	p, err := s.loadPrincipal(ctx, login)
	if err != nil || p == nil {
		return p, err
	}
	s.principals.put(login, p, now)
	return p, nil
}
