// Package notify is redress's notifications, one queue of the outbox engine (package outbox),
// table notifications. A notification is enqueued in the same
// database transaction as the timeline event that causes it (see Enqueue, called by the
// RecordEvent activity), under an idempotency key made of the event id and the recipient, so a
// replayed workflow or a retried activity enqueues nothing twice. The Dispatcher, which runs in
// the worker process, sends due rows through pluggable Senders (an HTTP webhook for an SMS
// gateway, the local inbox that the UI lists); the engine leases, retries with back-off,
// records every attempt and parks a notification as dead after the last one; Resend puts a
// dead one back in the queue. Center serves the notification centre to the API. What a
// workflow asks to send (Message, templates) lives in notify/message, which links no storage.
//
// Recipients are groups, not people: the evaluator of a work order (SMS, phone resolved from
// the sealed evaluation at send time, so the outbox holds no phone number), or the holders of a
// role on a unit (officers and leaders of the responsible unit, the supervisors and auditors
// whose subtree covers it, the administrators of the jurisdiction).
package notify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"redress/models"
	"redress/notify/message"
	"redress/outbox"
	"redress/store"
)

// Channels and recipient kinds: the message package's, named here too so that the outbox's
// callers (api, cmd, tests) need not import both packages.
const (
	ChannelSMS    = message.ChannelSMS
	ChannelInbox  = message.ChannelInbox
	KindEvaluator = message.KindEvaluator
	KindStaff     = message.KindStaff
)

// Statuses of an outbox row.
const (
	StatusPending = outbox.StatusPending
	StatusSent    = outbox.StatusSent
	StatusDead    = outbox.StatusDead
)

// Message is a notification a timeline event asks for (see package message).
type Message = message.Message

// Notification is one outbox row.
type Notification struct {
	ID            string `gorm:"primaryKey"`
	WorkOrderID   string
	EventID       string
	Channel       string
	RecipientKind string
	UnitPath      string
	Role          string
	Template      string
	Params        models.JSON[map[string]string]
	Status        string
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
	CreatedAt     time.Time
	SentAt        *time.Time
}

// Attempt is one delivery attempt.
type Attempt struct {
	ID             int64 `gorm:"primaryKey"`
	NotificationID string
	At             time.Time
	Sender         string
	OK             bool
	Error          string
	DurationMS     int
}

// TableName names the attempts table.
func (Attempt) TableName() string { return "notification_attempts" }

// InboxMessage is a message delivered by the local sender.
type InboxMessage struct {
	ID            string `gorm:"primaryKey"`
	WorkOrderID   string
	Channel       string
	RecipientKind string
	UnitPath      string
	Role          string
	Address       string // masked phone of an evaluator's SMS
	Template      string
	Body          string
	ReceivedAt    time.Time
}

// TableName names the inbox table.
func (InboxMessage) TableName() string { return "notification_inbox" }

// TrackingToken is the stored hash of a tracking link's token.
type TrackingToken struct {
	TokenHash   string `gorm:"primaryKey"`
	WorkOrderID string
	EventID     string
	CreatedAt   time.Time
}

// HashToken is how a tracking token is stored and looked up.
func HashToken(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func newToken() (string, error) {
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("tracking token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// IssueToken stores a fresh tracking token of a work order for an event that hands the link to
// the evaluator directly (the rating page's thank-you) and answers it; only its hash is kept.
// An event that has a token already answers "" (its link was handed out before and cannot be
// recovered).
func IssueToken(tx *gorm.DB, workOrderID, eventID string, at time.Time) (string, error) {
	tok, err := newToken()
	if err != nil {
		return "", err
	}
	tt := TrackingToken{TokenHash: HashToken(tok), WorkOrderID: workOrderID, EventID: eventID, CreatedAt: at.UTC()}
	res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&tt)
	if res.Error != nil {
		return "", fmt.Errorf("tracking token of %s: %w", eventID, res.Error)
	}
	if res.RowsAffected == 0 {
		return "", nil
	}
	return tok, nil
}

// Enqueue writes the messages of one timeline event into the outbox, inside the caller's
// transaction tx. Rows already there (same event and recipient) are left alone.
func Enqueue(tx *gorm.DB, workOrderID, eventID string, at time.Time, msgs []Message) error {
	for _, m := range msgs {
		params := map[string]string{}
		for k, v := range m.Params {
			params[k] = v
		}
		if m.Track {
			tok, err := newToken()
			if err != nil {
				return err
			}
			tt := TrackingToken{TokenHash: HashToken(tok), WorkOrderID: workOrderID, EventID: eventID, CreatedAt: at.UTC()}
			res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&tt)
			if res.Error != nil {
				return fmt.Errorf("enqueue %s: tracking token: %w", eventID, res.Error)
			}
			if res.RowsAffected == 0 {
				continue // this event's link exists already: its message was enqueued with it
			}
			params["token"] = tok
		}
		n := Notification{
			ID: Key(eventID, m.Key), WorkOrderID: workOrderID, EventID: eventID, Channel: m.Channel,
			RecipientKind: m.Kind, UnitPath: m.UnitPath, Role: m.Role, Template: m.Template,
			Params: models.NewJSON(params), Status: StatusPending, NextAttemptAt: at.UTC(), CreatedAt: at.UTC(),
		}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&n).Error; err != nil {
			return fmt.Errorf("enqueue %s: %w", n.ID, err)
		}
	}
	return nil
}

// Key is the idempotency key of an event's message to a recipient: a hash of both, so that it
// is the same however often the event is recorded, and safe in a URL and an HTTP header.
func Key(eventID, recipient string) string {
	h := sha256.Sum256([]byte(eventID + "\x00" + recipient))
	return hex.EncodeToString(h[:16])
}

// Tokens issues tracking tokens on behalf of an evaluator who has just rated: the token is of
// the work order their own rating opened, the only one they reach.
type Tokens struct{ DB *store.DB }

// Issue stores and answers a fresh tracking token of the work order for the event (IssueToken).
func (t Tokens) Issue(ctx context.Context, workOrderID, eventID string, at time.Time) (string, error) {
	return IssueToken(t.DB.WithContext(ctx), workOrderID, eventID, at)
}
