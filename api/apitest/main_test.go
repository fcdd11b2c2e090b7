package apitest

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/client"

	"redress/devserver"
	"redress/engine"
	"redress/pii"
)

// temporalClient talks to the one embedded Temporal server of this test binary; its payloads
// are encrypted with testBox's keys, which every env's server and workers use too (one
// deployment's keys, as in production).
var (
	temporalClient client.Client
	testBox        *pii.Box
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// Request logs and SDK chatter at info level drown the test output.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	srv, err := devserver.Start(devserver.Options{Namespace: "default"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start embedded temporal:", err)
		return 1
	}
	defer srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	spec, hashKey := pii.NewKeySpec("k1")
	box, err := pii.ParseKeys(spec, hashKey)
	if err != nil {
		fmt.Fprintln(os.Stderr, "test keys:", err)
		return 1
	}
	testBox = box
	c, err := engine.Dial(ctx, srv.FrontendAddr, "default", prometheus.NewRegistry(), box)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial embedded temporal:", err)
		return 1
	}
	defer c.Close()
	temporalClient = c
	return m.Run()
}
