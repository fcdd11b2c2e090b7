package bench

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// The restart scenario's own database server starts, answers, survives a restart, and stops.
func TestPrivatePostgres(t *testing.T) {
	if err := CanRunPrivatePostgres(); err != nil {
		t.Fatalf("a private PostgreSQL cannot run here: %v", err)
	}
	p, err := StartPrivatePostgres(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Stop(); err != nil {
			t.Errorf("stop the private PostgreSQL: %v", err)
		}
	}()
	db, err := sql.Open("pgx", p.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = db.Close() }() // reads only
	ping := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		var one int
		return db.QueryRowContext(ctx, "SELECT 1").Scan(&one)
	}
	if err := ping(); err != nil {
		t.Fatal(err)
	}
	if err := p.Restart(); err != nil {
		t.Fatal(err)
	}
	// The pool's old connections were cut; database/sql replaces them.
	var err2 error
	for i := 0; i < 3; i++ {
		if err2 = ping(); err2 == nil {
			break
		}
	}
	if err2 != nil {
		t.Fatalf("after restart: %v", err2)
	}
}
