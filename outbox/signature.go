package outbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// SignatureHeader carries the signature of a webhook's body (see the package doc).
const SignatureHeader = "X-Redress-Signature"

// Sign makes the SignatureHeader value of body sent at time ts.
func Sign(secret string, ts time.Time, body []byte) string {
	t := strconv.FormatInt(ts.Unix(), 10)
	return "t=" + t + ",v1=" + mac(secret, t, body)
}

func mac(secret, t string, body []byte) string {
	h := hmac.New(sha256.New, []byte(secret))
	h.Write([]byte(t))
	h.Write([]byte("."))
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// ErrBadSignature is returned by Verify.
var ErrBadSignature = errors.New("bad signature")

// Verify checks a SignatureHeader value against body, refusing one older or newer than skew (a
// captured request cannot be replayed later).
func Verify(secret, header string, body []byte, now time.Time, skew time.Duration) error {
	if secret == "" {
		return fmt.Errorf("%w: no secret configured", ErrBadSignature)
	}
	var t, v string
	for _, part := range strings.Split(header, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			t = val
		case "v1":
			v = val
		}
	}
	sec, err := strconv.ParseInt(t, 10, 64)
	if err != nil || v == "" {
		return fmt.Errorf("%w: malformed", ErrBadSignature)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > skew || d < -skew {
		return fmt.Errorf("%w: timestamp outside the allowed window", ErrBadSignature)
	}
	if !hmac.Equal([]byte(mac(secret, t, body)), []byte(v)) {
		return ErrBadSignature
	}
	return nil
}
