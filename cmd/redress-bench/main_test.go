//go:build unix

package main

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// The harness keeps the sub-commands and flags of `redress bench` as it was inside redress
// (issue 20 moved it out), and adds --redress and --pg-bin; issue 22 added --vegeta (the outside
// load generator) and the production topology's figures.
func TestCommandsAndFlags(t *testing.T) {
	want := map[string]string{
		"":            "checkpoint-first conc duration keep pg-bin redress vegeta work",
		"all":         "long skip-production skip-reliability skip-scale",
		"intake":      "db",
		"inbox":       "db for rate",
		"workflow":    "drivers orders",
		"production":  "drivers for orders rate",
		"scale":       "database-url keep-database orders ratings rollup-limit",
		"reliability": "long",
		"topology":    "orders",
		"fuzz":        "count",
		"profile":     "bad-every cases db out",
		"redteam":     "orders",
		"marker":      "orders starters workflows",
	}
	flags := func(fs *pflag.FlagSet) string {
		var names []string
		fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
		sort.Strings(names)
		return strings.Join(names, " ")
	}
	root := rootCmd()
	got := map[string]string{"": flags(root.PersistentFlags())}
	for _, c := range root.Commands() {
		got[c.Name()] = flags(c.LocalNonPersistentFlags())
	}
	for name, w := range want {
		if g, ok := got[name]; !ok {
			t.Errorf("no sub-command %q", name)
		} else if g != w {
			t.Errorf("%q flags: %q, want %q", name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok && name != "help" && name != "completion" {
			t.Errorf("unexpected sub-command %q", name)
		}
	}
}

// script writes an executable shell script.
func script(t *testing.T, path, body string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// The binary under test: the flag, else next to the harness, else on PATH, else a clear error.
func TestFindRedress(t *testing.T) {
	dir, other := t.TempDir(), t.TempDir()
	self := filepath.Join(dir, "redress-bench")
	t.Setenv("PATH", other)

	if _, err := findRedress("", self); err == nil || !strings.Contains(err.Error(), "no redress binary to drive") || !strings.Contains(err.Error(), "--redress") {
		t.Errorf("nothing to find: %v, want the clear error naming --redress", err)
	}
	onPath := script(t, filepath.Join(other, "redress"), "exit 0")
	if got, err := findRedress("", self); err != nil || got != onPath {
		t.Errorf("on PATH: %q %v, want %q", got, err, onPath)
	}
	next := script(t, filepath.Join(dir, "redress"), "exit 0")
	if got, err := findRedress("", self); err != nil || got != next {
		t.Errorf("next to the harness: %q %v, want %q (before PATH's)", got, err, next)
	}
	given := script(t, filepath.Join(t.TempDir(), "redress-prod"), "exit 0")
	if got, err := findRedress(given, self); err != nil || got != given {
		t.Errorf("--redress %s: %q %v", given, got, err)
	}
	for _, c := range []struct{ flag, says string }{
		{filepath.Join(other, "missing"), "no such file"},
		{other, "is a directory"},
	} {
		if _, err := findRedress(c.flag, self); err == nil || !strings.Contains(err.Error(), c.says) || !strings.Contains(err.Error(), c.flag) {
			t.Errorf("--redress %s: %v, want an error naming it and saying %q", c.flag, err, c.says)
		}
	}
	plain := filepath.Join(other, "plain")
	if err := os.WriteFile(plain, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := findRedress(plain, self); err == nil || !strings.Contains(err.Error(), "not executable") {
		t.Errorf("--redress of a file that is not executable: %v", err)
	}

	// The command itself stops there, before anything runs.
	cmd := rootCmd()
	cmd.SetArgs([]string{"fuzz", "--redress", filepath.Join(other, "missing")})
	cmd.SetOut(new(strings.Builder))
	if err := cmd.Execute(); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Errorf("redress-bench fuzz --redress missing: %v", err)
	}
}

// A production build (no `redress dev`) is refused with a clear error by the benchmarks that
// run redress dev.
func TestCheckDev(t *testing.T) {
	dir := t.TempDir()
	prod := script(t, filepath.Join(dir, "prod"), `echo 'Error: unknown command "dev" for "redress"' >&2; exit 1`)
	if err := checkDev(context.Background(), prod); err == nil || !strings.Contains(err.Error(), "has no `redress dev`") {
		t.Errorf("production build: %v, want the refusal", err)
	}
	dev := script(t, filepath.Join(dir, "dev"), `[ "$1" = dev ] || exit 1`)
	if err := checkDev(context.Background(), dev); err != nil {
		t.Errorf("dev build: %v", err)
	}
}
