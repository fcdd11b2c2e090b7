// Command redress is the one binary of the system: `redress dev` runs everything in one
// process (embedded Temporal, embedded SQLite, worker, API and web UI); `redress api`,
// `redress worker` and `redress migrate` are the production processes; `import`, `token` and
// `calendar import` are the administrator's tools.
package main

import (
	"fmt"
	"os"
	"runtime/debug"
)

// gcPercent is the garbage collector's target when GOGC is not set: the heap may grow to three
// times what is live instead of twice. Under the single rating form the collector took 20 % of
// the process's CPU at Go's default of 100 and 8–10 % at 200, for a peak resident size still far
// under the 1 GB the process may use (BENCHMARKS.md, point 9, fourth sitting). GOGC set in the
// environment (GOGC=100, GOGC=off) wins, as Go documents it.
const gcPercent = 200

// tuneGC sets gcPercent unless GOGC is set.
func tuneGC() {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(gcPercent)
	}
}

func main() {
	tuneGC()
	if err := rootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "redress:", err)
		os.Exit(1)
	}
}
