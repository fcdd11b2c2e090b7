// Package pii protects personal data (names, phone numbers, ID numbers of evaluators and
// applicants): AES-256-GCM encryption at rest with rotatable keys, keyed hashes for lookups,
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
	"strings"
	"unicode/utf8"
)

// Box encrypts with the first key and decrypts with any key it holds.
type Box struct {
	current string
	keys    map[string]cipher.AEAD
	hashKey []byte
}

// ParseKeys reads "kid:base64key,kid:base64key" (32-byte keys) and a base64 hash key.
func ParseKeys(spec, hashKey string) (*Box, error) {
	b := &Box{keys: map[string]cipher.AEAD{}}
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		kid, k, ok := strings.Cut(part, ":")
		if !ok || kid == "" || strings.ContainsAny(kid, ".:") {
			return nil, fmt.Errorf("pii: key %q: want kid:base64", kid)
		}
		raw, err := base64.StdEncoding.DecodeString(k)
		if err != nil || len(raw) != 32 {
			return nil, fmt.Errorf("pii: key %q: want 32 bytes in base64", kid)
		}
		blk, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(blk)
		if err != nil {
			return nil, err
		}
		if _, dup := b.keys[kid]; dup {
			return nil, fmt.Errorf("pii: key %q given twice", kid)
		}
		b.keys[kid] = aead
		if b.current == "" {
			b.current = kid
		}
	}
	if b.current == "" {
		return nil, errors.New("pii: no encryption key configured")
	}
	hk, err := base64.StdEncoding.DecodeString(hashKey)
	if err != nil || len(hk) < 32 {
		return nil, errors.New("pii: hash key must be at least 32 bytes in base64")
	}
	b.hashKey = hk
	return b, nil
}

// NewKeySpec generates a fresh key spec and hash key (for `redress dev` and tests).
func NewKeySpec(kid string) (spec, hashKey string) {
	var k, h [32]byte
	_, _ = rand.Read(k[:])
	_, _ = rand.Read(h[:])
	return kid + ":" + base64.StdEncoding.EncodeToString(k[:]), base64.StdEncoding.EncodeToString(h[:])
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
	m := hmac.New(sha256.New, b.hashKey)
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
