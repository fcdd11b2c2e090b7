// Package auth issues and verifies the bearer tokens of redress: HS256 JWTs signed with the
// deployment's key, whose issuer, audience and expiry are always checked. A token names only
// the user; roles are read from the database on every request, so a disabled user or a
// withdrawn role stops working at once.
package auth

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
)

// ErrInvalidToken covers every way a token can fail: malformed, forged, expired, wrong
// issuer or audience. Callers answer 401 without saying which, so as not to help forgers.
var ErrInvalidToken = errors.New("invalid token")

// Issuer signs and verifies tokens.
type Issuer struct {
	key      []byte
	issuer   string
	audience string
	now      func() time.Time

	// verified holds the claims of tokens this issuer verified (token -> Claims), so that a
	// client's next request with the same token costs a map look-up instead of decoding and
	// checking it again: the token check was 5 % of redress dev's processor time under the
	// single rating form, every request of a channel carrying the same token (BENCHMARKS.md,
	// point 1). Only valid tokens go in; one is answered from here only before its expiry,
	// else it is verified again (and refused). Bounded: emptied when it holds maxVerified.
	verified  sync.Map // string -> Claims
	nVerified atomic.Int64
}

// maxVerified bounds the tokens Verify remembers.
const maxVerified = 4096

// NewIssuer returns an Issuer; the key must be at least 32 bytes.
func NewIssuer(key []byte, issuer, audience string) (*Issuer, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("auth: signing key must be at least 32 bytes, got %d", len(key))
	}
	return &Issuer{key: key, issuer: issuer, audience: audience, now: time.Now}, nil
}

// Claims is what a verified token says.
type Claims struct {
	Login     string
	ExpiresAt time.Time
	ID        string
}

// Issue returns a token for login valid for ttl.
func (i *Issuer) Issue(login string, ttl time.Duration) (string, time.Time, error) {
	if login == "" || ttl <= 0 {
		return "", time.Time{}, errors.New("auth: login and a positive ttl are required")
	}
	now := i.now()
	exp := now.Add(ttl)
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.RegisteredClaims{
		Subject:   login,
		Issuer:    i.issuer,
		Audience:  jwt.ClaimStrings{i.audience},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(exp),
		ID:        uuid.NewString(),
	})
	s, err := t.SignedString(i.key)
	if err != nil {
		return "", time.Time{}, fmt.Errorf("auth: sign: %w", err)
	}
	return s, exp, nil
}

// Verify checks signature, algorithm, issuer, audience and expiry. A token verified before
// is answered from memory until its expiry (nothing in a token changes, and time only makes an
// expired one of it): what it names is checked on every request by the caller (the account
// and its roles are read each time).
func (i *Issuer) Verify(token string) (Claims, error) {
	if c, ok := i.verified.Load(token); ok {
		if c := c.(Claims); i.now().Before(c.ExpiresAt) {
			return c, nil
		}
		i.verified.Delete(token)
	}
	var rc jwt.RegisteredClaims
	_, err := jwt.ParseWithClaims(token, &rc, func(*jwt.Token) (any, error) { return i.key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithIssuer(i.issuer),
		jwt.WithAudience(i.audience),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithTimeFunc(i.now),
		jwt.WithLeeway(5*time.Second),
	)
	if err != nil || rc.Subject == "" {
		return Claims{}, ErrInvalidToken
	}
	c := Claims{Login: rc.Subject, ExpiresAt: rc.ExpiresAt.Time, ID: rc.ID}
	if i.nVerified.Add(1) > maxVerified {
		i.verified.Clear()
		i.nVerified.Store(1)
	}
	i.verified.Store(token, c)
	return c, nil
}
