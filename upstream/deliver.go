package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"gorm.io/gorm"

	"redress/profiles"
	"redress/signing"
	"redress/store"
)

// Endpoint is where a target's messages go.
type Endpoint struct {
	URL    string
	Secret string
}

// Deliverer sends due messages. Several may run at once (in several workers): each claims a
// message with a lease before sending it.
type Deliverer struct {
	DB        *store.DB
	Endpoints map[string]Endpoint // by target; a target without an endpoint waits
	Client    *http.Client
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

// Pass sends the due messages once each and answers how many arrived. When a target fails
// with a transient error, the rest of its messages wait for the next pass (a receiver that is
// down is not hammered).
func (d *Deliverer) Pass(ctx context.Context) (int, error) {
	d.defaults()
	now := d.now()
	var due []Message
	err := d.DB.WithContext(ctx).Where("status = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?)", StatusPending, now, now).
		Order("next_attempt_at, id").Limit(d.Batch).Find(&due).Error
	if err != nil {
		return 0, fmt.Errorf("upstream: due messages: %w", err)
	}
	down := map[string]bool{}
	sent := 0
	for _, m := range due {
		if ctx.Err() != nil {
			return sent, ctx.Err()
		}
		ep, ok := d.Endpoints[m.Target]
		if !ok || ep.URL == "" || down[m.Target] {
			continue
		}
		lease := d.now().Add(d.Lease)
		res := d.DB.WithContext(ctx).Model(&Message{}).
			Where("id = ? AND status = ? AND (lease_until IS NULL OR lease_until < ?)", m.ID, StatusPending, d.now()).
			Update("lease_until", lease)
		if res.Error != nil {
			return sent, fmt.Errorf("upstream: claim %s: %w", m.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			continue // another deliverer has it
		}
		if m.Kind == KindSupplement {
			filled, wait, err := d.fillAnswer(ctx, m)
			if err != nil {
				return sent, err
			}
			if wait {
				// The rating has not been answered yet: release the claim, the next pass
				// looks again (the rating is due before it, being older).
				if err := d.DB.WithContext(ctx).Model(&Message{}).Where("id = ? AND status = ?", m.ID, StatusPending).
					Update("lease_until", nil).Error; err != nil {
					return sent, fmt.Errorf("upstream: release %s: %w", m.ID, err)
				}
				continue
			}
			m.Payload = filled
		}
		ok, transient, err := d.send(ctx, ep, m)
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
func (d *Deliverer) send(ctx context.Context, ep Endpoint, m Message) (ok, transient bool, err error) {
	start := d.now()
	body := []byte(m.Payload)
	code, answer, sendErr := d.post(ctx, ep, m, body)
	dur := int(time.Since(start).Milliseconds())
	att := Attempt{MessageID: m.ID, At: start, StatusCode: code, DurationMs: dur}
	upd := map[string]any{"attempts": m.Attempts + 1, "last_status": code, "lease_until": nil}
	switch {
	case sendErr == nil && (code/100 == 2 || code == http.StatusConflict):
		// 409: the receiver already holds this key — it arrived before.
		ok = true
		att.OK = true
		upd["status"], upd["sent_at"], upd["last_error"] = StatusSent, d.now(), ""
		if m.Kind == "rating" {
			// The platform's own id for the rating: a later correction (补报) names it.
			if id := d.profile().AnswerOf(answer); id != "" {
				upd["answer_id"] = id
			}
		}
	default:
		msg := fmt.Sprintf("HTTP %d", code)
		if sendErr != nil {
			msg = sendErr.Error()
		}
		att.Error = truncate(msg, 500)
		upd["last_error"] = att.Error
		transient = sendErr != nil || code >= 500 || code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code == http.StatusTooEarly
		if !transient || m.Attempts+1 >= d.MaxAttempts {
			upd["status"] = StatusDead
			slog.Warn("upstream message dead", "id", m.ID, "target", m.Target, "attempts", m.Attempts+1, "err", msg)
		} else {
			upd["next_attempt_at"] = d.now().Add(d.backoff(m.Attempts + 1))
		}
	}
	err = d.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&att).Error; err != nil {
			return err
		}
		return tx.Model(&Message{}).Where("id = ?", m.ID).Updates(upd).Error
	})
	if err != nil {
		return ok, transient, fmt.Errorf("upstream: record attempt of %s: %w", m.ID, err)
	}
	return ok, transient, nil
}

// post sends one message and answers the status and the answer's body (at most 64 KiB).
func (d *Deliverer) post(ctx context.Context, ep Endpoint, m Message, body []byte) (int, []byte, error) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, ep.URL, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", m.ID)
	req.Header.Set("X-Redress-Kind", m.Kind)
	req.Header.Set("X-Redress-Signature", Sign(ep.Secret, d.now(), body))
	if d.Signer != nil {
		sig, err := d.Signer.HeaderValue(body)
		if err != nil {
			return 0, nil, err
		}
		req.Header.Set(signing.Header, sig)
	}
	resp, err := d.Client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close() //nolint:errcheck // the answer is read up to its limit before Close; a failed Close cannot change it
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, answer, nil
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
func (d *Deliverer) fillAnswer(ctx context.Context, m Message) (string, bool, error) {
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
	if err := d.DB.WithContext(ctx).Model(&Message{}).Where("id = ?", m.ID).
		Updates(map[string]any{"status": StatusDead, "last_error": reason, "lease_until": nil}).Error; err != nil {
		return "", false, fmt.Errorf("upstream: supplement %s: %w", m.ID, err)
	}
	return "", true, nil
}

// backoff is BaseDelay·2^(n-1), capped at MaxDelay, plus up to 20 % jitter so that many
// messages failing together do not retry in lockstep.
func (d *Deliverer) backoff(n int) time.Duration {
	b := d.BaseDelay
	for i := 1; i < n && b < d.MaxDelay; i++ {
		b *= 2
	}
	b = min(b, d.MaxDelay)
	return b + time.Duration(rand.Int64N(int64(b)/5+1))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
