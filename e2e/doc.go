// Package e2e holds the browser tests of redress: the whole system (embedded Temporal, worker,
// API and embedded web UI) runs in the test process, and headless Chromium, driven through the
// DevTools protocol with chromedp, uses the UI as people do. Screenshots of each step are saved
// under $REDRESS_ARTIFACTS/browser (default ./test-artifacts/browser); any console error or
// uncaught exception fails the test. Without Chromium the tests skip, unless
// REDRESS_REQUIRE_BROWSER=1 (set by .ci/run), which makes a missing browser a failure.
package e2e
