//go:build !noembed

package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The profiler of `redress dev --pprof` answers on its own address.
func TestServePprof(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addr, err := servePprof(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get("http://" + addr.String() + "/debug/pprof/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close() // read in full
	if err != nil || resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "test") {
		t.Fatalf("GET /debug/pprof/cmdline: %d %q %v", resp.StatusCode, body, err)
	}
}
