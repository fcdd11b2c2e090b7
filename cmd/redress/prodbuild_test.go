package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestProductionBuildLeavesTheEmbeddedServerOut: the production build (`-tags noembed`, as the
// Dockerfile builds it) links neither the embedded Temporal server (the server module and its
// AWS, GCP, Kubernetes, Elastic and Cassandra clients) nor the benchmark harness, which `redress
// api` and `redress worker` never use (issue 20); the default build, `redress dev`'s, has them.
func TestProductionBuildLeavesTheEmbeddedServerOut(t *testing.T) {
	embedded := regexp.MustCompile(`^(go\.temporal\.io/server(/|$)|redress/devserver$|redress/bench$)`)
	deps := func(tags string) []string {
		t.Helper()
		out, err := exec.Command("go", "list", "-deps", "-tags", tags, "redress/cmd/redress").Output()
		if err != nil {
			t.Fatalf("go list -tags %q: %v", tags, err)
		}
		var found []string
		for _, p := range strings.Fields(string(out)) {
			if embedded.MatchString(p) {
				found = append(found, p)
			}
		}
		return found
	}
	if got := deps("noembed"); len(got) != 0 {
		t.Errorf("the production build links %d packages of the embedded server or the harness, e.g. %v", len(got), got[:min(len(got), 5)])
	}
	if got := deps(""); len(got) == 0 {
		t.Error("the default build links no embedded server: redress dev could not run")
	}
	docker, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`go build [^\n]*-tags noembed[^\n]*\./cmd/redress`).Match(docker) {
		t.Error("the Dockerfile does not build redress with -tags noembed")
	}
}
