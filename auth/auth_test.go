package auth

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestIssueVerify(t *testing.T) {
	key := []byte(strings.Repeat("k", 32))
	iss, err := NewIssuer(key, "redress", "redress-api")
	if err != nil {
		t.Fatal(err)
	}
	tok, _, err := iss.Issue("ft-officer", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := iss.Verify(tok)
	if err != nil || c.Login != "ft-officer" {
		t.Fatalf("verify: %v %+v", err, c)
	}

	other, _ := NewIssuer([]byte(strings.Repeat("x", 32)), "redress", "redress-api")
	wrongAud, _ := NewIssuer(key, "redress", "elsewhere")
	wrongIss, _ := NewIssuer(key, "someone", "redress-api")
	expired, _ := NewIssuer(key, "redress", "redress-api")
	expired.now = func() time.Time { return time.Now().Add(-2 * time.Hour) }
	forgedTok, _, _ := other.Issue("ft-officer", time.Hour)
	audTok, _, _ := wrongAud.Issue("ft-officer", time.Hour)
	issTok, _, _ := wrongIss.Issue("ft-officer", time.Hour)
	expTok, _, _ := expired.Issue("ft-officer", time.Hour)
	// alg "none" with the same claims must never pass.
	parts := strings.Split(tok, ".")
	noneTok := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + "."

	for name, bad := range map[string]string{
		"forged": forgedTok, "audience": audTok, "issuer": issTok, "expired": expTok,
		"alg none": noneTok, "garbage": "abc", "empty": "",
	} {
		if _, err := iss.Verify(bad); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: want ErrInvalidToken, got %v", name, err)
		}
	}
	if _, err := NewIssuer([]byte("short"), "a", "b"); err == nil {
		t.Error("short key accepted")
	}
}

// TestVerifyRemembers: a token verified once is answered from memory (no decoding: nothing
// allocated) until it expires, then refused as before; an invalid token is never remembered,
// and the memory stays bounded.
func TestVerifyRemembers(t *testing.T) {
	iss, err := NewIssuer([]byte(strings.Repeat("k", 32)), "redress", "redress-api")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	iss.now = func() time.Time { return now }
	tok, exp, err := iss.Issue("channel", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := iss.Verify(tok); err != nil || c.Login != "channel" {
		t.Fatalf("verify: %v %+v", err, c)
	}
	if n := testing.AllocsPerRun(100, func() {
		if c, err := iss.Verify(tok); err != nil || c.Login != "channel" {
			t.Fatalf("verify again: %v %+v", err, c)
		}
	}); n != 0 {
		t.Errorf("a verified token's second check allocated %.0f times: decoded again", n)
	}
	// Past its expiry (and the parser's leeway) the remembered token is refused.
	now = exp.Add(10 * time.Second)
	if _, err := iss.Verify(tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("expired remembered token: %v", err)
	}
	// A forged token with a remembered one's claims is not taken for it.
	now = time.Now()
	tok2, _, _ := iss.Issue("channel", time.Minute)
	if _, err := iss.Verify(tok2); err != nil {
		t.Fatal(err)
	}
	if _, err := iss.Verify(tok2[:len(tok2)-2] + "xx"); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("altered signature: %v", err)
	}
	for i := range maxVerified + 10 {
		tk, _, _ := iss.Issue(fmt.Sprintf("u%d", i), time.Minute)
		if _, err := iss.Verify(tk); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	iss.verified.Range(func(any, any) bool { n++; return true })
	if n > maxVerified {
		t.Fatalf("%d tokens remembered, bound %d", n, maxVerified)
	}
}
