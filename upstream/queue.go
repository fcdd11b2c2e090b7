// Package upstream delivers redress's data to other platforms: every rating and every work
// order's outcome to the provincial/national platform (数据汇聚), in the national codes, and work
// orders forwarded to a 12345 hotline platform. Messages go through a delivery queue in the
// database (upstream_messages): a message is stored once under an idempotency key (the
// receiver sees the same key on every retry and dedupes on it), sent by a Deliverer with
// exponential back-off and jitter, retried while the receiver is down, and parked as dead when
// the receiver refuses it for good or the attempts run out; Resend puts a dead one back.
// Every attempt is recorded. A Feeder finds new ratings and outcomes by a high-water mark with
// a safety window, so nothing committed late is missed and nothing is enqueued twice.
//
// The queue is one of the outbox engine's (package outbox: claim, lease, back-off, attempts,
// dead letters, resend); the provincial platform and the 12345 platform are its Senders.
// Requests are signed with the outbox's one scheme (X-Redress-Signature: t=UNIX,v1=hex(
// HMAC-SHA256(secret, "UNIX.BODY"))), which outbox.Verify checks on the 12345 platform's
// callbacks too.
package upstream

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"redress/apperr"
	"redress/models"
	"redress/outbox"
	"redress/profiles"
	"redress/store"
)

// Targets.
const (
	TargetUpstream = "upstream" // provincial/national platform
	TargetHotline  = "hotline"  // 12345 platform
)

// Statuses.
const (
	StatusPending = outbox.StatusPending
	StatusSent    = outbox.StatusSent
	StatusDead    = outbox.StatusDead
)

// Message is one row of the delivery queue.
type Message struct {
	ID            string     `gorm:"primaryKey" json:"id"` // the idempotency key
	Target        string     `json:"target"`
	Kind          string     `json:"kind"`
	SubjectID     string     `json:"subject_id"`
	UnitPath      string     `json:"-"`
	Payload       string     `json:"payload"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"next_attempt_at"`
	LeaseUntil    *time.Time `json:"-"`
	LastError     string     `json:"last_error"`
	LastStatus    int        `json:"last_status"`
	// AnswerID is the platform's own id for a delivered rating (migration 00023).
	AnswerID  string     `json:"answer_id"`
	CreatedAt time.Time  `json:"created_at"`
	SentAt    *time.Time `json:"sent_at"`
}

// TableName names the queue table.
func (Message) TableName() string { return "upstream_messages" }

// Attempt is one delivery attempt.
type Attempt struct {
	ID         int64 `gorm:"primaryKey"`
	MessageID  string
	At         time.Time
	OK         bool `gorm:"column:ok"`
	StatusCode int
	Error      string
	DurationMs int
}

// TableName names the attempts table.
func (Attempt) TableName() string { return "upstream_attempts" }

// Enqueue stores a message in tx unless one with its id exists (then it does nothing).
func Enqueue(tx *gorm.DB, m Message) error {
	return EnqueueAll(tx, []Message{m})
}

// EnqueueAll stores messages in tx, a few hundred to a statement, skipping those whose id
// exists: the rating feed queues every rating, and a statement each was a share of intake's
// database time (BENCHMARKS.md, point 1).
func EnqueueAll(tx *gorm.DB, ms []Message) error {
	if len(ms) == 0 {
		return nil
	}
	now := time.Now().UTC()
	for i := range ms {
		m := &ms[i]
		if m.Status == "" {
			m.Status = StatusPending
		}
		if m.NextAttemptAt.IsZero() {
			m.NextAttemptAt = now
		}
		if m.CreatedAt.IsZero() {
			m.CreatedAt = now
		}
	}
	if err := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&ms, 200).Error; err != nil {
		return fmt.Errorf("enqueue %s…: %w", ms[0].ID, err)
	}
	return nil
}

// Service is the delivery queue and the 12345 tickets as the API serves them: listing,
// inspecting and resending messages, forwarding an order to 12345 and receiving its results.
// Methods that take the caller read and write only what their grants cover: the reach is
// decided here, where the rows are read and written, not by each handler.
type Service struct{ DB *store.DB }

// queueReach is what of the queue the caller sees: a sysadmin every message (all), an
// administrator or auditor the messages of the units their grants cover.
func queueReach(c store.Caller) (scope store.Scope, all bool) {
	for _, g := range c.Grants {
		if g.Role == models.RoleSysadmin {
			return store.Scope{}, true
		}
	}
	return c.Scope(models.RoleAdministrator, models.RoleAuditor), false
}

// List answers the messages the caller sees with a status (all when empty), newest first, at
// most limit.
func (s Service) List(ctx context.Context, c store.Caller, status, target string, limit int) ([]Message, error) {
	scope, all := queueReach(c)
	q := s.DB.WithContext(ctx).Model(&Message{})
	if status != "" {
		q = q.Where("status = ?", status)
	}
	if target != "" {
		q = q.Where("target = ?", target)
	}
	if !all {
		q = scope.Apply(q, "unit_path")
	}
	var out []Message
	if err := q.Order("created_at DESC, id").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list upstream messages: %w", err)
	}
	return out, nil
}

// Attempts lists a message's attempts, oldest first.
func (s Service) Attempts(ctx context.Context, id string) ([]Attempt, error) {
	var out []Attempt
	if err := s.DB.WithContext(ctx).Where("message_id = ?", id).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("upstream attempts %s: %w", id, err)
	}
	return out, nil
}

// Get answers one message the caller sees.
func (s Service) Get(ctx context.Context, c store.Caller, id string) (Message, error) {
	scope, all := queueReach(c)
	q := s.DB.WithContext(ctx).Model(&Message{}).Where("id = ?", id)
	if !all {
		q = scope.Apply(q, "unit_path")
	}
	var m Message
	if err := q.Take(&m).Error; errors.Is(err, gorm.ErrRecordNotFound) {
		return m, apperr.NotFound("message")
	} else if err != nil {
		return m, fmt.Errorf("upstream message %s: %w", id, err)
	}
	return m, nil
}

// Resend puts a dead message back in the queue with a fresh attempt budget. A message that is
// not dead is a conflict (pending ones are being retried; sent ones arrived). Only an
// administrator or a sysadmin resends (auditors read, never act), a message they see.
func (s Service) Resend(ctx context.Context, c store.Caller, id string) (Message, error) {
	acts := slices.ContainsFunc(c.Grants, func(g store.Grant) bool {
		return g.Role == models.RoleAdministrator || g.Role == models.RoleSysadmin
	})
	if !acts {
		return Message{}, apperr.Forbidden("forbidden", "your roles do not allow this")
	}
	m, err := s.Get(ctx, c, id)
	if err != nil {
		return m, err
	}
	if m.Status != StatusDead {
		return m, apperr.Conflict("not_dead", "only a dead message can be sent again (this one is %s)", m.Status)
	}
	now := time.Now().UTC()
	q := &outbox.Queue{DB: s.DB, Model: &Message{}, LeaseColumn: "lease_until", Now: func() time.Time { return now }}
	if _, err := q.Resend(ctx, id, nil); err != nil {
		return m, fmt.Errorf("upstream: %w", err)
	}
	m.Status, m.Attempts, m.NextAttemptAt = StatusPending, 0, now
	return m, nil
}

// Divisions is the administrative division code of each unit path (LoadDivisions), for the
// records of the work-order export.
func (s Service) Divisions(ctx context.Context) (map[string]string, error) {
	return LoadDivisions(ctx, s.DB)
}

// SupervisionRecord is the national record of one supervision event (SupervisionRecord) of an
// order the caller has already read through their scope, for the work-order export.
func (s Service) SupervisionRecord(ctx context.Context, id string, at time.Time, orderPath, orderUnit string, d map[string]any) (profiles.Record, error) {
	return SupervisionRecord(ctx, s.DB, id, at, orderPath, orderUnit, d)
}
