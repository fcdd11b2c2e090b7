// Command redress-bench is the benchmark and reliability harness of redress (package bench,
// BENCHMARKS.md): it drives a redress binary given to it (--redress; default the redress next
// to this executable, else on PATH) as the system under test — `redress dev`, or `redress
// api` + `redress worker` against PostgreSQL — and prints the figures BENCHMARKS.md reports.
// It is a command of its own so that the product's binaries carry none of it.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := rootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "redress-bench:", err)
		os.Exit(1)
	}
}
