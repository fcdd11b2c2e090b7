package bench

import (
	"context"
	"testing"

	"redress/migrations"
	"redress/store/storetest"
)

// TestCheckpoint: a checkpoint the harness asks for is written (CHECKPOINT returns once it
// is) and counted among the requested ones, so a turn's line counts what began in it.
func TestCheckpoint(t *testing.T) {
	ctx := context.Background()
	url := storetest.URL(t, migrations.Postgres)
	c0, err := ReadCheckpoints(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if err := Checkpoint(ctx, url); err != nil {
		t.Fatal(err)
	}
	c, err := ReadCheckpoints(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	// Other tests' databases share the server: a checkpoint of theirs may begin meanwhile.
	if d := c.Since(c0); d.Requested < 1 || d.Timed < 0 {
		t.Fatalf("checkpoints around a CHECKPOINT: %+v (from %+v to %+v), want at least one requested", d, c0, c)
	}
}
