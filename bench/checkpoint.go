package bench

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Checkpoints is how many checkpoints PostgreSQL has begun since its statistics were reset:
// on its timer (checkpoint_timeout) and asked for (max_wal_size reached, or CHECKPOINT).
type Checkpoints struct{ Timed, Requested int64 }

// Since is the checkpoints begun between c0 and c.
func (c Checkpoints) Since(c0 Checkpoints) Checkpoints {
	return Checkpoints{Timed: c.Timed - c0.Timed, Requested: c.Requested - c0.Requested}
}

// String says it for a measured turn's line.
func (c Checkpoints) String() string {
	return fmt.Sprintf("checkpoints in the turn: %d timed, %d requested", c.Timed, c.Requested)
}

// ReadCheckpoints reads the server's checkpoint counts (PostgreSQL 17 moved them from
// pg_stat_bgwriter to pg_stat_checkpointer).
func ReadCheckpoints(ctx context.Context, databaseURL string) (Checkpoints, error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return Checkpoints{}, fmt.Errorf("checkpoints: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }() // a read
	var newer bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('pg_catalog.pg_stat_checkpointer') IS NOT NULL").Scan(&newer); err != nil {
		return Checkpoints{}, fmt.Errorf("checkpoints: %w", err)
	}
	q := "SELECT checkpoints_timed, checkpoints_req FROM pg_stat_bgwriter"
	if newer {
		q = "SELECT num_timed, num_requested FROM pg_stat_checkpointer"
	}
	var c Checkpoints
	if err := conn.QueryRow(ctx, q).Scan(&c.Timed, &c.Requested); err != nil {
		return Checkpoints{}, fmt.Errorf("checkpoints: %w", err)
	}
	return c, nil
}

// Checkpoint has PostgreSQL write a checkpoint now. Its timer counts from the last checkpoint
// of any kind, so a measured turn of seconds that starts right after one meets no timed
// checkpoint (checkpoint_timeout is minutes): the fourth and fifth sittings' turns met them at
// random, and one turn's rate could halve (BENCHMARKS.md, point 9).
func Checkpoint(ctx context.Context, databaseURL string) error {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }() // the checkpoint has finished
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}
