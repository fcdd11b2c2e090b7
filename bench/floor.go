package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// InsertFloor is the database's own floor for the single rating form, measured by PostgreSQL's
// pgbench and not by this harness: clients sessions (pgbench -j 2, prepared statements) each
// running single-row autocommit INSERTs, for d, into an empty copy of the evaluations table
// (CREATE TABLE … (LIKE evaluations INCLUDING ALL): the same columns, defaults, constraints and
// indexes). Every row has the columns and values of sampleEvalID's stored evaluation — the same
// width as the run's rows — but for its two unique keys, which a sequence makes new. It answers
// rows per second, as pgbench counts them after the connections are open, and drops the copy.
func InsertFloor(ctx context.Context, pgbench, databaseURL, sampleEvalID string, clients int, d time.Duration) (float64, error) {
	conn, err := pgx.Connect(ctx, databaseURL)
	if err != nil {
		return 0, fmt.Errorf("insert floor: %w", err)
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }() // nothing is pending on it
	const table, seq = "bench_floor_evaluations", "bench_floor_seq"
	if _, err := conn.Exec(ctx, "DROP TABLE IF EXISTS "+table+"; DROP SEQUENCE IF EXISTS "+seq+
		"; CREATE TABLE "+table+" (LIKE evaluations INCLUDING ALL); CREATE SEQUENCE "+seq); err != nil {
		return 0, fmt.Errorf("insert floor: the copy of evaluations: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "DROP TABLE IF EXISTS "+table+"; DROP SEQUENCE IF EXISTS "+seq) // the next run drops it first anyway
	}()
	// The sample row as SQL literals, column by column in the table's order; row_to_json gives
	// every column of evaluations as text PostgreSQL reads back (text, booleans, timestamps).
	// pgbench takes ":name" in a script for one of its variables, so a colon inside a literal
	// (the timestamps have two) is spelled chr(58), and the text so built cast to the column's type.
	var cols, vals string
	err = conn.QueryRow(ctx, `SELECT string_agg(quote_ident(a.attname), ', ' ORDER BY a.attnum),
	       string_agg(CASE WHEN a.attname IN ('id', 'evaluation_id')
	                       THEN format('%L || nextval(%L)', 'floor-' || a.attname || '-', $2::text)
	                       WHEN j.value LIKE '%:%'
	                       THEN format('(%s)::%s', replace(quote_literal(j.value), ':', ''' || chr(58) || '''), format_type(a.atttypid, a.atttypmod))
	                       ELSE quote_nullable(j.value) END, ', ' ORDER BY a.attnum)
	  FROM evaluations e
	 CROSS JOIN LATERAL json_each_text(row_to_json(e)) AS j(key, value)
	  JOIN pg_attribute a ON a.attrelid = 'evaluations'::regclass AND a.attname = j.key
	 WHERE e.evaluation_id = $1`, sampleEvalID, seq).Scan(&cols, &vals)
	if err != nil {
		return 0, fmt.Errorf("insert floor: sample row %s: %w", sampleEvalID, err)
	}
	if cols == "" {
		return 0, fmt.Errorf("insert floor: no stored evaluation %s", sampleEvalID)
	}
	script, err := os.CreateTemp("", "floor-*.sql")
	if err != nil {
		return 0, err
	}
	defer func() { _ = os.Remove(script.Name()) }()
	if _, err := fmt.Fprintf(script, "INSERT INTO %s (%s) VALUES (%s);\n", table, cols, vals); err != nil {
		return 0, err
	}
	if err := script.Close(); err != nil {
		return 0, err
	}
	cmd := exec.CommandContext(ctx, pgbench, "-n", "-M", "prepared", "-c", strconv.Itoa(clients), "-j", "2",
		"-T", strconv.Itoa(max(1, int(d.Seconds()))), "-f", script.Name(), databaseURL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %w: %s", err, strings.TrimSpace(string(out)))
	}
	return pgbenchTPS(out)
}

var tpsLine = regexp.MustCompile(`(?m)^tps = ([0-9.]+) \((without initial connection time|excluding connections establishing)\)`)

// pgbenchTPS reads pgbench's transactions per second (one row each here) from its report.
func pgbenchTPS(out []byte) (float64, error) {
	m := tpsLine.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("pgbench printed no tps line: %s", strings.TrimSpace(string(out)))
	}
	return strconv.ParseFloat(string(m[1]), 64)
}

// PgbenchPath finds pgbench: on PATH, else beside the newest installed server (Debian keeps it
// in /usr/lib/postgresql/N/bin, not on PATH).
func PgbenchPath(pgBin string) (string, error) {
	if p, err := exec.LookPath("pgbench"); err == nil && pgBin == "" {
		return p, nil
	}
	dir, err := pgBinDir(pgBin)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "pgbench")
	if _, err := os.Stat(p); err != nil {
		return "", errors.New("pgbench not found: install PostgreSQL's server package (Debian: postgresql-15) or name its bin directory with --pg-bin")
	}
	return p, nil
}
