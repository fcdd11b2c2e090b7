package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"redress/intake"
	"redress/models"
	"redress/store"
)

// TopologyOptions size the production-topology scenario.
type TopologyOptions struct {
	// Orders is how many bad ratings are driven through the whole chain.
	Orders int
	// SignBudget is the sign deadline of the one order left unsigned (unit sz-ft-amr), so
	// that its reminder and breach fire after the disruptions.
	SignBudget time.Duration
	// DynamicConfig is the Temporal server's dynamic configuration file (see
	// TemporalPGOptions).
	DynamicConfig string
}

// TopologyResult is what the scenario saw, for the report and the test.
type TopologyResult struct {
	Orders          []string // driven through the chain, all closed at the end
	TimerOrder      string   // left unsigned: its sign deadline breaches after the restart
	TemporalRestart time.Time
	Statuses        map[string]int // of every action answer, "api0 200" etc.
	// Figures of the long form (bench topology): ratings per second taken by the two apis (one
	// client, alternating); bad rating → the unit's inbox (dispatched) for the batch's last
	// order and for the single timer order; whole orders per second from the first rating to
	// the last close, disruptions included.
	IntakeRate              float64
	BatchInbox, SingleInbox time.Duration
	OrdersPerSecond         float64
}

// topoAPIs is the scenario's two api processes; a killed one is restarted on the same address.
type topoAPIs struct {
	mu    sync.Mutex
	procs [2]*Proc
}

func (a *topoAPIs) base(i int) string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.procs[i%2].Base
}

// Topology runs the production shape of issue 19: PostgreSQL; a Temporal server of its own
// process on PostgreSQL; `redress migrate`; two `redress api` and two `redress worker`
// processes. Orders go through the whole chain (rating → dispatched → sign → callback →
// dispose → review → feedback → closed) with every request sent alternately to the two apis.
// Mid-flow one worker and one api are killed with SIGKILL while callbacks are in flight, and the
// Temporal server is restarted while dispositions are. Then nothing is lost or duplicated
// (Verify; timeline sequences 1…n without gaps or repeats, each stage once; one message per
// event and recipient, all delivered), every open order's timers are armed, and the unsigned
// order's short sign deadline still fires once — reminder and breach — after the restart.
func Topology(ctx context.Context, o Options, to TopologyOptions) (TopologyResult, error) {
	res := TopologyResult{Statuses: map[string]int{}}
	if to.Orders < 2 {
		to.Orders = 2
	}
	if to.SignBudget == 0 {
		to.SignBudget = 60 * time.Second
	}
	logDir := filepath.Join(o.Work, "logs")
	t0 := time.Now()
	tools, err := BuildTemporalTools(ctx, filepath.Join(o.Work, "bin"))
	if err != nil {
		return res, err
	}
	o.Report.Add("topology: temporal-server and temporal-sql-tool built in %s", time.Since(t0).Round(time.Second))
	admin := AdminURL()
	t0 = time.Now()
	ts, err := StartTemporalPG(ctx, TemporalPGOptions{Tools: tools, Admin: admin, Dir: o.Work, Prefix: "temporal_topo", DynamicConfig: to.DynamicConfig})
	if err != nil {
		return res, err
	}
	defer func() { ts.Stop(); ts.Drop() }()
	o.Report.Add("topology: Temporal on PostgreSQL (schemas set up, namespace served) in %s", time.Since(t0).Round(time.Second))
	pg, err := CreateDatabaseOn(ctx, admin, "redress_topo")
	if err != nil {
		return res, err
	}
	defer pg.Drop() //nolint:errcheck // best effort: a leftover database is named as the test's
	keys := NewKeys()
	var po [2]ProdOptions
	for i := range po {
		addr, err := FreeAddr()
		if err != nil {
			return res, err
		}
		po[i] = ProdOptions{Bin: o.Bin, DatabaseURL: pg.URL, TemporalAddr: ts.Addr, HTTPAddr: addr, LogDir: logDir, Keys: keys}
	}
	// api 1 holds both roles (`redress api --worker`): its workflow starts are eager, so the
	// first workflow task of every order rated through it runs in it (checked below).
	po[1].APIWorker = true
	if err := po[0].Migrate(ctx); err != nil {
		return res, err
	}
	if err := setSignBudget(ctx, pg.URL, "sz-ft-amr", to.SignBudget); err != nil {
		return res, err
	}
	apis := &topoAPIs{}
	var workers [2]*Proc
	defer func() {
		for i := range 2 {
			if p := apis.procs[i]; p != nil {
				p.Stop()
			}
			if workers[i] != nil {
				workers[i].Stop()
			}
		}
	}()
	for i := range 2 {
		if workers[i], err = po[i].StartWorker(ctx); err != nil {
			return res, err
		}
		if apis.procs[i], err = po[i].StartAPI(ctx); err != nil {
			return res, err
		}
	}
	cases, err := SeedCases(ctx, pg.URL, "TOPO", to.Orders, []string{"sz-ft-tax"})
	if err != nil {
		return res, err
	}
	timerCase, err := SeedCases(ctx, pg.URL, "TOPOT", 1, []string{"sz-ft-amr"})
	if err != nil {
		return res, err
	}
	tokens := map[string]string{}
	for _, login := range []string{"channel", "ft-officer", "sz-admin"} {
		if tokens[login], err = keys.Token(login); err != nil {
			return res, err
		}
	}

	// Intake, alternately through both apis.
	exp := NewExpect("topo-")
	c := Client()
	rate := func(i int, evalID, caseNo string) (string, error) {
		st, body, err := retryPost(ctx, c, apis, i, "/api/v1/evaluations", tokens["channel"], Rating(evalID, caseNo, true), "", time.Minute)
		if err != nil {
			return "", err
		}
		var r struct {
			WorkOrderID *string `json:"work_order_id"`
		}
		if (st != http.StatusCreated && st != http.StatusOK) || json.Unmarshal(body, &r) != nil || r.WorkOrderID == nil {
			return "", fmt.Errorf("rating %s = %d %s, want a work order", evalID, st, body)
		}
		exp.Accepted[evalID], exp.Bad[evalID] = true, true
		return *r.WorkOrderID, nil
	}
	intakeStart := time.Now()
	for i, cn := range cases {
		id, err := rate(i, fmt.Sprintf("topo-%d", i), cn)
		if err != nil {
			return res, err
		}
		res.Orders = append(res.Orders, id)
	}
	intakeEnd := time.Now()
	res.IntakeRate = float64(len(cases)) / intakeEnd.Sub(intakeStart).Seconds()
	if err := WaitDispatched(ctx, pg.URL, res.Orders, 2*time.Minute); err != nil {
		return res, err
	}
	res.BatchInbox = time.Since(intakeEnd)
	ran, err := checkEagerStarts(ctx, ts.Addr, keys, res.Orders, apis.procs[1].Pid())
	if err != nil {
		return res, err
	}
	o.Report.Add("topology: first workflow task of each order ran in %v (api 1, pid %d, holds both roles; workers %d and %d)", ran, apis.procs[1].Pid(), workers[0].Pid(), workers[1].Pid())

	var statusMu sync.Mutex
	// stage drives FullPath[s] on every order concurrently, order i through api (i+s)%2 first,
	// while disrupt runs.
	stage := func(s int, disrupt func() error) error {
		st := FullPath[s]
		errs := make([]error, len(res.Orders)+1)
		var wg sync.WaitGroup
		for i, id := range res.Orders {
			wg.Go(func() {
				key := id + "-" + st.Body["action"].(string)
				code, body, err := retryPost(ctx, c, apis, i+s, "/api/v1/work-orders/"+id+"/actions", tokens[st.Login], st.Body, key, 3*time.Minute)
				statusMu.Lock()
				res.Statuses[fmt.Sprint(code)]++
				statusMu.Unlock()
				var o struct {
					State string `json:"state"`
				}
				if err == nil && (code != http.StatusOK || json.Unmarshal(body, &o) != nil || o.State != st.Want) {
					err = fmt.Errorf("order %s %s = %d %s, want state %s", id, st.Body["action"], code, body, st.Want)
				}
				errs[i] = err
			})
		}
		if disrupt != nil {
			errs[len(res.Orders)] = disrupt()
		}
		wg.Wait()
		return errors.Join(errs...)
	}
	if err := stage(0, nil); err != nil {
		return res, fmt.Errorf("sign: %w", err)
	}
	// Callbacks in flight: kill -9 worker 0 and api 1.
	err = stage(1, func() error {
		time.Sleep(50 * time.Millisecond)
		workers[0].Kill()
		apis.procs[1].Kill()
		if !workers[0].KilledBySIGKILL() || !apis.procs[1].KilledBySIGKILL() {
			return fmt.Errorf("worker ended %v, api ended %v; want both killed by SIGKILL", workers[0].cmd.ProcessState, apis.procs[1].cmd.ProcessState)
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("callback with a worker and an api killed: %w", err)
	}
	o.Report.Add("topology: worker 0 and api 1 killed with SIGKILL while %d callbacks were in flight", len(res.Orders))
	// The order whose timers must outlive the restart: its sign clock starts now.
	single := time.Now()
	if res.TimerOrder, err = rate(1, "topo-timer", timerCase[0]); err != nil {
		return res, err
	}
	if err := WaitDispatched(ctx, pg.URL, []string{res.TimerOrder}, 2*time.Minute); err != nil {
		return res, err
	}
	res.SingleInbox = time.Since(single)
	// Dispositions in flight: Temporal restarted; the killed processes come back meanwhile.
	err = stage(2, func() error {
		time.Sleep(50 * time.Millisecond)
		res.TemporalRestart = time.Now()
		if err := ts.Restart(ctx); err != nil {
			return err
		}
		var err error
		if workers[0], err = po[0].StartWorker(ctx); err != nil {
			return err
		}
		p, err := po[1].StartAPI(ctx)
		if err != nil {
			return err
		}
		apis.mu.Lock()
		apis.procs[1] = p
		apis.mu.Unlock()
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("dispose with Temporal restarted: %w", err)
	}
	o.Report.Add("topology: Temporal server restarted while %d dispositions were in flight (down %s)", len(res.Orders), time.Since(res.TemporalRestart).Round(time.Millisecond))
	for s := 3; s < len(FullPath); s++ {
		if err := stage(s, nil); err != nil {
			return res, fmt.Errorf("%s: %w", FullPath[s].Body["action"], err)
		}
	}
	res.OrdersPerSecond = float64(len(res.Orders)) / time.Since(intakeStart).Seconds()
	o.Report.Add("topology figures: intake %.1f ratings/s (one client, alternating apis); bad rating → inbox: last of %d in %s after the batch, a single one in %s (worker killed before it, Temporal restart after it); %.2f whole orders/s from first rating to last close, a worker and an api killed and Temporal restarted on the way",
		res.IntakeRate, len(res.Orders), res.BatchInbox.Round(time.Millisecond), res.SingleInbox.Round(time.Millisecond), res.OrdersPerSecond)

	// The unsigned order's sign deadline: reminder and breach fire, once each, after all that.
	if err := waitTimeline(ctx, pg.URL, res.TimerOrder, []string{"reminder", "supervision"}, to.SignBudget+2*time.Minute); err != nil {
		return res, err
	}
	if err := Verify(ctx, pg.URL, ts.Addr, keys, exp, 2*time.Minute); err != nil {
		return res, err
	}
	if err := checkTopology(ctx, pg.URL, res); err != nil {
		return res, err
	}
	o.Report.Add("topology: %d orders closed through alternating apis, answers %v; evaluations, orders, workflows, timeline and messages each once; the unsigned order's timers armed and fired after the restart",
		len(res.Orders), res.Statuses)
	return res, nil
}

// checkEagerStarts checks that each order rated through api 1 (the odd ones: rate alternates,
// and nothing failed over yet), which holds both roles, was started eagerly: its first
// workflow task was recorded as started in the same write as the workflow's start (the task
// handed back in the start's answer) and ran in api 1 itself. A start that is not eager
// writes the task's start later, when a poller takes it through the server's matching. ran
// says, order by order, where the first task ran (the SDK's "pid@host@" identity of its
// process) and whether it was eager.
func checkEagerStarts(ctx context.Context, temporalAddr string, k Keys, orders []string, api1 int) (ran []string, err error) {
	c, err := dialTemporal(ctx, temporalAddr, k)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	mine := fmt.Sprintf("%d@", api1)
	var problems []string
	for i, id := range orders {
		it := c.GetWorkflowHistory(ctx, intake.WorkflowID(id), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		// The events up to the first task's start, with their task ids: the events of one
		// write take consecutive ids, and a write that schedules a task through the
		// transfer queue takes one for it after its events, so a task started later, by a
		// poller, takes a later, not the next, id.
		var ids []int64
		who := ""
		for who == "" && it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return nil, fmt.Errorf("history of order %s: %w", id, err)
			}
			ids = append(ids, ev.GetTaskId())
			if a := ev.GetWorkflowTaskStartedEventAttributes(); a != nil {
				who = a.GetIdentity()
			}
		}
		eager := who != ""
		for j := 1; j < len(ids); j++ {
			eager = eager && ids[j] == ids[j-1]+1
		}
		ran = append(ran, fmt.Sprintf("%s eager=%v", who, eager))
		// Rated through api 0 (no worker), an order cannot start eagerly; its first task may
		// run in any poller, api 1's worker among them.
		switch {
		case i%2 == 1 && (!eager || !strings.HasPrefix(who, mine)):
			problems = append(problems, fmt.Sprintf("order %s, rated through api 1 (pid %d, both roles): first workflow task ran in %q, eager %v; want eager, in api 1", id, api1, who, eager))
		case i%2 == 0 && eager:
			problems = append(problems, fmt.Sprintf("order %s, rated through api 0 (no worker): started eagerly in %q", id, who))
		}
	}
	if len(problems) > 0 {
		return ran, errors.New(strings.Join(problems, "; "))
	}
	return ran, nil
}

// retryPost posts to the api first tried as first (0 or 1) and, while the answer is lost or
// 5xx, again to the other one and so on until limit: a killed api refuses connections, a
// restarting engine answers 503. The same Idempotency-Key (actions) or evaluation id (ratings)
// makes every retry the same request.
func retryPost(ctx context.Context, c *http.Client, apis *topoAPIs, first int, path, token string, body any, key string, limit time.Duration) (int, []byte, error) {
	deadline := time.Now().Add(limit)
	var hdr []string
	if key != "" {
		hdr = []string{"Idempotency-Key", key}
	}
	for n := first; ; n++ {
		st, b, err := Do(ctx, c, "POST", apis.base(n)+path, token, body, hdr...)
		if err == nil && st < 500 {
			return st, b, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			if err == nil {
				err = fmt.Errorf("%s answered %d %s", path, st, b)
			}
			return st, b, fmt.Errorf("%s not answered within %s: %w", path, limit, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// setSignBudget gives unit code a policy whose sign deadline is d (reminder at 75 %).
func setSignBudget(ctx context.Context, databaseURL, code string, d time.Duration) error {
	db, err := store.Open(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // only read (or one insert already committed): a close error loses nothing
	var unit models.Unit
	if err := db.WithContext(ctx).Where("code = ?", code).Take(&unit).Error; err != nil {
		return fmt.Errorf("unit %s: %w", code, err)
	}
	s := d.String()
	doc := models.PolicyDoc{Deadlines: map[string]models.Budget{"sign": {Duration: &s}}, RemindBefore: "25%"}
	if err := db.WithContext(ctx).Create(&models.Policy{UnitID: unit.ID, Doc: models.NewJSON(doc)}).Error; err != nil {
		return fmt.Errorf("policy of %s: %w", code, err)
	}
	return nil
}

// waitTimeline waits until the order's timeline holds each of types.
func waitTimeline(ctx context.Context, databaseURL, id string, types []string, limit time.Duration) error {
	db, err := store.Open(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // only read (or one insert already committed): a close error loses nothing
	deadline := time.Now().Add(limit)
	for {
		var have []string
		if err := db.WithContext(ctx).Table("timeline_events").Where("work_order_id = ?", id).Distinct().Pluck("type", &have).Error; err != nil {
			return err
		}
		missing := []string{}
		for _, t := range types {
			if !slices.Contains(have, t) {
				missing = append(missing, t)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("order %s: no %v in its timeline within %s (has %v)", id, missing, limit, have)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// checkTopology checks the read-model after the scenario: every chained order closed; every
// order's timeline numbered 1…n without a gap or a repeat, each stage's event once (the timer
// order: one reminder, one level-1 supervision, and that after the restart); one outbox message
// per event and recipient, and none dead or left undelivered to the local inbox.
func checkTopology(ctx context.Context, databaseURL string, res TopologyResult) error {
	db, err := store.Open(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // only read (or one insert already committed): a close error loses nothing
	var problems []string
	all := append([]string{res.TimerOrder}, res.Orders...)
	type ev struct {
		WorkOrderID string
		Seq         int
		Type        string
		At          time.Time
		Data        string
	}
	var evs []ev
	if err := db.WithContext(ctx).Table("timeline_events").Where("work_order_id IN ?", all).Order("work_order_id, seq").Find(&evs).Error; err != nil {
		return err
	}
	byOrder := map[string][]ev{}
	for _, e := range evs {
		byOrder[e.WorkOrderID] = append(byOrder[e.WorkOrderID], e)
	}
	// Each of these is one action or one transition and may appear once per order.
	once := map[string]bool{}
	for _, id := range all {
		l := byOrder[id]
		if len(l) == 0 {
			problems = append(problems, fmt.Sprintf("order %s: empty timeline", id))
			continue
		}
		counts := map[string]int{}
		for k, e := range l {
			counts[e.Type]++
			if e.Seq != l[0].Seq+k {
				problems = append(problems, fmt.Sprintf("order %s: timeline seq %d after %d", id, e.Seq, l[max(k-1, 0)].Seq))
			}
		}
		for typ, n := range counts {
			if n > 1 && !repeatable[typ] {
				problems = append(problems, fmt.Sprintf("order %s: %d %s events", id, n, typ))
			}
			once[typ] = true
		}
		if id == res.TimerOrder {
			for _, e := range l {
				if e.Type == "supervision" && strings.Contains(e.Data, `"level":1`) && e.At.Before(res.TemporalRestart) {
					problems = append(problems, fmt.Sprintf("order %s: the sign breach fired at %s, before the Temporal restart at %s (raise SignBudget)", id, e.At, res.TemporalRestart))
				}
			}
			if counts["reminder"] != 1 {
				problems = append(problems, fmt.Sprintf("timer order %s: %d reminders, want 1", id, counts["reminder"]))
			}
		}
	}
	var states []struct {
		ID, State string
	}
	if err := db.WithContext(ctx).Table("work_orders").Select("id, state").Where("id IN ?", res.Orders).Scan(&states).Error; err != nil {
		return err
	}
	for _, s := range states {
		if s.State != models.StateClosed {
			problems = append(problems, fmt.Sprintf("order %s is %s, want closed", s.ID, s.State))
		}
	}
	var dups []struct {
		EventID, RecipientKind, UnitPath, Role, Channel string
		N                                               int
	}
	if err := db.WithContext(ctx).Raw(`SELECT event_id, recipient_kind, unit_path, role, channel, COUNT(*) AS n FROM notifications
		WHERE work_order_id IN ? GROUP BY event_id, recipient_kind, unit_path, role, channel HAVING COUNT(*) > 1`, all).Scan(&dups).Error; err != nil {
		return err
	}
	for _, d := range dups {
		problems = append(problems, fmt.Sprintf("message of event %s to %s %s %s %s queued %d times", d.EventID, d.RecipientKind, d.UnitPath, d.Role, d.Channel, d.N))
	}
	// Every message to staff reaches the local inbox once (the evaluator's SMS has no gateway
	// here and waits in the outbox, which is what a missing gateway should do).
	deadline := time.Now().Add(time.Minute)
	for {
		var left []string
		if err := db.WithContext(ctx).Raw(`SELECT n.id || ' ' || n.template || ' ' || n.status FROM notifications n LEFT JOIN notification_inbox i ON i.id = n.id
			WHERE n.work_order_id IN ? AND n.recipient_kind <> 'evaluator' AND (i.id IS NULL OR n.status <> 'sent')`, all).Scan(&left).Error; err != nil {
			return err
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			sort.Strings(left)
			problems = append(problems, fmt.Sprintf("%d staff messages not delivered within 1m: %v", len(left), left))
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	var dead int64
	if err := db.WithContext(ctx).Table("notifications").Where("work_order_id IN ? AND status = 'dead'", all).Count(&dead).Error; err != nil {
		return err
	}
	if dead > 0 {
		problems = append(problems, fmt.Sprintf("%d messages dead", dead))
	}
	if len(problems) > 0 {
		return errors.New(summarise(problems))
	}
	return nil
}

// repeatable are timeline event types that an order may legitimately hold more than once.
var repeatable = map[string]bool{"supervision": true, "note": true}
