// Package outbox is redress's one engine for messages that leave the system: it claims due
// rows of a queue table, leases them so that no two workers send the same row at once, records
// every attempt, backs off after a failure (Retry), parks a row as dead when it fails for good
// or its attempts run out, and puts a dead row back on request (Resend). What is sent, and to
// whom, is the business of the Senders plugged into it: the SMS gateway's webhook and the local
// inbox (package notify, table notifications), the provincial platform and the 12345 hotline
// (package upstream, table upstream_messages).
//
// A queue table has the columns id, status (pending, sent, dead), attempts, next_attempt_at,
// last_error and sent_at, and optionally a lease column (upstream_messages.lease_until); without
// one, a claimed row is leased by moving its next_attempt_at forward. Attempts go to a table of
// their own (notification_attempts, upstream_attempts), whose rows the caller shapes.
//
// # Signed webhooks
//
// Every outgoing webhook (SMS gateway, provincial platform, 12345 platform) is signed the same
// way, and the 12345 platform's callbacks are checked the same way:
//
//	X-Redress-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<unix seconds>.<raw body>")>
//
// A receiver recomputes the HMAC over the timestamp, a dot and the raw body with the shared
// secret, compares it in constant time, and refuses a timestamp more than a few minutes from its
// clock (a captured request cannot be replayed later). Verify does exactly that. Requests also
// carry Idempotency-Key (the row's id, the same on every retry) for the receiver to drop repeats.
package outbox

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"redress/migrations"
	"redress/store"
)

// Statuses of a queued row.
const (
	StatusPending = "pending"
	StatusSent    = "sent"
	StatusDead    = "dead"
)

// Queue is one queue table as the engine sees it.
type Queue struct {
	DB *store.DB
	// Model is a pointer to the table's row type (it names the table).
	Model any
	// LeaseColumn is a nullable timestamp column that holds a claim and is cleared after each
	// attempt; "" leases by moving next_attempt_at forward.
	LeaseColumn string
	// Lease is how long a claimed row is kept from other workers.
	Lease time.Duration
	Retry Retry
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

func (q *Queue) now() time.Time {
	if q.Now != nil {
		return q.Now().UTC()
	}
	return time.Now().UTC()
}

// due keeps the pending rows whose time has come and that nobody holds.
func (q *Queue) due(db *gorm.DB, now time.Time) *gorm.DB {
	db = db.Where("status = ? AND next_attempt_at <= ?", StatusPending, now)
	if q.LeaseColumn != "" {
		db = db.Where("("+q.LeaseColumn+" IS NULL OR "+q.LeaseColumn+" < ?)", now)
	}
	return db
}

func (q *Queue) leaseColumn() string {
	if q.LeaseColumn != "" {
		return q.LeaseColumn
	}
	return "next_attempt_at"
}

// Due reads up to limit due rows into dest (a pointer to a slice of the row type), oldest
// first, without claiming them: the caller claims each with Claim before sending it. filter,
// if not nil, narrows the rows (e.g. channels held back).
func (q *Queue) Due(ctx context.Context, limit int, filter func(*gorm.DB) *gorm.DB, dest any) error {
	db := q.due(q.DB.WithContext(ctx).Model(q.Model), q.now())
	if filter != nil {
		db = filter(db)
	}
	if err := db.Order("next_attempt_at, id").Limit(limit).Find(dest).Error; err != nil {
		return fmt.Errorf("outbox: due rows: %w", err)
	}
	return nil
}

// Claim leases one row if it is still due and unclaimed; false: another worker has it.
func (q *Queue) Claim(ctx context.Context, id string) (bool, error) {
	now := q.now()
	res := q.due(q.DB.WithContext(ctx).Model(q.Model).Where("id = ?", id), now).
		Update(q.leaseColumn(), now.Add(q.Lease))
	if res.Error != nil {
		return false, fmt.Errorf("outbox: claim %s: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ClaimDue claims up to limit due rows at once and answers them. On PostgreSQL, where several
// workers may share the queue, the rows are locked with FOR UPDATE SKIP LOCKED while they are
// leased, so that concurrent claims pass each other by; elsewhere (SQLite: one process, one
// writer) each row is claimed by a conditional update.
func ClaimDue[R any](ctx context.Context, q *Queue, limit int, filter func(*gorm.DB) *gorm.DB, id func(R) string) ([]R, error) {
	if filter == nil {
		filter = func(db *gorm.DB) *gorm.DB { return db }
	}
	var out []R
	if q.DB.Dialect == migrations.Postgres {
		now := q.now()
		err := q.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := filter(q.due(tx.Model(q.Model).Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"}), now)).
				Order("next_attempt_at, id").Limit(limit).Find(&out).Error; err != nil {
				return err
			}
			if len(out) == 0 {
				return nil
			}
			ids := make([]string, len(out))
			for i, r := range out {
				ids[i] = id(r)
			}
			return tx.Model(q.Model).Where("id IN ?", ids).Update(q.leaseColumn(), now.Add(q.Lease)).Error
		})
		if err != nil {
			return nil, fmt.Errorf("outbox: claim: %w", err)
		}
		return out, nil
	}
	var due []R
	if err := q.Due(ctx, limit, filter, &due); err != nil {
		return nil, err
	}
	for _, r := range due {
		ok, err := q.Claim(ctx, id(r))
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, r)
		}
	}
	return out, nil
}

// Release gives a claimed row back untried (it is due again at once).
func (q *Queue) Release(ctx context.Context, id string) error {
	var val any
	if q.LeaseColumn == "" {
		val = q.now()
	}
	if err := q.DB.WithContext(ctx).Model(q.Model).Where("id = ? AND status = ?", id, StatusPending).
		Update(q.leaseColumn(), val).Error; err != nil {
		return fmt.Errorf("outbox: release %s: %w", id, err)
	}
	return nil
}

// Attempt is the outcome of one try of a claimed row.
type Attempt struct {
	ID string
	// Before is the row's count of attempts before this one.
	Before int
	// Err is the sender's answer: nil delivered; a PermanentError (see Permanent) dead at once;
	// anything else retried after Retry's delay, until Retry.MaxAttempts.
	Err error
	// Row is the attempt row to insert into the attempts table, shaped by the caller.
	Row any
	// Set holds further columns of the queue row to write with the outcome.
	Set map[string]any
}

// Record writes an attempt and the row's new state in one transaction and answers the status
// the row is left in. It records even when ctx is cancelled: the attempt was made.
func (q *Queue) Record(ctx context.Context, a Attempt) (string, error) {
	at := q.now()
	n := a.Before + 1
	upd := map[string]any{"attempts": n}
	if q.LeaseColumn != "" {
		upd[q.LeaseColumn] = nil
	}
	status := StatusPending
	switch {
	case a.Err == nil:
		status = StatusSent
		upd["sent_at"], upd["last_error"] = at, ""
	case IsPermanent(a.Err) || n >= q.Retry.MaxAttempts:
		status = StatusDead
		upd["last_error"] = ErrorText(a.Err)
	default:
		upd["last_error"] = ErrorText(a.Err)
		upd["next_attempt_at"] = at.Add(q.Retry.Delay(n))
	}
	if status != StatusPending {
		upd["status"] = status
	}
	for k, v := range a.Set {
		upd[k] = v
	}
	err := q.DB.WithContext(context.WithoutCancel(ctx)).Transaction(func(tx *gorm.DB) error {
		if a.Row != nil {
			if err := tx.Create(a.Row).Error; err != nil {
				return err
			}
		}
		return tx.Model(q.Model).Where("id = ? AND status = ?", a.ID, StatusPending).Updates(upd).Error
	})
	if err != nil {
		return status, fmt.Errorf("outbox: record attempt of %s: %w", a.ID, err)
	}
	return status, nil
}

// Bury parks a pending row as dead without an attempt (it cannot be sent as it is).
func (q *Queue) Bury(ctx context.Context, id, reason string) error {
	upd := map[string]any{"status": StatusDead, "last_error": reason}
	if q.LeaseColumn != "" {
		upd[q.LeaseColumn] = nil
	}
	if err := q.DB.WithContext(ctx).Model(q.Model).Where("id = ?", id).Updates(upd).Error; err != nil {
		return fmt.Errorf("outbox: bury %s: %w", id, err)
	}
	return nil
}

// Resend puts a dead row back in the queue, due now, with a fresh count of attempts; set holds
// further columns to reset. false: the row is not dead (or not there).
func (q *Queue) Resend(ctx context.Context, id string, set map[string]any) (bool, error) {
	upd := map[string]any{"status": StatusPending, "attempts": 0, "next_attempt_at": q.now()}
	if q.LeaseColumn != "" {
		upd[q.LeaseColumn] = nil
	}
	for k, v := range set {
		upd[k] = v
	}
	res := q.DB.WithContext(ctx).Model(q.Model).Where("id = ? AND status = ?", id, StatusDead).Updates(upd)
	if res.Error != nil {
		return false, fmt.Errorf("outbox: resend %s: %w", id, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ErrorText is an error as stored in last_error and in an attempt row: at most 500 bytes.
func ErrorText(err error) string {
	if err == nil {
		return ""
	}
	msg := err.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	return msg
}
