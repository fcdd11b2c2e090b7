package bench

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Histograms is a scrape of the latency histograms a system under test exports on /metrics,
// keyed by metric name and labels; two scrapes subtracted give what happened between them.
type Histograms map[string]histogram

type histogram struct {
	count  uint64
	sum    float64   // seconds, all samples together
	bounds []float64 // upper bounds, seconds
	cum    []uint64  // cumulative counts per bound
}

// ScrapeHistograms reads base/metrics and keeps the histograms whose name starts with one of
// prefixes.
func ScrapeHistograms(ctx context.Context, base string, prefixes ...string) (Histograms, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := Client().Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // read in full (or abandoned): a close error changes nothing
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("scrape metrics: %w", err)
	}
	out := Histograms{}
	for name, f := range fams {
		if f.GetType() != dto.MetricType_HISTOGRAM || !hasPrefix(name, prefixes) {
			continue
		}
		for _, m := range f.Metric {
			h := m.GetHistogram()
			var hs histogram
			hs.count, hs.sum = h.GetSampleCount(), h.GetSampleSum()
			for _, b := range h.Bucket {
				hs.bounds = append(hs.bounds, b.GetUpperBound())
				hs.cum = append(hs.cum, b.GetCumulativeCount())
			}
			out[name+labelString(m.Label)] = hs
		}
	}
	return out, nil
}

func hasPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// labelString names a series by the labels that tell its stages apart (the activity, the
// workflow or the operation), leaving out the ones every series shares.
func labelString(ls []*dto.LabelPair) string {
	var parts []string
	for _, l := range ls {
		switch l.GetName() {
		case "activity_type", "workflow_type", "operation", "method", "route", "poller_type":
			parts = append(parts, l.GetName()+"="+l.GetValue())
		}
	}
	sort.Strings(parts)
	if len(parts) == 0 {
		return ""
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// Since returns the histograms of what was observed after earlier, with at least min samples.
func (h Histograms) Since(earlier Histograms, min uint64) Histograms {
	out := Histograms{}
	for k, v := range h {
		e := earlier[k]
		if v.count-e.count < min || len(e.cum) > 0 && len(e.cum) != len(v.cum) {
			continue
		}
		d := histogram{count: v.count - e.count, sum: v.sum - e.sum, bounds: v.bounds, cum: make([]uint64, len(v.cum))}
		for i := range v.cum {
			d.cum[i] = v.cum[i]
			if len(e.cum) > 0 {
				d.cum[i] -= e.cum[i]
			}
		}
		out[k] = d
	}
	return out
}

// quantile estimates the q-quantile (0..1) in seconds by linear interpolation inside the
// bucket it falls in, as Prometheus's histogram_quantile does; +Inf when it falls past the last
// finite bound.
func (h histogram) quantile(q float64) float64 {
	if h.count == 0 {
		return math.NaN()
	}
	rank := q * float64(h.count)
	lower, below := 0.0, uint64(0)
	for i, b := range h.bounds {
		if float64(h.cum[i]) >= rank {
			in := h.cum[i] - below
			if in == 0 || math.IsInf(b, 1) {
				return b
			}
			return lower + (b-lower)*(rank-float64(below))/float64(in)
		}
		lower, below = b, h.cum[i]
	}
	return math.Inf(1)
}

// Lines gives one line per series, sorted by name: count, p50 and p99, and the seconds all
// samples took together (where the time went, when the series are the stages of one piece of
// work).
func (h Histograms) Lines() []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		v := h[k]
		out = append(out, fmt.Sprintf("%s: %d, p50 %s, p99 %s, total %.2f s", k, v.count, secs(v.quantile(0.5)), secs(v.quantile(0.99)), v.sum))
	}
	return out
}

func secs(s float64) string {
	if math.IsInf(s, 1) || math.IsNaN(s) {
		return fmt.Sprint(s)
	}
	return ms(time.Duration(s * float64(time.Second)))
}
