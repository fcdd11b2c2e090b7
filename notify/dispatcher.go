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

	"redress/models"
	"redress/notify/message"
	"redress/outbox"
	"redress/pii"
	"redress/store"
)

// Dispatcher sends due outbox rows, several at once. Several dispatchers (one per worker
// process) may run against one database: outbox.ClaimDue leases each row to one of them.
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

// queue is the notifications table as the outbox engine sees it: a claimed row is leased by
// moving its next_attempt_at forward.
func (d *Dispatcher) queue() *outbox.Queue {
	return &outbox.Queue{DB: d.DB, Model: &Notification{}, Lease: d.Lease,
		Retry: outbox.Retry{Base: d.Backoff, Max: d.MaxBackoff, MaxAttempts: d.MaxAttempts}}
}

// claim picks due rows and leases them.
func (d *Dispatcher) claim(ctx context.Context) ([]Notification, error) {
	out, err := outbox.ClaimDue(ctx, d.queue(), d.Batch, d.notHeld, func(n Notification) string { return n.ID })
	if err != nil {
		return out, fmt.Errorf("notifications: %w", err)
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
		Text: message.Text(n.Template, params), Masked: message.Text(n.Template, masked), CreatedAt: n.CreatedAt}
	if n.RecipientKind == KindEvaluator {
		var sealed string
		err := d.DB.WithContext(ctx).Table("evaluations").Select("evaluations.evaluator_phone").
			Joins("JOIN work_orders ON work_orders.evaluation_id = evaluations.id").
			Where("work_orders.id = ?", n.WorkOrderID).Scan(&sealed).Error
		if err != nil {
			return dl, fmt.Errorf("evaluator of %s: %w", n.WorkOrderID, err)
		}
		if sealed == "" {
			return dl, outbox.Permanent(errors.New("the evaluator left no phone number"))
		}
		if d.Box == nil {
			return dl, outbox.Permanent(errors.New("no key to open the evaluator's phone number"))
		}
		phone, err := d.Box.Open(sealed)
		if err != nil {
			return dl, outbox.Permanent(fmt.Errorf("open the evaluator's phone number: %w", err))
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
	a := outbox.Attempt{ID: n.ID, Before: n.Attempts, Err: err,
		Row: &Attempt{NotificationID: n.ID, At: time.Now().UTC(), Sender: name, OK: err == nil, Error: outbox.ErrorText(err),
			DurationMS: int(time.Since(start).Milliseconds())}}
	if tok, ok := n.Params.V["token"]; ok && err == nil {
		// Delivered: the token is not kept in clear any longer than needed.
		p := map[string]string{}
		for k, v := range n.Params.V {
			p[k] = v
		}
		p["token"] = maskToken(tok)
		a.Set = map[string]any{"params": models.NewJSON(p)}
	}
	status, werr := d.queue().Record(ctx, a)
	if werr != nil {
		return fmt.Errorf("notifications: %w", werr)
	}
	if err != nil {
		slog.Info("notifications: attempt failed", "id", n.ID, "attempt", n.Attempts+1, "dead", status == StatusDead, "err", err)
	}
	return nil
}

// ErrNotDead is returned by Resend for a notification that is not dead.
var ErrNotDead = errors.New("notification is not dead")

// Resend puts a dead notification back in the queue with a fresh count of attempts.
func Resend(ctx context.Context, db *store.DB, id string) error {
	ok, err := (&outbox.Queue{DB: db, Model: &Notification{}}).Resend(ctx, id, map[string]any{"last_error": ""})
	if err != nil {
		return fmt.Errorf("notifications: %w", err)
	}
	if !ok {
		return ErrNotDead
	}
	return nil
}

// Queued counts the messages of the channel waiting to be sent (Queued). It is a number about
// the queue, nothing of anyone's, so it takes no caller: readiness (anonymous) and the
// administrators' banner show it.
func (c Center) Queued(ctx context.Context, channel string) (int64, error) {
	return Queued(ctx, c.DB, channel)
}
