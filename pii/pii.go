// Package pii protects personal data (names, phone numbers, ID numbers of evaluators and
// applicants): AES-256-GCM or, under REDRESS_CRYPTO=gm, SM4-GCM encryption at rest with
// rotatable keys (across both suites), keyed hashes (HMAC-SHA-256 or HMAC-SM3) for lookups,
// and the masks (张*, 138****0000) that every API answer and log line shows instead.
package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
	"unicode/utf8"

	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/sm4"
)

// Suite names a set of algorithms for personal data (REDRESS_CRYPTO).
type Suite string

const (
	// SuiteAES seals with AES-256-GCM and hashes with HMAC-SHA-256 (the default).
	SuiteAES Suite = "aes"
	// SuiteGM is 国密 (commercial cryptography for 密评, GB/T 39786-2021): SM4-GCM
	// (GB/T 32907) seals, HMAC-SM3 (GB/T 32905) hashes. SM2 signatures are in package signing.
	SuiteGM Suite = "gm"
)

// ParseSuite reads REDRESS_CRYPTO: "" or "aes", or "gm".
func ParseSuite(s string) (Suite, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "aes":
		return SuiteAES, nil
	case "gm", "sm", "guomi":
		return SuiteGM, nil
	}
	return "", fmt.Errorf("pii: REDRESS_CRYPTO %q: want aes or gm", s)
}

// keyAlg is the cipher of one configured key; a key's algorithm is part of its spec
// ("kid:sm4:base64"), so keys of both suites can be held at once while a rotation moves the
// stored values from one to the other.
type keyAlg string

const (
	algAES256 keyAlg = "aes"
	algSM4    keyAlg = "sm4"
)

// Box encrypts with the first key and decrypts with any key it holds. Every key is a
// cipher.AEAD (AES-GCM or SM4-GCM), which is also what the workflow payload codec builds on,
// so the suite switches both.
type Box struct {
	suite   Suite
	current string
	keys    map[string]cipher.AEAD
	algs    map[string]keyAlg
	hashKey []byte
	newHash func() hash.Hash
}

// ParseKeys reads "kid:base64key,kid:base64key" (32-byte AES keys) and a base64 hash key,
// with the AES suite. See New for the other suite.
func ParseKeys(spec, hashKey string) (*Box, error) { return New(SuiteAES, spec, hashKey) }

// New reads a key spec for a suite. Each comma-separated key is "kid:base64" (AES-256, 32
// bytes), "kid:aes:base64" or "kid:sm4:base64" (SM4, 16 bytes). The first key seals new
// values and must belong to the suite (under gm nothing new may be sealed with AES); the others
// only open old values until `redress pii rotate` has re-sealed them. The suite also picks the
// keyed hash: HMAC-SHA-256 or HMAC-SM3.
func New(suite Suite, spec, hashKey string) (*Box, error) {
	b := &Box{suite: suite, keys: map[string]cipher.AEAD{}, algs: map[string]keyAlg{}}
	switch suite {
	case SuiteAES, "":
		b.suite, b.newHash = SuiteAES, sha256.New
	case SuiteGM:
		b.newHash = sm3.New
	default:
		return nil, fmt.Errorf("pii: unknown suite %q", suite)
	}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kid, rest, ok := strings.Cut(part, ":")
		if !ok || kid == "" || strings.ContainsAny(kid, ".:") {
			return nil, fmt.Errorf("pii: key %q: want kid:base64 or kid:sm4:base64", kid)
		}
		alg := algAES256
		if a, k, ok := strings.Cut(rest, ":"); ok {
			alg, rest = keyAlg(strings.ToLower(a)), k
		}
		raw, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return nil, fmt.Errorf("pii: key %q: not base64", kid)
		}
		var blk cipher.Block
		switch alg {
		case algAES256:
			if len(raw) != 32 {
				return nil, fmt.Errorf("pii: key %q: want 32 bytes in base64", kid)
			}
			blk, err = aes.NewCipher(raw)
		case algSM4:
			if len(raw) != sm4.BlockSize {
				return nil, fmt.Errorf("pii: key %q: want 16 bytes in base64 for sm4", kid)
			}
			blk, err = sm4.NewCipher(raw)
		default:
			return nil, fmt.Errorf("pii: key %q: unknown algorithm %q (want aes or sm4)", kid, alg)
		}
		if err != nil {
			return nil, fmt.Errorf("pii: key %q: %w", kid, err)
		}
		aead, err := cipher.NewGCM(blk)
		if err != nil {
			return nil, fmt.Errorf("pii: key %q: %w", kid, err)
		}
		if _, dup := b.keys[kid]; dup {
			return nil, fmt.Errorf("pii: key %q given twice", kid)
		}
		b.keys[kid], b.algs[kid] = aead, alg
		if b.current == "" {
			b.current = kid
		}
	}
	if b.current == "" {
		return nil, errors.New("pii: no encryption key configured")
	}
	if want := suiteAlg(b.suite); b.algs[b.current] != want {
		return nil, fmt.Errorf("pii: the first key %q is %s, but REDRESS_CRYPTO=%s seals with %s: put a %s key first", b.current, b.algs[b.current], b.suite, want, want)
	}
	hk, err := base64.StdEncoding.DecodeString(hashKey)
	if err != nil || len(hk) < 32 {
		return nil, errors.New("pii: hash key must be at least 32 bytes in base64")
	}
	b.hashKey = hk
	return b, nil
}

func suiteAlg(s Suite) keyAlg {
	if s == SuiteGM {
		return algSM4
	}
	return algAES256
}

// Suite reports the box's suite.
func (b *Box) Suite() Suite { return b.suite }

// Current answers the id and AEAD of the key that seals new values (for the payload codec).
func (b *Box) Current() (kid string, aead cipher.AEAD) { return b.current, b.keys[b.current] }

// AEAD answers the AEAD of a configured key id (for the payload codec).
func (b *Box) AEAD(kid string) (cipher.AEAD, bool) {
	a, ok := b.keys[kid]
	return a, ok
}

// NewKeySpec generates a fresh AES key spec and hash key (for `redress dev` and tests).
func NewKeySpec(kid string) (spec, hashKey string) { return NewSuiteKeySpec(SuiteAES, kid) }

// NewSuiteKeySpec generates a fresh key spec of a suite and a hash key.
func NewSuiteKeySpec(suite Suite, kid string) (spec, hashKey string) {
	var h [32]byte
	_, _ = rand.Read(h[:])
	hashKey = base64.StdEncoding.EncodeToString(h[:])
	if suite == SuiteGM {
		var k [16]byte
		_, _ = rand.Read(k[:])
		return kid + ":sm4:" + base64.StdEncoding.EncodeToString(k[:]), hashKey
	}
	var k [32]byte
	_, _ = rand.Read(k[:])
	return kid + ":" + base64.StdEncoding.EncodeToString(k[:]), hashKey
}

// Seal encrypts s; the empty string stays empty (nothing to protect, nothing to store).
func (b *Box) Seal(s string) string {
	if s == "" {
		return ""
	}
	aead := b.keys[b.current]
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	ct := aead.Seal(nonce, nonce, []byte(s), []byte(b.current))
	return "v1." + b.current + "." + base64.RawStdEncoding.EncodeToString(ct)
}

// Open decrypts a value made by Seal with any configured key.
func (b *Box) Open(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	parts := strings.SplitN(s, ".", 3)
	if len(parts) != 3 || parts[0] != "v1" {
		return "", errors.New("pii: not a sealed value")
	}
	aead, ok := b.keys[parts[1]]
	if !ok {
		return "", fmt.Errorf("pii: key %q not configured", parts[1])
	}
	raw, err := base64.RawStdEncoding.DecodeString(parts[2])
	if err != nil || len(raw) < aead.NonceSize() {
		return "", errors.New("pii: corrupt sealed value")
	}
	pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], []byte(parts[1]))
	if err != nil {
		return "", errors.New("pii: cannot decrypt (wrong key or tampered)")
	}
	return string(pt), nil
}

// KeyID reports which key sealed s ("" if none), so a rotation job can find old values.
func KeyID(s string) string {
	parts := strings.SplitN(s, ".", 3)
	if len(parts) != 3 {
		return ""
	}
	return parts[1]
}

// Hash is a keyed hash of a normalised value for equality lookups; empty stays empty.
func (b *Box) Hash(kind, s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "" {
		return ""
	}
	m := hmac.New(b.newHash, b.hashKey)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

// MaskName keeps the first character: 张三 → 张*, 欧阳修 → 欧**.
func MaskName(s string) string {
	n := utf8.RuneCountInString(s)
	if n == 0 {
		return ""
	}
	r, _ := utf8.DecodeRuneInString(s)
	if n == 1 {
		return "*"
	}
	return string(r) + strings.Repeat("*", n-1)
}

// MaskPhone keeps the first three and last four digits: 13800000000 → 138****0000.
func MaskPhone(s string) string {
	n := len(s)
	switch {
	case n == 0:
		return ""
	case n <= 7:
		return strings.Repeat("*", n)
	default:
		return s[:3] + strings.Repeat("*", n-7) + s[n-4:]
	}
}

// MaskID keeps the first and last characters of an ID number: 4403**********1234 style.
func MaskID(s string) string {
	n := len(s)
	switch {
	case n == 0:
		return ""
	case n <= 8:
		return strings.Repeat("*", n)
	default:
		return s[:4] + strings.Repeat("*", n-8) + s[n-4:]
	}
}

// KeyCipher names the cipher of a configured key ("AES-256-GCM" or "SM4-GCM"; "" for an
// unknown id), recorded beside the key id on encrypted workflow payloads.
func (b *Box) KeyCipher(kid string) string {
	switch b.algs[kid] {
	case algAES256:
		return "AES-256-GCM"
	case algSM4:
		return "SM4-GCM"
	}
	return ""
}
