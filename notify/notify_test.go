package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"redress/models"
	"redress/notify"
	"redress/notify/message"
	"redress/outbox"
	"redress/pii"
	"redress/store"
	"redress/store/storetest"
)

// receiver is an SMS gateway on loopback that fails sometimes: every third request answers 500,
// and one request hangs past the client's timeout after it has already taken the message (the
// worst case: delivered, but the sender cannot know). It dedupes by Idempotency-Key, as a
// gateway must, and checks the signature.
type receiver struct {
	mu       sync.Mutex
	n        int
	hung     bool
	down     bool
	secret   string
	got      map[string]int // idempotency key → deliveries taken
	bodies   map[string]map[string]any
	badSigns int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	key := req.Header.Get("Idempotency-Key")
	r.mu.Lock()
	r.n++
	n := r.n
	if r.down {
		r.mu.Unlock()
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	if outbox.Verify(r.secret, req.Header.Get(outbox.SignatureHeader), b, time.Now(), time.Minute) != nil {
		r.badSigns++
	}
	if n%3 == 0 {
		r.mu.Unlock()
		http.Error(w, "flaky", http.StatusInternalServerError)
		return
	}
	var body map[string]any
	_ = json.Unmarshal(b, &body)
	if r.got[key] == 0 {
		r.bodies[key] = body
	}
	r.got[key]++
	hang := !r.hung && n > 3
	if hang {
		r.hung = true
	}
	r.mu.Unlock()
	if hang {
		// Taken, but never acknowledged: hold the answer until the client gives up (its
		// timeout closes the connection, which ends the request's context) — a condition,
		// not a guess at how long the timeout is. The bound only keeps a broken client from
		// hanging the test.
		select {
		case <-req.Context().Done():
		case <-time.After(30 * time.Second):
		}
	}
	w.WriteHeader(http.StatusAccepted)
}

// seedOrder stores an evaluation (with a sealed phone) and its work order, which the outbox
// rows refer to.
func seedOrder(t *testing.T, db *store.DB, box *pii.Box, phone string) string {
	t.Helper()
	evID, woID := uuid.NewString(), uuid.NewString()
	now := time.Now().UTC()
	ev := models.Evaluation{ID: evID, EvaluationID: "E-" + evID, Channel: "mobile", Overall: models.VeryDissatisfied,
		Levels: models.NewJSON(map[string]string{"overall": models.VeryDissatisfied}), Bad: true,
		Tags: models.NewJSON([]string{}), RatedAt: now, ReceivedAt: now, RequestHash: "h"}
	if phone != "" {
		ev.EvaluatorPhone = box.Seal(phone)
	}
	wo := models.WorkOrder{ID: woID, EvaluationID: evID, WorkflowID: "wo-" + woID, State: models.StateFeedback,
		CaseNos: models.NewJSON([]string{"C1"}), Overall: models.VeryDissatisfied,
		Levels: ev.Levels, OpenedAt: now, Deadlines: models.NewJSON([]models.Deadline{})}
	if err := db.Transaction(func(tx *gorm.DB) error {
		if err := tx.Create(&ev).Error; err != nil {
			return err
		}
		return tx.Create(&wo).Error
	}); err != nil {
		t.Fatal(err)
	}
	return woID
}

func newBox(t *testing.T) *pii.Box {
	spec, hk := pii.NewKeySpec("k1")
	box, err := pii.ParseKeys(spec, hk)
	if err != nil {
		t.Fatal(err)
	}
	return box
}

// TestOutboxExactlyOnce enqueues a batch of SMS and staff messages (twice, as a retried event
// would), sends them through a webhook that fails every third request and once times out, and
// checks every message reached its receiver exactly once by idempotency key, every attempt is
// recorded, tracking tokens are scrubbed after sending, and a message that went dead while the
// receiver was down is delivered after a re-send.
func TestOutboxExactlyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		box := newBox(t)
		rcv := &receiver{secret: "s3cret", got: map[string]int{}, bodies: map[string]map[string]any{}}
		srv := httptest.NewServer(rcv)
		defer srv.Close()
		wo := seedOrder(t, db, box, "13812345678")

		const events = 6
		var msgs []notify.Message
		for i := 0; i < events; i++ {
			ev := fmt.Sprintf("wf-x/%d", i+1)
			batch := []notify.Message{
				{Key: "evaluator:feedback", Channel: notify.ChannelSMS, Kind: notify.KindEvaluator, Template: "feedback",
					Params: map[string]string{"unit": "U"}, Track: i == 0},
				{Key: "staff:officer:/gd/sz/x/", Channel: notify.ChannelInbox, Kind: notify.KindStaff, UnitPath: "/gd/sz/x/",
					Role: models.RoleOfficer, Template: "reminder", Params: map[string]string{"order": "abc"}},
			}
			msgs = append(msgs, batch...)
			for rep := 0; rep < 2; rep++ { // a retried event enqueues nothing twice
				if err := db.Transaction(func(tx *gorm.DB) error {
					return notify.Enqueue(tx, wo, ev, time.Now(), batch)
				}); err != nil {
					t.Fatal(err)
				}
			}
		}
		var n int64
		db.Model(&notify.Notification{}).Count(&n)
		if n != int64(len(msgs)) {
			t.Fatalf("%d outbox rows, want %d", n, len(msgs))
		}
		var tokens int64
		db.Model(&notify.TrackingToken{}).Count(&tokens)
		if tokens != 1 {
			t.Fatalf("%d tracking tokens, want 1", tokens)
		}

		d := &notify.Dispatcher{DB: db, Box: box, PublicURL: "https://redress.example/",
			Senders: map[string]notify.Sender{
				notify.ChannelSMS:   &notify.Webhook{URL: srv.URL, Secret: "s3cret", Client: &http.Client{Timeout: 300 * time.Millisecond}},
				notify.ChannelInbox: &notify.Local{DB: db},
			},
			Backoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond, MaxAttempts: 6, Workers: 2}
		deadline := time.Now().Add(20 * time.Second)
		for {
			if _, err := d.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			var pending int64
			db.Model(&notify.Notification{}).Where("status <> ?", notify.StatusSent).Count(&pending)
			if pending == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d notifications not sent", pending)
			}
			time.Sleep(20 * time.Millisecond)
		}
		rcv.mu.Lock()
		if len(rcv.got) != events {
			t.Errorf("gateway took %d distinct SMS, want %d", len(rcv.got), events)
		}
		if rcv.badSigns != 0 {
			t.Errorf("%d requests with a bad signature", rcv.badSigns)
		}
		var link string
		for key, body := range rcv.bodies {
			rc, _ := body["recipient"].(map[string]any)
			if rc["phone"] != "13812345678" || body["id"] != key {
				t.Errorf("SMS %s: %v", key, body)
			}
			if p, _ := body["params"].(map[string]any); p["link"] != nil {
				link, _ = p["link"].(string)
			}
		}
		rcv.mu.Unlock()
		if !strings.HasPrefix(link, "https://redress.example/api/v1/track/") || len(link) < len("https://redress.example/api/v1/track/")+32 {
			t.Errorf("tracking link %q", link)
		}
		// Exactly once from the gateway's side (by key); attempts recorded, failures included.
		var attempts, failed int64
		db.Model(&notify.Attempt{}).Count(&attempts)
		db.Model(&notify.Attempt{}).Where("NOT ok").Count(&failed)
		if failed == 0 || attempts != int64(len(msgs))+failed {
			t.Errorf("attempts %d (failed %d) for %d messages", attempts, failed, len(msgs))
		}
		var inbox int64
		db.Model(&notify.InboxMessage{}).Count(&inbox)
		if inbox != events {
			t.Errorf("%d inbox messages, want %d", inbox, events)
		}
		// The token is not kept in clear after sending.
		var rows []notify.Notification
		db.Where("channel = ?", notify.ChannelSMS).Find(&rows)
		for _, r := range rows {
			if tok, ok := r.Params.V["token"]; ok && !strings.HasSuffix(tok, "****") {
				t.Errorf("token kept in clear: %v", r.Params.V)
			}
		}

		// A receiver down for a while: the message goes dead; re-sent, it arrives once.
		rcv.mu.Lock()
		rcv.down = true
		rcv.mu.Unlock()
		if err := db.Transaction(func(tx *gorm.DB) error {
			return notify.Enqueue(tx, wo, "wf-x/99", time.Now(), []notify.Message{{Key: "evaluator:appeal_upheld", Channel: notify.ChannelSMS,
				Kind: notify.KindEvaluator, Template: "appeal_upheld", Track: true}})
		}); err != nil {
			t.Fatal(err)
		}
		id := notify.Key("wf-x/99", "evaluator:appeal_upheld")
		var dead notify.Notification
		for end := time.Now().Add(10 * time.Second); ; {
			if _, err := d.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			db.Where("id = ?", id).Take(&dead)
			if dead.Status == notify.StatusDead || time.Now().After(end) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if dead.Status != notify.StatusDead || dead.Attempts != 6 || !strings.Contains(dead.LastError, "503") {
			t.Fatalf("after the receiver was down: %+v", dead)
		}
		if err := notify.Resend(ctx, db, "no-such"); err != notify.ErrNotDead {
			t.Errorf("resend of an unknown id: %v", err)
		}
		rcv.mu.Lock()
		rcv.down = false
		rcv.mu.Unlock()
		if err := notify.Resend(ctx, db, id); err != nil {
			t.Fatal(err)
		}
		for end := time.Now().Add(10 * time.Second); ; {
			if _, err := d.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			db.Where("id = ?", id).Take(&dead)
			if dead.Status == notify.StatusSent || time.Now().After(end) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		rcv.mu.Lock()
		defer rcv.mu.Unlock()
		if dead.Status != notify.StatusSent || rcv.got[id] != 1 {
			t.Errorf("re-sent notification: %+v, taken %d times", dead, rcv.got[id])
		}
		// Only the request that timed out after the gateway had taken it was sent twice, and the
		// gateway recognised it by its key.
		repeats := 0
		for _, c := range rcv.got {
			if c > 1 {
				repeats++
			}
		}
		if !rcv.hung || repeats > 1 {
			t.Errorf("hung %v, %d keys sent more than once", rcv.hung, repeats)
		}
	})
}

// TestPermanentFailureAndText: an evaluator without a phone number fails at once (no retries),
// and templates render every parameter.
func TestPermanentFailureAndText(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		box := newBox(t)
		wo := seedOrder(t, db, box, "")
		if err := db.Transaction(func(tx *gorm.DB) error {
			return notify.Enqueue(tx, wo, "wf-y/1", time.Now(), []notify.Message{{Key: "evaluator:feedback", Channel: notify.ChannelSMS,
				Kind: notify.KindEvaluator, Template: "feedback"}})
		}); err != nil {
			t.Fatal(err)
		}
		d := &notify.Dispatcher{DB: db, Box: box, Senders: map[string]notify.Sender{notify.ChannelSMS: &notify.Local{DB: db}}}
		if _, err := d.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		var n notify.Notification
		db.Take(&n)
		if n.Status != notify.StatusDead || n.Attempts != 1 || !strings.Contains(n.LastError, "no phone") {
			t.Errorf("no phone: %+v", n)
		}
	})
	txt := message.Text("reminder", map[string]string{"order": "abcd1234", "deadline": "回访", "due": "2026-10-10 00:00"})
	if strings.ContainsAny(txt, "{}") || !strings.Contains(txt, "abcd1234") || !strings.Contains(txt, "回访") {
		t.Errorf("reminder text %q", txt)
	}
	if got := message.Text("nope", map[string]string{"b": "2", "a": "1"}); got != "nope a=1 b=2" {
		t.Errorf("unknown template %q", got)
	}
}

// TestHeldChannelStaysQueued (issue 17, finding 8): a production worker without an SMS
// gateway holds the SMS channel: its messages stay pending and untried (they were marked sent
// into a local inbox no citizen reads), while staff messages go on.
func TestHeldChannelStaysQueued(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		box := newBox(t)
		wo := seedOrder(t, db, box, "")
		if err := db.Transaction(func(tx *gorm.DB) error {
			return notify.Enqueue(tx, wo, "wf-h/1", time.Now(), []notify.Message{{Key: "evaluator:feedback", Channel: notify.ChannelSMS,
				Kind: notify.KindEvaluator, Template: "feedback"}})
		}); err != nil {
			t.Fatal(err)
		}
		d := &notify.Dispatcher{DB: db, Box: box, Held: []string{notify.ChannelSMS},
			Senders: map[string]notify.Sender{notify.ChannelInbox: &notify.Local{DB: db}}}
		if _, err := d.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		var n notify.Notification
		db.Take(&n)
		if n.Status != notify.StatusPending || n.Attempts != 0 {
			t.Errorf("held SMS: %+v", n)
		}
		if q, err := notify.Queued(context.Background(), db, notify.ChannelSMS); err != nil || q != 1 {
			t.Errorf("queued %d, %v", q, err)
		}
	})
}

// TestLocalKeepsLinksInDev: redress dev keeps the tracking link in the local copy of an
// evaluator's SMS (so that the citizen's path can be followed locally); production masks it.
func TestLocalKeepsLinksInDev(t *testing.T) {
	db := storetest.Open(t, "sqlite")
	box := newBox(t)
	wo := seedOrder(t, db, box, "13800001234")
	for i, keep := range []bool{false, true} {
		ev := fmt.Sprintf("wf-links/%d", i)
		if err := db.Transaction(func(tx *gorm.DB) error {
			return notify.Enqueue(tx, wo, ev, time.Now(), []notify.Message{{Key: "evaluator:feedback", Channel: notify.ChannelSMS,
				Kind: notify.KindEvaluator, Template: "feedback", Track: true}})
		}); err != nil {
			t.Fatal(err)
		}
		d := &notify.Dispatcher{DB: db, Box: box, PublicURL: "http://127.0.0.1:8080",
			Senders: map[string]notify.Sender{notify.ChannelSMS: &notify.Local{DB: db, KeepLinks: keep}}}
		if _, err := d.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		var m notify.InboxMessage
		if err := db.Where("id = ?", notify.Key(ev, "evaluator:feedback")).Take(&m).Error; err != nil {
			t.Fatal(err)
		}
		full := regexp.MustCompile(`/api/v1/track/[A-Za-z0-9_-]{32}`).MatchString(m.Body)
		if full != keep || strings.Contains(m.Body, "13800001234") || strings.Contains(m.Address, "13800001234") {
			t.Errorf("KeepLinks %v: body %q, address %q", keep, m.Body, m.Address)
		}
	}
}
