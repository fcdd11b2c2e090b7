//go:build unix

package bench

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestProfile: redress-bench profile takes a CPU profile of the redress dev it drives, through
// its profiler (redress dev --pprof), while the intake load runs; the file is pprof's
// (gzipped protocol buffer).
func TestProfile(t *testing.T) {
	o := options(t)
	t.Parallel()
	o.Duration, o.Conc = 2*time.Second, 4
	out := filepath.Join(t.TempDir(), "intake.pprof")
	if err := RunProfile(testContext(t, 5*time.Minute), o, "sqlite", out, 20, 20000); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 100 || !bytes.HasPrefix(b, []byte{0x1f, 0x8b}) {
		t.Fatalf("profile %s: %d bytes, starting %x: not a gzipped profile", out, len(b), b[:min(len(b), 4)])
	}
}
