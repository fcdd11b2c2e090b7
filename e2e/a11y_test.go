package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// axeSource is axe-core's browser build, installed with npm ci in tools/a11y (pinned there in
// package.json and package-lock.json; .ci/run installs it).
var axeSource = sync.OnceValues(func() (string, error) {
	b, err := os.ReadFile(filepath.Join("..", "tools", "a11y", "node_modules", "axe-core", "axe.min.js"))
	return string(b), err
})

// axeTags are the rule sets checked: WCAG 2.0 and 2.1, levels A and AA (the level Chinese
// government sites must meet, GB/T 37668-2019 follows WCAG 2.0 AA).
// Running transitions (a toast fading in or out) are awaited first: half-way, the toast's
// colours blend into the page and axe measures a contrast no reader ever sees for long.
const axeRun = `(async () => {
  await Promise.all(document.getAnimations()
    .filter((a) => !a.effect || a.effect.getComputedTiming().iterations !== Infinity)
    .map((a) => a.finished.catch(() => {})));
  const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}, resultTypes: ['violations']});
  return r.violations.map((v) => ({id: v.id, impact: v.impact || '', help: v.help,
    nodes: v.nodes.slice(0, 4).map((n) => ({target: n.target.map(String).join(' '), summary: n.failureSummary || ''}))}));
})()`

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  string `json:"target"`
		Summary string `json:"summary"`
	} `json:"nodes"`
}

// checkA11y runs axe-core on the page as it stands and fails the test on any WCAG 2.1 A/AA
// violation, naming the rule and the elements. Every screenshot of the browser tests runs it, so
// every page and state they show is checked.
func (b *browser) checkA11y(t *testing.T, name string) {
	t.Helper()
	src, err := axeSource()
	if err != nil {
		if os.Getenv("REDRESS_REQUIRE_BROWSER") == "1" {
			t.Fatalf("axe-core is not installed (cd tools/a11y && npm ci): %v", err)
		}
		t.Logf("accessibility check skipped, axe-core not installed (cd tools/a11y && npm ci): %v", err)
		return
	}
	var has bool
	var out []axeViolation
	await := func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }
	if err := chromedp.Run(b.ctx,
		chromedp.Evaluate(`typeof window.axe === 'object'`, &has),
	); err != nil {
		t.Fatalf("%s: axe: %v", name, err)
	}
	acts := []chromedp.Action{}
	if !has {
		acts = append(acts, chromedp.Evaluate(src, nil))
	}
	acts = append(acts, chromedp.Evaluate(axeRun, &out, await))
	if err := chromedp.Run(b.ctx, acts...); err != nil {
		t.Fatalf("%s: axe: %v", name, err)
	}
	if len(out) == 0 {
		return
	}
	var sb strings.Builder
	for _, v := range out {
		fmt.Fprintf(&sb, "\n  %s (%s): %s", v.ID, v.Impact, v.Help)
		for _, n := range v.Nodes {
			fmt.Fprintf(&sb, "\n    %s — %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " "))
		}
	}
	b.a11yFail(t, fmt.Sprintf("%s: %d WCAG 2.1 A/AA violation(s):%s", name, len(out), sb.String()))
}
