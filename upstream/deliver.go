package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"gorm.io/gorm"

	"redress/outbox"
	"redress/profiles"
	"redress/signing"
	"redress/store"
)

// Endpoint is where a target's messages go.
type Endpoint struct {
	URL    string
	Secret string
}

// Outgoing is one message as a Sender sees it: the queued row, the body to send (a
// supplement's with the platform's id of the rating filled in), and, set by the sender, what
// the receiver answered.
type Outgoing struct {
	Message
	Body   []byte
	Status int    // the receiver's HTTP status (0: no answer)
	Answer []byte // the receiver's answer, at most 64 KiB
}

// Sender delivers one message to its target (see outbox.Sender).
type Sender = outbox.Sender[*Outgoing]

// Platform is the Sender of a receiving platform: the provincial/national platform
// (TargetUpstream) and the 12345 platform (TargetHotline) speak the same protocol, a signed JSON
// POST per message, 2xx or 409 (the key arrived before) meaning delivered; 5xx, 408, 425, 429
// and no answer are worth retrying, any other status is a refusal.
type Platform struct {
	Target string
	Endpoint
	Client *http.Client
	// Signer, when set, signs every body (header signing.Header) besides the HMAC.
	Signer *signing.Signer
	Now    func() time.Time
}

// Name implements Sender.
func (p *Platform) Name() string { return p.Target }

// Send implements Sender.
func (p *Platform) Send(ctx context.Context, o *Outgoing) error {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h := http.Header{}
	h.Set("X-Redress-Kind", o.Kind)
	if p.Signer != nil {
		sig, err := p.Signer.HeaderValue(o.Body)
		if err != nil {
			return err
		}
		h.Set(signing.Header, sig)
	}
	code, answer, err := outbox.Post(rctx, p.Client, outbox.Request{URL: p.URL, Secret: p.Secret, Key: o.ID, Body: o.Body, Header: h, At: p.Now()})
	o.Status, o.Answer = code, answer
	switch {
	case err != nil:
		return err
	case code/100 == 2 || code == http.StatusConflict:
		return nil
	case code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code == http.StatusTooEarly:
		return fmt.Errorf("HTTP %d", code)
	}
	return outbox.Permanent(fmt.Errorf("HTTP %d", code))
}

// Deliverer sends due messages. Several may run at once (in several workers): each claims a
// message with a lease before sending it.
type Deliverer struct {
	DB        *store.DB
	Endpoints map[string]Endpoint // by target; a target without an endpoint waits
	// Senders by target; nil: a Platform for each target of Endpoints with a URL.
	Senders map[string]Sender
	Client  *http.Client
	// BaseDelay and MaxDelay bound the exponential back-off (defaults 2s and 10m).
	BaseDelay, MaxDelay time.Duration
	// MaxAttempts before a message that keeps failing is dead (default 60: with the default
	// delays, about nine hours of outage).
	MaxAttempts int
	Batch       int
	Lease       time.Duration
	Now         func() time.Time
	// Signer, when set, signs every body (header signing.Header): the receiver can check with
	// the served public key that a push came from this deployment unchanged (SM2 under gm).
	Signer *signing.Signer
	// Profile reads the platform's id for a rating from its answer (nil: profiles.National).
	Profile *profiles.Profile
}

// answerPlaceholder stands in a supplement's record for the platform's id of the rating it
// corrects, until the rating's answer has brought the id (the deliverer fills it in).
const answerPlaceholder = "{{answer_id}}"

func (d *Deliverer) now() time.Time {
	if d.Now != nil {
		return d.Now().UTC()
	}
	return time.Now().UTC()
}

func (d *Deliverer) defaults() {
	if d.BaseDelay <= 0 {
		d.BaseDelay = 2 * time.Second
	}
	if d.MaxDelay <= 0 {
		d.MaxDelay = 10 * time.Minute
	}
	if d.MaxAttempts <= 0 {
		d.MaxAttempts = 60
	}
	if d.Batch <= 0 {
		d.Batch = 100
	}
	if d.Lease <= 0 {
		d.Lease = time.Minute
	}
	if d.Client == nil {
		d.Client = &http.Client{Timeout: 15 * time.Second}
	}
}

// Run delivers every period until ctx ends.
func (d *Deliverer) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := d.Pass(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("upstream delivery", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// queue is upstream_messages as the outbox engine sees it: a claim is held in lease_until, and
// the back-off has jitter so that many messages failing together do not retry in lockstep.
func (d *Deliverer) queue() *outbox.Queue {
	return &outbox.Queue{DB: d.DB, Model: &Message{}, LeaseColumn: "lease_until", Lease: d.Lease, Now: d.Now,
		Retry: outbox.Retry{Base: d.BaseDelay, Max: d.MaxDelay, Jitter: 0.2, MaxAttempts: d.MaxAttempts}}
}

func (d *Deliverer) senders() map[string]Sender {
	if d.Senders != nil {
		return d.Senders
	}
	out := map[string]Sender{}
	for target, ep := range d.Endpoints {
		if ep.URL != "" {
			out[target] = &Platform{Target: target, Endpoint: ep, Client: d.Client, Signer: d.Signer, Now: d.now}
		}
	}
	return out
}

// Pass sends the due messages once each and answers how many arrived. When a target fails
// with a transient error, the rest of its messages wait for the next pass (a receiver that is
// down is not hammered).
func (d *Deliverer) Pass(ctx context.Context) (int, error) {
	d.defaults()
	q, senders := d.queue(), d.senders()
	var due []Message
	if err := q.Due(ctx, d.Batch, nil, &due); err != nil {
		return 0, fmt.Errorf("upstream: %w", err)
	}
	down := map[string]bool{}
	sent := 0
	for _, m := range due {
		if ctx.Err() != nil {
			return sent, ctx.Err()
		}
		sender, ok := senders[m.Target]
		if !ok || down[m.Target] {
			continue
		}
		claimed, err := q.Claim(ctx, m.ID)
		if err != nil {
			return sent, fmt.Errorf("upstream: %w", err)
		}
		if !claimed {
			continue // another deliverer has it
		}
		body := m.Payload
		if m.Kind == KindSupplement {
			filled, wait, err := d.fillAnswer(ctx, q, m)
			if err != nil {
				return sent, err
			}
			if wait {
				// The rating has not been answered yet: release the claim, the next pass
				// looks again (the rating is due before it, being older).
				if err := q.Release(ctx, m.ID); err != nil {
					return sent, fmt.Errorf("upstream: %w", err)
				}
				continue
			}
			body = filled
		}
		ok, transient, err := d.send(ctx, q, sender, m, body)
		if ok {
			sent++
		} else if transient {
			down[m.Target] = true
		}
		if err != nil {
			return sent, err
		}
	}
	return sent, nil
}

// send makes one attempt and records its outcome. ok: delivered; transient: worth retrying.
func (d *Deliverer) send(ctx context.Context, q *outbox.Queue, s Sender, m Message, body string) (ok, transient bool, err error) {
	start, t0 := d.now(), time.Now()
	o := &Outgoing{Message: m, Body: []byte(body)}
	sendErr := s.Send(ctx, o)
	att := &Attempt{MessageID: m.ID, At: start, OK: sendErr == nil, StatusCode: o.Status, Error: outbox.ErrorText(sendErr),
		DurationMs: int(time.Since(t0).Milliseconds())}
	set := map[string]any{"last_status": o.Status}
	if sendErr == nil && m.Kind == "rating" {
		// The platform's own id for the rating: a later correction (补报) names it.
		if id := d.profile().AnswerOf(o.Answer); id != "" {
			set["answer_id"] = id
		}
	}
	status, err := q.Record(ctx, outbox.Attempt{ID: m.ID, Before: m.Attempts, Err: sendErr, Row: att, Set: set})
	if err != nil {
		return false, false, fmt.Errorf("upstream: %w", err)
	}
	if status == StatusDead {
		slog.Warn("upstream message dead", "id", m.ID, "target", m.Target, "attempts", m.Attempts+1, "err", sendErr)
	}
	return sendErr == nil, sendErr != nil && !outbox.IsPermanent(sendErr), nil
}

func (d *Deliverer) profile() *profiles.Profile {
	if d.Profile != nil {
		return d.Profile
	}
	p, err := profiles.Get(profiles.National)
	if err != nil {
		panic(err) // built in
	}
	return p
}

// fillAnswer puts the platform's id of the corrected rating into a supplement. wait: the
// rating has not been answered yet. A rating that died, or was answered without an id, cannot
// be named: the supplement is dead with the reason (the operator resends the rating first).
func (d *Deliverer) fillAnswer(ctx context.Context, q *outbox.Queue, m Message) (string, bool, error) {
	var orig Message
	err := d.DB.WithContext(ctx).Select("id, status, answer_id").Where("id = ?", "rating:"+m.SubjectID).Take(&orig).Error
	if err != nil && !errors.Is(err, gorm.ErrRecordNotFound) {
		return "", false, fmt.Errorf("upstream: supplement %s: rating: %w", m.ID, err)
	}
	reason := ""
	switch {
	case orig.AnswerID != "":
		id, _ := json.Marshal(orig.AnswerID)
		q, _ := json.Marshal(answerPlaceholder)
		return strings.ReplaceAll(m.Payload, string(q), string(id)), false, nil
	case err == nil && orig.Status == StatusPending:
		return "", true, nil
	case err != nil:
		reason = "the corrected rating was never queued"
	case orig.Status == StatusDead:
		reason = "the corrected rating is dead: resend it first"
	default:
		reason = "the platform answered the rating without its id"
	}
	if err := q.Bury(ctx, m.ID, reason); err != nil {
		return "", false, fmt.Errorf("upstream: supplement %s: %w", m.ID, err)
	}
	return "", true, nil
}
