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
// api` and `redress worker` never use (issue 20); the default build, `redress dev`'s, has the
// server. No build of redress links the harness (package bench): it is cmd/redress-bench, a
// command of its own that drives a redress binary.
func TestProductionBuildLeavesTheEmbeddedServerOut(t *testing.T) {
	embedded := regexp.MustCompile(`^(go\.temporal\.io/server(/|$)|redress/devserver$|redress/bench$)`)
	harness := regexp.MustCompile(`^redress/bench(/|$)`)
	deps := map[string][]string{} // go list -deps by build tags
	for _, tags := range []string{"noembed", ""} {
		out, err := exec.Command("go", "list", "-deps", "-tags", tags, "redress/cmd/redress").Output()
		if err != nil {
			t.Fatalf("go list -tags %q: %v", tags, err)
		}
		deps[tags] = strings.Fields(string(out))
	}
	matching := func(pkgs []string, re *regexp.Regexp) []string {
		var found []string
		for _, p := range pkgs {
			if re.MatchString(p) {
				found = append(found, p)
			}
		}
		return found
	}
	if got := matching(deps["noembed"], embedded); len(got) != 0 {
		t.Errorf("the production build links %d packages of the embedded server or the harness, e.g. %v", len(got), got[:min(len(got), 5)])
	}
	if got := matching(deps[""], embedded); len(got) == 0 {
		t.Error("the default build links no embedded server: redress dev could not run")
	}
	for tags, pkgs := range deps {
		if got := matching(pkgs, harness); len(got) != 0 {
			t.Errorf("redress (tags %q) links the benchmark harness %v: it belongs to cmd/redress-bench alone", tags, got)
		}
	}
	docker, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`go build [^\n]*-tags noembed[^\n]*\./cmd/redress`).Match(docker) {
		t.Error("the Dockerfile does not build redress with -tags noembed")
	}
}
