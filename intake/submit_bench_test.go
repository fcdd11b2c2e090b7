package intake_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"redress/intake"
	"redress/migrations"
	"redress/models"
	"redress/pii"
	"redress/store"
	"redress/store/storetest"
)

// seedRatable stores n completed cases of unit code straight into the database, with their
// rating windows frozen in as registration does.
func seedRatable(tb testing.TB, db *store.DB, prefix, unit string, n int, completed time.Time) []string {
	tb.Helper()
	ctx := context.Background()
	var u models.Unit
	if err := db.Where("code = ?", unit).First(&u).Error; err != nil {
		tb.Fatal(err)
	}
	closes, err := (&intake.Service{DB: db}).WindowCloses(ctx, u.Path, completed)
	if err != nil {
		tb.Fatal(err)
	}
	nos := make([]string, n)
	batch := make([]models.ServiceCase, 0, 500)
	for i := range n {
		nos[i] = fmt.Sprintf("%s-%d", prefix, i)
		batch = append(batch, models.ServiceCase{ID: uuid.NewString(), CaseNo: nos[i], ItemCode: "T01", ItemName: "税务登记",
			UnitID: u.ID, Channel: "window_device", CompletedAt: completed, ContentHash: "seed", CreatedAt: completed})
		if len(batch) == cap(batch) || i == n-1 {
			if err := db.Create(&batch).Error; err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := db.Table("service_cases").Where("case_no LIKE ?", prefix+"-%").Update("rating_closes_at", closes).Error; err != nil {
		tb.Fatal(err)
	}
	return nos
}

// selfCPU is the processor time this process used so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// backendCPU is the processor time used so far by each PostgreSQL backend connected to db's
// database, by pid (from /proc: the server runs on this machine).
func backendCPU(tb testing.TB, db *store.DB) map[int]time.Duration {
	tb.Helper()
	var pids []int
	if err := db.Raw("SELECT pid FROM pg_stat_activity WHERE datname = current_database()").Scan(&pids).Error; err != nil {
		tb.Fatal(err)
	}
	out := map[int]time.Duration{}
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = time.Duration(ut+st) * 10 * time.Millisecond
	}
	return out
}

func testBox(tb testing.TB) *pii.Box {
	tb.Helper()
	spec, hk := pii.NewKeySpec("k1")
	box, err := pii.ParseKeys(spec, hk)
	if err != nil {
		tb.Fatal(err)
	}
	return box
}

// BenchmarkSubmitEvaluationConcurrent: single ratings from many concurrent callers, as the
// harness's intake point sends them but without HTTP: REDRESS_BENCH_CONC callers (default 32),
// on PostgreSQL (REDRESS_BENCH_DB=sqlite for SQLite), through the group commit
// (REDRESS_BENCH_ONE=1: one at a time). Reports ratings per second, the processor time per
// rating of this process and of the PostgreSQL backends serving it, and the groups' size.
func BenchmarkSubmitEvaluationConcurrent(b *testing.B) {
	conc := 32
	if v, err := strconv.Atoi(os.Getenv("REDRESS_BENCH_CONC")); err == nil && v > 0 {
		conc = v
	}
	dialect := migrations.Postgres
	if os.Getenv("REDRESS_BENCH_DB") == "sqlite" {
		dialect = migrations.SQLite
	}
	db := storetest.Open(b, dialect)
	seedDemo(b, db)
	completed := time.Now().UTC().Add(-3 * time.Hour).Truncate(time.Microsecond)
	cases := seedRatable(b, db, "BENCH", "sz-ft-tax", b.N, completed)
	svc := &intake.Service{DB: db, PII: testBox(b)}
	if os.Getenv("REDRESS_BENCH_ONE") == "1" {
		intake.OneAtATime(svc)
	}
	scope := store.Scope{Subtrees: []string{"/"}}
	ratedAt := completed.Add(time.Hour)
	var next atomic.Int64
	var failed atomic.Int64
	pg0 := map[int]time.Duration{}
	if dialect == migrations.Postgres {
		// Warm the pool's connections, so that their backends are there to be measured.
		var warm sync.WaitGroup
		for range conc {
			warm.Add(1)
			go func() { defer warm.Done(); _ = db.Exec("SELECT pg_sleep(0.05)").Error }()
		}
		warm.Wait()
		pg0 = backendCPU(b, db)
	}
	self0 := selfCPU()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n := next.Add(1) - 1
				if n >= int64(b.N) {
					return
				}
				r := intake.EvaluationRequest{EvaluationID: fmt.Sprintf("bench-%d", n), CaseNos: []string{cases[n]}, Channel: "qr_code",
					Levels: map[string]string{"overall": models.Satisfied, "attitude": models.Satisfied}, Tags: []string{"bench"},
					RatedAt: &ratedAt, Evaluator: intake.Person{Name: "张三", Phone: fmt.Sprintf("139%08d", n)}}
				if _, _, err := svc.SubmitEvaluation(context.Background(), scope, r); err != nil {
					failed.Add(1)
					b.Log(err)
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ratings/s")
	self1 := selfCPU()
	b.ReportMetric((self1-self0).Seconds()*1000/float64(b.N), "go-cpu-s/1000")
	if dialect == migrations.Postgres {
		var pg time.Duration
		for pid, t := range backendCPU(b, db) {
			pg += t - pg0[pid]
		}
		b.ReportMetric(pg.Seconds()*1000/float64(b.N), "pg-cpu-s/1000")
	}
	groups, stored, largest := intake.GroupStats(svc)
	if groups > 0 {
		b.ReportMetric(float64(stored)/float64(groups), "ratings/group")
		b.ReportMetric(float64(largest), "largest-group")
	}
	b.ReportMetric(float64(int64(b.N)-stored), "not-grouped")
	if failed.Load() > 0 {
		b.Fatalf("%d ratings failed", failed.Load())
	}
}
