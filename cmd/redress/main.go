// Command redress is the one binary of the system: `redress dev` runs everything in one
// process (embedded Temporal, embedded SQLite, worker, API and web UI); `redress api`,
// `redress worker` and `redress migrate` are the production processes; `import`, `token` and
// `calendar import` are the administrator's tools.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := rootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "redress:", err)
		os.Exit(1)
	}
}
