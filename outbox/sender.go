package outbox

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Sender delivers one message of type M (notify.Delivery, upstream.Outgoing). It must be safe
// to call again with the same message: the engine retries after errors, and after a crash
// between sending and recording. An error wrapped by Permanent parks the message as dead at
// once; any other error is retried.
type Sender[M any] interface {
	Name() string
	Send(ctx context.Context, m M) error
}

// PermanentError marks a failure that no retry can fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent marks err as a failure that no retry can fix.
func Permanent(err error) error { return &PermanentError{err} }

// IsPermanent tells whether err, or an error it wraps, is permanent.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// Request is one signed webhook POST.
type Request struct {
	URL    string
	Secret string // "": unsigned
	// Key is the Idempotency-Key: the message's id, the same on every retry.
	Key    string
	Body   []byte
	Header http.Header // further headers
	At     time.Time   // the signature's timestamp
}

// Post sends a JSON webhook signed with the one scheme (see the package doc) and answers the
// receiver's status and the first 64 KiB of its answer. An error is a failure to get an answer
// at all (worth retrying).
func Post(ctx context.Context, c *http.Client, r Request) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil {
		return 0, nil, Permanent(fmt.Errorf("request: %w", err))
	}
	for k, vs := range r.Header {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", r.Key)
	if r.Secret != "" {
		req.Header.Set(SignatureHeader, Sign(r.Secret, r.At, r.Body))
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close() //nolint:errcheck // the answer is read up to its limit before Close; a failed Close cannot change it
	answer, _ := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	return res.StatusCode, answer, nil
}
