package main

import (
	"strings"
	"testing"

	"redress/config"
	"redress/pii"
	"redress/signing"
)

// TestDevSecretsFollowTheSuite: a dev data directory made under aes, started with
// REDRESS_CRYPTO=gm, gets an SM4 key in front (the AES key kept, so old values open) and an
// SM2 signing key; the box and signer build, and started under aes again it goes back.
func TestDevSecretsFollowTheSuite(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Config{DataDir: dir, Crypto: "aes"}
	if err := loadDevSecrets(&cfg, true); err != nil {
		t.Fatal(err)
	}
	aesBox, err := openBox(cfg)
	if err != nil {
		t.Fatal(err)
	}
	old := aesBox.Seal("13800001234")
	if s, err := openSigner(cfg); err != nil || s.Algorithm() != signing.AlgECDSA {
		t.Fatalf("aes signer: %v %v", s, err)
	}

	gm := config.Config{DataDir: dir, Crypto: "gm"}
	if err := loadDevSecrets(&gm, false); err != nil {
		t.Fatal(err)
	}
	if first, _, _ := strings.Cut(gm.PIIKeys, ","); !strings.Contains(first, ":sm4:") {
		t.Fatalf("first key under gm: %q", first)
	}
	box, err := openBox(gm)
	if err != nil || box.Suite() != pii.SuiteGM {
		t.Fatalf("gm box: %v", err)
	}
	if p, err := box.Open(old); err != nil || p != "13800001234" {
		t.Fatalf("old AES value under gm: %q %v", p, err)
	}
	if s, err := openSigner(gm); err != nil || s.Algorithm() != signing.AlgSM2 {
		t.Fatalf("gm signer: %v %v", s, err)
	}
	// A second start under gm changes nothing.
	again := config.Config{DataDir: dir, Crypto: "gm"}
	if err := loadDevSecrets(&again, false); err != nil || again.PIIKeys != gm.PIIKeys || again.SigningKey != gm.SigningKey {
		t.Fatalf("second gm start changed the keys: %v", err)
	}
	// Under gm an ECDSA signing key is refused.
	gm.SigningKey = cfg.SigningKey
	if _, err := openSigner(gm); err == nil {
		t.Fatal("gm accepted an ECDSA signing key")
	}
	back := config.Config{DataDir: dir, Crypto: "aes"}
	if err := loadDevSecrets(&back, false); err != nil {
		t.Fatal(err)
	}
	if b, err := openBox(back); err != nil || b.Suite() != pii.SuiteAES {
		t.Fatalf("back to aes: %v", err)
	}
}
