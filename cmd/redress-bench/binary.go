package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// buildHint is how to make the binary the harness drives.
const buildHint = "build it with `CGO_ENABLED=0 go build -o redress ./cmd/redress` and pass --redress ./redress"

// findRedress resolves the redress binary under test: flag if given, else `redress` in the
// directory of self (this executable), else `redress` on PATH. The path returned is absolute:
// the processes under test may run from other directories.
func findRedress(flag, self string) (string, error) {
	if flag != "" {
		if err := executable(flag); err != nil {
			return "", fmt.Errorf("--redress %s: %w", flag, err)
		}
		return filepath.Abs(flag)
	}
	if self != "" {
		next := filepath.Join(filepath.Dir(self), "redress")
		if executable(next) == nil {
			return next, nil
		}
	}
	if p, err := exec.LookPath("redress"); err == nil {
		return filepath.Abs(p)
	}
	return "", fmt.Errorf("no redress binary to drive: none given (--redress), none next to %s, none on PATH; %s", self, buildHint)
}

// executable says why path cannot be run as a program, or nil.
func executable(path string) error {
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("no such file; %s", buildHint)
	case err != nil:
		return err
	case fi.IsDir():
		return errors.New("is a directory, not the redress binary")
	case fi.Mode().Perm()&0o111 == 0:
		return errors.New("not executable")
	}
	return nil
}

// checkDev makes sure bin has `redress dev`, which every benchmark but topology runs: the
// production build (-tags noembed, the Dockerfile's) leaves it out.
func checkDev(ctx context.Context, bin string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bin, "dev", "--help").CombinedOutput(); err != nil {
		return fmt.Errorf("%s has no `redress dev`, which this benchmark runs (a production build, -tags noembed?): %w: %.300s; %s", bin, err, out, buildHint)
	}
	return nil
}
