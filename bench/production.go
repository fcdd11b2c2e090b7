package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"
)

// ProductionOptions size RunProduction.
type ProductionOptions struct {
	InboxRate     int           // bad ratings per second of the inbox measurement
	InboxFor      time.Duration // its length
	Orders        int           // whole orders driven through every stage
	Drivers       int           // concurrent drivers of those orders
	DynamicConfig string        // the Temporal server's dynamic configuration (TemporalPGOptions)
}

// RunProduction measures the figures of points 1–3 — single-form intake, bad rating → the
// unit's inbox, whole orders beside empty workflows — on the production topology: `redress
// api` and `redress worker` as separate processes, against a Temporal server of its own
// process on PostgreSQL, the application's database on the same PostgreSQL. They stand beside
// the `redress dev` figures of the same run. The api process runs no worker, so its workflow
// starts cannot be eager (the server hands the first task back only to a starter that runs
// the worker): the first workflow task goes through the server's matching to the worker's
// long poll instead, which the inbox figure shows. The inbox is then measured again with the
// api process holding both roles (`redress api --worker`), which makes the starts eager again;
// the whole orders after it run on that topology.
func RunProduction(ctx context.Context, o Options, po ProductionOptions) error {
	r := o.Report
	t0 := time.Now()
	tools, err := BuildTemporalTools(ctx, filepath.Join(o.Work, "bin"))
	if err != nil {
		return err
	}
	admin := AdminURL()
	ts, err := StartTemporalPG(ctx, TemporalPGOptions{Tools: tools, Admin: admin, Dir: o.Work, Prefix: "temporal_prod", DynamicConfig: po.DynamicConfig})
	if err != nil {
		return err
	}
	defer func() { ts.Stop(); ts.Drop() }()
	pg, err := CreateDatabaseOn(ctx, admin, "redress_prod")
	if err != nil {
		return err
	}
	defer pg.Drop() //nolint:errcheck // best effort: a leftover database is named for the run
	addr, err := FreeAddr()
	if err != nil {
		return err
	}
	keys := NewKeys()
	p := ProdOptions{Bin: o.Bin, DatabaseURL: pg.URL, TemporalAddr: ts.Addr, HTTPAddr: addr, LogDir: filepath.Join(o.Work, "logs"), Keys: keys}
	if err := p.Migrate(ctx); err != nil {
		return err
	}
	worker, err := p.StartWorker(ctx)
	if err != nil {
		return err
	}
	defer worker.Stop()
	api, err := p.StartAPI(ctx)
	if err != nil {
		return err
	}
	defer api.Stop()
	tokens := map[string]string{}
	for _, l := range []string{"channel", "ft-officer", "sz-admin", "sz-supervisor", "ft-leader"} {
		if tokens[l], err = keys.Token(l); err != nil {
			return err
		}
	}
	r.Note("production: Temporal on PostgreSQL, redress migrate, one api and one worker process up in %s", time.Since(t0).Round(time.Second))

	per := int(5000*o.Duration.Seconds()) + 5000
	cases, err := SeedCases(ctx, pg.URL, "PC", per+10000, nil)
	if err != nil {
		return err
	}
	IntakeLoad{Base: api.Base, Token: tokens["channel"], Prefix: "pwarm", Cases: cases[per:], Conc: o.Conc, Duration: 2 * time.Second}.Run(ctx)
	cpu0 := ReadCPU()
	res := IntakeLoad{Base: api.Base, Token: tokens["channel"], Prefix: "pld", Cases: cases[:per], BadEvery: 5000, Conc: o.Conc, Duration: o.Duration}.Run(ctx)
	r.Add("production intake bad 0.02 %% POST /evaluations conc %d (redress api + worker, Temporal on PostgreSQL): %d accepted in %.1fs = %.0f ratings/s, p50 %s, p99 %s, failed %d %v; %s",
		o.Conc, res.OK, res.Elapsed.Seconds(), res.Rate(), ms(Percentile(res.Latencies, 50)), ms(Percentile(res.Latencies, 99)), res.Failed, nonOK(res.Statuses),
		ReadCPU().Since(cpu0, api.Pid()).PerThousand(res.OK))

	// inbox measures bad rating → the unit's inbox on the api as it runs now, on cases of
	// its own (prefix) after a short warm-up.
	inbox := func(prefix, topology string) error {
		cases, err := SeedCases(ctx, pg.URL, prefix, po.InboxRate*int(po.InboxFor.Seconds())+500, []string{"sz-ft-tax"})
		if err != nil {
			return err
		}
		if _, _, _, err := InboxLatency(ctx, api.Base, tokens["channel"], pg.URL, "pwarm-"+prefix, cases[:200], 10, 2*time.Second); err != nil {
			return err
		}
		lat, missing, answered, err := InboxLatency(ctx, api.Base, tokens["channel"], pg.URL, "pinbox-"+prefix, cases[200:], po.InboxRate, po.InboxFor)
		if err != nil {
			return err
		}
		r.Add("production inbox%s %d bad ratings/s for %s: %d orders, POST → in the unit's inbox p50 %s, p99 %s, max %s; missing %d; of which the POST's answer p50 %s, p99 %s",
			topology, po.InboxRate, po.InboxFor, len(lat), ms(Percentile(lat, 50)), ms(Percentile(lat, 99)), ms(Percentile(lat, 100)), missing,
			ms(Percentile(answered, 50)), ms(Percentile(answered, 99)))
		return nil
	}
	if err := inbox("PI", ""); err != nil {
		return err
	}
	// What replaces eager start there: the api process with both roles (`redress api
	// --worker`), beside the worker process, measured the same way.
	api.Stop()
	p.APIWorker = true
	if api, err = p.StartAPI(ctx); err != nil {
		return err
	}
	defer api.Stop()
	if err := inbox("PB", ", api with both roles (redress api --worker, beside the worker):"); err != nil {
		return err
	}

	wfCases, err := SeedCases(ctx, pg.URL, "PW", po.Orders, []string{"sz-ft-tax"})
	if err != nil {
		return err
	}
	c := Client()
	var ids []string
	for i, cs := range wfCases {
		st, body, err := Do(ctx, c, "POST", api.Base+"/api/v1/evaluations", tokens["channel"], Rating(fmt.Sprintf("pwf-%d", i), cs, true))
		var out struct {
			WorkOrderID *string `json:"work_order_id"`
		}
		if err != nil || st != 201 || json.Unmarshal(body, &out) != nil || out.WorkOrderID == nil {
			return fmt.Errorf("production workflow bench: rating %d = %d %s %v", i, st, body, err)
		}
		ids = append(ids, *out.WorkOrderID)
	}
	if err := WaitDispatched(ctx, pg.URL, ids, 2*time.Minute); err != nil {
		return err
	}
	wf, err := WorkflowThroughput(ctx, api.Base, tokens, ts.Addr, ids, po.Drivers, po.Orders*5)
	if err != nil {
		return err
	}
	r.Add("production workflow: %d whole orders (5 actions each) with %d drivers = %.1f orders/s (%.1f actions/s, action p50 %s p99 %s); empty workflow on the same server %.1f/s; ratio %.3f; the order's shape with no work %.1f/s, ratio %.2f",
		wf.Orders, po.Drivers, wf.OrdersRate, wf.OrdersRate*5, ms(wf.StageLatP50), ms(wf.StageLatP99), wf.EmptyRate, wf.Ratio, wf.ShapedRate, wf.ShapedRatio)
	return nil
}
