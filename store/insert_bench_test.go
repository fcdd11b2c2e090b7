package store_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"redress/migrations"
	"redress/models"
	"redress/store"
	"redress/store/storetest"
)

// ratingRows is a rating's worth of rows in shape (four tables, parents first, a serial id and
// JSON-free text columns): what intake hands InsertAll for one rating.
func ratingRows(i int) []any {
	code := fmt.Sprintf("bench-%d", i)
	u := models.Unit{Code: code, Name: "单位", Kind: "department", Path: "/" + code + "/"}
	a := []models.AuditEntry{
		{Method: "POST", Path: "/bench", Target: code, Status: 201, Outcome: "ok"},
		{Method: "POST", Path: "/bench", Target: code + "/2", Status: 201, Outcome: "ok"},
	}
	usr := models.User{Login: code, Name: "评价人"}
	e := models.AuditEntry{Method: "POST", Path: "/evaluations", Target: code, Status: 201, Outcome: "ok"}
	return []any{&u, &a, &usr, &e}
}

// BenchmarkInsertAll: one rating's rows on PostgreSQL, as the single intake stores them when no
// other request shares the commit.
func BenchmarkInsertAll(b *testing.B) {
	db := storetest.Open(b, migrations.Postgres)
	ctx := context.Background()
	i := 0
	defer cpuPerOp(b, db)()
	for b.Loop() {
		if err := store.InsertAll(ctx, db, ratingRows(i)...); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkInsertGroups: 64 ratings' rows in one group commit on PostgreSQL, as the bulk intake
// and the Committer store them; per op is per group.
func BenchmarkInsertGroups(b *testing.B) {
	db := storetest.Open(b, migrations.Postgres)
	ctx := context.Background()
	i := 0
	defer cpuPerOp(b, db)()
	for b.Loop() {
		groups := make([][]any, 64)
		for k := range groups {
			groups[k] = ratingRows(i)
			i++
		}
		for _, err := range store.InsertGroups(ctx, db, groups) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

// cpuPerOp reports the processor time per operation of the benchmark's process (client-µs/op)
// and of the database's server processes (pg-µs/op): on this project's two shared cores the
// sum bounds throughput, and it varies far less with the machine's load than wall time does.
// Server time is read from /proc, so it needs the server on this machine (else it reports 0).
func cpuPerOp(b *testing.B, db *store.DB) func() {
	client := func() time.Duration {
		var ru syscall.Rusage
		_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	server := func() map[int]time.Duration {
		var pids []int
		db.Raw("SELECT pid FROM pg_stat_activity WHERE datname = current_database()").Scan(&pids)
		out := map[int]time.Duration{}
		for _, pid := range pids {
			stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err != nil {
				continue
			}
			f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
			ut, _ := strconv.ParseInt(f[11], 10, 64)
			st, _ := strconv.ParseInt(f[12], 10, 64)
			out[pid] = time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ = 100
		}
		return out
	}
	c0, s0 := client(), server()
	return func() {
		c1, s1 := client(), server()
		var pg time.Duration
		for pid, t := range s1 {
			pg += t - s0[pid]
		}
		n := float64(b.N)
		b.ReportMetric(float64((c1-c0).Microseconds())/n, "client-µs/op")
		b.ReportMetric(float64(pg.Microseconds())/n, "pg-µs/op")
	}
}
