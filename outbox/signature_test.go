package outbox_test

import (
	"errors"
	"testing"
	"time"

	"redress/outbox"
)

const secret = "shared-secret"

func TestVerify(t *testing.T) {
	body := []byte(`{"a":1}`)
	now := time.Now()
	good := outbox.Sign(secret, now, body)
	cases := []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		ok     bool
	}{
		{"good", good, body, now, true},
		{"other body", good, []byte(`{"a":2}`), now, false},
		{"other secret", outbox.Sign("x", now, body), body, now, false},
		{"replayed later", good, body, now.Add(10 * time.Minute), false},
		{"malformed", "v1=abc", body, now, false},
	}
	for _, c := range cases {
		err := outbox.Verify(secret, c.header, c.body, c.now, 5*time.Minute)
		if (err == nil) != c.ok || (err != nil && !errors.Is(err, outbox.ErrBadSignature)) {
			t.Errorf("%s: %v", c.name, err)
		}
	}
}
