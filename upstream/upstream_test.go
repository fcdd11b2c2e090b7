package upstream_test

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"redress/calendar"
	"redress/models"
	"redress/outbox"
	"redress/signing"
	"redress/stats/statstest"
	"redress/store"
	"redress/store/storetest"
	"redress/upstream"
)

const secret = "test-upstream-secret"

// receiver is a real HTTP receiver on loopback that dedupes by idempotency key, fails
// sometimes (before or after storing, like a lost acknowledgement), refuses some keys for good,
// and can be taken down and brought back on the same address.
type receiver struct {
	t        *testing.T
	addr     string
	mu       sync.Mutex
	got      map[string]json.RawMessage // key → payload, stored once
	posts    map[string]int
	flaky    bool
	refuse   map[string]bool
	srv      *http.Server
	badSigns int
	// publicKey, when set, is the served SM2 key every push must verify with (issue 21).
	publicKey string
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{t: t, got: map[string]json.RawMessage{}, posts: map[string]int{}, refuse: map[string]bool{}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r.addr = l.Addr().String()
	r.serve(l)
	t.Cleanup(r.down)
	return r
}

func (r *receiver) serve(l net.Listener) {
	r.srv = &http.Server{Handler: http.HandlerFunc(r.handle)}
	go func() { _ = r.srv.Serve(l) }()
}

func (r *receiver) down() {
	if r.srv != nil {
		_ = r.srv.Close()
		r.srv = nil
	}
}

func (r *receiver) up() {
	var l net.Listener
	var err error
	for i := 0; i < 50; i++ { // the port may linger for a moment after Close
		if l, err = net.Listen("tcp", r.addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		r.t.Fatalf("receiver back on %s: %v", r.addr, err)
	}
	r.serve(l)
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	key := req.Header.Get("Idempotency-Key")
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := outbox.Verify(secret, req.Header.Get(outbox.SignatureHeader), body, time.Now(), time.Minute); err != nil {
		r.badSigns++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.publicKey != "" {
		if err := signing.VerifyHeader(r.publicKey, req.Header.Get(signing.Header), body); err != nil {
			r.badSigns++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
	}
	r.posts[key]++
	if r.refuse[key] {
		w.WriteHeader(http.StatusUnprocessableEntity)
		return
	}
	if r.flaky && rand.IntN(4) == 0 {
		w.WriteHeader(http.StatusServiceUnavailable) // failed before storing
		return
	}
	if _, dup := r.got[key]; !dup {
		r.got[key] = body
	}
	if r.flaky && rand.IntN(6) == 0 {
		w.WriteHeader(http.StatusInternalServerError) // stored, but the answer is lost
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

func ids(t *testing.T, db *store.DB, status string) map[string]bool {
	t.Helper()
	var rows []upstream.Message
	q := db.Model(&upstream.Message{})
	if status != "" {
		q = q.Where("status = ?", status)
	}
	if err := q.Find(&rows).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, m := range rows {
		out[m.ID] = true
	}
	return out
}

// drain runs delivery passes until nothing is pending or the time is up.
func drain(t *testing.T, ctx context.Context, db *store.DB, d *upstream.Deliverer, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if _, err := d.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		if len(ids(t, db, upstream.StatusPending)) == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("still pending after %s: %d", limit, len(ids(t, db, upstream.StatusPending)))
}

func TestEveryMessageArrivesExactlyOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		statstest.Seed(t, db)
		statstest.Generate(t, db, 11, 60, time.Date(2025, 8, 1, 0, 0, 0, 0, calendar.Zone()), 5*24*time.Hour)
		rcv := newReceiver(t)
		rcv.flaky = true
		signer, _, err := signing.Generate(true)
		if err != nil {
			t.Fatal(err)
		}
		rcv.publicKey = signer.Key().PublicKey
		// Outcome events carry their historical times: the first pass reads everything.
		feeder := &upstream.Feeder{DB: db, Lag: 365 * 24 * time.Hour}
		if _, err := feeder.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		all := ids(t, db, "")
		if _, err := feeder.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		if again := ids(t, db, ""); len(again) != len(all) {
			t.Fatalf("a second feed pass enqueued %d more", len(again)-len(all))
		}
		ratings, outcomes := 0, 0
		for id := range all {
			switch {
			case len(id) > 7 && id[:7] == "rating:":
				ratings++
			case len(id) > 8 && id[:8] == "outcome:":
				outcomes++
			}
		}
		if ratings != 60 || outcomes == 0 {
			t.Fatalf("enqueued %d ratings, %d outcomes", ratings, outcomes)
		}
		d := &upstream.Deliverer{DB: db, Endpoints: map[string]upstream.Endpoint{upstream.TargetUpstream: {URL: "http://" + rcv.addr + "/push", Secret: secret}},
			BaseDelay: 5 * time.Millisecond, MaxDelay: 40 * time.Millisecond, MaxAttempts: 1000, Signer: signer}
		drain(t, ctx, db, d, 60*time.Second)
		if rcv.count() != len(all) {
			t.Fatalf("receiver holds %d of %d messages", rcv.count(), len(all))
		}
		for id := range all {
			if _, ok := rcv.got[id]; !ok {
				t.Fatalf("message %s never arrived", id)
			}
		}
		if n := len(ids(t, db, upstream.StatusSent)); n != len(all) {
			t.Fatalf("%d sent of %d", n, len(all))
		}
		// The payload is in the national codes.
		var p upstream.RatingPayload
		for id, b := range rcv.got {
			if id[:7] == "rating:" {
				if err := json.Unmarshal(b, &p); err != nil {
					t.Fatal(err)
				}
				break
			}
		}
		if p.Level < 1 || p.Level > 5 || p.Channel < 1 || p.Channel > 7 || len(p.Units) == 0 {
			t.Fatalf("payload not in national codes: %+v", p)
		}
		if rcv.badSigns != 0 {
			t.Fatalf("%d requests had a bad signature", rcv.badSigns)
		}

		// The receiver goes down; new ratings keep coming; nothing is lost and nothing dies.
		downAt := time.Now()
		rcv.down()
		rcv.flaky = false
		before := len(all)
		statstest.Generate(t, db, 12, 30, time.Date(2025, 8, 10, 0, 0, 0, 0, calendar.Zone()), 2*24*time.Hour)
		if _, err := feeder.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		// Delivery passes until every pending message has failed against the closed port at
		// least once (a condition, not a fixed time): each was tried while the receiver was down.
		triedDown := func() (int, int) {
			pending := ids(t, db, upstream.StatusPending)
			keys := make([]string, 0, len(pending))
			for k := range pending {
				keys = append(keys, k)
			}
			if len(keys) == 0 {
				return 0, 0
			}
			var tried int64
			if err := db.Model(&upstream.Attempt{}).Where("NOT ok AND at >= ? AND message_id IN ?", downAt, keys).Distinct("message_id").Count(&tried).Error; err != nil {
				t.Fatal(err)
			}
			return int(tried), len(pending)
		}
		for deadline := time.Now().Add(30 * time.Second); ; {
			if _, err := d.Pass(ctx); err != nil {
				t.Fatal(err)
			}
			if tried, pending := triedDown(); pending >= 30 && tried >= pending {
				break
			}
			if time.Now().After(deadline) {
				tried, pending := triedDown()
				t.Fatalf("while down: %d of %d pending messages tried within 30s", tried, pending)
			}
			time.Sleep(10 * time.Millisecond) // poll interval of the condition wait
		}
		pending := ids(t, db, upstream.StatusPending)
		if len(pending) < 30 || len(ids(t, db, upstream.StatusDead)) != 0 {
			t.Fatalf("while down: %d pending, %d dead", len(pending), len(ids(t, db, upstream.StatusDead)))
		}
		var failed int64
		db.Model(&upstream.Attempt{}).Where("NOT ok").Count(&failed)
		if failed == 0 {
			t.Fatal("no failed attempt was recorded while the receiver was down")
		}
		rcv.up()
		drain(t, ctx, db, d, 60*time.Second)
		all = ids(t, db, "")
		if rcv.count() != len(all) || len(all) < before+30 {
			t.Fatalf("after the outage the receiver holds %d of %d", rcv.count(), len(all))
		}

		// A message the receiver refuses for good is dead at once; re-sent, it arrives.
		statstest.Generate(t, db, 13, 1, time.Date(2025, 8, 20, 0, 0, 0, 0, calendar.Zone()), time.Hour)
		key := "rating:E13-0"
		rcv.mu.Lock()
		rcv.refuse[key] = true
		rcv.mu.Unlock()
		if _, err := feeder.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		dead, err := (upstream.Service{DB: db}).List(ctx, sysadmin, upstream.StatusDead, "", 50)
		if err != nil || len(dead) != 1 || dead[0].ID != key {
			t.Fatalf("dead letters: %v %+v", err, dead)
		}
		if _, err := (upstream.Service{DB: db}).Resend(ctx, adminOf("/nowhere/"), key); err == nil {
			t.Fatal("a message outside the caller's scope was re-sent")
		}
		rcv.mu.Lock()
		rcv.refuse[key] = false
		rcv.mu.Unlock()
		if _, err := (upstream.Service{DB: db}).Resend(ctx, adminOf("/gd/"), key); err != nil {
			t.Fatal(err)
		}
		if _, err := (upstream.Service{DB: db}).Resend(ctx, sysadmin, key); err == nil {
			t.Fatal("a pending message was re-sent")
		}
		drain(t, ctx, db, d, 10*time.Second)
		if _, ok := rcv.got[key]; !ok {
			t.Fatal("the re-sent message did not arrive")
		}
	})
}

// More ratings than a page, all received in the same instant: every one is queued once, across
// page boundaries that fall inside a run of equal times, and a second pass queues nothing.
func TestFeedPagesThroughTies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const n = 1234
		receivedTogether(t, db, n, time.Minute)
		feeder := &upstream.Feeder{DB: db, Lag: time.Hour}
		queued, err := feeder.Pass(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ratings := 0
		for id := range ids(t, db, "") {
			if len(id) > 7 && id[:7] == "rating:" {
				ratings++
			}
		}
		if ratings != n || queued < n {
			t.Fatalf("first pass queued %d (%d ratings), want all %d ratings", queued, ratings, n)
		}
		if again, err := feeder.Pass(ctx); err != nil || again != 0 {
			t.Fatalf("second pass queued %d (%v), want 0", again, err)
		}
	})
}

// One ruling excludes more ratings than a page: every one of them gets its supplement (补报),
// across page boundaries inside a run of equal exclusion times, and a later pass queues none
// again. A single page read again every pass queued the first 500 and never the rest.
func TestFeedSupplementsEveryExclusion(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const n = 1234
		receivedTogether(t, db, n, 2*time.Minute)
		feeder := &upstream.Feeder{DB: db, Lag: time.Hour}
		if _, err := feeder.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		supplements := func() int {
			k := 0
			for id := range ids(t, db, "") {
				if strings.HasPrefix(id, "supplement:") {
					k++
				}
			}
			return k
		}
		before := supplements() // the generator's own exclusions
		// The ruling: every rating excluded in one statement, so all share one excluded_at.
		if err := db.WithContext(ctx).Exec("UPDATE evaluations SET excluded = ?, excluded_at = ?", true, time.Now().UTC()).Error; err != nil {
			t.Fatal(err)
		}
		queued, err := feeder.Pass(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if got := supplements(); got != n || queued != n-before {
			t.Fatalf("the pass after the ruling queued %d, %d supplements stored (%d before it); want one for each of the %d excluded ratings", queued, got, before, n)
		}
		if again, err := feeder.Pass(ctx); err != nil || again != 0 {
			t.Fatalf("the next pass queued %d (%v), want 0", again, err)
		}
	})
}

// Ratings whose transactions commit after a pass that their received_at preceded are queued:
// within the recent window by the next pass, older than it by the next pass over the whole
// window (Lag/2 after the last), up to Lag late; a pass between the two re-reads the recent
// window only.
func TestFeedLateCommits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		statstest.Seed(t, db)
		now := time.Now().UTC().Truncate(time.Microsecond)
		feeder := &upstream.Feeder{DB: db, Lag: 10 * time.Minute, Recent: time.Minute, Now: func() time.Time { return now }}
		if _, err := feeder.Pass(ctx); err != nil { // the first pass reads the whole window
			t.Fatal(err)
		}
		// Ratings committed after that pass: half received 20 s before it, half almost Lag
		// before it (and so committed almost Lag late when the next whole pass reads them).
		statstest.Generate(t, db, 7, 10, time.Date(2025, 8, 1, 0, 0, 0, 0, calendar.Zone()), 24*time.Hour)
		var evalIDs []string
		if err := db.WithContext(ctx).Table("evaluations").Order("evaluation_id").Pluck("evaluation_id", &evalIDs).Error; err != nil {
			t.Fatal(err)
		}
		if len(evalIDs) < 2 {
			t.Fatalf("%d ratings generated", len(evalIDs))
		}
		recent, older := evalIDs[:len(evalIDs)/2], evalIDs[len(evalIDs)/2:]
		for _, g := range []struct {
			ids []string
			ago time.Duration
		}{{recent, 20 * time.Second}, {older, 9*time.Minute + 40*time.Second}} {
			if err := db.WithContext(ctx).Exec("UPDATE evaluations SET received_at = ? WHERE evaluation_id IN ?", now.Add(-g.ago), g.ids).Error; err != nil {
				t.Fatal(err)
			}
		}
		queued := func(evalIDs []string) (n int) {
			have := ids(t, db, "")
			for _, id := range evalIDs {
				if have["rating:"+id] {
					n++
				}
			}
			return n
		}
		now = now.Add(10 * time.Second)
		if _, err := feeder.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		if n, m := queued(recent), queued(older); n != len(recent) || m != 0 {
			t.Fatalf("the pass after: %d of %d recent ratings queued (want all), %d of %d older ones (want none: it re-reads the last minute only)", n, len(recent), m, len(older))
		}
		// Regular passes move the mark on; the next pass over the whole window comes Lag/2
		// after the last one.
		now = now.Add(4*time.Minute + 40*time.Second)
		if _, err := feeder.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		if m := queued(older); m != 0 {
			t.Fatalf("a regular pass queued %d of the older ratings", m)
		}
		now = now.Add(10 * time.Second)
		if _, err := feeder.Pass(ctx); err != nil {
			t.Fatal(err)
		}
		if m := queued(older); m != len(older) {
			t.Fatalf("the pass over the whole window queued %d of the %d ratings committed almost Lag late", m, len(older))
		}
	})
}

// receivedTogether generates n ratings (with their orders) all received in the same instant,
// ago before now.
func receivedTogether(t *testing.T, db *store.DB, n int, ago time.Duration) {
	t.Helper()
	statstest.Seed(t, db)
	statstest.Generate(t, db, 7, n, time.Date(2025, 8, 1, 0, 0, 0, 0, calendar.Zone()), 24*time.Hour)
	at := time.Now().UTC().Add(-ago).Truncate(time.Microsecond)
	if err := db.Exec("UPDATE evaluations SET received_at = ?", at).Error; err != nil {
		t.Fatal(err)
	}
}

// The callers the queue's tests act as: a sysadmin sees every message, an administrator those
// of their subtree.
var sysadmin = store.Caller{Login: "sys", Grants: []store.Grant{{Role: models.RoleSysadmin, UnitPath: "/"}}}

func adminOf(path string) store.Caller {
	return store.Caller{Login: "admin", Grants: []store.Grant{{Role: models.RoleAdministrator, UnitPath: path}}}
}
