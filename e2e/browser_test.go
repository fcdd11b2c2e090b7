package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/prometheus/client_golang/prometheus"

	"redress/api"
	"redress/auth"
	"redress/auth/oidctest"
	"redress/authz"
	"redress/calendar"
	"redress/calendar/calendardb"
	"redress/devserver"
	"redress/engine"
	"redress/intake"
	"redress/migrations"
	"redress/models"
	"redress/notify"
	"redress/orgfile"
	"redress/pii"
	"redress/store"
	"redress/store/storetest"
	"redress/web"
	"redress/worker"
)

// system is the whole of redress dev in this process: embedded Temporal, a migrated database
// (SQLite or PostgreSQL) with the demo organisation, the worker (reconciler included) and the
// API with the demo sign-in, sign-in through an identity provider (auth/oidctest) and the
// embedded UI, behind a real HTTP server.
type system struct {
	sms    *phoneSMS
	base   string
	db     *store.DB
	srv    *api.Server
	intake *intake.Service
	tokens *auth.Issuer
	idp    *oidctest.Provider
}

func startSystem(t *testing.T, dialect migrations.Dialect) *system {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))

	ts, err := devserver.Start(devserver.Options{Namespace: "default"})
	if err != nil {
		t.Fatalf("start embedded temporal: %v", err)
	}
	t.Cleanup(ts.Stop)
	spec, hashKey := pii.NewKeySpec("k1")
	box, err := pii.ParseKeys(spec, hashKey)
	if err != nil {
		t.Fatal(err)
	}
	dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
	defer dcancel()
	tc, err := engine.Dial(dctx, ts.FrontendAddr, "default", prometheus.NewRegistry(), box)
	if err != nil {
		t.Fatalf("dial temporal: %v", err)
	}
	t.Cleanup(tc.Close)

	db := storetest.Open(t, dialect)
	if _, err := orgfile.Apply(ctx, db, orgfile.Demo()); err != nil {
		t.Fatalf("demo organisation: %v", err)
	}
	if _, err := calendardb.EnsureShipped(ctx, db); err != nil {
		t.Fatalf("shipped calendar: %v", err)
	}
	queue := "e2e"
	sms := &phoneSMS{tokens: map[string]string{}}
	wdone := make(chan error, 1)
	go func() {
		// Messages go to the local inbox, as in redress dev: the notification centre shows them.
		local := &notify.Local{DB: db}
		notifier := &notify.Dispatcher{DB: db, Box: box, PublicURL: "http://127.0.0.1", Poll: 100 * time.Millisecond,
			Senders: map[string]notify.Sender{notify.ChannelInbox: local, notify.ChannelSMS: sms}}
		wdone <- worker.Run(ctx, worker.Deps{Client: tc, TaskQueue: queue, DB: db, ReconcileEvery: time.Second, Notify: notifier})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-wdone:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("worker ended with: %v", err)
			}
		case <-time.After(20 * time.Second):
		}
	})

	issuer, err := auth.NewIssuer([]byte("e2e-signing-key-0123456789abcdef-0123"), "redress", "redress-api")
	if err != nil {
		t.Fatal(err)
	}
	// The identity provider redirects back to this server, whose address is known once its
	// listener is open.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	idp, err := oidctest.New("redress-e2e", "e2e-secret")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(idp.Close)
	sso, err := auth.NewOIDC(auth.OIDCConfig{Issuer: idp.URL, ClientID: "redress-e2e", ClientSecret: "e2e-secret",
		RedirectURL: base + "/api/v1/auth/oidc/callback", Scopes: []string{"profile"}}, issuer)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := authz.Open(ctx, db.DB)
	if err != nil {
		t.Fatalf("policies: %v", err)
	}
	in := &intake.Service{DB: db, PII: box, Starter: &engine.Starter{Client: tc, TaskQueue: queue, DB: db}}
	reg := prometheus.NewRegistry()
	srv := api.New(api.Deps{
		DB: db, Temporal: tc, Tokens: issuer, Enforcer: ps.Enforcer(), Policies: ps, PII: box, Intake: in,
		Registry: reg, Gatherer: reg, Web: web.FS, Calendars: calendardb.NewCache(db, 0), OIDC: sso,
		// The banners' clock stands in a year no calendar covers, so that the calendar banner
		// is there whatever day the test runs.
		Banners: api.CalendarBanners(db, func() time.Time { return time.Date(2031, 1, 6, 9, 0, 0, 0, calendar.Zone()) }), Dev: true,
	})
	// Answers are checked against api/openapi.yaml (contract_test.go); the check's cleanup
	// is registered first so that it runs after the server is closed.
	h := contractChecked(t, srv.Handler())
	hs := httptest.NewUnstartedServer(h)
	if err := hs.Listener.Close(); err != nil {
		t.Fatalf("close the unstarted server's own listener: %v", err)
	}
	hs.Listener = ln
	hs.Start()
	t.Cleanup(hs.Close)
	return &system{sms: sms, base: base, db: db, srv: srv, intake: in, tokens: issuer, idp: idp}
}

// registerCase posts a completed case of the Futian tax office, as a channel system does.
func (s *system) registerCase(t *testing.T, caseNo string) {
	t.Helper()
	s.registerCaseAt(t, caseNo, time.Now().Add(-time.Hour))
}

// registerCaseAt registers a case completed at done.
func (s *system) registerCaseAt(t *testing.T, caseNo string, done time.Time) {
	t.Helper()
	var u models.Unit
	if err := s.db.Where("code = ?", "sz-ft-tax").First(&u).Error; err != nil {
		t.Fatalf("unit: %v", err)
	}
	_, _, err := s.intake.RegisterCase(context.Background(), store.Scope{Subtrees: []string{u.Path}}, intake.CaseRequest{
		CaseNo: caseNo, ServiceItem: intake.ServiceItem{Code: "tax-reg", Name: "Tax registration"},
		Unit: "sz-ft-tax", Channel: "window_device", CompletedAt: &done,
		Applicant: intake.Person{Name: "Zhang San", Phone: "13812341234", IDNumber: "440301199001011234"},
	})
	if err != nil {
		t.Fatalf("register case: %v", err)
	}
}

// chromiumPath finds Debian's chromium; REDRESS_CHROMIUM overrides.
func chromiumPath() string {
	if p := os.Getenv("REDRESS_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// artifacts is where screenshots go: $REDRESS_ARTIFACTS, else ./test-artifacts at the module
// root; under browser/ for the run on SQLite, browser-postgres/ for the run on PostgreSQL.
func artifacts(t *testing.T, dialect migrations.Dialect) string {
	dir := os.Getenv("REDRESS_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("..", "test-artifacts")
	}
	dir = filepath.Join(dir, "browser")
	if dialect != migrations.SQLite {
		dir += "-" + string(dialect)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// browser is one headless Chromium tab that records console errors and uncaught exceptions.
type browser struct {
	ctx  context.Context
	dir  string
	mu   sync.Mutex
	errs []string
	shot int
	// expired is set while a step expires the session on purpose: the API's 401 is then the
	// page's to handle (back to the sign-in), not an error.
	expired bool
}

func newBrowser(t *testing.T, dialect migrations.Dialect) *browser {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("REDRESS_REQUIRE_BROWSER") == "1" {
			t.Fatal("chromium not found and REDRESS_REQUIRE_BROWSER=1 (apt-get install chromium)")
		}
		t.Skip("chromium not found; set REDRESS_REQUIRE_BROWSER=1 to make this a failure")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(profileDir(t)),
		chromedp.WindowSize(1366, 900),
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(acancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	b := &browser{ctx: ctx, dir: artifacts(t, dialect)}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			b.fail("exception: " + e.ExceptionDetails.Text + " " + exceptionText(e.ExceptionDetails))
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError || e.Type == runtime.APITypeAssert {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				b.fail("console." + string(e.Type) + ": " + strings.Join(parts, " "))
			}
		case *log.EventEntryAdded:
			// The browser logs every 4xx answer; a refusal of the API (409, 422) is the page's
			// to show, and the tests assert what it shows. Other failures still fail the test.
			if e.Entry.Source == log.SourceNetwork && strings.Contains(e.Entry.URL, "/api/v1/") &&
				(strings.Contains(e.Entry.Text, "status of 409") || strings.Contains(e.Entry.Text, "status of 422")) {
				return
			}
			b.mu.Lock()
			expired := b.expired
			b.mu.Unlock()
			if expired && e.Entry.Source == log.SourceNetwork && strings.Contains(e.Entry.Text, "status of 401") {
				return
			}
			if e.Entry.Level == log.LevelError {
				b.fail("log: " + e.Entry.Text + " " + e.Entry.URL)
			}
		}
	})
	if err := chromedp.Run(ctx, log.Enable(), runtime.Enable()); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

func exceptionText(d *runtime.ExceptionDetails) string {
	if d.Exception != nil {
		return d.Exception.Description
	}
	return ""
}

func (b *browser) fail(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errs = append(b.errs, msg)
}

// checkConsole fails the test on any console error or exception seen so far.
func (b *browser) checkConsole(t *testing.T, step string) {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errs) > 0 {
		t.Fatalf("%s: the page logged errors:\n%s", step, strings.Join(b.errs, "\n"))
	}
}

// run runs actions with a time limit, failing the test (with a screenshot) on error.
func (b *browser) run(t *testing.T, step string, actions ...chromedp.Action) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		b.screenshot(t, "failed-"+step)
		var body string
		_ = chromedp.Run(b.ctx, chromedp.Text("body", &body, chromedp.ByQuery))
		b.mu.Lock()
		logged := strings.Join(b.errs, "\n")
		b.mu.Unlock()
		t.Fatalf("%s: %v\npage errors: %s\npage text: %s", step, err, logged, body)
	}
	b.checkConsole(t, step)
}

// screenshot saves the whole page as a PNG artifact.
func (b *browser) screenshot(t *testing.T, name string) {
	t.Helper()
	b.shot++
	var buf []byte
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&buf, 100)); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.shot, name))
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
	if !strings.HasPrefix(name, "failed-") {
		b.checkA11y(t, name)
	}
}

// a11yFail reports an accessibility violation: an error (the test goes on, so that one run
// lists every page's violations).
func (b *browser) a11yFail(t *testing.T, msg string) {
	t.Helper()
	t.Error(msg)
}

// phone and desktop set the viewport: 375 px wide like a phone, or a 1366 px desktop screen.
func phone() chromedp.Action   { return chromedp.EmulateViewport(375, 740, chromedp.EmulateMobile) }
func desktop() chromedp.Action { return chromedp.EmulateViewport(1366, 900) }

// noHorizontalScroll fails when the page is wider than the viewport (unusable at 375 px).
func noHorizontalScroll(t *testing.T, b *browser, step string) {
	t.Helper()
	var over bool
	b.run(t, step+"-width", chromedp.Evaluate(`document.documentElement.scrollWidth > window.innerWidth + 1`, &over))
	if over {
		var w int
		_ = chromedp.Run(b.ctx, chromedp.Evaluate(`document.documentElement.scrollWidth`, &w))
		t.Errorf("%s: the page is %d px wide, wider than the 375 px screen", step, w)
	}
}

// setSelect sets a select's value and fires change, as a user's pick does.
func setSelect(sel, value string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event('change', {bubbles: true})); return true; })()`, sel, value), nil)
}

// signOutJS forgets the page's signed-in flag (the session cookie is the server's to clear;
// the next sign-in replaces it).
const signOutJS = `sessionStorage.clear(); localStorage.removeItem('redress.session_expires'); true`

// signIn uses the demo picker of the sign-in page.
func signIn(t *testing.T, b *browser, base, login string) {
	t.Helper()
	b.run(t, "sign-in-"+login,
		chromedp.Navigate(base+"/#/login"),
		chromedp.Evaluate(signOutJS, nil),
		chromedp.Navigate(base+"/#/login?signed_out=1"),
		chromedp.WaitVisible(fmt.Sprintf(`button.user-pick[aria-label*=%q]`, login), chromedp.ByQuery),
		chromedp.Click(fmt.Sprintf(`button.user-pick[aria-label*=%q]`, login), chromedp.ByQuery),
		chromedp.WaitVisible(`#user .user-name`, chromedp.ByQuery),
	)
}

// waitAction waits until the order page offers the action's form and unfolds it, as a user
// opening the form does.
func waitAction(name string) chromedp.Action {
	return chromedp.Tasks{
		chromedp.WaitReady(fmt.Sprintf(`form[data-action=%q]`, name), chromedp.ByQuery),
		chromedp.Evaluate(fmt.Sprintf(`document.querySelector('details[data-action=%q]').open = true`, name), nil),
		chromedp.WaitVisible(fmt.Sprintf(`form[data-action=%q] button[type=submit]`, name), chromedp.ByQuery),
	}
}

func submitAction(name string) chromedp.Action {
	return chromedp.Click(fmt.Sprintf(`form[data-action=%q] button[type=submit]`, name), chromedp.ByQuery)
}

// TestCitizenToOfficerToAdministrator walks the issue's story through the real UI: a citizen
// rates a case badly on the QR page (375 px), the officer sees the order in the inbox (375 px),
// signs it, records a callback and a disposition, the administrator approves the review, and
// the citizen follows the outcome on the tracking page. The story runs on each database the
// product supports: SQLite and PostgreSQL (where CI's REDRESS_REQUIRE_POSTGRES=1 makes a
// missing server a failure, not a skip).
func TestCitizenToOfficerToAdministrator(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Temporal and Chromium")
	}
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) { citizenToOfficerToAdministrator(t, d) })
	}
}

func citizenToOfficerToAdministrator(t *testing.T, dialect migrations.Dialect) {
	sys := startSystem(t, dialect)
	b := newBrowser(t, dialect)
	caseNo := "E2E-" + time.Now().Format("150405")
	sys.registerCase(t, caseNo)
	token := sys.srv.RateToken(caseNo)

	// 0. A receipt whose rating window closed long ago: the page says so before anything is
	// typed, with the deadline in the one wording, and offers no form. The service was done
	// over a year ago, so that its default rating (the worker's job gives it one whenever it
	// runs) falls outside the months the dashboard's trend and the publication below cover.
	oldCase := "E2E-OLD-" + time.Now().Format("150405")
	sys.registerCaseAt(t, oldCase, time.Now().AddDate(-1, -1, 0))
	var closed string
	var formThere bool
	b.run(t, "rate-closed", phone(),
		chromedp.Navigate(sys.base+"/#/rate/"+sys.srv.RateToken(oldCase)),
		chromedp.WaitVisible(`.rate-closed`, chromedp.ByQuery),
		chromedp.Text(`.rate-closed`, &closed, chromedp.ByQuery),
		chromedp.Evaluate(`!!document.querySelector('form.rate-form')`, &formThere))
	if !strings.Contains(closed, "评价期限已过") || !strings.Contains(closed, "24:00 前") || formThere {
		t.Errorf("closed window: page says %q (form shown: %v); want the explanation and no form", closed, formThere)
	}
	b.screenshot(t, "citizen-rate-closed")

	// Large text (适老化) is one press away on every page, remembered across a reload, and the
	// page still fits a phone.
	var large bool
	b.run(t, "large-text",
		chromedp.Click(`button[data-display="large-text"]`, chromedp.ByQuery),
		chromedp.Reload(),
		chromedp.WaitVisible(`.rate-closed`, chromedp.ByQuery),
		chromedp.Evaluate(`document.documentElement.classList.contains('large-text') && document.querySelector('button[data-display="large-text"]').getAttribute('aria-pressed') === 'true'`, &large))
	if !large {
		t.Error("the large-text mode is not kept across a reload")
	}
	noHorizontalScroll(t, b, "rate-closed-large")
	b.screenshot(t, "citizen-rate-closed-large-text")
	b.run(t, "large-text-off", chromedp.Click(`button[data-display="large-text"]`, chromedp.ByQuery))

	// 1. The citizen rates on a phone.
	b.run(t, "rate-open", phone(),
		chromedp.Navigate(sys.base+"/#/rate/"+token),
		chromedp.WaitVisible(`.level-btn[data-level="very_dissatisfied"]`, chromedp.ByQuery))
	noHorizontalScroll(t, b, "rate")
	b.screenshot(t, "citizen-rate-page")
	// The levels are drawn with the page's own icons (no emoji) and form a real radio group:
	// the arrow keys move the choice.
	var faces int
	var emoji bool
	var picked string
	b.run(t, "rate-levels",
		chromedp.Evaluate(`document.querySelectorAll('.level-big .level-btn svg').length`, &faces),
		chromedp.Evaluate(`/\p{Extended_Pictographic}/u.test(document.querySelector('.rate-form').textContent)`, &emoji),
		chromedp.Focus(`.level-big .level-radio[value="very_satisfied"]`, chromedp.ByQuery),
		chromedp.KeyEvent(kb.ArrowRight),
		chromedp.Evaluate(`(document.querySelector('.level-big .level-radio:checked') || {}).value || ''`, &picked))
	if faces != 5 || emoji || picked != "satisfied" {
		t.Errorf("rating levels: %d SVG faces, emoji %v, arrow key picked %q; want 5, false, satisfied", faces, emoji, picked)
	}
	// The 分项评价 box offers the unit's indicator catalogue by name; a level picked there is
	// stored with the rating.
	var indicatorNames string
	b.run(t, "rate-indicators",
		chromedp.Click(`details.rate-more > summary`, chromedp.ByQuery),
		chromedp.WaitVisible(`.rate-indicator[data-indicator="attitude"] .level-btn[data-level="dissatisfied"]`, chromedp.ByQuery),
		chromedp.Text(`details.rate-more`, &indicatorNames, chromedp.ByQuery),
		chromedp.Click(`.rate-indicator[data-indicator="attitude"] .level-btn[data-level="dissatisfied"]`, chromedp.ByQuery))
	if !strings.Contains(indicatorNames, "服务态度") || !strings.Contains(indicatorNames, "办事效率") {
		t.Errorf("the indicators box reads %q; want the catalogue's names (服务态度, 办事效率)", indicatorNames)
	}
	b.run(t, "rate-fill",
		chromedp.Click(`.level-big .level-btn[data-level="very_dissatisfied"]`, chromedp.ByQuery),
		chromedp.Click(`.tag[data-tag="slow"]`, chromedp.ByQuery),
		chromedp.SendKeys(`textarea[name="comment"]`, "waited two hours, asked to come back twice", chromedp.ByQuery),
	)
	b.screenshot(t, "citizen-rate-filled")
	b.run(t, "rate-submit",
		chromedp.Click(`.rate-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.rate-done`, chromedp.ByQuery),
		chromedp.WaitVisible(`.rate-done a.rate-track`, chromedp.ByQuery))
	b.screenshot(t, "citizen-rate-done")
	var ev models.Evaluation
	if err := sys.db.Where("evaluation_id = ?", "qr:"+caseNo).First(&ev).Error; err != nil {
		t.Fatalf("the rating of %s: %v", caseNo, err)
	}
	if ev.Levels.V["attitude"] != "dissatisfied" || ev.Levels.V["overall"] != "very_dissatisfied" {
		t.Errorf("stored levels %v; want overall very_dissatisfied and attitude dissatisfied", ev.Levels.V)
	}
	// The thank-you page's tracking link shows the order from the start.
	b.run(t, "rate-track",
		chromedp.Click(`.rate-done a.rate-track`, chromedp.ByQuery),
		chromedp.WaitVisible(`.track-summary`, chromedp.ByQuery))
	noHorizontalScroll(t, b, "track-early")
	b.screenshot(t, "citizen-track-after-rating")

	// A second bad rating, rated by the channel behind the browser's back: the inbox's bulk
	// sign and the board's bulk escalation work on it.
	case2 := "E2E-B-" + time.Now().Format("150405")
	sys.registerCase(t, case2)
	sys.rateBadly(t, case2)

	// 2. The officer finds it in the inbox (on a phone), once the workflow has dispatched it.
	signIn(t, b, sys.base, "ft-officer")
	sessionLastsAcrossTabs(t, b, sys)
	b.run(t, "inbox", phone(),
		chromedp.Navigate(sys.base+"/#/inbox"),
		chromedp.WaitVisible(fmt.Sprintf(`//table//a[contains(., %q)]`, caseNo), chromedp.BySearch))
	noHorizontalScroll(t, b, "inbox")
	b.screenshot(t, "officer-inbox")

	// The notification centre: the bell counts the new order's message; the centre lists it in
	// Chinese with a link to the order, and marking it read lowers the count.
	var bellBefore, bellAfter string
	b.run(t, "notifications", desktop(),
		chromedp.WaitVisible(`#user .bell .bell-count`, chromedp.ByQuery),
		chromedp.Text(`#user .bell .bell-count`, &bellBefore, chromedp.ByQuery),
		chromedp.Click(`#user .bell`, chromedp.ByQuery),
		chromedp.WaitVisible(`//li[contains(@class,"notice-unread")]//strong[contains(., "新派工单")]`, chromedp.BySearch))
	b.screenshot(t, "officer-notifications")
	b.run(t, "notification-read",
		chromedp.Click(`li.notice-unread .notice-mark`, chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`(() => { const c = document.querySelector('#user .bell .bell-count'); return (c ? c.textContent : '0') !== %q; })()`, bellBefore), nil, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Evaluate(`(() => { const c = document.querySelector('#user .bell .bell-count'); return c ? c.textContent : '0'; })()`, &bellAfter))
	var nb, na int
	if _, err := fmt.Sscan(strings.TrimSuffix(bellBefore, "+"), &nb); err != nil {
		t.Fatalf("unread badge before %q: %v", bellBefore, err)
	}
	if _, err := fmt.Sscan(bellAfter, &na); err != nil {
		t.Fatalf("unread badge after %q: %v", bellAfter, err)
	}
	if nb < 1 || na != nb-1 {
		t.Errorf("unread badge %q before marking one read, %q after", bellBefore, bellAfter)
	}
	b.run(t, "back-to-inbox", chromedp.Navigate(sys.base+"/#/inbox"),
		chromedp.WaitVisible(fmt.Sprintf(`//table//a[contains(., %q)]`, caseNo), chromedp.BySearch))
	inboxForADaysWork(t, b, sys, caseNo, case2)

	// 3. Sign, call back, dispose through the forms.
	b.run(t, "open-order", desktop(),
		chromedp.Click(fmt.Sprintf(`//table//a[contains(., %q)]`, caseNo), chromedp.BySearch),
		waitAction("sign"))
	b.screenshot(t, "officer-order-dispatched")
	// A stale tab: the order is signed elsewhere (another tab, a colleague) while this page still
	// offers 签收. The refusal reads in Chinese, as an error, with a way to reload.
	sys.act(t, "ft-officer", orderIDOf(t, sys, caseNo), map[string]any{"action": "sign"})
	b.run(t, "sign-stale", submitAction("sign"),
		chromedp.WaitVisible(`form[data-action="sign"] .form-error`, chromedp.ByQuery))
	var stale string
	b.run(t, "sign-stale-text", chromedp.Text(`form[data-action="sign"] .form-error`, &stale, chromedp.ByQuery))
	if !strings.Contains(stale, "工单状态已变化") || strings.Contains(stale, "not allowed") || strings.Contains(stale, "state") {
		t.Errorf("a stale tab's refusal reads %q: want the Chinese conflict message, no English", stale)
	}
	b.screenshot(t, "officer-order-stale-sign")
	b.run(t, "sign", chromedp.Click(`form[data-action="sign"] .form-error button`, chromedp.ByQuery), waitAction("callback"))
	b.screenshot(t, "officer-order-signed")
	revealContact(t, b, sys, caseNo)
	draftSurvivesExpiry(t, b, sys, caseNo)
	b.run(t, "callback", submitAction("callback"), waitAction("dispose"))
	b.screenshot(t, "officer-order-called-back")
	b.run(t, "dispose-validation", submitAction("dispose"),
		chromedp.WaitVisible(`form[data-action="dispose"] .field.invalid`, chromedp.ByQuery))
	b.run(t, "dispose",
		chromedp.Click(`form[data-action="dispose"] input[name="true"]`, chromedp.ByQuery),
		chromedp.Click(`form[data-action="dispose"] input[name="reasonable"]`, chromedp.ByQuery),
		setSelect(`form[data-action="dispose"] select[name="disposition"]`, "rectify_now"),
		chromedp.WaitVisible(`form[data-action="dispose"] textarea[name="measures"]`, chromedp.ByQuery),
		chromedp.SendKeys(`form[data-action="dispose"] textarea[name="measures"]`, "added a second window at peak hours", chromedp.ByQuery),
		submitAction("dispose"),
		chromedp.WaitVisible(`.chip-cyan`, chromedp.ByQuery),
		chromedp.WaitNotPresent(`form[data-action="dispose"]`, chromedp.ByQuery))
	b.screenshot(t, "officer-order-disposed")

	// 4. The administrator approves the result from the review queue.
	signIn(t, b, sys.base, "sz-admin")
	b.run(t, "review-queue",
		chromedp.Navigate(sys.base+"/#/queues/reviews"),
		chromedp.WaitVisible(fmt.Sprintf(`//table//a[contains(., %q)]`, caseNo), chromedp.BySearch))
	b.screenshot(t, "admin-review-queue")
	b.run(t, "review",
		chromedp.Click(fmt.Sprintf(`//table//a[contains(., %q)]`, caseNo), chromedp.BySearch),
		waitAction("review"),
		chromedp.Click(`form[data-action="review"] input[value="yes"]`, chromedp.ByQuery),
		submitAction("review"),
		chromedp.WaitNotPresent(`form[data-action="review"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.chip-teal`, chromedp.ByQuery))
	b.screenshot(t, "admin-approved")

	// The calendar banner reaches the administrator, who can import the year, in Chinese.
	var banner string
	b.run(t, "admin-banner", chromedp.WaitVisible(`.banner[data-code="calendar_year_missing"] .banner-text`, chromedp.ByQuery),
		chromedp.Text(`.banner[data-code="calendar_year_missing"] .banner-text`, &banner, chromedp.ByQuery))
	if !strings.Contains(banner, "2031 年工作日历尚未导入") {
		t.Errorf("the administrator's calendar banner reads %q", banner)
	}

	// Other daily pages of the administrator render without errors.
	visit := func(who string, pages ...string) {
		for _, p := range pages {
			name := who + strings.NewReplacer("/#/", "-", "/", "-").Replace(p)
			b.run(t, name, chromedp.Navigate(sys.base+p),
				chromedp.WaitVisible(`main h1`, chromedp.ByQuery), pageLoaded())
			pageWithoutErrors(t, b, name)
			b.screenshot(t, name)
		}
	}
	// Every page an administrator uses, each a 1366 px screenshot checked by axe-core.
	visit("admin", "/#/queues/dispatch", "/#/queues/returns", "/#/queues/extensions", "/#/dashboard", "/#/board",
		"/#/admin/users", "/#/admin/policies", "/#/admin/units", "/#/notifications", "/#/audit/fraud")
	// Publishing and the monthly report from the UI (were API-only): last month of 深圳 is
	// published as version 1, and a report made now is listed for download. The default-rating
	// job (every 15 minutes in the worker) runs first, as it may have by now, so that what
	// publishing rolls up is the same whenever the test runs.
	if _, err := sys.intake.ApplyDefaultRatings(context.Background(), 0); err != nil {
		t.Fatalf("default ratings: %v", err)
	}
	var versions, reportsText string
	b.run(t, "publishing", chromedp.Navigate(sys.base+"/#/publishing"),
		chromedp.WaitVisible(`form[data-form="publish"] button[type=submit]`, chromedp.ByQuery), pageLoaded(),
		chromedp.Click(`form[data-form="publish"] button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//table[contains(@class,"publications")]//td[contains(., "第 1 版")]`, chromedp.BySearch),
		chromedp.Text(`table.publications`, &versions, chromedp.ByQuery),
		chromedp.Click(`form[data-form="report"] button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`table.reports button.report-download`, chromedp.ByQuery),
		chromedp.Text(`table.reports`, &reportsText, chromedp.ByQuery))
	if !strings.Contains(versions, "sz-admin") || !strings.Contains(reportsText, "手动生成") {
		t.Errorf("publishing page: versions %q, reports %q", versions, reportsText)
	}
	pageWithoutErrors(t, b, "publishing")
	b.screenshot(t, "admin-publishing")
	// Publishing rolled this month's ratings up into the statistics: the dashboard has one
	// month of data.
	dashboardTrend(t, b, sys)
	b.run(t, "calendar-year", chromedp.Navigate(sys.base+"/#/calendar"),
		chromedp.WaitVisible(`.cal-year .cal-month`, chromedp.ByQuery))
	b.screenshot(t, "admin-calendar")

	// The supervisor's board and the auditor's pages. Neither can import a calendar: no banner.
	signIn(t, b, sys.base, "sz-supervisor")
	visit("supervisor", "/#/board")
	noBanners(t, b, "supervisor")
	boardBulkEscalation(t, b, sys, case2)
	evidenceUpload(t, b, sys, case2)
	// The auditor opens a link to the order shared in chat and signs in through the identity
	// provider: the sign-in lands on the order, and the token is in no URL on the way.
	oidcDeepLink(t, b, sys, "sz-auditor", "/orders/"+orderIDOf(t, sys, case2))
	// The auditor sees the unit's evidence on the order (never on the citizen's pages), and the
	// upload on the timeline: in words, by the officer's name, with the file's name.
	var tl string
	b.run(t, "auditor-evidence",
		chromedp.WaitVisible(`.attachment-list li .attachment-download`, chromedp.ByQuery),
		chromedp.WaitVisible(`//ol[contains(@class,"timeline")]/li[.//span[contains(@class,"tl-type")][contains(., "上传整改证据")]]`, chromedp.BySearch),
		chromedp.Text(`//ol[contains(@class,"timeline")]/li[.//span[contains(@class,"tl-type")][contains(., "上传整改证据")]]`, &tl, chromedp.BySearch))
	for _, want := range []string{"王晓明", "window.png", "PNG 图片", "new window open"} {
		if !strings.Contains(tl, want) {
			t.Errorf("the evidence event on the timeline reads %q; want %q in it", tl, want)
		}
	}
	if strings.Contains(tl, "evidence_added") || strings.Contains(tl, "image/png") {
		t.Errorf("the evidence event shows codes: %q", tl)
	}
	b.screenshot(t, "auditor-order-evidence")
	visit("auditor", "/#/audit/log", "/#/audit/pii", "/#/dashboard", "/#/publishing", "/#/inbox")
	noBanners(t, b, "auditor")
	b.run(t, "auditor-order",
		chromedp.Click(fmt.Sprintf(`//table//a[contains(., %q)]`, caseNo), chromedp.BySearch),
		chromedp.WaitVisible(`ol.timeline li`, chromedp.ByQuery))
	b.screenshot(t, "auditor-order-timeline")

	// The public results page needs no sign-in.
	b.run(t, "public-results", chromedp.Evaluate(signOutJS, nil), phone(),
		chromedp.Navigate(sys.base+"/#/results"), chromedp.WaitVisible(`main h1`, chromedp.ByQuery), pageLoaded())
	pageWithoutErrors(t, b, "public-results")
	noHorizontalScroll(t, b, "results")
	b.screenshot(t, "public-results")

	// 5. The citizen follows the outcome on the tracking page.
	trackURL := trackLink(t, sys, caseNo)
	if trackURL == "" {
		t.Fatal("no tracking link reached the evaluator within 30 s of the approval")
	}
	signOut := chromedp.Evaluate(signOutJS, nil)
	b.run(t, "track", phone(), signOut,
		chromedp.Navigate(trackURL),
		chromedp.WaitVisible(`.track-summary`, chromedp.ByQuery))
	noHorizontalScroll(t, b, "track")
	b.screenshot(t, "citizen-track")
	// The order was approved: the evaluator is asked for feedback, always.
	b.run(t, "track-feedback",
		chromedp.WaitVisible(`form.track-feedback`, chromedp.ByQuery),
		chromedp.Click(`form.track-feedback input[value="satisfied"]`, chromedp.ByQuery),
		chromedp.Click(`form.track-feedback button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitNotPresent(`form.track-feedback`, chromedp.ByQuery),
		chromedp.WaitVisible(`.track-summary`, chromedp.ByQuery))
	pageWithoutErrors(t, b, "track-feedback")
	b.screenshot(t, "citizen-track-feedback")

	// The citizen's and the public's pages at 1366 px too (above: 375 px), and the sign-in page.
	for _, p := range []struct{ name, url, ready string }{
		{"desktop-citizen-track", trackURL, `.track-summary`},
		{"desktop-public-results", sys.base + "/#/results", `main h1`},
		{"desktop-citizen-rate-closed", sys.base + "/#/rate/" + sys.srv.RateToken(oldCase), `.rate-closed`},
		{"desktop-login", sys.base + "/#/login?signed_out=1", `button.user-pick`},
	} {
		b.run(t, p.name, desktop(), chromedp.Navigate(p.url), chromedp.WaitVisible(p.ready, chromedp.ByQuery), pageLoaded())
		b.screenshot(t, p.name)
	}
}

// sessionLastsAcrossTabs: the sign-in is an HttpOnly cookie, so no script of the page can read
// the token (document.cookie and storage hold none), and a new tab of the same browser opens a
// signed-in page straight away.
func sessionLastsAcrossTabs(t *testing.T, b *browser, sys *system) {
	t.Helper()
	var cookieText, stored string
	b.run(t, "session-hidden",
		chromedp.Evaluate(`document.cookie`, &cookieText),
		chromedp.Evaluate(`JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])`, &stored))
	if strings.Contains(cookieText, "redress_session") || !strings.Contains(cookieText, "redress_csrf") || strings.Contains(stored, "eyJ") {
		t.Errorf("scripts see cookies %q and storage %q; want no session token, only the CSRF cookie", cookieText, stored)
	}
	tab, closeTab := chromedp.NewContext(b.ctx)
	defer closeTab()
	ctx, cancel := context.WithTimeout(tab, 45*time.Second)
	defer cancel()
	var who string
	if err := chromedp.Run(ctx, chromedp.Navigate(sys.base+"/#/inbox"),
		chromedp.WaitVisible(`#user .user-name`, chromedp.ByQuery),
		chromedp.WaitVisible(`#inbox-title`, chromedp.ByQuery),
		chromedp.Text(`#user .user-name`, &who, chromedp.ByQuery)); err != nil {
		t.Fatalf("a second tab of the signed-in browser: %v", err)
	}
	if strings.TrimSpace(who) == "" {
		t.Error("the second tab shows no signed-in user")
	}
}

// dashboardTrend: with one month of data (this month's ratings) the trend chart draws that
// month's point with its name, value and month label; six months without data say so in
// words instead of an empty box.
func dashboardTrend(t *testing.T, b *browser, sys *system) {
	t.Helper()
	month := time.Now().In(calendar.Zone()).Format("2006-01")
	var points []string
	var chart, empty string
	b.run(t, "dashboard-trend", chromedp.Navigate(sys.base+"/#/dashboard"),
		chromedp.WaitVisible(`section[aria-labelledby="dash-trend"] svg.chart`, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll('section[aria-labelledby="dash-trend"] .chart-point-value')].map((n) => n.textContent)`, &points),
		chromedp.Evaluate(`document.querySelector('section[aria-labelledby="dash-trend"] svg.chart').textContent`, &chart))
	if len(points) == 0 || !strings.HasPrefix(points[0], "满意率 ") || !strings.HasSuffix(points[0], "%") || !strings.Contains(chart, month) {
		t.Errorf("the trend chart of one month labels its points %q (chart text %q); want 满意率 with its value, and the month %s", points, chart, month)
	}
	b.screenshot(t, "admin-dashboard-one-month")
	b.run(t, "dashboard-trend-empty", chromedp.Navigate(sys.base+"/#/dashboard?month=2020-06"),
		chromedp.WaitVisible(`section[aria-labelledby="dash-trend"] p.trend-empty`, chromedp.ByQuery),
		chromedp.Text(`section[aria-labelledby="dash-trend"] p.trend-empty`, &empty, chromedp.ByQuery))
	if !strings.Contains(empty, "2020-01 至 2020-06 还没有评价") {
		t.Errorf("six months without data: the trend says %q", empty)
	}
	b.screenshot(t, "admin-dashboard-no-data")
}

// draftSurvivesExpiry: the officer types the callback's note, the session expires meanwhile
// (its cookie is gone, as after the session's lifetime), and the submit answers 401: the page
// goes to the sign-in, saying why; after signing in again the order's callback form holds
// what was typed, and says it was restored.
func draftSurvivesExpiry(t *testing.T, b *browser, sys *system, caseNo string) {
	t.Helper()
	const note = "reached by phone, explained the delay"
	id := orderIDOf(t, sys, caseNo)
	var expiredText string
	b.run(t, "draft-typing",
		chromedp.Click(`form[data-action="callback"] input[name="reached"]`, chromedp.ByQuery),
		chromedp.SendKeys(`form[data-action="callback"] textarea[name="note"]`, note, chromedp.ByQuery))
	b.mu.Lock()
	b.expired = true
	b.mu.Unlock()
	b.run(t, "draft-session-expires",
		network.DeleteCookies("redress_session").WithURL(sys.base+"/"),
		submitAction("callback"),
		chromedp.WaitVisible(`button.user-pick[aria-label*="ft-officer"]`, chromedp.ByQuery),
		chromedp.Text(`.login-card .notice`, &expiredText, chromedp.ByQuery))
	b.mu.Lock()
	b.expired = false
	b.mu.Unlock()
	if !strings.Contains(expiredText, "登录已失效") {
		t.Errorf("after the session expired the sign-in page says %q", expiredText)
	}
	b.screenshot(t, "officer-session-expired")
	var typed, restored, href string
	var reached bool
	b.run(t, "draft-restored",
		chromedp.Click(`button.user-pick[aria-label*="ft-officer"]`, chromedp.ByQuery),
		waitAction("callback"),
		chromedp.Location(&href),
		chromedp.Value(`form[data-action="callback"] textarea[name="note"]`, &typed, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('form[data-action="callback"] input[name="reached"]').checked`, &reached),
		chromedp.Text(`form[data-action="callback"] .draft-restored`, &restored, chromedp.ByQuery))
	if !strings.HasSuffix(href, "/#/orders/"+id) || typed != note || !reached || !strings.Contains(restored, "已恢复") {
		t.Errorf("after signing in again: at %q, note %q, reached %v, notice %q; want the order, %q, true and the restored notice", href, typed, reached, restored, note)
	}
	b.screenshot(t, "officer-order-draft-restored")
}

// revealContact: the officer reveals the evaluator's number on a signed order; the name is
// revealed with it (it was left masked), and the read of both is recorded.
func revealContact(t *testing.T, b *browser, sys *system, caseNo string) {
	t.Helper()
	var before, name, phone string
	b.run(t, "reveal-contact",
		chromedp.Text(`.evaluator-name`, &before, chromedp.ByQuery),
		chromedp.Click(`button[data-reveal]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.reveal-note`, chromedp.ByQuery),
		chromedp.Text(`.evaluator-name`, &name, chromedp.ByQuery),
		chromedp.Text(`a.reveal-value`, &phone, chromedp.ByQuery))
	if strings.Contains(before, "Zhang San") || strings.TrimSpace(name) != "Zhang San" || strings.TrimSpace(phone) != "13812341234" {
		t.Errorf("evaluator before the reveal %q; after it name %q, phone %q: want the masked name, then Zhang San and 13812341234", before, name, phone)
	}
	var fields []string
	if err := sys.db.Table("pii_access_log").Where("work_order_id = ?", orderIDOf(t, sys, caseNo)).Pluck("fields", &fields).Error; err != nil {
		t.Fatal(err)
	}
	if len(fields) != 1 || fields[0] != "evaluator.phone,evaluator.name" {
		t.Errorf("recorded reads %q; want one of evaluator.phone,evaluator.name", fields)
	}
	b.screenshot(t, "officer-order-contact-revealed")
}

// oidcDeepLink: a signed-out visitor opens a deep link, signs in as login through the
// identity provider (what the sign-in page's 统一身份认证 button does) and lands on the page
// of the link, signed in by the HttpOnly cookie; no URL of the whole round trip (requests,
// redirects, the address bar) carries the token.
func oidcDeepLink(t *testing.T, b *browser, sys *system, login, page string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	lctx, stop := context.WithCancel(b.ctx)
	defer stop()
	chromedp.ListenTarget(lctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, e.Request.URL+e.Request.URLFragment)
			if e.RedirectResponse != nil {
				seen = append(seen, fmt.Sprint(e.RedirectResponse.Headers["Location"], e.RedirectResponse.Headers["location"]))
			}
		}
	})
	sys.idp.SignInAs(map[string]any{"preferred_username": login})
	var href, who, stored string
	b.run(t, "oidc-deep-link", network.Enable(), desktop(),
		chromedp.Evaluate(signOutJS, nil),
		chromedp.Navigate(sys.base+"/#/login?signed_out=1"),
		chromedp.WaitVisible(`button.user-pick`, chromedp.ByQuery),
		// The link opened signed out: the sign-in page, keeping the link as next.
		chromedp.Navigate(sys.base+"/#"+page),
		chromedp.Poll(fmt.Sprintf(`location.hash.startsWith('#/login') && location.hash.includes(%q)`, url.QueryEscape(page)), nil, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Navigate(sys.base+"/api/v1/auth/oidc/login?next="+url.QueryEscape(page)),
		chromedp.WaitVisible(`#user .user-name`, chromedp.ByQuery),
		chromedp.WaitVisible(`.order-layout h2`, chromedp.ByQuery),
		chromedp.Location(&href),
		chromedp.Text(`#user .user-name`, &who, chromedp.ByQuery),
		chromedp.Evaluate(`JSON.stringify([document.cookie, Object.entries(localStorage), Object.entries(sessionStorage)])`, &stored),
		network.Disable())
	var user models.User
	if err := sys.db.Where("login = ?", login).First(&user).Error; err != nil {
		t.Fatal(err)
	}
	if href != sys.base+"/#"+page || strings.TrimSpace(who) != user.Name {
		t.Errorf("after the identity provider's sign-in the browser is at %q as %q; want %q as %q", href, who, sys.base+"/#"+page, user.Name)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, u := range append(seen, href, stored) {
		if strings.Contains(u, "token=") || strings.Contains(u, "eyJ") {
			t.Errorf("a URL or the page's storage carries the token: %s", u)
		}
	}
	if len(seen) < 3 {
		t.Errorf("saw %d requests of the round trip; want the login, the provider, the callback and the page", len(seen))
	}
}

// rateBadly rates a case very dissatisfied through the public rating endpoint, as the QR page
// does.
func (s *system) rateBadly(t *testing.T, caseNo string) {
	t.Helper()
	body := `{"levels":{"overall":"very_dissatisfied"},"tags":["slow"],"comment":"second visit needed"}`
	res, err := http.Post(s.base+"/api/v1/rate/"+s.srv.RateToken(caseNo), "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := res.Body.Close(); err != nil {
			t.Errorf("close the rating answer: %v", err)
		}
	}()
	if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusCreated {
		t.Fatalf("rating %s: status %d", caseNo, res.StatusCode)
	}
}

// rowOf is the XPath of the inbox or board row of a case.
func rowOf(caseNo string) string {
	return fmt.Sprintf(`//table//tr[.//a[contains(., %q)]]`, caseNo)
}

// inboxForADaysWork: the officer's inbox shows the columns a day's work needs (service,
// channel, rating time), filters by level and date, keeps a saved view across a reload, moves
// with j/k and explains its shortcuts with ?, and signs the selected orders in bulk with a
// result per row. caseNo stays dispatched (the story signs it later); case2 is signed here.
func inboxForADaysWork(t *testing.T, b *browser, sys *system, caseNo, case2 string) {
	t.Helper()
	var rowText string
	b.run(t, "inbox-columns", desktop(),
		chromedp.WaitVisible(rowOf(case2), chromedp.BySearch),
		chromedp.Text(rowOf(caseNo), &rowText, chromedp.BySearch))
	for _, want := range []string{"Tax registration", "二维码", "非常不满意"} {
		if !strings.Contains(rowText, want) {
			t.Errorf("the inbox row of %s reads %q; want %q in it", caseNo, rowText, want)
		}
	}
	b.screenshot(t, "officer-inbox-desktop")

	// Filters: a level nobody gave empties the list (and says so); the bad level lists both.
	var empty string
	b.run(t, "inbox-filter-level",
		setSelect(`form.filters select[name="level"]`, "satisfied"),
		chromedp.WaitVisible(`.results p.empty`, chromedp.ByQuery),
		chromedp.Text(`.results p.empty`, &empty, chromedp.ByQuery))
	if !strings.Contains(empty, "没有符合条件的工单") {
		t.Errorf("an empty filter says %q", empty)
	}
	// The unit and staff filters are pickers of the units and staff the officer may see, by
	// name: the officer's own office, and its staff (not another office's).
	var unitOpts, staffOpts, unitNotice, staffPicked string
	b.run(t, "inbox-pickers",
		chromedp.Navigate(sys.base+"/#/inbox"),
		chromedp.WaitVisible(rowOf(case2), chromedp.BySearch),
		chromedp.Poll(`document.querySelectorAll('form.filters select[name="staff"] option').length > 1 && document.querySelectorAll('form.filters select[name="unit"] option').length > 1`,
			nil, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Text(`form.filters select[name="unit"]`, &unitOpts, chromedp.ByQuery),
		chromedp.Text(`form.filters select[name="staff"]`, &staffOpts, chromedp.ByQuery),
		setSelect(`form.filters select[name="unit"]`, "sz-ft-tax"),
		chromedp.WaitVisible(`[data-unit-name]`, chromedp.ByQuery),
		chromedp.WaitVisible(rowOf(case2), chromedp.BySearch),
		chromedp.Poll(`document.querySelector('[data-unit-name]').textContent === '福田区税务局'`, nil, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Text(`p.notice-info`, &unitNotice, chromedp.ByQuery),
		setSelect(`form.filters select[name="staff"]`, "S0001"),
		chromedp.Poll(`location.hash.includes('staff=S0001') && document.querySelector('form.filters select[name="staff"]').selectedOptions[0].textContent === '李晓东'`,
			nil, chromedp.WithPollingTimeout(15*time.Second)),
		pageLoaded(),
		chromedp.Evaluate(`document.querySelector('form.filters select[name="staff"]').selectedOptions[0].textContent`, &staffPicked))
	if !strings.Contains(unitOpts, "福田区税务局") || !strings.Contains(staffOpts, "李晓东") || strings.Contains(staffOpts, "张丽华") ||
		!strings.Contains(unitNotice, "仅显示单位“福田区税务局”的工单") || staffPicked != "李晓东" {
		t.Errorf("pickers: units %q, staff %q, notice %q, staff picked %q", unitOpts, staffOpts, unitNotice, staffPicked)
	}
	b.screenshot(t, "officer-inbox-pickers")
	today := time.Now().In(calendar.Zone()).Format(time.DateOnly)
	b.run(t, "inbox-filter-date",
		chromedp.Navigate(sys.base+"/#/inbox?level=very_dissatisfied&from="+today+"&to="+today),
		chromedp.WaitVisible(rowOf(caseNo), chromedp.BySearch),
		chromedp.WaitVisible(rowOf(case2), chromedp.BySearch))

	// A saved view outlives a reload (local storage) and takes the filters back.
	var viewHref string
	b.run(t, "inbox-save-view",
		chromedp.SendKeys(`input[name="view_name"]`, "today-bad", chromedp.ByQuery),
		chromedp.Click(`form.saved-views-save button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`a.view-link[data-view="today-bad"]`, chromedp.ByQuery),
		chromedp.Navigate(sys.base+"/#/inbox"),
		chromedp.Reload(),
		chromedp.WaitVisible(`a.view-link[data-view="today-bad"]`, chromedp.ByQuery),
		chromedp.AttributeValue(`a.view-link[data-view="today-bad"]`, "href", &viewHref, nil, chromedp.ByQuery))
	if !strings.Contains(viewHref, "level=very_dissatisfied") || !strings.Contains(viewHref, "from="+today) {
		t.Errorf("the saved view links to %q; want the level and date filters", viewHref)
	}

	// Keyboard: j marks the first row, ? opens the help, Escape closes it.
	var current bool
	var help string
	b.run(t, "inbox-keys",
		chromedp.WaitVisible(rowOf(case2), chromedp.BySearch),
		chromedp.Evaluate(`document.activeElement && document.activeElement.blur(); true`, nil),
		chromedp.KeyEvent("j"),
		chromedp.Evaluate(`!!document.querySelector('tbody tr.row-current:first-child')`, &current),
		chromedp.KeyEvent("?"),
		chromedp.WaitVisible(`dialog.shortcut-help`, chromedp.ByQuery),
		chromedp.Text(`dialog.shortcut-help`, &help, chromedp.ByQuery))
	if !current || !strings.Contains(help, "键盘快捷键") || !strings.Contains(help, "签收选中的工单") {
		t.Errorf("keyboard: first row current %v, help reads %q", current, help)
	}
	b.screenshot(t, "officer-inbox-shortcuts")
	b.run(t, "inbox-keys-close", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotVisible(`dialog.shortcut-help`, chromedp.ByQuery))

	// Bulk sign: the selected order is signed, with its own result row.
	id2 := orderIDOf(t, sys, case2)
	var result, summary string
	b.run(t, "inbox-bulk-sign",
		chromedp.Click(fmt.Sprintf(`tr[data-id=%q] input.row-select`, id2), chromedp.ByQuery),
		chromedp.WaitEnabled(`button[data-bulk="sign"]`, chromedp.ByQuery),
		chromedp.Click(`button[data-bulk="sign"]`, chromedp.ByQuery),
		chromedp.WaitVisible(fmt.Sprintf(`.bulk-results tr[data-id=%q][data-result]`, id2), chromedp.ByQuery),
		chromedp.Text(fmt.Sprintf(`.bulk-results tr[data-id=%q]`, id2), &result, chromedp.ByQuery),
		chromedp.Text(`.bulk-summary`, &summary, chromedp.ByQuery))
	if !strings.Contains(result, "成功") || !strings.Contains(result, case2) || !strings.Contains(summary, "成功 1 件") {
		t.Errorf("bulk sign: row %q, summary %q", result, summary)
	}
	if wo := waitOrderState(t, sys, id2, models.StateSigned); wo.State != models.StateSigned {
		t.Errorf("after bulk sign the order is %s", wo.State)
	}
	b.screenshot(t, "officer-inbox-bulk-signed")
}

// boardBulkEscalation: the supervisor's board is a paged table; selecting an order and
// escalating in bulk raises its supervision level, with a result per row.
func boardBulkEscalation(t *testing.T, b *browser, sys *system, case2 string) {
	t.Helper()
	id2 := orderIDOf(t, sys, case2)
	var result, pagerText string
	b.run(t, "board-bulk-escalate",
		chromedp.Navigate(sys.base+"/#/board?sort=-supervision"),
		chromedp.WaitVisible(fmt.Sprintf(`tr[data-id=%q] input.row-select`, id2), chromedp.ByQuery),
		chromedp.Text(`nav.pager`, &pagerText, chromedp.ByQuery),
		chromedp.Click(fmt.Sprintf(`tr[data-id=%q] input.row-select`, id2), chromedp.ByQuery),
		chromedp.SendKeys(`input[name="bulk_note"]`, "please sign and call back today", chromedp.ByQuery),
		chromedp.Click(`button[data-bulk="escalate"]`, chromedp.ByQuery),
		chromedp.WaitVisible(fmt.Sprintf(`.bulk-results tr[data-id=%q][data-result]`, id2), chromedp.ByQuery),
		chromedp.Text(fmt.Sprintf(`.bulk-results tr[data-id=%q]`, id2), &result, chromedp.ByQuery))
	if !strings.Contains(result, "成功") || !strings.Contains(pagerText, "共") {
		t.Errorf("board bulk escalation: row %q, pager %q", result, pagerText)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		var wo models.WorkOrder
		if err := sys.db.Where("id = ?", id2).First(&wo).Error; err != nil {
			t.Fatal(err)
		}
		if wo.SupervisionLevel >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("after bulk escalation the order's supervision level is %d", wo.SupervisionLevel)
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	b.screenshot(t, "supervisor-board-escalated")
}

// evidenceUpload: the second order goes to rectification (behind the browser's back) and the
// officer attaches a photo of the rectified window on the order page.
func evidenceUpload(t *testing.T, b *browser, sys *system, case2 string) {
	t.Helper()
	id2 := orderIDOf(t, sys, case2)
	sys.act(t, "ft-officer", id2, map[string]any{"action": "callback", "reached": true, "method": "phone", "note": "reached"})
	sys.act(t, "ft-officer", id2, map[string]any{"action": "dispose", "true": true, "reasonable": true, "disposition": "ledger",
		"plan": "second window", "committed_date": time.Now().In(calendar.Zone()).AddDate(0, 0, 3).Format(time.DateOnly)})
	waitOrderState(t, sys, id2, models.StateRectifying)
	photo := filepath.Join(t.TempDir(), "window.png")
	png := []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\x00\x01\x00\x00\x05\x00\x01\r\n-\xb4\x00\x00\x00\x00IEND\xaeB`\x82")
	if err := os.WriteFile(photo, png, 0o644); err != nil {
		t.Fatal(err)
	}
	signIn(t, b, sys.base, "ft-officer")
	var listed string
	b.run(t, "evidence-upload", chromedp.Navigate(sys.base+"/#/orders/"+id2),
		chromedp.WaitVisible(`form.attach-form input[type=file]`, chromedp.ByQuery),
		chromedp.SetUploadFiles(`form.attach-form input[type=file]`, []string{photo}, chromedp.ByQuery),
		chromedp.SendKeys(`form.attach-form input[name="note"]`, "new window open", chromedp.ByQuery),
		chromedp.Click(`form.attach-form button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.attachment-list li .attachment-download`, chromedp.ByQuery),
		chromedp.Text(`.attachment-list`, &listed, chromedp.ByQuery))
	if !strings.Contains(listed, "window.png") || !strings.Contains(listed, "PNG 图片") || !strings.Contains(listed, "new window open") {
		t.Errorf("the evidence list reads %q", listed)
	}
	b.screenshot(t, "officer-order-evidence")
}

// waitOrderState polls the read model until the order reaches state (or 15 s pass).
func waitOrderState(t *testing.T, sys *system, id, state string) models.WorkOrder {
	t.Helper()
	var wo models.WorkOrder
	deadline := time.Now().Add(15 * time.Second)
	for {
		if err := sys.db.Where("id = ?", id).First(&wo).Error; err != nil {
			t.Fatal(err)
		}
		if wo.State == state || time.Now().After(deadline) {
			return wo
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// pageLoaded waits until nothing in main is loading any more (ui.loadInto marks its box
// aria-busy and shows the loading text until the answer is drawn).
func pageLoaded() chromedp.Action {
	return chromedp.Poll(`!document.querySelector('main [aria-busy="true"]') &&
		![...document.querySelectorAll('main p.muted')].some((p) => p.textContent.trim() === '加载中…' || p.textContent.trim() === '加载中...')`,
		nil, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second))
}

// pageWithoutErrors fails when the page shows an error notice (an API failure drawn in place
// of the content).
func pageWithoutErrors(t *testing.T, b *browser, name string) {
	t.Helper()
	var errs []string
	b.run(t, name+"-errors", chromedp.Evaluate(`[...document.querySelectorAll('main .notice-error')].filter((n) => !n.hidden && n.offsetParent !== null && n.textContent.trim() !== '').map((n) => n.textContent)`, &errs))
	if len(errs) != 0 {
		t.Errorf("%s shows errors: %q", name, errs)
	}
}

// noBanners fails when the page shows a banner once the banners have been fetched.
func noBanners(t *testing.T, b *browser, who string) {
	t.Helper()
	var n int
	b.run(t, who+"-banners",
		chromedp.WaitReady(`#banners[data-for]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('#banners .banner').length`, &n))
	if n != 0 {
		t.Errorf("%s sees %d banner(s); only those who can act on a banner see it", who, n)
	}
}

// orderIDOf is the id of the work order opened for the case.
func orderIDOf(t *testing.T, sys *system, caseNo string) string {
	t.Helper()
	var wo models.WorkOrder
	if err := sys.db.Where("case_nos LIKE ?", "%"+caseNo+"%").First(&wo).Error; err != nil {
		t.Fatalf("work order of %s: %v", caseNo, err)
	}
	return wo.ID
}

// act posts an action as login, behind the browser's back (another tab or colleague).
func (s *system) act(t *testing.T, login, orderID string, body map[string]any) {
	t.Helper()
	tok, _, err := s.tokens.Issue(login, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, s.base+"/api/v1/work-orders/"+orderID+"/actions", strings.NewReader(string(b)))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", "e2e-"+orderID+"-"+fmt.Sprint(body["action"]))
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := res.Body.Close(); err != nil {
			t.Errorf("close the action answer: %v", err)
		}
	}()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%s %v on %s: status %d", login, body["action"], orderID, res.StatusCode)
	}
}

// trackLink finds the tracking page of the case's work order from the messages sent to the
// evaluator (the outbox), or answers "" when none came.
func trackLink(t *testing.T, sys *system, caseNo string) string {
	t.Helper()
	var wo models.WorkOrder
	if err := sys.db.Where("case_nos LIKE ?", "%"+caseNo+"%").First(&wo).Error; err != nil {
		t.Fatalf("work order of %s: %v", caseNo, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		tok, err := findTrackToken(sys, wo.ID)
		if errors.Is(err, errNoTracking) {
			return ""
		}
		if err != nil {
			t.Fatalf("tracking token: %v", err)
		}
		if tok != "" {
			res, err := http.Get(sys.base + "/api/v1/track/" + tok)
			if err != nil {
				t.Fatal(err)
			}
			if err := res.Body.Close(); err != nil {
				t.Fatalf("close the tracking answer: %v", err)
			}
			if res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusMethodNotAllowed {
				return ""
			}
			return sys.base + "/#/track/" + tok
		}
		time.Sleep(500 * time.Millisecond)
	}
	return ""
}

var errNoTracking = errors.New("no tracking in this build")

// phoneSMS stands for the evaluator's phone: it keeps the tracking token of the newest SMS of
// each work order (the dispatcher masks the token in the outbox once a message is sent).
type phoneSMS struct {
	mu     sync.Mutex
	tokens map[string]string // work order id + " " + template → token
}

func (p *phoneSMS) Name() string { return "e2e-phone" }

func (p *phoneSMS) Send(_ context.Context, d notify.Delivery) error {
	if l := d.Params["link"]; l != "" {
		if i := strings.LastIndex(l, "/"); i >= 0 {
			p.mu.Lock()
			p.tokens[d.WorkOrderID+" "+d.Template] = l[i+1:]
			p.mu.Unlock()
		}
	}
	return nil
}

func (p *phoneSMS) token(orderID, template string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tokens[orderID+" "+template]
}

// findTrackToken reads the tracking token out of the outbox: the messages to the evaluator
// carry it in their params (the sender turns it into the link).
func findTrackToken(sys *system, workOrderID string) (string, error) {
	if !sys.db.Migrator().HasTable("notifications") {
		return "", errNoTracking
	}
	// The outcome's SMS carries the link that takes feedback (the newest); the callback SMS
	// sent at signing has an earlier one.
	if tok := sys.sms.token(workOrderID, "feedback"); tok != "" {
		return tok, nil
	}
	if sys.sms != nil {
		return "", nil
	}
	var params []string
	if err := sys.db.Table("notifications").Where("work_order_id = ?", workOrderID).Order("created_at DESC").Pluck("params", &params).Error; err != nil {
		return "", err
	}
	for _, p := range params {
		var m map[string]string
		if err := json.Unmarshal([]byte(p), &m); err != nil {
			continue
		}
		if tok := m["token"]; tok != "" && !strings.Contains(tok, "*") { // masked once sent
			return tok, nil
		}
	}
	return "", nil
}

// profileDir is Chromium's profile directory for one test. Not t.TempDir: Chromium's helper
// processes may still write into the profile for a moment after the browser has exited, and
// t.TempDir's single RemoveAll then fails the test ("directory not empty"), as it once did in
// CI after every check had passed. Here the removal is retried until it succeeds or 30 s pass.
func profileDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "redress-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		deadline := time.Now().Add(30 * time.Second)
		for {
			err := os.RemoveAll(dir)
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("remove Chromium's profile %s: %v", dir, err)
				return
			}
			time.Sleep(100 * time.Millisecond) // poll interval of the wait above
		}
	})
	return dir
}
