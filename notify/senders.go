package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"gorm.io/gorm/clause"

	"redress/outbox"
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

// Sender delivers one notification (see outbox.Sender: the same Delivery may come again).
type Sender = outbox.Sender[Delivery]

// Webhook posts each notification as JSON to an HTTP endpoint (an SMS gateway's adapter),
// signed with the outbox's one scheme (X-Redress-Signature: t=…,v1=…, see package outbox) when
// a secret is set; Idempotency-Key carries the notification's key so the gateway can drop a
// repeat.
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
		return outbox.Permanent(fmt.Errorf("webhook: encode: %w", err))
	}
	c := w.Client
	if c == nil {
		c = &http.Client{Timeout: 10 * time.Second}
	}
	code, _, err := outbox.Post(ctx, c, outbox.Request{URL: w.URL, Secret: w.Secret, Key: d.ID, Body: body, At: time.Now()})
	switch {
	case err != nil:
		return fmt.Errorf("webhook: %w", err)
	case code >= 200 && code < 300:
		return nil
	case code == http.StatusBadRequest || code == http.StatusUnprocessableEntity:
		// The gateway refuses the message itself: sending it again cannot help.
		return outbox.Permanent(fmt.Errorf("webhook: refused with status %d", code))
	}
	return fmt.Errorf("webhook: status %d", code)
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
		return outbox.Permanent(errors.New("local sender without a database"))
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
