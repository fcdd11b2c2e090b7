package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// OIDCConfig configures sign-in through an OpenID Connect provider.
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	RedirectURL  string
	Scopes       []string // "openid" is always requested
	LoginClaim   string   // the ID-token claim that holds the redress login
	RolesClaim   string   // optional: the claim listing "role@unit-code" entries
	// HTTPClient talks to the provider; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
}

// OIDC runs the authorization-code flow with state, nonce and PKCE (S256). The flow's
// secrets travel in a short-lived cookie signed with a key derived from the deployment's
// token key, so any api process can finish a flow another one started.
type OIDC struct {
	cfg     OIDCConfig
	flowKey []byte

	mu       sync.Mutex
	provider *oidc.Provider // discovered lazily, so the api starts while the provider is down
}

// FlowTTL bounds how long a user may take at the provider.
const FlowTTL = 10 * time.Minute

// NewOIDC checks the configuration; discovery happens on the first sign-in.
func NewOIDC(cfg OIDCConfig, tokens *Issuer) (*OIDC, error) {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return nil, errors.New("auth: OIDC needs an issuer, a client id and a redirect URL")
	}
	if cfg.LoginClaim == "" {
		cfg.LoginClaim = "preferred_username"
	}
	if !slices.Contains(cfg.Scopes, oidc.ScopeOpenID) {
		cfg.Scopes = append([]string{oidc.ScopeOpenID}, cfg.Scopes...)
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	mac := hmac.New(sha256.New, tokens.key)
	mac.Write([]byte("redress oidc flow"))
	return &OIDC{cfg: cfg, flowKey: mac.Sum(nil)}, nil
}

// RolesClaim is the configured roles claim ("" when roles are not mapped).
func (o *OIDC) RolesClaim() string { return o.cfg.RolesClaim }

// RedirectURL is the callback registered at the provider.
func (o *OIDC) RedirectURL() string { return o.cfg.RedirectURL }

func (o *OIDC) ctx(ctx context.Context) context.Context {
	return oidc.ClientContext(ctx, o.cfg.HTTPClient)
}

func (o *OIDC) discover(ctx context.Context) (*oidc.Provider, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider != nil {
		return o.provider, nil
	}
	p, err := oidc.NewProvider(o.ctx(ctx), o.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("auth: OIDC discovery at %s: %w", o.cfg.Issuer, err)
	}
	o.provider = p
	return p, nil
}

func (o *OIDC) oauth(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: o.cfg.Scopes}
}

type flowClaims struct {
	State    string `json:"st"`
	Nonce    string `json:"nn"`
	Verifier string `json:"pv"`
	jwt.RegisteredClaims
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Start begins a sign-in: the provider URL to send the browser to, and the flow cookie value.
func (o *OIDC) Start(ctx context.Context) (authURL, flow string, err error) {
	p, err := o.discover(ctx)
	if err != nil {
		return "", "", err
	}
	fc := flowClaims{State: randomToken(), Nonce: randomToken(), Verifier: oauth2.GenerateVerifier(),
		RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(FlowTTL)), Audience: jwt.ClaimStrings{"redress-oidc-flow"}}}
	flow, err = jwt.NewWithClaims(jwt.SigningMethodHS256, fc).SignedString(o.flowKey)
	if err != nil {
		return "", "", fmt.Errorf("auth: sign OIDC flow: %w", err)
	}
	authURL = o.oauth(p).AuthCodeURL(fc.State, oidc.Nonce(fc.Nonce), oauth2.S256ChallengeOption(fc.Verifier))
	return authURL, flow, nil
}

// Identity is who the provider says signed in.
type Identity struct {
	Login   string
	Subject string
	// Roles lists the roles claim's entries; RolesClaimed tells whether the claim was present.
	Roles        []string
	RolesClaimed bool
}

// ErrOIDCFlow covers a callback that does not belong to a flow we started (no or bad cookie,
// state mismatch, expired flow) or whose ID token fails verification.
var ErrOIDCFlow = errors.New("auth: the OIDC sign-in could not be verified")

// Finish completes a sign-in: checks state against the flow cookie, exchanges the code with
// the PKCE verifier, verifies the ID token (signature, issuer, audience, expiry) and its nonce,
// and reads the login and roles claims.
func (o *OIDC) Finish(ctx context.Context, flow, state, code string) (Identity, error) {
	var fc flowClaims
	_, err := jwt.ParseWithClaims(flow, &fc, func(*jwt.Token) (any, error) { return o.flowKey, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}), jwt.WithAudience("redress-oidc-flow"), jwt.WithExpirationRequired())
	if err != nil {
		return Identity{}, fmt.Errorf("%w: flow cookie: %v", ErrOIDCFlow, err)
	}
	if state == "" || subtle.ConstantTimeCompare([]byte(state), []byte(fc.State)) != 1 {
		return Identity{}, fmt.Errorf("%w: state mismatch", ErrOIDCFlow)
	}
	if code == "" {
		return Identity{}, fmt.Errorf("%w: no code", ErrOIDCFlow)
	}
	p, err := o.discover(ctx)
	if err != nil {
		return Identity{}, err
	}
	tok, err := o.oauth(p).Exchange(o.ctx(ctx), code, oauth2.VerifierOption(fc.Verifier))
	if err != nil {
		return Identity{}, fmt.Errorf("%w: code exchange: %v", ErrOIDCFlow, err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return Identity{}, fmt.Errorf("%w: no id_token in the token response", ErrOIDCFlow)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID}).Verify(o.ctx(ctx), raw)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: id_token: %v", ErrOIDCFlow, err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(fc.Nonce)) != 1 {
		return Identity{}, fmt.Errorf("%w: nonce mismatch", ErrOIDCFlow)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return Identity{}, fmt.Errorf("%w: claims: %v", ErrOIDCFlow, err)
	}
	id := Identity{Subject: idt.Subject}
	id.Login, _ = claims[o.cfg.LoginClaim].(string)
	id.Login = strings.TrimSpace(id.Login)
	if id.Login == "" {
		return Identity{}, fmt.Errorf("%w: the claim %q is missing", ErrOIDCFlow, o.cfg.LoginClaim)
	}
	if o.cfg.RolesClaim != "" {
		if v, ok := claims[o.cfg.RolesClaim]; ok {
			id.RolesClaimed = true
			switch rs := v.(type) {
			case []any:
				for _, r := range rs {
					if s, ok := r.(string); ok {
						id.Roles = append(id.Roles, s)
					}
				}
			case string:
				id.Roles = strings.Fields(strings.ReplaceAll(rs, ",", " "))
			}
		}
	}
	return id, nil
}
