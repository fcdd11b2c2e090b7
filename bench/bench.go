// Package bench is the benchmark and reliability harness of redress, the library of the
// command cmd/redress-bench. It drives real redress processes (of the redress binary given to
// it: `redress dev`, or `redress api` + `redress worker` against PostgreSQL and a Temporal
// frontend) over HTTP the way channel systems and officers do, and
// measures: intake throughput and latency against the COPY ceiling of PostgreSQL, the time
// from a bad rating to the unit's inbox, whole work orders per second against the engine's
// empty-workflow rate, inbox and statistics queries at 10 million ratings, and the promises
// that nothing accepted is lost or duplicated across kill -9, database restarts and Temporal
// outages, and that hostile input is answered with clean 4xx errors.
//
// `redress-bench all` runs everything and prints the figures BENCHMARKS.md reports; the tests
// of this package build the redress binaries and run the reliability scenarios in a short form.
// No build of redress links this package.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strings"
	"time"
)

// Client is an HTTP client with enough idle connections for the load generators.
func Client() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 512
	tr.MaxIdleConnsPerHost = 512
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// Do sends one request with an optional JSON (or raw []byte) body and returns status and body.
func Do(ctx context.Context, c *http.Client, method, url, token string, body any, header ...string) (int, []byte, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer func() { _ = resp.Body.Close() }() // read in full (or abandoned): a close error changes nothing
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// Percentile returns the p-th percentile (0–100) of sorted durations.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

// Sorted sorts durations in place and returns them.
func Sorted(d []time.Duration) []time.Duration {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	return d
}

// ms formats a duration in milliseconds with one decimal.
func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

// Machine describes where figures were taken: CPUs, Go, kernel, and the load average at that
// moment (other developers share these machines, so every figure carries its load).
func Machine() string {
	model := ""
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				_, model, _ = strings.Cut(l, ":")
				model = strings.TrimSpace(model)
				break
			}
		}
	}
	kernel, _ := exec.Command("uname", "-r").Output()
	return fmt.Sprintf("%d CPU (%s), %s, Linux %s", runtime.NumCPU(), model, runtime.Version(), strings.TrimSpace(string(kernel)))
}

// Load returns the 1-, 5- and 15-minute load averages as uptime prints them.
func Load() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// Report collects result lines; each is printed as it comes, with the load at that moment.
type Report struct {
	Out   io.Writer
	Lines []string
}

// Add records a figure.
func (r *Report) Add(format string, args ...any) {
	line := fmt.Sprintf(format, args...) + fmt.Sprintf("  [load %s]", Load())
	r.Lines = append(r.Lines, line)
	if r.Out != nil {
		_, _ = fmt.Fprintln(r.Out, line) // the report goes to a terminal or the test log; the figures are kept in r.Lines
	}
}

// Note prints a progress line without recording it.
func (r *Report) Note(format string, args ...any) {
	if r.Out != nil {
		_, _ = fmt.Fprintf(r.Out, "  … "+format+"\n", args...) // as above
	}
}
