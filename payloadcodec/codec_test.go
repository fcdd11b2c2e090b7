package payloadcodec

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/proxy"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
	"google.golang.org/protobuf/proto"

	"redress/pii"
	"redress/workflows"
)

// note is free text of the kind officers write: it must never be in an encoded payload.
const note = "回访：申请人张三称窗口排队三小时，电话13700137000"

func box(t *testing.T, suite pii.Suite, spec, hash string) *pii.Box {
	t.Helper()
	b, err := pii.New(suite, spec, hash)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func clearPayload(t *testing.T, v any) *commonpb.Payload {
	t.Helper()
	p, err := converter.GetDefaultDataConverter().ToPayload(v)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRoundTrip: under both suites a value goes through the codec's data converter and comes
// back equal, while the encoded payload holds neither the note nor its JSON, and names its
// encoding, key and cipher.
func TestRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		suite  pii.Suite
		cipher string
	}{{pii.SuiteAES, "AES-256-GCM"}, {pii.SuiteGM, "SM4-GCM"}} {
		t.Run(string(tc.suite), func(t *testing.T) {
			spec, hash := pii.NewSuiteKeySpec(tc.suite, "k1")
			dc, err := DataConverter(box(t, tc.suite, spec, hash))
			if err != nil {
				t.Fatal(err)
			}
			in := map[string]any{"action": "callback", "note": note}
			p, err := dc.ToPayload(in)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := proto.Marshal(p)
			if bytes.Contains(raw, []byte("回访")) || bytes.Contains(raw, []byte("callback")) || bytes.Contains(raw, []byte("json/plain")) {
				t.Fatalf("encoded payload holds clear text: %q", raw)
			}
			md := p.GetMetadata()
			if string(md["encoding"]) != Encoding || string(md[MetadataKeyID]) != "k1" || string(md[MetadataCipher]) != tc.cipher {
				t.Errorf("metadata %q", md)
			}
			var out map[string]any
			if err := dc.FromPayload(p, &out); err != nil {
				t.Fatal(err)
			}
			if out["note"] != note || out["action"] != "callback" {
				t.Errorf("decoded %v", out)
			}
			// Two encodings of one value differ (a fresh nonce each).
			p2, _ := dc.ToPayload(in)
			if bytes.Equal(p.Data, p2.Data) {
				t.Error("the same ciphertext twice")
			}
		})
	}
}

// TestKeyRotation: a payload sealed with the old key opens after the rotation (new key first,
// old kept), new payloads are sealed with the new key, and a payload whose key is gone fails
// with an error that names the key instead of being passed on as ciphertext. The rotation
// crosses suites too (AES → SM4, as when a deployment moves to 国密).
func TestKeyRotation(t *testing.T) {
	oldSpec, hash := pii.NewKeySpec("old")
	newSpec, _ := pii.NewSuiteKeySpec(pii.SuiteGM, "new")
	before, _ := New(box(t, pii.SuiteAES, oldSpec, hash))
	sealed, err := before.Encode([]*commonpb.Payload{clearPayload(t, note)})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := New(box(t, pii.SuiteGM, newSpec+","+oldSpec, hash))
	opened, err := after.Decode(sealed)
	if err != nil {
		t.Fatalf("old payload after rotation: %v", err)
	}
	var s string
	if err := converter.GetDefaultDataConverter().FromPayload(opened[0], &s); err != nil || s != note {
		t.Fatalf("decoded %q, %v", s, err)
	}
	fresh, _ := after.Encode([]*commonpb.Payload{clearPayload(t, note)})
	if kid := string(fresh[0].Metadata[MetadataKeyID]); kid != "new" {
		t.Errorf("sealed with %q after rotation, want new", kid)
	}
	dropped, _ := New(box(t, pii.SuiteGM, newSpec, hash))
	if _, err := dropped.Decode(sealed); err == nil || !bytes.Contains([]byte(err.Error()), []byte(`"old"`)) {
		t.Errorf("decode with the old key dropped: %v", err)
	}
}

// TestTamperAndPassThrough: a payload whose key id was edited, or whose ciphertext was, does
// not open; a payload the codec did not seal (histories recorded before it) passes unchanged.
func TestTamperAndPassThrough(t *testing.T) {
	spec1, hash := pii.NewKeySpec("k1")
	spec2, _ := pii.NewKeySpec("k2")
	c, _ := New(box(t, pii.SuiteAES, spec1+","+spec2, hash))
	sealed, _ := c.Encode([]*commonpb.Payload{clearPayload(t, note)})

	relabelled := proto.Clone(sealed[0]).(*commonpb.Payload)
	relabelled.Metadata[MetadataKeyID] = []byte("k2")
	if _, err := c.Decode([]*commonpb.Payload{relabelled}); err == nil {
		t.Error("a payload relabelled with another key id opened")
	}
	flipped := proto.Clone(sealed[0]).(*commonpb.Payload)
	flipped.Data[len(flipped.Data)-1] ^= 1
	if _, err := c.Decode([]*commonpb.Payload{flipped}); err == nil {
		t.Error("a tampered payload opened")
	}
	short := proto.Clone(sealed[0]).(*commonpb.Payload)
	short.Data = short.Data[:5]
	if _, err := c.Decode([]*commonpb.Payload{short}); err == nil {
		t.Error("a truncated payload opened")
	}

	clear := clearPayload(t, note)
	out, err := c.Decode([]*commonpb.Payload{clear})
	if err != nil || !proto.Equal(out[0], clear) {
		t.Errorf("clear payload: %v, %v", out, err)
	}
	if _, err := New(nil); err == nil {
		t.Error("a codec without keys")
	}
}

// TestRecordedHistoriesReplay: the histories recorded before the codec (clear JSON) replay
// with the codec's converter, as running orders will after the upgrade; and the same
// histories with every payload encrypted replay too, as orders started after it.
func TestRecordedHistoriesReplay(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "workflows", "testdata", "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no recorded histories: %v", err)
	}
	spec, hash := pii.NewSuiteKeySpec(pii.SuiteGM, "g1")
	b := box(t, pii.SuiteGM, spec, hash)
	codec, _ := New(b)
	dc, _ := DataConverter(b)
	logger := tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			for _, encrypted := range []bool{false, true} {
				r, err := os.Open(f)
				if err != nil {
					t.Fatal(err)
				}
				h, err := client.HistoryFromJSON(r, client.HistoryJSONOptions{})
				if err := r.Close(); err != nil {
					t.Fatalf("close the history file: %v", err)
				}
				if err != nil {
					t.Fatal(err)
				}
				if encrypted {
					n := 0
					err := proxy.VisitPayloads(context.Background(), h, proxy.VisitPayloadsOptions{
						SkipSearchAttributes: true,
						Visitor: func(_ *proxy.VisitPayloadsContext, p []*commonpb.Payload) ([]*commonpb.Payload, error) {
							n += len(p)
							return codec.Encode(p)
						},
					})
					if err != nil || n == 0 {
						t.Fatalf("encrypt the history: %d payloads, %v", n, err)
					}
				}
				rp, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc, FailureConverter: FailureConverter(dc)})
				if err != nil {
					t.Fatal(err)
				}
				rp.RegisterWorkflowWithOptions(workflows.WorkOrder, workflow.RegisterOptions{Name: workflows.WorkOrderName})
				if err := rp.ReplayWorkflowHistory(logger, h); err != nil {
					t.Fatalf("replay (encrypted %v): %v", encrypted, err)
				}
			}
		})
	}
}

// TestDecodeAll: a whole message's payloads decoded in place.
func TestDecodeAll(t *testing.T) {
	spec, hash := pii.NewKeySpec("k1")
	c, _ := New(box(t, pii.SuiteAES, spec, hash))
	sealed, _ := c.Encode([]*commonpb.Payload{clearPayload(t, note)})
	msg := &commonpb.Payloads{Payloads: sealed}
	if err := c.DecodeAll(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(msg.Payloads[0].Data, []byte(note)) {
		t.Errorf("not decoded: %q", msg.Payloads[0].Data)
	}
}
