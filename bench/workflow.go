package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"golang.org/x/sync/errgroup"

	"redress/models"
)

// Stage is one officer or administrator action of the full path of a work order.
type Stage struct {
	Login string
	Body  map[string]any
	Want  string // state after it
}

// FullPath drives an order from dispatched to closed: sign, callback, dispose rectify_now,
// review approve, record_feedback.
var FullPath = []Stage{
	{"ft-officer", map[string]any{"action": "sign"}, models.StateSigned},
	{"ft-officer", map[string]any{"action": "callback", "reached": true, "method": "phone", "note": "已电话回访"}, models.StateCalledBack},
	{"ft-officer", map[string]any{"action": "dispose", "true": true, "reasonable": true, "disposition": "rectify_now", "measures": "当场整改，已增设窗口"}, models.StateReviewing},
	{"sz-admin", map[string]any{"action": "review", "approve": true, "note": "整改到位"}, models.StateFeedback},
	{"ft-officer", map[string]any{"action": "record_feedback", "satisfaction": "satisfied", "comment": "满意"}, models.StateClosed},
}

// DriveOrder takes one dispatched order through FullPath.
func DriveOrder(ctx context.Context, c *Driver, base string, tokens map[string]string, id string) error {
	for i, s := range FullPath {
		var st int
		var body []byte
		var err error
		// A 5xx (engine momentarily busy) is retried under the same Idempotency-Key, which
		// makes the retry the same update.
		for try := 0; try < 5; try++ {
			st, body, err = c.Do(ctx, base+"/api/v1/work-orders/"+id+"/actions", tokens[s.Login], s.Body, id+"-"+s.Body["action"].(string))
			if err == nil && st < 500 {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("order %s stage %d: %w", id, i, err)
		}
		var o struct {
			State string `json:"state"`
		}
		if st != 200 || json.Unmarshal(body, &o) != nil || o.State != s.Want {
			return fmt.Errorf("order %s %v = %d %s, want state %s", id, s.Body["action"], st, body, s.Want)
		}
	}
	return nil
}

// Driver posts actions and keeps their latencies.
type Driver struct {
	c   *http.Client
	mu  sync.Mutex
	lat []time.Duration
}

// NewDriver makes a Driver.
func NewDriver() *Driver { return &Driver{c: Client()} }

// Do posts one action under an Idempotency-Key (a retry is then the same update).
func (d *Driver) Do(ctx context.Context, url, token string, body any, key string) (int, []byte, error) {
	t0 := time.Now()
	st, b, err := Do(ctx, d.c, "POST", url, token, body, "Idempotency-Key", key)
	if err == nil && st == 200 {
		d.mu.Lock()
		d.lat = append(d.lat, time.Since(t0))
		d.mu.Unlock()
	}
	return st, b, err
}

func (d *Driver) latencies() []time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]time.Duration(nil), d.lat...)
}

// WorkflowResult is one workflow-throughput run.
type WorkflowResult struct {
	Orders     int
	OrdersRate float64 // whole orders per second
	Empty      int
	EmptyRate  float64 // empty workflows per second on the same server
	Ratio      float64
	// ShapedRate is the engine's rate for an order's shape with no work in it: a workflow
	// that takes as many no-op updates as an order takes actions (5), each awaited as the
	// api awaits an action, then ends. OrdersRate/ShapedRate is what our own code costs
	// beyond the engine's round trips.
	ShapedRate  float64
	ShapedRatio float64
	StageLatP50 time.Duration
	StageLatP99 time.Duration
}

// WorkflowThroughput drives orders (already dispatched) through every stage with conc
// concurrent drivers, then runs empty workflows on the same Temporal server (a worker in this
// process on its own task queue) with the same concurrency, and reports both rates.
func WorkflowThroughput(ctx context.Context, base string, tokens map[string]string, temporalAddr string, orders []string, conc, empty int) (WorkflowResult, error) {
	res := WorkflowResult{Orders: len(orders), Empty: empty}
	w := NewDriver()
	start := time.Now()
	if err := eachConcurrently(ctx, len(orders), conc, func(n int) error {
		return DriveOrder(ctx, w, base, tokens, orders[n])
	}); err != nil {
		return res, err
	}
	res.OrdersRate = float64(len(orders)) / time.Since(start).Seconds()
	lat := Sorted(w.latencies())
	res.StageLatP50, res.StageLatP99 = Percentile(lat, 50), Percentile(lat, 99)

	rate, err := EmptyWorkflowRate(ctx, temporalAddr, empty, conc)
	if err != nil {
		return res, err
	}
	res.EmptyRate = rate
	res.Ratio = res.OrdersRate / res.EmptyRate
	if res.ShapedRate, err = ShapedWorkflowRate(ctx, temporalAddr, len(orders), conc, len(FullPath)); err != nil {
		return res, err
	}
	res.ShapedRatio = res.OrdersRate / res.ShapedRate
	return res, nil
}

// shapedWorkflow takes n no-op updates named "act", then ends.
func shapedWorkflow(ctx workflow.Context, n int) error {
	done := 0
	if err := workflow.SetUpdateHandler(ctx, "act", func(workflow.Context) error {
		done++
		return nil
	}); err != nil {
		return err
	}
	return workflow.Await(ctx, func() bool { return done >= n })
}

// ShapedWorkflowRate starts n workflows of shapedWorkflow, conc at a time, each started
// eagerly as orders are and then sent its updates one after the other, each awaited until
// completed (as the api awaits an action), and answers whole workflows per second.
func ShapedWorkflowRate(ctx context.Context, addr string, n, conc, updates int) (float64, error) {
	return engineRate(ctx, addr, "bench-shaped", shapedWorkflow, n, conc, func(c client.Client, id string, start func(args ...any) (client.WorkflowRun, error)) error {
		run, err := start(updates)
		if err != nil {
			return err
		}
		for range updates {
			h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: "act", WaitForStage: client.WorkflowUpdateStageCompleted})
			if err != nil {
				return err
			}
			if err := h.Get(ctx, nil); err != nil {
				return err
			}
		}
		return run.Get(ctx, nil)
	})
}

// emptyWorkflow does nothing: its rate is what the engine can do at all.
func emptyWorkflow(ctx workflow.Context) error { return nil }

// EmptyWorkflowRate starts and awaits n empty workflows, conc at a time, on the Temporal
// frontend at addr (namespace default), with a worker in this process, started eagerly.
func EmptyWorkflowRate(ctx context.Context, addr string, n, conc int) (float64, error) {
	return engineRate(ctx, addr, "bench-empty", emptyWorkflow, n, conc, func(_ client.Client, _ string, start func(args ...any) (client.WorkflowRun, error)) error {
		run, err := start()
		if err != nil {
			return err
		}
		return run.Get(ctx, nil)
	})
}

// engineRate runs n workflows of wf (registered as name on a task queue of their own, with a
// worker in this process), conc at a time, each driven by drive, and answers whole workflows
// per second. start starts the workflow as work orders are started: eagerly, the first task
// handed straight to this process's worker, so the ceiling is the engine's best. Throwaway
// keys: the engine's rate is measured with the payload codec every redress client uses, so
// that the ratio to the orders' rate compares like with like.
func engineRate(ctx context.Context, addr, name string, wf any, n, conc int, drive func(c client.Client, id string, start func(args ...any) (client.WorkflowRun, error)) error) (float64, error) {
	c, err := dialTemporal(ctx, addr, NewKeys())
	if err != nil {
		return 0, err
	}
	defer c.Close()
	queue := fmt.Sprintf("%s-%d", name, time.Now().UnixNano())
	wk := worker.New(c, queue, worker.Options{})
	wk.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: name})
	if err := wk.Start(); err != nil {
		return 0, err
	}
	defer wk.Stop()
	begin := time.Now()
	if err := eachConcurrently(ctx, n, conc, func(i int) error {
		id := fmt.Sprintf("%s-%d", queue, i)
		return drive(c, id, func(args ...any) (client.WorkflowRun, error) {
			return c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue, EnableEagerStart: true}, name, args...)
		})
	}); err != nil {
		return 0, err
	}
	return float64(n) / time.Since(begin).Seconds(), nil
}

// quietLogger drops the SDK's log lines (the harness prints its own).
type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

// eachConcurrently calls f(0) … f(n-1), conc at a time, and stops starting new calls at the
// first error (which it returns) or when ctx ends.
func eachConcurrently(ctx context.Context, n, conc int, f func(i int) error) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for i := range n {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error { return f(i) })
	}
	return g.Wait()
}
