package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"gorm.io/gorm/clause"

	"redress/store"
)

// Delivery is one notification as a sender sees it.
type Delivery struct {
	ID          string            `json:"id"` // the idempotency key
	WorkOrderID string            `json:"work_order_id"`
	Channel     string            `json:"channel"`
	Kind        string            `json:"recipient_kind"`
	To          string            `json:"to,omitempty"` // the evaluator's phone (SMS)
	UnitPath    string            `json:"unit_path,omitempty"`
	Role        string            `json:"role,omitempty"`
	Template    string            `json:"template"`
	Params      map[string]string `json:"params"`
	Text        string            `json:"text"`
	// Masked is Text with the tracking token and phone masked, for anything that is stored.
	Masked    string `json:"-"`
	MaskedTo  string `json:"-"`
	CreatedAt time.Time
}

// Sender delivers one notification. It must be safe to call again with the same Delivery (the
// dispatcher retries after errors and after a crash between sending and recording).
type Sender interface {
	Name() string
	Send(ctx context.Context, d Delivery) error
}

// PermanentError marks a failure that no retry can fix (the notification goes dead at once).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Webhook posts each notification as JSON to an HTTP endpoint (an SMS gateway's adapter). The
// Idempotency-Key header carries the notification's key so the gateway can drop a repeat, and
// X-Redress-Signature is "sha256=" + hex HMAC-SHA256 over timestamp + "." + body with the shared
// secret, so the gateway can check the sender and refuse replays of old requests.
type Webhook struct {
	URL    string
	Secret string
	Client *http.Client // nil: a client with a 10 s timeout
}

// Name implements Sender.
func (w *Webhook) Name() string { return "webhook" }

type webhookBody struct {
	ID          string            `json:"id"`
	WorkOrderID string            `json:"work_order_id"`
	Channel     string            `json:"channel"`
	Recipient   map[string]string `json:"recipient"`
	Template    string            `json:"template"`
	Params      map[string]string `json:"params"`
	Text        string            `json:"text"`
	CreatedAt   time.Time         `json:"created_at"`
}

// Sign computes the signature header value of a webhook request.
func Sign(secret, timestamp string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp + "."))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Send implements Sender.
func (w *Webhook) Send(ctx context.Context, d Delivery) error {
	rcpt := map[string]string{"kind": d.Kind}
	if d.To != "" {
		rcpt["phone"] = d.To
	}
	if d.UnitPath != "" {
		rcpt["unit_path"], rcpt["role"] = d.UnitPath, d.Role
	}
	body, err := json.Marshal(webhookBody{ID: d.ID, WorkOrderID: d.WorkOrderID, Channel: d.Channel, Recipient: rcpt,
		Template: d.Template, Params: d.Params, Text: d.Text, CreatedAt: d.CreatedAt})
	if err != nil {
		return &PermanentError{fmt.Errorf("webhook: encode: %w", err)}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return &PermanentError{fmt.Errorf("webhook: %w", err)}
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", d.ID)
	req.Header.Set("X-Redress-Timestamp", ts)
	if w.Secret != "" {
		req.Header.Set("X-Redress-Signature", Sign(w.Secret, ts, body))
	}
	c := w.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	res, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	defer res.Body.Close() //nolint:errcheck // the body was drained and only the status counts; a failed Close cannot change the answer
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	switch {
	case res.StatusCode >= 200 && res.StatusCode < 300:
		return nil
	case res.StatusCode == http.StatusBadRequest || res.StatusCode == http.StatusUnprocessableEntity:
		// The gateway refuses the message itself: sending it again cannot help.
		return &PermanentError{fmt.Errorf("webhook: refused with status %d", res.StatusCode)}
	}
	return fmt.Errorf("webhook: status %d", res.StatusCode)
}

// Local stores each notification in the database's inbox, where the UI lists it: in-system
// messages to staff always, and in `redress dev` (or without an SMS gateway) the evaluator's
// SMS, with phone and tracking token masked.
type Local struct {
	DB *store.DB
	// KeepLinks (redress dev only) keeps the tracking link in the stored text of evaluators'
	// SMS (the phone stays masked), so that an administrator can follow the citizen's path
	// locally without an SMS receiver. Never in production: the token is the evaluator's
	// credential.
	KeepLinks bool
}

// Name implements Sender.
func (l *Local) Name() string { return "local" }

// Send implements Sender.
func (l *Local) Send(ctx context.Context, d Delivery) error {
	if l.DB == nil {
		return &PermanentError{errors.New("local sender without a database")}
	}
	body := d.Masked
	if l.KeepLinks && d.Params["link"] != "" {
		body = d.Text // the parameters hold no phone number: only the link differs from Masked
	}
	m := InboxMessage{ID: d.ID, WorkOrderID: d.WorkOrderID, Channel: d.Channel, RecipientKind: d.Kind,
		UnitPath: d.UnitPath, Role: d.Role, Address: d.MaskedTo, Template: d.Template, Body: body,
		ReceivedAt: time.Now().UTC()}
	if err := l.DB.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&m).Error; err != nil {
		return fmt.Errorf("local inbox: %w", err)
	}
	return nil
}
