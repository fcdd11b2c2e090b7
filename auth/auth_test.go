package auth

import (
	"errors"
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
