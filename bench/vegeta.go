package bench

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"redress/models"
	"redress/stats"
	"redress/store"
	"redress/upstream"
)

// VegetaModule is the outside load generator the intake figures are confirmed with, at the
// version the figures in BENCHMARKS.md were taken with.
const VegetaModule = "github.com/tsenart/vegeta/v12@v12.13.0"

// VegetaPath returns the vegeta binary to use: given, or on PATH, or built from the module
// proxy into dir with `go install` (the Go toolchain that builds redress is enough).
func VegetaPath(ctx context.Context, given, dir string) (string, error) {
	if given != "" {
		return given, nil
	}
	if p, err := exec.LookPath("vegeta"); err == nil {
		return p, nil
	}
	bin := filepath.Join(dir, "vegeta")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	cmd := exec.CommandContext(ctx, "go", "install", VegetaModule)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go install %s: %w: %s", VegetaModule, err, strings.TrimSpace(string(out)))
	}
	return bin, nil
}

// VegetaResult is what `vegeta report -type=json` says of one attack.
type VegetaResult struct {
	Requests int64            `json:"requests"`
	Duration time.Duration    `json:"duration"` // of the attack, ns in the report
	Wait     time.Duration    `json:"wait"`     // for the last answers after it
	Success  float64          `json:"success"`
	Statuses map[string]int64 `json:"status_codes"`
	Lat      struct {
		P50 time.Duration `json:"50th"`
		P99 time.Duration `json:"99th"`
	} `json:"latencies"`
	Errors []string `json:"errors"`
}

// Rate is stored ratings per second of the attack (with the wait for its last answers).
func (v VegetaResult) Rate(stored int64) float64 {
	if v.Duration+v.Wait <= 0 {
		return 0
	}
	return float64(stored) / (v.Duration + v.Wait).Seconds()
}

// StoredRatings counts the ratings stored whose evaluation ids start with prefix: what an
// attack stored, read from the database rather than from vegeta's status codes (the bulk
// form answers 200 with one result per rating).
func StoredRatings(ctx context.Context, databaseURL, prefix string) (int64, error) {
	db, err := store.Open(ctx, databaseURL)
	if err != nil {
		return 0, err
	}
	defer func() { _ = db.Close() }() // a read
	var n int64
	err = db.WithContext(ctx).Table("evaluations").Where("evaluation_id LIKE ?", prefix+"-%").Count(&n).Error
	return n, err
}

// VegetaAttack runs vegeta as its own process against url: workers concurrent connections
// sending as fast as they are answered (-rate=0, as the harness's closed loop), for d, each
// request with the next body of bodies (one rating, or one bulk request, per body; vegeta's
// JSON targets carry a body each). There must be more bodies than the attack can send: a
// repeated body would be answered as a replay, not stored again, and is not counted.
func VegetaAttack(ctx context.Context, vegeta, dir, url, token string, bodies [][]byte, workers int, d time.Duration) (VegetaResult, error) {
	var res VegetaResult
	targets := filepath.Join(dir, "vegeta-targets.json")
	f, err := os.Create(targets)
	if err != nil {
		return res, err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	header := map[string][]string{"Authorization": {"Bearer " + token}, "Content-Type": {"application/json"}}
	for _, b := range bodies {
		if err := enc.Encode(map[string]any{"method": "POST", "url": url, "header": header, "body": base64.StdEncoding.EncodeToString(b)}); err != nil {
			_ = f.Close()
			return res, err
		}
	}
	if err := w.Flush(); err != nil {
		_ = f.Close()
		return res, err
	}
	if err := f.Close(); err != nil {
		return res, err
	}
	results := filepath.Join(dir, "vegeta-results.bin")
	attack := exec.CommandContext(ctx, vegeta, "attack", "-format=json", "-targets="+targets, "-rate=0",
		"-workers="+strconv.Itoa(workers), "-max-workers="+strconv.Itoa(workers), "-duration="+d.String(),
		"-keepalive=true", "-timeout=60s", "-output="+results)
	if out, err := attack.CombinedOutput(); err != nil {
		return res, fmt.Errorf("vegeta attack: %w: %s", err, strings.TrimSpace(string(out)))
	}
	out, err := exec.CommandContext(ctx, vegeta, "report", "-type=json", results).Output()
	if err != nil {
		return res, fmt.Errorf("vegeta report: %w", err)
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return res, fmt.Errorf("vegeta report: %w: %s", err, out)
	}
	_ = os.Remove(targets)
	_ = os.Remove(results)
	return res, nil
}

// RatingBodies are the single-form bodies of ratings prefix-0 … rating cases[0…] (one in
// badEvery bad), as IntakeLoad sends them.
func RatingBodies(prefix string, cases []string, badEvery int) [][]byte {
	l := IntakeLoad{Prefix: prefix, Cases: cases, BadEvery: badEvery}
	out := make([][]byte, len(cases))
	for n := range cases {
		_, out[n], _ = l.body(int64(n))
	}
	return out
}

// BulkBodies are the bulk-form bodies of the same ratings, size to a request.
func BulkBodies(prefix string, cases []string, badEvery, size int) [][]byte {
	singles := RatingBodies(prefix, cases, badEvery)
	var out [][]byte
	for lo := 0; lo+size <= len(singles); lo += size {
		b := []byte(`{"evaluations":[`)
		for i, s := range singles[lo : lo+size] {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, s...)
		}
		out = append(out, append(b, "]}"...))
	}
	return out
}

// WaitOrdersSettled waits until the work orders that earlier turns' bad ratings opened have
// left pending_dispatch — their workflows have run their first stage — or, where some stay
// there (an order no unit can be found for waits for an administrator's dispatch), until
// their number has not moved for settle. The bulk form's 5 % turn opens 575-1 250 orders in
// 10 s, more than the embedded engine runs in that time, and the engine working off that
// backlog cost the next turn up to four fifths of its rate (the single form with 128 clients:
// 1 052/s after 1 250 orders, 5 468/s after 650; BENCHMARKS.md, point 9, sixth sitting). It
// gives up after limit.
func WaitOrdersSettled(ctx context.Context, databaseURL string, settle, limit time.Duration) error {
	db, err := store.Open(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // reads
	deadline := time.Now().Add(limit)
	last, since := int64(-1), time.Now()
	for {
		var n int64
		if err := db.WithContext(ctx).Table("work_orders").Where("state = ?", models.StatePendingDispatch).Count(&n).Error; err != nil {
			return err
		}
		if n != last {
			last, since = n, time.Now()
		}
		if n == 0 || time.Since(since) >= settle {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d work orders still wait for their first stage after %s", n, limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// WaitFeedCaughtUp waits until the upstream feed has run a whole pass that began after
// `after` (its mark in job_marks is the time its last finished pass began), so that every
// rating answered before then is queued: the feed's work for one turn's ratings then falls in
// no later turn's measurement. Without it, each turn of A B B A paid for the ratings of the
// turn before (the feed runs every 10 s), and the server's CPU per rating differed between the
// two tools' turns (BENCHMARKS.md, point 9, fourth sitting). It gives up after limit.
func WaitFeedCaughtUp(ctx context.Context, databaseURL string, after time.Time, limit time.Duration) error {
	db, err := store.Open(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // reads
	deadline := time.Now().Add(limit)
	for {
		mark, err := stats.LoadMark(ctx, db, upstream.FeedMark)
		if err != nil {
			return err
		}
		if !mark.Before(after) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the upstream feed's mark %s is still before %s after %s", mark.Format(time.RFC3339), after.Format(time.RFC3339), limit)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
