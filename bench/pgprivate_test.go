package bench

import (
	"context"
	"database/sql"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

// The restart scenario's own database server starts, answers, survives a restart, and stops;
// the shared server (AdminURL) is another one, and its restart leaves that one running as it was.
func TestPrivatePostgres(t *testing.T) {
	if err := CanRunPrivatePostgres(""); err != nil {
		t.Fatalf("a private PostgreSQL cannot run here: %v", err)
	}
	requirePostgres(t)
	p, err := StartPrivatePostgres(t.TempDir(), "")
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
	shared, err := sql.Open("pgx", AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = shared.Close() }() // reads only
	started := func(db *sql.DB) (since time.Time, port int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := db.QueryRowContext(ctx, "SELECT pg_postmaster_start_time(), current_setting('port')::int").Scan(&since, &port); err != nil {
			t.Fatal(err)
		}
		return since, port
	}
	sharedSince, sharedPort := started(shared)
	ownSince, ownPort := started(db)
	if ownPort != p.Port || ownPort == sharedPort {
		t.Fatalf("the private cluster answers on port %d (want its own %d), the shared one on %d", ownPort, p.Port, sharedPort)
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
	if since, _ := started(db); !since.After(ownSince) {
		t.Errorf("the private cluster did not restart: started %s, before %s", since, ownSince)
	}
	if since, _ := started(shared); !since.Equal(sharedSince) {
		t.Errorf("the shared server on port %d restarted (started %s, before %s): the harness restarts only its own", sharedPort, since, sharedSince)
	}
}
