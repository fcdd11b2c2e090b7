// Package engine connects redress to Temporal: it dials the client (with slog logging and the
// SDK's metrics exported to Prometheus), starts work-order workflows idempotently, and runs the
// reconciler that starts any stored work order whose workflow was never started (the process
// died between the database commit and the start).
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	otelsdk "go.temporal.io/sdk/contrib/opentelemetry"
	tlog "go.temporal.io/sdk/log"

	"redress/intake"
	"redress/payloadcodec"
	"redress/pii"
	"redress/store"
	"redress/workflows"
)

var (
	metersMu sync.Mutex
	meters   = map[prometheus.Registerer]metric.Meter{}
)

// secondsBuckets gives the SDK's latency histograms buckets in seconds, the unit they are
// recorded in: OpenTelemetry's default boundaries (0, 5, 10, 25 … 10 000) suit milliseconds,
// and with them every workflow task and activity lands in the first bucket.
var secondsBuckets = sdkmetric.NewView(
	sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram},
	sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{
		Boundaries: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
	}},
)

// meterFor returns the one meter that exports the SDK's metrics to reg. The exporter is an
// "unchecked" Prometheus collector that cannot be unregistered, so a second exporter on the
// same registry (a client dialled again in one process: `redress dev` restarted in-process by
// the tests) would make every scrape fail with duplicate metrics; each registry gets one.
func meterFor(reg prometheus.Registerer) (metric.Meter, error) {
	metersMu.Lock()
	defer metersMu.Unlock()
	if m, ok := meters[reg]; ok {
		return m, nil
	}
	exp, err := otelprom.New(otelprom.WithRegisterer(reg)) // the SDK names its metrics temporal_…
	if err != nil {
		return nil, fmt.Errorf("engine: metrics exporter: %w", err)
	}
	m := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithView(secondsBuckets)).Meter("redress")
	meters[reg] = m
	return m, nil
}

// Dial connects to the Temporal frontend and checks it answers. Every payload the client and
// the workers built on it write is encrypted with box's keys (package payloadcodec, issue 16
// finding 6), so box is required.
func Dial(ctx context.Context, address, namespace string, reg prometheus.Registerer, box *pii.Box) (client.Client, error) {
	meter, err := meterFor(reg)
	if err != nil {
		return nil, err
	}
	dc, err := payloadcodec.DataConverter(box)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	c, err := client.DialContext(ctx, client.Options{
		HostPort:         address,
		Namespace:        namespace,
		Logger:           tlog.NewStructuredLogger(slog.Default().With("component", "temporal-sdk")),
		MetricsHandler:   otelsdk.NewMetricsHandler(otelsdk.MetricsHandlerOptions{Meter: meter}),
		DataConverter:    dc,
		FailureConverter: payloadcodec.FailureConverter(dc),
	})
	if err != nil {
		return nil, fmt.Errorf("engine: dial %s: %w", address, err)
	}
	return c, nil
}

// Starter starts work-order workflows on a task queue.
type Starter struct {
	Client    client.Client
	TaskQueue string
	DB        *store.DB
}

// StartWorkOrder starts the order's workflow unless it exists (running or closed) and notes
// in the read-model that it does.
func (s *Starter) StartWorkOrder(ctx context.Context, workOrderID string) error {
	_, err := s.Client.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                       intake.WorkflowID(workOrderID),
		TaskQueue:                s.TaskQueue,
		WorkflowIDReusePolicy:    enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING,
		// Eager start: when this client also runs the worker (redress dev, or a serve
		// process with both roles) the server hands the first workflow task back in the
		// start's answer, skipping its transfer queue and matching; the order is in its
		// unit's inbox in one round trip (BENCHMARKS.md point 2). The task is recorded as
		// started, so a crash before it completes times it out and the server dispatches it
		// again; without a local worker the start is an ordinary one.
		EnableEagerStart: true,
	}, workflows.WorkOrderName, workflows.WorkOrderInput{WorkOrderID: workOrderID})
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if err != nil && !errors.As(err, &already) {
		return fmt.Errorf("start work order %s: %w", workOrderID, err)
	}
	return store.MarkWorkflowStarted(ctx, s.DB, workOrderID)
}

// Reconcile starts every work order left unstarted for longer than grace, and returns how many
// it started. The grace keeps it from racing the intake that is starting an order right now.
func (s *Starter) Reconcile(ctx context.Context, grace time.Duration) (int, error) {
	var ids []string
	err := s.DB.WithContext(ctx).Table("work_orders").
		Where("NOT workflow_started AND opened_at < ?", time.Now().UTC().Add(-grace)).
		Order("opened_at").Limit(500).Pluck("id", &ids).Error
	if err != nil {
		return 0, fmt.Errorf("reconcile: %w", err)
	}
	n := 0
	for _, id := range ids {
		if err := s.StartWorkOrder(ctx, id); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// RunReconciler reconciles at once and then every period until ctx ends.
func (s *Starter) RunReconciler(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		n, err := s.Reconcile(ctx, period)
		if err != nil && ctx.Err() == nil {
			slog.Warn("reconciler", "err", err)
		} else if n > 0 {
			slog.Info("reconciler started lost work orders", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// SignalOpenOrders sends a signal to the workflow of every open work order, in pages.
func (s *Starter) SignalOpenOrders(ctx context.Context, name string, arg any) (int, error) {
	n, after := 0, ""
	for {
		var ids []string
		err := s.DB.WithContext(ctx).Table("work_orders").
			Where("workflow_started AND state <> ? AND id > ?", "closed", after).
			Order("id").Limit(500).Pluck("id", &ids).Error
		if err != nil {
			return n, fmt.Errorf("signal open orders: %w", err)
		}
		if len(ids) == 0 {
			return n, nil
		}
		for _, id := range ids {
			err := s.Client.SignalWorkflow(ctx, intake.WorkflowID(id), "", name, arg)
			var nf *serviceerror.NotFound
			if err != nil && !errors.As(err, &nf) {
				return n, fmt.Errorf("signal %s: %w", id, err)
			}
			n++
		}
		after = ids[len(ids)-1]
	}
}
