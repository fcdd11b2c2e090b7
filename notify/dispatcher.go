package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"redress/migrations"
	"redress/pii"
	"redress/store"
)

// Dispatcher sends due outbox rows. Several dispatchers (one per worker process) may run against
// one PostgreSQL database: each claims rows with FOR UPDATE SKIP LOCKED and leases them for a
// while, so no two send the same row at once; on SQLite (one process, one writer) a row is
// claimed by a conditional update.
type Dispatcher struct {
	DB  *store.DB
	Box *pii.Box // opens the evaluator's phone number at send time
	// Senders by channel; a channel without a sender fails its messages (they go dead after
	// MaxAttempts and can be re-sent once a sender is configured).
	Senders   map[string]Sender
	PublicURL string // base of tracking links
	// Held are channels whose messages stay queued, untried, until a sender is configured (a
	// production worker without an SMS gateway): before, they went to the local inbox and were
	// marked sent although no citizen reads it.
	Held []string

	MaxAttempts int           // default 8
	Backoff     time.Duration // first retry delay, doubled each attempt; default 2 s
	MaxBackoff  time.Duration // default 10 min
	Poll        time.Duration // default 1 s
	Batch       int           // default 50
	Lease       time.Duration // how long a claimed row is kept from other dispatchers; default 2 min
	Workers     int           // sends in parallel; default 4
}

func (d *Dispatcher) defaults() {
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 8
	}
	if d.Backoff <= 0 {
		d.Backoff = 2 * time.Second
	}
	if d.MaxBackoff <= 0 {
		d.MaxBackoff = 10 * time.Minute
	}
	if d.Poll <= 0 {
		d.Poll = time.Second
	}
	if d.Batch <= 0 {
		d.Batch = 50
	}
	if d.Lease <= 0 {
		d.Lease = 2 * time.Minute
	}
	if d.Workers <= 0 {
		d.Workers = 4
	}
}

// Run sends due notifications until ctx ends.
func (d *Dispatcher) Run(ctx context.Context) {
	d.defaults()
	for {
		n, err := d.RunOnce(ctx)
		if err != nil && ctx.Err() == nil {
			slog.Warn("notifications: dispatch", "err", err)
		}
		if n >= d.Batch && err == nil {
			continue // more are waiting
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(d.Poll):
		}
	}
}

// RunOnce claims one batch of due notifications and tries each once; it returns how many it
// tried.
func (d *Dispatcher) RunOnce(ctx context.Context) (int, error) {
	d.defaults()
	rows, err := d.claim(ctx)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, d.Workers)
	errs := make([]error, len(rows))
	for i := range rows {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = d.deliver(ctx, rows[i])
		}(i)
	}
	wg.Wait()
	return len(rows), errors.Join(errs...)
}

// claim picks due rows and leases them.
func (d *Dispatcher) claim(ctx context.Context) ([]Notification, error) {
	now := time.Now().UTC()
	until := now.Add(d.Lease)
	var out []Notification
	if d.DB.Dialect == migrations.Postgres {
		err := d.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := d.notHeld(tx.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})).
				Where("status = ? AND next_attempt_at <= ?", StatusPending, now).
				Order("next_attempt_at").Limit(d.Batch).Find(&out).Error; err != nil {
				return err
			}
			if len(out) == 0 {
				return nil
			}
			ids := make([]string, len(out))
			for i, n := range out {
				ids[i] = n.ID
			}
			return tx.Model(&Notification{}).Where("id IN ?", ids).Update("next_attempt_at", until).Error
		})
		if err != nil {
			return nil, fmt.Errorf("notifications: claim: %w", err)
		}
		return out, nil
	}
	var due []Notification
	if err := d.notHeld(d.DB.WithContext(ctx)).Where("status = ? AND next_attempt_at <= ?", StatusPending, now).
		Order("next_attempt_at").Limit(d.Batch).Find(&due).Error; err != nil {
		return nil, fmt.Errorf("notifications: claim: %w", err)
	}
	for _, n := range due {
		res := d.DB.WithContext(ctx).Model(&Notification{}).
			Where("id = ? AND status = ? AND next_attempt_at = ?", n.ID, StatusPending, n.NextAttemptAt).
			Update("next_attempt_at", until)
		if res.Error != nil {
			return out, fmt.Errorf("notifications: claim %s: %w", n.ID, res.Error)
		}
		if res.RowsAffected == 1 {
			out = append(out, n)
		}
	}
	return out, nil
}

// notHeld leaves out the held channels' rows.
func (d *Dispatcher) notHeld(q *gorm.DB) *gorm.DB {
	if len(d.Held) == 0 {
		return q
	}
	return q.Where("channel NOT IN ?", d.Held)
}

// Queued counts the pending messages of a channel (for readiness and the administrators'
// banner when the channel is held).
func Queued(ctx context.Context, db *store.DB, channel string) (int64, error) {
	var n int64
	err := db.WithContext(ctx).Model(&Notification{}).Where("status = ? AND channel = ?", StatusPending, channel).Count(&n).Error
	return n, err
}

// maskToken keeps a token's first characters, enough to tell links apart in a log.
func maskToken(tok string) string {
	if len(tok) <= 4 {
		return "****"
	}
	return tok[:4] + "****"
}

// TrackPath is the path of a tracking link under the public base URL.
const TrackPath = "/api/v1/track/"

// delivery builds what a sender sees: the link from the token, the evaluator's phone.
func (d *Dispatcher) delivery(ctx context.Context, n Notification) (Delivery, error) {
	params := map[string]string{}
	masked := map[string]string{}
	for k, v := range n.Params.V {
		if k == "token" {
			base := strings.TrimRight(d.PublicURL, "/")
			params["link"] = base + TrackPath + v
			masked["link"] = base + TrackPath + maskToken(v)
			continue
		}
		params[k], masked[k] = v, v
	}
	dl := Delivery{ID: n.ID, WorkOrderID: n.WorkOrderID, Channel: n.Channel, Kind: n.RecipientKind,
		UnitPath: n.UnitPath, Role: n.Role, Template: n.Template, Params: params,
		Text: Text(n.Template, params), Masked: Text(n.Template, masked), CreatedAt: n.CreatedAt}
	if n.RecipientKind == KindEvaluator {
		var sealed string
		err := d.DB.WithContext(ctx).Table("evaluations").Select("evaluations.evaluator_phone").
			Joins("JOIN work_orders ON work_orders.evaluation_id = evaluations.id").
			Where("work_orders.id = ?", n.WorkOrderID).Scan(&sealed).Error
		if err != nil {
			return dl, fmt.Errorf("evaluator of %s: %w", n.WorkOrderID, err)
		}
		if sealed == "" {
			return dl, &PermanentError{errors.New("the evaluator left no phone number")}
		}
		if d.Box == nil {
			return dl, &PermanentError{errors.New("no key to open the evaluator's phone number")}
		}
		phone, err := d.Box.Open(sealed)
		if err != nil {
			return dl, &PermanentError{fmt.Errorf("open the evaluator's phone number: %w", err)}
		}
		dl.To, dl.MaskedTo = phone, pii.MaskPhone(phone)
	}
	return dl, nil
}

// deliver tries one notification once and records the attempt and its outcome.
func (d *Dispatcher) deliver(ctx context.Context, n Notification) error {
	start := time.Now()
	sender := d.Senders[n.Channel]
	name := "none"
	dl, err := d.delivery(ctx, n)
	if err == nil {
		if sender == nil {
			err = fmt.Errorf("no sender for channel %q", n.Channel)
		} else {
			name = sender.Name()
			err = sender.Send(ctx, dl)
		}
	}
	if ctx.Err() != nil && err != nil {
		return nil // shutting down: the lease runs out and the row is tried again
	}
	at := time.Now().UTC()
	attempts := n.Attempts + 1
	a := Attempt{NotificationID: n.ID, At: at, Sender: name, OK: err == nil, DurationMS: int(time.Since(start).Milliseconds())}
	upd := map[string]any{"attempts": attempts}
	if err == nil {
		upd["status"], upd["sent_at"], upd["last_error"] = StatusSent, at, ""
		// Delivered: the token is not kept in clear any longer than needed.
		if tok, ok := n.Params.V["token"]; ok {
			p := map[string]string{}
			for k, v := range n.Params.V {
				p[k] = v
			}
			p["token"] = maskToken(tok)
			upd["params"] = p
		}
	} else {
		msg := err.Error()
		if len(msg) > 500 {
			msg = msg[:500]
		}
		a.Error = msg
		upd["last_error"] = msg
		var perm *PermanentError
		if errors.As(err, &perm) || attempts >= d.MaxAttempts {
			upd["status"] = StatusDead
		} else {
			upd["next_attempt_at"] = at.Add(d.backoff(attempts))
		}
	}
	if p, ok := upd["params"].(map[string]string); ok {
		upd["params"] = jsonOf(p)
	}
	werr := d.DB.WithContext(context.WithoutCancel(ctx)).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&a).Error; err != nil {
			return err
		}
		return tx.Model(&Notification{}).Where("id = ? AND status = ?", n.ID, StatusPending).Updates(upd).Error
	})
	if werr != nil {
		return fmt.Errorf("notifications: record attempt of %s: %w", n.ID, werr)
	}
	if err != nil {
		slog.Info("notifications: attempt failed", "id", n.ID, "attempt", attempts, "dead", upd["status"] == StatusDead, "err", err)
	}
	return nil
}

// backoff is the delay before attempt n+1: Backoff·2^(n-1), at most MaxBackoff.
func (d *Dispatcher) backoff(n int) time.Duration {
	b := d.Backoff
	for i := 1; i < n && b < d.MaxBackoff; i++ {
		b *= 2
	}
	if b > d.MaxBackoff {
		b = d.MaxBackoff
	}
	return b
}

// ErrNotDead is returned by Resend for a notification that is not dead.
var ErrNotDead = errors.New("notification is not dead")

// Resend puts a dead notification back in the queue with a fresh count of attempts.
func Resend(ctx context.Context, db *store.DB, id string) error {
	res := db.WithContext(ctx).Model(&Notification{}).Where("id = ? AND status = ?", id, StatusDead).
		Updates(map[string]any{"status": StatusPending, "attempts": 0, "next_attempt_at": time.Now().UTC(), "last_error": ""})
	if res.Error != nil {
		return fmt.Errorf("resend %s: %w", id, res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrNotDead
	}
	return nil
}
