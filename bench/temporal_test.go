package bench

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTemporalToolsOutsideTheRepository: the production topology builds its Temporal server
// from the repository's go.mod, so a harness started in another directory must say so in its
// first words — before any build, and in `all` before the first point — rather than in the go
// command's ("go.mod file not found"), as `redress-bench all` run from a scratch directory did
// forty minutes in.
func TestTemporalToolsOutsideTheRepository(t *testing.T) {
	ctx := context.Background()
	mod, err := TemporalModule(ctx)
	if err != nil {
		t.Fatalf("from the repository: %v", err)
	}
	if _, err := os.Stat(filepath.Join(mod, "schema", "postgresql", "v12", "temporal", "versioned")); err != nil {
		t.Fatalf("the pinned module has no schema: %v", err)
	}
	bin := t.TempDir()
	t.Chdir(t.TempDir())
	_, err = BuildTemporalTools(ctx, bin)
	if err == nil || !strings.Contains(err.Error(), "run redress-bench from the repository root") {
		t.Fatalf("outside the repository: %v, want the advice to run from the repository root", err)
	}
	if left, _ := os.ReadDir(bin); len(left) != 0 {
		t.Fatalf("built %d files before refusing", len(left))
	}
}
