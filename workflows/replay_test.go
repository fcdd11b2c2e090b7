package workflows

import (
	"bytes"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// TestReplayRecordedHistories replays the histories of real runs (recorded from the embedded
// server by api/apitest with REDRESS_RECORD_HISTORIES=1) against the workflow code as it is
// now. A change that would make running orders fail to replay — a command added, removed or
// reordered without workflow.GetVersion — fails here.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no recorded histories in testdata/ (record them: REDRESS_RECORD_HISTORIES=1 go test ./api/apitest/ -run 'TestChain|TestFiveSecond')")
	}
	logger := tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	// Both generations must be here: orders started before the local-activities change
	// (scheduled activities) are still running somewhere, and so are new ones.
	var before, since int
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(`"markerName":  "LocalActivity"`)) {
			since++
		} else {
			before++
		}
	}
	if before == 0 || since == 0 {
		t.Fatalf("recorded histories: %d from before the local-activities change, %d since; both are needed", before, since)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			h := readHistory(t, f)
			if len(h.Events) < 10 {
				t.Fatalf("only %d events", len(h.Events))
			}
			rp := worker.NewWorkflowReplayer()
			rp.RegisterWorkflowWithOptions(WorkOrder, workflow.RegisterOptions{Name: WorkOrderName})
			if err := rp.ReplayWorkflowHistory(logger, h); err != nil {
				t.Fatalf("replay: %v", err)
			}
		})
	}
}

// readHistory reads a history recorded as JSON (testdata/*.json).
func readHistory(t *testing.T, file string) *historypb.History {
	t.Helper()
	r, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := r.Close(); err != nil {
			t.Errorf("close the history file: %v", err)
		}
	}()
	h, err := client.HistoryFromJSON(r, client.HistoryJSONOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return h
}
