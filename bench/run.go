package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// Options configure a harness run.
type Options struct {
	Bin      string        // the redress binary to run as the system under test
	Work     string        // scratch directory
	Duration time.Duration // of each intake measurement
	Conc     int           // concurrent clients of the intake measurements
	Report   *Report
	PGBin    string // PostgreSQL server binaries (initdb, pg_ctl) for the private cluster; "": the newest installed
	Vegeta   string // the vegeta binary confirming the intake figures; "": on PATH, else built (VegetaModule)
	// CheckpointFirst: on PostgreSQL, every measured turn of the intake point (each form's,
	// vegeta's, each floor's) and the inbox point's run start right after a checkpoint
	// (Checkpoint).
	CheckpointFirst bool
}

// System is one running system under test: `redress dev` on SQLite or on a PostgreSQL
// database the harness created.
type System struct {
	Dialect string
	Dev     DevOptions
	Proc    *Proc
	PG      *PGDatabase
	DBURL   string // of the database the system uses
	Tokens  map[string]string
}

// StartSystem starts `redress dev` on dialect "sqlite" or "postgres".
func StartSystem(ctx context.Context, o Options, dialect string) (*System, error) {
	return startSystem(ctx, o, dialect, func(*DevOptions) {})
}

// startSystem is StartSystem with the dev process's options adjusted by tune before it starts.
func startSystem(ctx context.Context, o Options, dialect string, tune func(*DevOptions)) (*System, error) {
	dir, err := os.MkdirTemp(o.Work, dialect+"-")
	if err != nil {
		return nil, err
	}
	s := &System{Dialect: dialect}
	if dialect == "postgres" {
		if s.PG, err = CreateDatabase(ctx, "redress_bench"); err != nil {
			return nil, err
		}
		s.DBURL = s.PG.URL
	}
	if s.Dev, err = NewDevOptions(o.Bin, dir, s.DBURL); err != nil {
		return nil, err
	}
	if dialect == "sqlite" {
		s.DBURL = "sqlite:" + filepath.Join(s.Dev.Data, "redress.db")
	}
	tune(&s.Dev)
	if s.Proc, err = StartDev(ctx, s.Dev); err != nil {
		s.Close()
		return nil, err
	}
	s.Tokens = map[string]string{}
	for _, l := range []string{"channel", "ft-officer", "sz-admin", "sz-supervisor", "ft-leader"} {
		if s.Tokens[l], err = s.Dev.Keys.Token(l); err != nil {
			s.Close()
			return nil, err
		}
	}
	return s, nil
}

// Base is the system's API base URL.
func (s *System) Base() string { return s.Proc.Base }

// TemporalAddr is the embedded Temporal frontend.
func (s *System) TemporalAddr() string {
	return net.JoinHostPort("127.0.0.1", fmt.Sprint(s.Dev.TemporalPort))
}

// Close stops the process and drops the database.
func (s *System) Close() {
	if s.Proc != nil {
		s.Proc.Stop()
	}
	if s.PG != nil {
		_ = s.PG.Drop()
	}
}

// RunIntake measures point 1: intake throughput and latency, of POST /evaluations and of its
// bulk form, on PostgreSQL and SQLite (or the dialects given) at 0.02 % and 5 % bad, side by
// side with the floors of the same machine in the same run: on PostgreSQL, pgbench's
// single-row autocommit INSERTs of rows of the same width (8 and 32 clients) for the single
// form, and a COPY of the very rows stored for both forms. The single and bulk figures at
// 0.02 % bad are measured a second time by vegeta, a load generator this project did not write.
func RunIntake(ctx context.Context, o Options, dialects ...string) error {
	r := o.Report
	if len(dialects) == 0 {
		dialects = []string{"postgres", "sqlite"}
	}
	vegeta, err := VegetaPath(ctx, o.Vegeta, o.Work)
	if err != nil {
		return err
	}
	pgbench, err := PgbenchPath(o.PGBin)
	if err != nil && slices.Contains(dialects, "postgres") {
		return err
	}
	// caughtUp starts a measured turn of the system with the upstream feed caught up with
	// every earlier one.
	caughtUp := func(sys *System) func() string {
		if err := WaitFeedCaughtUp(ctx, sys.DBURL, time.Now(), time.Minute); err != nil {
			r.Note("%s: measured with the feed behind: %v", sys.Dialect, err)
		}
		return startTurn(ctx, o, sys)
	}
	// confirm measures the same form again with vegeta (bodies rated by ids prefix-n), counting
	// the ratings stored from the database, and reports it beside the harness's rate. The two
	// tools take turns A B B A — the harness's run (harnessRate) already done, vegeta twice,
	// the harness again (again) — so that what drifts through the sitting (tables growing,
	// the unvacuumed rows of the earlier runs) weighs on both alike: run once each, the second
	// tool always met tables 100 000 rows larger, and the bulk form's two figures differed by
	// a quarter (BENCHMARKS.md, point 9).
	confirm := func(sys *System, path, prefix string, bodies func(prefix string) [][]byte, workers int, what string, harnessRate float64, again func() (float64, error)) error {
		var vegetaRates [2]float64
		for i := range vegetaRates {
			p := fmt.Sprintf("%s%d", prefix, i+1)
			body := bodies(p)
			ended := caughtUp(sys)
			// The CPU of the attack (vegeta's process is in "other"), to set beside the
			// harness's: two load generators on the two cores the system uses.
			cpu0 := ReadCPU()
			v, err := VegetaAttack(ctx, vegeta, o.Work, sys.Base()+path, sys.Tokens["channel"], body, workers, o.Duration)
			if err != nil {
				return err
			}
			cpu, checkpoints := ReadCPU().Since(cpu0, sys.Proc.Pid()), ended()
			stored, err := StoredRatings(ctx, sys.DBURL, p)
			if err != nil {
				return err
			}
			vegetaRates[i] = v.Rate(stored)
			r.Add("intake %-8s %s, run %d of 2: %d stored in %.1fs = %.0f ratings/s, request p50 %s, p99 %s, answers %v; %s (vegeta in other, reading its targets included)%s",
				sys.Dialect, what, i+1, stored, (v.Duration + v.Wait).Seconds(), vegetaRates[i], ms(v.Lat.P50), ms(v.Lat.P99), v.Statuses, cpu.PerThousand(stored), checkpoints)
		}
		ended := caughtUp(sys)
		second, err := again()
		if err != nil {
			return err
		}
		r.Add("intake %-8s %s: harness %.0f then %.0f ratings/s, vegeta %.0f then %.0f (turns A B B A); harness/vegeta %.2f (the harness's second turn%s)",
			sys.Dialect, what, harnessRate, second, vegetaRates[0], vegetaRates[1], (harnessRate+second)/(vegetaRates[0]+vegetaRates[1]), ended())
		return nil
	}
	for _, dialect := range dialects {
		sys, err := StartSystem(ctx, o, dialect)
		if err != nil {
			return err
		}
		err = func() error {
			defer sys.Close()
			// Every rating rates its own case: enough for 5 000 ratings/s per single-form run
			// (8 000 for the one with four times the clients) …
			per := int(5000*o.Duration.Seconds()) + 5000
			widePer := int(8000*o.Duration.Seconds()) + 5000
			// … and for 12 000 ratings/s in the bulk form.
			bulkPer := int(12000 * o.Duration.Seconds())
			t0 := time.Now()
			// Each form: the harness's runs at both shares of bad ratings, vegeta's two and the
			// harness's second (confirm); the single form's also at four times the clients.
			cases, err := SeedCases(ctx, sys.DBURL, "BC", 5*per+widePer+5*bulkPer+10000, nil)
			if err != nil {
				return err
			}
			r.Note("%s: %d service cases seeded in %s", dialect, len(cases), time.Since(t0).Round(time.Millisecond))
			take := func(n int) []string {
				out := cases[:n]
				cases = cases[n:]
				return out
			}
			idle, err := ReadMemory(sys.Proc.Pid())
			if err != nil {
				return err
			}
			// Warm up connections, caches and the lazy parts (policy cache, prepared statements).
			IntakeLoad{Base: sys.Base(), Token: sys.Tokens["channel"], Prefix: "warm", Cases: take(10000), Conc: o.Conc, Duration: 2 * time.Second}.Run(ctx)
			var singleRate, bulkRate, bestFloor float64
			for _, bad := range []struct {
				every int
				label string
			}{{5000, "0.02 %"}, {20, "5 %"}} {
				ended := caughtUp(sys)
				since, cpu0 := time.Now(), ReadCPU()
				res := IntakeLoad{Base: sys.Base(), Token: sys.Tokens["channel"], Prefix: fmt.Sprintf("ld%d", bad.every), Cases: take(per),
					BadEvery: bad.every, Conc: o.Conc, Duration: o.Duration}.Run(ctx)
				until, cpu := time.Now(), ReadCPU().Since(cpu0, sys.Proc.Pid())
				line := singleFormLine(dialect, bad.label, o.Conc, res, cpu) + ended()
				if dialect == "postgres" && len(res.Accepted) > 0 {
					ended := startTurn(ctx, o, sys)
					ceil, err := CopyCeiling(ctx, sys.DBURL, res.Accepted, "/api/v1/evaluations", since, until)
					if err != nil {
						return err
					}
					line += fmt.Sprintf("; COPY ceiling (the same rows) %.0f ratings/s; ratio %.2f (COPY's turn%s)", ceil, res.Rate()/ceil, ended())
				}
				r.Add("%s", line)
				if bad.every != 5000 {
					continue
				}
				singleRate = res.Rate()
				if dialect == "postgres" && len(res.Accepted) > 0 {
					// The floor of the single form: the database alone, one row a transaction.
					for _, clients := range []int{8, 32} {
						ended := startTurn(ctx, o, sys)
						floor, err := InsertFloor(ctx, pgbench, sys.DBURL, res.Accepted[0], clients, o.Duration)
						if err != nil {
							return err
						}
						r.Add("intake %-8s floor: pgbench, single-row autocommit INSERTs of an evaluation row into a copy of evaluations, %d clients -j 2, prepared: %.0f rows/s; ratio of POST /evaluations %.2f (load %s)%s",
							dialect, clients, floor, singleRate/floor, Load(), ended())
						bestFloor = max(bestFloor, floor)
					}
				}
				single := func(prefix string) [][]byte { return RatingBodies(prefix, take(per), bad.every) }
				again := func() (float64, error) {
					res := IntakeLoad{Base: sys.Base(), Token: sys.Tokens["channel"], Prefix: "ld2", Cases: take(per),
						BadEvery: bad.every, Conc: o.Conc, Duration: o.Duration}.Run(ctx)
					return res.Rate(), nil
				}
				if err := confirm(sys, "/api/v1/evaluations", "vg", single, o.Conc,
					fmt.Sprintf("bad %-6s POST /evaluations, confirmed by vegeta (%d workers, -rate=0)", bad.label, o.Conc), singleRate, again); err != nil {
					return err
				}
			}
			// The bulk form of ratings: 500 a request, 4 clients.
			for _, bad := range []struct {
				every int
				label string
			}{{5000, "0.02 %"}, {20, "5 %"}} {
				ended := caughtUp(sys)
				since, cpu0 := time.Now(), ReadCPU()
				res, err := BulkRatings(ctx, sys.Base(), sys.Tokens["channel"], fmt.Sprintf("bk%d", bad.every), take(bulkPer), bad.every, 500, 4, o.Duration)
				if err != nil {
					return err
				}
				line := fmt.Sprintf("intake %-8s bad %-6s POST /evaluations/bulk (500 a request, 4 clients): %d accepted in %.1fs = %.0f ratings/s, request p50 %s, p99 %s; %s",
					dialect, bad.label, res.OK, res.Elapsed.Seconds(), res.Rate(), ms(Percentile(res.Latencies, 50)), ms(Percentile(res.Latencies, 99)),
					ReadCPU().Since(cpu0, sys.Proc.Pid()).PerThousand(res.OK)) + ended()
				if dialect == "postgres" {
					until := time.Now()
					ended := startTurn(ctx, o, sys)
					ceil, err := CopyCeiling(ctx, sys.DBURL, res.Accepted, "/api/v1/evaluations/bulk", since, until)
					if err != nil {
						return err
					}
					line += fmt.Sprintf("; COPY ceiling (the same rows) %.0f ratings/s; ratio %.2f (COPY's turn%s)", ceil, res.Rate()/ceil, ended())
				}
				r.Add("%s", line)
				if bad.every != 5000 {
					continue
				}
				bulkRate = res.Rate()
				bulk := func(prefix string) [][]byte { return BulkBodies(prefix, take(bulkPer), bad.every, 500) }
				again := func() (float64, error) {
					res, err := BulkRatings(ctx, sys.Base(), sys.Tokens["channel"], "bk2", take(bulkPer), bad.every, 500, 4, o.Duration)
					return res.Rate(), err
				}
				if err := confirm(sys, "/api/v1/evaluations/bulk", "vb", bulk, 4,
					fmt.Sprintf("bad %-6s POST /evaluations/bulk, confirmed by vegeta (4 workers, 500 a request, -rate=0)", bad.label), bulkRate, again); err != nil {
					return err
				}
			}
			// The single form with four times the clients, after the other forms so that they
			// meet the tables as before it was added. The group commit stores together
			// what arrives while a group is read and written, so its groups, and its rate,
			// grow with the requests under way (a province's channels and terminals are
			// hundreds); pgbench's single-row transactions do not (its floor is the same at
			// 8 and 32 clients).
			ended := caughtUp(sys)
			cpu0 := ReadCPU()
			wide := IntakeLoad{Base: sys.Base(), Token: sys.Tokens["channel"], Prefix: "ldw", Cases: take(widePer),
				BadEvery: 5000, Conc: 4 * o.Conc, Duration: o.Duration}.Run(ctx)
			line := singleFormLine(dialect, "0.02 %", 4*o.Conc, wide, ReadCPU().Since(cpu0, sys.Proc.Pid())) + ended()
			if bestFloor > 0 {
				line += fmt.Sprintf("; ratio to the better pgbench floor %.2f", wide.Rate()/bestFloor)
			}
			r.Add("%s", line)
			// The bulk form of service cases: 500 a request.
			rate, lat, err := BulkCases(ctx, sys.Base(), sys.Tokens["channel"], "BK", 500, 4, o.Duration)
			if err != nil {
				return err
			}
			r.Add("intake %-8s POST /service-cases/bulk (500 cases a request, 4 clients): %.0f cases/s, request p50 %s, p99 %s",
				dialect, rate, ms(Percentile(lat, 50)), ms(Percentile(lat, 99)))
			peak, err := ReadMemory(sys.Proc.Pid())
			if err != nil {
				return err
			}
			r.Add("intake %-8s redress dev resident memory: %s before the load (up, cases seeded), peak %s through every form above (VmHWM; target < 1 GB)",
				dialect, MB(idle.Resident), MB(peak.Peak))
			return nil
		}()
		if err != nil {
			return fmt.Errorf("intake on %s: %w", dialect, err)
		}
	}
	return nil
}

// singleFormLine is the intake point's line for a run of the single form with conc clients.
func singleFormLine(dialect, bad string, conc int, res LoadResult, cpu CPU) string {
	return fmt.Sprintf("intake %-8s bad %-6s POST /evaluations conc %d: %d accepted in %.1fs = %.0f ratings/s, p50 %s, p99 %s, failed %d %v; %s",
		dialect, bad, conc, res.OK, res.Elapsed.Seconds(), res.Rate(), ms(Percentile(res.Latencies, 50)), ms(Percentile(res.Latencies, 99)), res.Failed, nonOK(res.Statuses),
		cpu.PerThousand(res.OK))
}

func nonOK(m map[int]int64) map[int]int64 {
	out := map[int]int64{}
	for k, v := range m {
		if k < 200 || k >= 300 {
			out[k] = v
		}
	}
	return out
}

// startTurn starts a measured turn (a form's, vegeta's or a floor's of the intake point, the
// inbox point's run) once the orders earlier turns opened have run their first stage
// (WaitOrdersSettled), on PostgreSQL right after a checkpoint when o.CheckpointFirst. What it
// returns gives the end of the turn's line: the checkpoints that began during the turn, which
// tell a turn that met one.
func startTurn(ctx context.Context, o Options, sys *System) func() string {
	r := o.Report
	if err := WaitOrdersSettled(ctx, sys.DBURL, 2*time.Second, 2*time.Minute); err != nil {
		r.Note("%s: measured with the engine behind: %v", sys.Dialect, err)
	}
	none := func() string { return "" }
	if sys.Dialect != "postgres" {
		return none
	}
	if o.CheckpointFirst {
		if err := Checkpoint(ctx, sys.DBURL); err != nil {
			r.Note("%s: a turn started without a checkpoint first: %v", sys.Dialect, err)
		}
	}
	c0, err := ReadCheckpoints(ctx, sys.DBURL)
	if err != nil {
		r.Note("%s: %v", sys.Dialect, err)
		return none
	}
	return func() string {
		c, err := ReadCheckpoints(ctx, sys.DBURL)
		if err != nil {
			return "; " + err.Error()
		}
		return "; " + c.Since(c0).String()
	}
}

// RunInbox measures point 2: bad rating to the unit's inbox at rate bad ratings per second.
// Beside the end-to-end figures it reports, from the system's own /metrics, the engine's and
// the worker's stages over the measured run (workflow task queue wait and execution, each
// local activity), so a slow run shows where its time went.
func RunInbox(ctx context.Context, o Options, rate int, d time.Duration, dialects ...string) error {
	if len(dialects) == 0 {
		dialects = []string{"postgres", "sqlite"}
	}
	for _, dialect := range dialects {
		sys, err := StartSystem(ctx, o, dialect)
		if err != nil {
			return err
		}
		err = func() error {
			defer sys.Close()
			cases, err := SeedCases(ctx, sys.DBURL, "IC", 5000, nil)
			if err != nil {
				return err
			}
			// Warm up: a few orders through the engine first.
			if _, _, _, err := InboxLatency(ctx, sys.Base(), sys.Tokens["channel"], sys.DBURL, "warm", cases[4000:], 10, 2*time.Second); err != nil {
				return err
			}
			ended := startTurn(ctx, o, sys)
			before, err := ScrapeHistograms(ctx, sys.Base(), stagePrefixes...)
			if err != nil {
				return err
			}
			lat, missing, answered, err := InboxLatency(ctx, sys.Base(), sys.Tokens["channel"], sys.DBURL, "inbox", cases, rate, d)
			if err != nil {
				return err
			}
			checkpoints := ended()
			after, err := ScrapeHistograms(ctx, sys.Base(), stagePrefixes...)
			if err != nil {
				return err
			}
			o.Report.Add("inbox %-8s %d bad ratings/s for %s: %d orders, POST → in the unit's inbox p50 %s, p99 %s, max %s; missing %d; of which the POST's answer p50 %s, p99 %s, max %s%s",
				dialect, rate, d, len(lat), ms(Percentile(lat, 50)), ms(Percentile(lat, 99)), ms(Percentile(lat, 100)), missing,
				ms(Percentile(answered, 50)), ms(Percentile(answered, 99)), ms(Percentile(answered, 100)), checkpoints)
			for _, l := range after.Since(before, 10).Lines() {
				o.Report.Add("inbox %-8s   stage %s", dialect, l)
			}
			return nil
		}()
		if err != nil {
			return fmt.Errorf("inbox on %s: %w", dialect, err)
		}
	}
	return nil
}

// stagePrefixes are the histograms RunInbox reports stage by stage: the SDK's workflow task
// and local activity latencies and the API's own request durations.
var stagePrefixes = []string{"temporal_workflow_task", "temporal_local_activity", "temporal_workflow_endtoend", "redress_http_request_duration"}

// orderStagePrefixes are the stages RunWorkflow reports of whole orders: beside the inbox's,
// the regular activities (scheduled through the server) and the update requests.
var orderStagePrefixes = append([]string{"temporal_activity", "temporal_request_latency"}, stagePrefixes...)

// RunWorkflow measures point 3 on `redress dev` (embedded Temporal): n whole orders through
// every stage with conc drivers, next to n×5 empty workflows on the same server.
func RunWorkflow(ctx context.Context, o Options, n, conc int) error {
	sys, err := StartSystem(ctx, o, "sqlite")
	if err != nil {
		return err
	}
	defer sys.Close()
	cases, err := SeedCases(ctx, sys.DBURL, "WC", n, []string{"sz-ft-tax"})
	if err != nil {
		return err
	}
	c := Client()
	var ids []string
	for i, cs := range cases {
		st, body, err := Do(ctx, c, "POST", sys.Base()+"/api/v1/evaluations", sys.Tokens["channel"], Rating(fmt.Sprintf("wf-%d", i), cs, true))
		var res struct {
			WorkOrderID *string `json:"work_order_id"`
		}
		if err != nil || st != 201 || json.Unmarshal(body, &res) != nil || res.WorkOrderID == nil {
			return fmt.Errorf("workflow bench: rating %d = %d %s %v", i, st, body, err)
		}
		ids = append(ids, *res.WorkOrderID)
	}
	if err := WaitDispatched(ctx, sys.DBURL, ids, time.Minute); err != nil {
		return err
	}
	before, err := ScrapeHistograms(ctx, sys.Base(), orderStagePrefixes...)
	if err != nil {
		return err
	}
	res, err := WorkflowThroughput(ctx, sys.Base(), sys.Tokens, sys.TemporalAddr(), ids, conc, n*5)
	if err != nil {
		return err
	}
	after, err := ScrapeHistograms(ctx, sys.Base(), orderStagePrefixes...)
	if err != nil {
		return err
	}
	o.Report.Add("workflow: %d whole orders (5 actions each) with %d drivers = %.1f orders/s (%.1f actions/s, action p50 %s p99 %s); empty workflow on the same server %.1f/s; ratio %.3f (orders) / %.2f (actions); the order's shape with no work (5 no-op updates) %.1f/s, ratio %.2f",
		res.Orders, conc, res.OrdersRate, res.OrdersRate*5, ms(res.StageLatP50), ms(res.StageLatP99), res.EmptyRate, res.Ratio, res.Ratio*5, res.ShapedRate, res.ShapedRatio)
	// Where the orders' time went: the system's own histograms over the orders' run (the
	// empty workflows run in the harness, not in it), each stage with its total seconds.
	for _, l := range after.Since(before, 1).Lines() {
		o.Report.Add("workflow   stage %s", l)
	}
	return nil
}
