// Package auth issues and verifies the bearer tokens of redress: HS256 JWTs signed with the
// deployment's key, whose issuer, audience and expiry are always checked. A token names only
// the user; roles are read from the database on every request, so a disabled user or a
// withdrawn role stops working at once.
package auth

import (
	"errors"
	"fmt"
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
}

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

// Verify checks signature, algorithm, issuer, audience and expiry.
func (i *Issuer) Verify(token string) (Claims, error) {
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
	return Claims{Login: rc.Subject, ExpiresAt: rc.ExpiresAt.Time, ID: rc.ID}, nil
}
