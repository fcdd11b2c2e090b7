package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"redress/config"
	"redress/pii"
)

// devSecrets are the keys `redress dev` generates on first start and keeps in the data
// directory (mode 0600), so that tokens and encrypted data survive restarts.
type devSecrets struct {
	JWTKey     string `json:"jwt_key"`
	PIIKeys    string `json:"pii_keys"`
	PIIHashKey string `json:"pii_hash_key"`
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
	case errors.Is(err, os.ErrNotExist) && create:
		var k [32]byte
		_, _ = rand.Read(k[:])
		s.JWTKey = base64.StdEncoding.EncodeToString(k[:])
		s.PIIKeys, s.PIIHashKey = pii.NewKeySpec("dev1")
		out, _ := json.MarshalIndent(s, "", "  ")
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(p, out, 0o600); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
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
	return nil
}

// jwtKeyBytes decodes a base64 key, or takes a raw secret as is.
func jwtKeyBytes(k string) []byte {
	if b, err := base64.StdEncoding.DecodeString(k); err == nil && len(b) >= 32 {
		return b
	}
	return []byte(k)
}
