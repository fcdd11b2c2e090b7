package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"redress/config"
	"redress/pii"
	"redress/signing"
)

// devSecrets are the keys `redress dev` generates on first start and keeps in the data
// directory (mode 0600), so that tokens and encrypted data survive restarts.
type devSecrets struct {
	JWTKey     string `json:"jwt_key"`
	PIIKeys    string `json:"pii_keys"`
	PIIHashKey string `json:"pii_hash_key"`
	// Signing keys per suite (issue 21), generated when first needed.
	SigningKeyAES string `json:"signing_key_aes,omitempty"`
	SigningKeyGM  string `json:"signing_key_gm,omitempty"`
}

func secretsPath(dataDir string) string { return filepath.Join(dataDir, "secrets.json") }

// loadDevSecrets fills unset keys of cfg from the data directory, creating them if asked.
func loadDevSecrets(cfg *config.Config, create bool) error {
	p := secretsPath(cfg.DataDir)
	var s devSecrets
	b, err := os.ReadFile(p)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		if changed, err := s.fitSuite(cfg.Crypto); err != nil {
			return err
		} else if changed {
			if err := s.save(cfg.DataDir, p); err != nil {
				return err
			}
		}
	case errors.Is(err, os.ErrNotExist) && create:
		var k [32]byte
		_, _ = rand.Read(k[:])
		s.JWTKey = base64.StdEncoding.EncodeToString(k[:])
		suite, err := pii.ParseSuite(cfg.Crypto)
		if err != nil {
			return err
		}
		s.PIIKeys, s.PIIHashKey = pii.NewSuiteKeySpec(suite, "dev1")
		if _, err := s.fitSuite(cfg.Crypto); err != nil {
			return err
		}
		if err := s.save(cfg.DataDir, p); err != nil {
			return err
		}
	case errors.Is(err, os.ErrNotExist):
		// Not a dev data directory: the keys must come from the environment.
	default:
		return fmt.Errorf("read %s: %w", p, err)
	}
	if cfg.JWTKey == "" {
		cfg.JWTKey = s.JWTKey
	}
	if cfg.PIIKeys == "" {
		cfg.PIIKeys = s.PIIKeys
	}
	if cfg.PIIHashKey == "" {
		cfg.PIIHashKey = s.PIIHashKey
	}
	if cfg.SigningKey == "" {
		if suite, _ := pii.ParseSuite(cfg.Crypto); suite == pii.SuiteGM {
			cfg.SigningKey = s.SigningKeyGM
		} else {
			cfg.SigningKey = s.SigningKeyAES
		}
	}
	return nil
}

// fitSuite makes a dev data directory follow REDRESS_CRYPTO: when the suite changed since the
// keys were made, a key of the new suite is put first (the old ones stay, so stored values
// still open; `redress pii rotate` then re-seals them), and a signing key of the suite is made
// when there is none. It answers whether anything changed.
func (s *devSecrets) fitSuite(crypto string) (bool, error) {
	suite, err := pii.ParseSuite(crypto)
	if err != nil {
		return false, err
	}
	changed := false
	if s.PIIKeys != "" {
		first, _, _ := strings.Cut(s.PIIKeys, ",")
		isGM := strings.Contains(first, ":sm4:")
		if isGM != (suite == pii.SuiteGM) {
			spec, _ := pii.NewSuiteKeySpec(suite, fmt.Sprintf("dev%s%d", suite, time.Now().Unix()))
			s.PIIKeys = spec + "," + s.PIIKeys
			changed = true
		}
	}
	gen := func(dst *string, gm bool) error {
		if *dst != "" {
			return nil
		}
		_, p, err := signing.Generate(gm)
		if err != nil {
			return err
		}
		*dst, changed = p, true
		return nil
	}
	if suite == pii.SuiteGM {
		err = gen(&s.SigningKeyGM, true)
	} else {
		err = gen(&s.SigningKeyAES, false)
	}
	return changed, err
}

func (s devSecrets) save(dir, p string) error {
	out, _ := json.MarshalIndent(s, "", "  ")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.WriteFile(p, out, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}

// jwtKeyBytes decodes a base64 key, or takes a raw secret as is.
func jwtKeyBytes(k string) []byte {
	if b, err := base64.StdEncoding.DecodeString(k); err == nil && len(b) >= 32 {
		return b
	}
	return []byte(k)
}

// openBox builds the personal-data box of the configured suite (REDRESS_CRYPTO).
func openBox(cfg config.Config) (*pii.Box, error) {
	suite, err := pii.ParseSuite(cfg.Crypto)
	if err != nil {
		return nil, err
	}
	box, err := pii.New(suite, cfg.PIIKeys, cfg.PIIHashKey)
	if err != nil {
		return nil, fmt.Errorf("REDRESS_PII_KEYS / REDRESS_PII_HASH_KEY: %w", err)
	}
	return box, nil
}

// openSigner builds the signer of publications and upstream pushes, or nil when no key is
// configured. Under REDRESS_CRYPTO=gm the key must be SM2: a 密评 deployment must not sign
// with a non-approved algorithm by mistake.
func openSigner(cfg config.Config) (*signing.Signer, error) {
	if strings.TrimSpace(cfg.SigningKey) == "" {
		return nil, nil
	}
	s, err := signing.Parse(cfg.SigningKey)
	if err != nil {
		return nil, fmt.Errorf("REDRESS_SIGNING_KEY: %w", err)
	}
	if suite, _ := pii.ParseSuite(cfg.Crypto); suite == pii.SuiteGM && s.Algorithm() != signing.AlgSM2 {
		return nil, fmt.Errorf("REDRESS_SIGNING_KEY: REDRESS_CRYPTO=gm needs an SM2 key, got %s", s.Algorithm())
	}
	return s, nil
}
