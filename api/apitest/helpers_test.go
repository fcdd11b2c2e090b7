package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	sdkworker "go.temporal.io/sdk/worker"

	"redress/api"
	"redress/auth"
	"redress/authz"
	"redress/calendar/calendardb"
	"redress/engine"
	"redress/intake"
	"redress/models"
	"redress/orgfile"
	"redress/pii"
	"redress/signing"
	"redress/store"
	"redress/web"
	"redress/worker"
)

// Token settings of the test deployment.
var (
	testKey      = []byte("apitest-signing-key-0123456789abcdef")
	testIssuer   = "redress"
	testAudience = "redress-api"
)

// The evaluator of every rating the tests post; the raw phone must never appear in an answer.
const (
	evaluatorName  = "张三"
	evaluatorPhone = "13812341234"
	evaluatorID    = "440301199001011234"
)

// env is one complete server: a migrated database with the demo organisation, a worker on a
// queue of its own, the intake and the API behind an httptest server.
type env struct {
	db      *store.DB
	srv     *api.Server
	pol     *authz.Store
	http    *httptest.Server
	issuer  *auth.Issuer
	box     *pii.Box
	signer  *signing.Signer
	queue   string
	starter *engine.Starter // the real starter on queue (also when the intake uses another)
	tokens  map[string]string
}

type envOptions struct {
	starter   intake.Starter // the intake's starter; nil means the engine's on the env's queue
	bodyLimit string
	oidc      *auth.OIDC       // sign-in through an OIDC provider (issue 6); nil: not configured
	dev       bool             // the dev sign-in routes (demo users)
	now       func() time.Time // the clock of the banners; nil: time.Now
	// limits are the server's rate limits; nil sets them so high that the many requests of
	// one test from one address are never limited (hardening_test sets low ones).
	limits       *api.Limits
	metricsToken string // the bearer token /metrics requires; empty: none
	// temporalUIOrigins may call the payload codec endpoint cross-origin.
	temporalUIOrigins []string
}

var queueUnsafe = regexp.MustCompile(`[^A-Za-z0-9]+`)

func newEnv(t *testing.T, db *store.DB, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	if _, err := orgfile.Apply(ctx, db, orgfile.Demo()); err != nil {
		t.Fatalf("apply demo organisation: %v", err)
	}
	if _, err := calendardb.EnsureShipped(ctx, db); err != nil {
		t.Fatalf("load the shipped calendar: %v", err)
	}
	box := testBox // the keys of the Temporal client's payload codec too
	issuer, err := auth.NewIssuer(testKey, testIssuer, testAudience)
	if err != nil {
		t.Fatal(err)
	}
	signer, _, err := signing.Generate(true) // SM2: publications are signed (issue 21)
	if err != nil {
		t.Fatal(err)
	}
	// The route policy from the database, reloaded on edits by any server on it (issue 6).
	ps, err := authz.Open(ctx, db.DB)
	if err != nil {
		t.Fatal(err)
	}
	wctx, stopWatch := context.WithCancel(ctx)
	t.Cleanup(stopWatch)
	go ps.Watch(wctx, 100*time.Millisecond)
	queue := "apitest-" + strings.Trim(queueUnsafe.ReplaceAllString(t.Name(), "-"), "-") + "-" + uuid.NewString()[:8]
	w := sdkworker.New(temporalClient, queue, sdkworker.Options{})
	worker.Register(w, worker.NewActivities(db))
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}
	t.Cleanup(w.Stop)

	starter := &engine.Starter{Client: temporalClient, TaskQueue: queue, DB: db}
	var is intake.Starter = starter
	if o.starter != nil {
		is = o.starter
	}
	now := time.Now
	if o.now != nil {
		now = o.now
	}
	reg := prometheus.NewRegistry()
	limits := api.Limits{Anonymous: 1e6, AnonymousBurst: 1e6, SignIn: 1e6, SignInBurst: 1e6}
	if o.limits != nil {
		limits = *o.limits
	}
	srv := api.New(api.Deps{
		Limits:            limits,
		MetricsToken:      o.metricsToken,
		TemporalUIOrigins: o.temporalUIOrigins,
		DB:                db,
		Temporal:          temporalClient,
		Tokens:            issuer,
		Enforcer:          ps.Enforcer(),
		Policies:          ps,
		OIDC:              o.oidc,
		Dev:               o.dev,
		PII:               box,
		Signer:            signer,
		Intake:            &intake.Service{DB: db, PII: box, Starter: is},
		Registry:          reg,
		Gatherer:          reg,
		Web:               web.FS,
		Calendars:         calendardb.NewCache(db, 0),
		Banners:           api.CalendarBanners(db, now),
		BodyLimit:         o.bodyLimit,
	})
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &env{pol: ps, db: db, srv: srv, http: hs, issuer: issuer, box: box, signer: signer, queue: queue, starter: starter, tokens: map[string]string{}}
}

// token returns a valid token of login.
func (e *env) token(t *testing.T, login string) string {
	t.Helper()
	if tok, ok := e.tokens[login]; ok {
		return tok
	}
	tok, _, err := e.issuer.Issue(login, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	e.tokens[login] = tok
	return tok
}

// request describes one HTTP call.
type request struct {
	method, path string
	login        string // signs in as this user (a fresh valid token)
	auth         string // the raw Authorization header, when login is empty
	body         any    // marshalled as JSON unless []byte or string
	contentType  string // default application/json when there is a body
	chunked      bool   // send the body without Content-Length
	header       map[string]string
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// decode reads the JSON answer into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r, err)
	}
}

// do sends the request. Every answer must carry an X-Request-Id.
func (e *env) do(t *testing.T, rq request) response {
	t.Helper()
	var body io.Reader
	if rq.body != nil {
		var b []byte
		switch v := rq.body.(type) {
		case []byte:
			b = v
		case string:
			b = []byte(v)
		default:
			var err error
			if b, err = json.Marshal(v); err != nil {
				t.Fatal(err)
			}
		}
		if rq.chunked {
			body = io.MultiReader(bytes.NewReader(b)) // no Len: sent chunked
		} else {
			body = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequest(rq.method, e.http.URL+rq.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if rq.body != nil {
		ct := rq.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	switch {
	case rq.login != "":
		req.Header.Set("Authorization", "Bearer "+e.token(t, rq.login))
	case rq.auth != "":
		req.Header.Set("Authorization", rq.auth)
	}
	for k, v := range rq.header {
		req.Header.Set(k, v)
	}
	res, err := e.http.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.path, err)
	}
	defer func() {
		if err := res.Body.Close(); err != nil {
			t.Errorf("close the answer: %v", err)
		}
	}()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := response{status: res.StatusCode, header: res.Header, body: b}
	if res.Header.Get("X-Request-Id") == "" {
		t.Errorf("%s %s answered %d without X-Request-Id", rq.method, rq.path, res.StatusCode)
	}
	checkContract(t, req, out)
	return out
}

// wantStatus fails unless the answer has the status.
func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("want status %d, got %s", status, r)
	}
}

// wantError checks status and API.md's error shape exactly:
// {"error": {"code": …, "message": …, "field": optional}} and nothing else.
func wantError(t *testing.T, r response, status int, code, field string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("want status %d (%s), got %s", status, code, r)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error content type %q", ct)
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &top); err != nil {
		t.Fatalf("error body is not a JSON object: %s", r)
	}
	if len(top) != 1 || top["error"] == nil {
		t.Fatalf("error body must hold exactly \"error\": %s", r)
	}
	var detail map[string]any
	if err := json.Unmarshal(top["error"], &detail); err != nil {
		t.Fatalf("error is not an object: %s", r)
	}
	for k := range detail {
		if k != "code" && k != "message" && k != "field" {
			t.Errorf("unexpected key %q in error: %s", k, r)
		}
	}
	c, _ := detail["code"].(string)
	m, _ := detail["message"].(string)
	f, hasField := detail["field"].(string)
	if c != code {
		t.Errorf("want code %q, got %s", code, r)
	}
	if !regexp.MustCompile(`^[a-z][a-z0-9_]*$`).MatchString(c) {
		t.Errorf("code %q is not snake_case", c)
	}
	if m == "" {
		t.Errorf("empty message: %s", r)
	}
	if field != f || (field == "" && hasField) {
		t.Errorf("want field %q, got %s", field, r)
	}
}

// Fixtures.

func caseBody(caseNo, unit, staff string, completed time.Time) map[string]any {
	b := map[string]any{
		"case_no":      caseNo,
		"service_item": map[string]any{"code": "tax-001", "name": "增值税发票领用"},
		"unit":         unit,
		"channel":      "window_device",
		"completed_at": completed.Format(time.RFC3339Nano),
		"applicant":    map[string]any{"name": "李四", "phone": "13900001111", "id_number": "440301198001001111"},
	}
	if staff != "" {
		b["staff"] = staff
	}
	return b
}

func evalBody(id string, caseNos []string, overall string, ratedAt time.Time) map[string]any {
	return map[string]any{
		"evaluation_id": id,
		"case_nos":      caseNos,
		"channel":       "mobile",
		"levels":        map[string]any{"overall": overall, "attitude": overall},
		"tags":          []string{"等候时间长"},
		"comment":       "窗口排队两个小时",
		"rated_at":      ratedAt.Format(time.RFC3339Nano),
		"evaluator":     map[string]any{"name": evaluatorName, "phone": evaluatorPhone, "id_number": evaluatorID},
	}
}

// uniq makes a key unique to this run (case numbers and evaluation ids live in one database
// per test, but keeping them distinct makes failures easier to read).
func uniq(prefix string) string { return prefix + "-" + uuid.NewString()[:8] }

// postCase registers a case completed an hour ago and fails unless it is created.
func (e *env) postCase(t *testing.T, caseNo, unit, staff string) {
	t.Helper()
	r := e.do(t, request{method: "POST", path: "/api/v1/service-cases", login: "channel",
		body: caseBody(caseNo, unit, staff, time.Now().Add(-time.Hour))})
	wantStatus(t, r, http.StatusCreated)
}

type evalResult struct {
	ID          string  `json:"id"`
	Bad         bool    `json:"bad"`
	WorkOrderID *string `json:"work_order_id"`
}

// postEval submits an evaluation and fails unless it is created.
func (e *env) postEval(t *testing.T, body map[string]any) evalResult {
	t.Helper()
	r := e.do(t, request{method: "POST", path: "/api/v1/evaluations", login: "channel", body: body})
	wantStatus(t, r, http.StatusCreated)
	var res evalResult
	r.decode(t, &res)
	return res
}

// badOrder registers a case of unit (staff optional) and rates it very dissatisfied; it
// returns the case number and the work order id.
func (e *env) badOrder(t *testing.T, unit, staff string) (caseNo, orderID string) {
	t.Helper()
	caseNo = uniq("C")
	e.postCase(t, caseNo, unit, staff)
	res := e.postEval(t, evalBody(uniq("E"), []string{caseNo}, models.VeryDissatisfied, time.Now()))
	if !res.Bad || res.WorkOrderID == nil {
		t.Fatalf("bad rating answered %+v", res)
	}
	return caseNo, *res.WorkOrderID
}

// order reads a work order's row.
func (e *env) order(t *testing.T, id string) models.WorkOrder {
	t.Helper()
	var wo models.WorkOrder
	if err := e.db.Where("id = ?", id).First(&wo).Error; err != nil {
		t.Fatalf("work order %s: %v", id, err)
	}
	return wo
}

// waitState polls the read-model until the order reaches state.
func (e *env) waitState(t *testing.T, id, state string) models.WorkOrder {
	t.Helper()
	var wo models.WorkOrder
	eventually(t, 15*time.Second, func() (bool, string) {
		wo = e.order(t, id)
		return wo.State == state, fmt.Sprintf("work order %s is %q, want %q", id, wo.State, state)
	})
	return wo
}

func (e *env) count(t *testing.T, table, where string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.db.Table(table).Where(where, args...).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// eventually polls f until it reports done or the timeout passes.
func eventually(t *testing.T, timeout time.Duration, f func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := f()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// orderView is the part of a work order answer the tests read.
type orderView struct {
	ID             string `json:"id"`
	EvaluationID   string `json:"evaluation_id"`
	State          string `json:"state"`
	Unit           *struct{ Code, Name string }
	CaseNos        []string          `json:"case_nos"`
	Levels         map[string]string `json:"levels"`
	Evaluator      *struct{ Name, Phone string }
	AllowedActions []string   `json:"allowed_actions"`
	StaffName      *string    `json:"staff_name"`
	Channel        string     `json:"channel"`
	RatedAt        *time.Time `json:"rated_at"`
	ServiceName    *string    `json:"service_name"`
}

type listView struct {
	Items    []orderView `json:"items"`
	Total    int64       `json:"total"`
	Page     int         `json:"page"`
	PageSize int         `json:"page_size"`
}

type eventView struct {
	At        time.Time      `json:"at"`
	Actor     string         `json:"actor"`
	ActorName string         `json:"actor_name"`
	Type      string         `json:"type"`
	Data      map[string]any `json:"data"`
}

func (e *env) list(t *testing.T, login, query string) listView {
	t.Helper()
	r := e.do(t, request{method: "GET", path: "/api/v1/work-orders" + query, login: login})
	wantStatus(t, r, http.StatusOK)
	var l listView
	r.decode(t, &l)
	return l
}

func (e *env) timeline(t *testing.T, login, id string) []eventView {
	t.Helper()
	r := e.do(t, request{method: "GET", path: "/api/v1/work-orders/" + id + "/timeline", login: login})
	wantStatus(t, r, http.StatusOK)
	var evs []eventView
	r.decode(t, &evs)
	return evs
}

func ids(l listView) []string {
	out := make([]string, len(l.Items))
	for i, o := range l.Items {
		out[i] = o.ID
	}
	return out
}
