package workflows

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.temporal.io/sdk/converter"
)

// A state carried by an older run restores whole and is carried on byte for byte: a run
// started from it holds everything it carried (nothing dropped, renamed or reshaped), and
// when it continues again it hands on the same payload. Two payloads: the one recorded in a
// real continue-as-new history, and one that sets every field of OrderState.
func TestCarriedStateRestoresIdentically(t *testing.T) {
	payloads := map[string][]byte{
		"recorded":    recordedCarriedState(t, filepath.Join("testdata", "continued_as_new@i16.json")),
		"every_field": readCarried(t, filepath.Join("testdata", "carried", "every_field.json")),
	}
	for name, payload := range payloads {
		t.Run(name, func(t *testing.T) {
			var st OrderState
			if err := json.Unmarshal(payload, &st); err != nil {
				t.Fatal(err)
			}
			w := &workOrder{}
			w.restore(st)
			if got := w.carry(); !reflect.DeepEqual(got, st) {
				t.Errorf("restored and carried again, the state changed:\ngot  %+v\nwant %+v", got, st)
			}
			got, err := json.Marshal(w.carry())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, payload) {
				t.Errorf("carried payload changed:\ngot  %s\nwant %s", got, payload)
			}
		})
	}
}

// readCarried reads a carried payload, compacted as the workflow writes it.
func readCarried(t *testing.T, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

// recordedCarriedState is the state a recorded run was continued with, as the older run
// wrote it (the input of its first event).
func recordedCarriedState(t *testing.T, file string) []byte {
	t.Helper()
	h := readHistory(t, file)
	started := h.Events[0].GetWorkflowExecutionStartedEventAttributes()
	if started == nil || len(started.GetInput().GetPayloads()) != 1 {
		t.Fatalf("%s does not start with one input", file)
	}
	var in struct {
		State json.RawMessage `json:"state"`
	}
	if err := converter.GetDefaultDataConverter().FromPayload(started.GetInput().GetPayloads()[0], &in); err != nil {
		t.Fatal(err)
	}
	if len(in.State) == 0 {
		t.Fatalf("%s was not continued from a carried state", file)
	}
	return in.State
}
