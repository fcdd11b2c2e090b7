//go:build unix

package bench

import (
	"testing"
	"time"
)

// TestProductionTopology is the short form of issue 19's production-topology test: PostgreSQL;
// a Temporal server of its own process on PostgreSQL (built from the pinned module, schemas by
// its temporal-sql-tool); `redress migrate`; two `redress api` and two `redress worker`
// processes; orders driven through the whole chain alternately through both apis; one worker
// and one api killed with SIGKILL mid-flow and the Temporal server restarted; then nothing
// lost, nothing duplicated, every timer armed, and a short sign deadline firing after it all.
// It fails, never skips, where PostgreSQL is required (CI) and missing; the Temporal binaries
// are built here, so nothing else can be missing.
func TestProductionTopology(t *testing.T) {
	o := options(t)
	o.Bin = prodBin // the production build, as the Dockerfile makes it
	requirePostgres(t)
	t.Parallel()
	to := TopologyOptions{Orders: 4, DynamicConfig: "../deploy/temporal/dynamicconfig/docker.yaml"}
	if long() {
		to.Orders = 40
	}
	res, err := Topology(testContext(t, 15*time.Minute), o, to)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Orders) != to.Orders || res.TimerOrder == "" {
		t.Fatalf("scenario drove %d orders (+ timer order %q), want %d", len(res.Orders), res.TimerOrder, to.Orders)
	}
}
