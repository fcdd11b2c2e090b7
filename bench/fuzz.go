package bench

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"redress/store"
)

// hostile strings: injection, control characters, invalid UTF-8, bidi overrides, markup,
// format verbs, path traversal, very long text.
var hostile = []string{
	"'; DROP TABLE evaluations; --", `" OR 1=1 --`, "\x00", "a\x00b", "\xff\xfe\xfd", "\u202e\u0645\u0631\u062d\u0628\u0627",
	"<script>alert(1)</script>", "%s%s%s%n", "../../../../etc/passwd", "${jndi:ldap://x/a}", "\U0001F4A9\U0001F525",
	strings.Repeat("长", 5000), strings.Repeat("A", 70000), "-1", "1e309", "NaN", "null", "true", "[]", "{}",
	"sz-ft-tax%", "_", "%", `\`, "C-001\nX-Injected: 1", "\r\n\r\n", "\u0000\u0001\u001f",
}

// wrongTypes are JSON values of every type, to put where another is expected.
var wrongTypes = []string{`1`, `-1.5e300`, `true`, `null`, `"x"`, `[]`, `[1,"a",null]`, `{}`, `{"a":{"b":{"c":[]}}}`, `99999999999999999999999999`}

// fuzzBody makes one hostile request body for a JSON endpoint: every body is wrong in at least
// one way a validator must catch (malformed, wrong type, unknown field, hostile value in a
// checked field, unregistered case, unknown unit), so none may be stored.
func fuzzBody(r *rand.Rand, kind string) []byte {
	str := func() string { return hostile[r.IntN(len(hostile))] }
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	switch r.IntN(9) {
	case 0: // random bytes
		b := make([]byte, r.IntN(4096))
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		return b
	case 1: // truncated JSON
		full := fuzzValid(kind, "FZ-"+fmt.Sprint(r.Int()), str())
		return full[:r.IntN(len(full))]
	case 2: // wrong type for a field
		fields := []string{"evaluation_id", "case_nos", "channel", "levels", "tags", "comment", "rated_at", "evaluator", "case_no", "service_item", "unit", "completed_at", "applicant", "action", "satisfaction"}
		m := map[string]json.RawMessage{}
		_ = json.Unmarshal(fuzzValid(kind, "FZ-"+fmt.Sprint(r.Int()), "x"), &m)
		m[fields[r.IntN(len(fields))]] = json.RawMessage(wrongTypes[r.IntN(len(wrongTypes))])
		b, _ := json.Marshal(m)
		return b
	case 3: // deep nesting
		d := 1000 + r.IntN(100000)
		return []byte(strings.Repeat("[", d) + strings.Repeat("]", d))
	case 4: // unknown field
		b := fuzzValid(kind, "FZ-"+fmt.Sprint(r.Int()), "x")
		return append([]byte(`{"`+fmt.Sprint(r.Int())+`":1,`), b[1:]...)
	case 5: // hostile id
		return fuzzValid(kind, str(), "x")
	case 6: // duplicate keys, with a hostile second value
		b := fuzzValid(kind, "FZ-"+fmt.Sprint(r.Int()), "x")
		return append([]byte(`{"channel":`+q(str())+`,`), b[1:]...)
	case 7: // not an object
		return []byte(wrongTypes[r.IntN(len(wrongTypes))])
	default: // well formed, hostile text, but naming nothing that exists
		return fuzzValid(kind, "FZ-"+fmt.Sprint(r.Int()), str())
	}
}

// fuzzValid is a well-formed body of kind that still cannot be stored: its case or unit does
// not exist. text goes into the free-text fields.
func fuzzValid(kind, id, text string) []byte {
	var v any
	switch kind {
	case "case":
		v = map[string]any{"case_no": id, "service_item": map[string]string{"code": "T01", "name": text}, "unit": "no-such-unit-" + id,
			"channel": "window_device", "completed_at": "2026-01-01T00:00:00Z", "applicant": map[string]string{"name": text, "phone": text}}
	case "evaluation":
		v = map[string]any{"evaluation_id": id, "case_nos": []string{"NOSUCH-" + id}, "channel": "qr_code",
			"levels": map[string]string{"overall": "very_dissatisfied", text: "satisfied"}, "tags": []string{text}, "comment": text,
			"rated_at": "2026-01-01T00:00:00Z", "evaluator": map[string]string{"name": text, "phone": text, "id_number": text}}
	case "bulk":
		var c map[string]any
		_ = json.Unmarshal(fuzzValid("case", id, text), &c)
		v = map[string]any{"cases": []any{c, text}}
	case "bulk_evaluations":
		var e map[string]any
		_ = json.Unmarshal(fuzzValid("evaluation", id, text), &e)
		v = map[string]any{"evaluations": []any{e, text, e}}
	case "action":
		v = map[string]any{"action": text, "note": text, "reached": true, "method": text}
	case "feedback":
		v = map[string]any{"satisfaction": text, "comment": text}
	default:
		v = map[string]any{"login": text}
	}
	b, _ := json.Marshal(v)
	return b
}

// FuzzTarget is one endpoint under fuzz.
type FuzzTarget struct {
	Method, Path, Login, Kind string
}

// fuzzTargets are the public and integration endpoints under fuzz.
var fuzzTargets = []FuzzTarget{
	{"POST", "/api/v1/service-cases", "channel", "case"},
	{"POST", "/api/v1/service-cases/bulk", "channel", "bulk"},
	{"POST", "/api/v1/evaluations", "channel", "evaluation"},
	{"POST", "/api/v1/evaluations/bulk", "channel", "bulk_evaluations"},
	{"POST", "/api/v1/evaluations", "", "evaluation"}, // no token
	{"POST", "/api/v1/work-orders/%s/actions", "ft-officer", "action"},
	{"POST", "/api/v1/track/%s/feedback", "", "feedback"},
	{"POST", "/api/v1/auth/demo-login", "", "login"},
	{"GET", "/api/v1/track/%s", "", ""},
	{"GET", "/api/v1/public/results?month=%s", "", ""},
	{"GET", "/api/v1/work-orders?state=%s&q=%s&page=%s&page_size=%s", "ft-officer", ""},
	{"GET", "/api/v1/work-orders/%s", "ft-officer", ""},
	{"GET", "/api/v1/calendar/deadline?from=%s&budget=%s&unit=%s", "ft-officer", ""},
}

// Fuzz sends n hostile requests to the public and integration endpoints of the system at base
// and returns the problems found: any 5xx, any 4xx not in the error shape, any 2xx to a body
// that must be refused. Tokens maps logins to bearer tokens.
func Fuzz(ctx context.Context, base string, tokens map[string]string, n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, 9))
	targets := fuzzTargets
	c := Client()
	var problems []string
	for i := 0; i < n && ctx.Err() == nil; i++ {
		t := targets[r.IntN(len(targets))]
		path := t.Path
		for strings.Contains(path, "%s") {
			s := hostile[r.IntN(len(hostile))]
			if len(s) > 2000 {
				s = s[:2000]
			}
			path = strings.Replace(path, "%s", urlEscape(s), 1)
		}
		var body []byte
		huge := false
		if t.Method == "POST" {
			if r.IntN(40) == 0 {
				// Over the 1 MB body limit: must be 413, not read to the end.
				body = append(append([]byte(`{"comment":"`), []byte(strings.Repeat("x", 2<<20))...), `"}`...)
				// A URL with NUL or invalid UTF-8 is refused (422 invalid_text) before the body
				// is read, which is as clean as 413; only a clean URL must meet the body limit.
				huge = cleanURL(path)
			} else {
				body = fuzzBody(r, t.Kind)
			}
		}
		var st int
		var raw []byte
		var err error
		if body != nil {
			st, raw, err = Do(ctx, c, t.Method, base+path, tokens[t.Login], body)
		} else {
			st, raw, err = Do(ctx, c, t.Method, base+path, tokens[t.Login], nil)
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s %s: %v", t.Method, trunc([]byte(path)), err))
			continue
		}
		if (t.Kind == "bulk" || t.Kind == "bulk_evaluations") && st == 200 {
			// The bulk forms answer each item on its own: 200 is clean when none was stored.
			var res struct {
				Summary struct{ Created, Unchanged, Failed int } `json:"summary"`
			}
			if json.Unmarshal(raw, &res) != nil || res.Summary.Created+res.Summary.Unchanged != 0 || res.Summary.Failed == 0 {
				problems = append(problems, fmt.Sprintf("POST bulk body %q: answered %s", trunc(body), trunc(raw)))
			}
			continue
		}
		if p := checkAnswer(t.Method, st, raw, huge); p != "" {
			problems = append(problems, fmt.Sprintf("%s %s body %q: %s", t.Method, trunc([]byte(path)), trunc(body), p))
		}
		if len(problems) > 20 {
			break
		}
	}
	return problems
}

// cleanURL: the unescaped path and query hold no NUL and are valid UTF-8.
func cleanURL(path string) bool {
	u, err := url.PathUnescape(path)
	return err == nil && utf8.ValidString(u) && !strings.ContainsRune(u, 0)
}

func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// checkAnswer: a refused write is a 4xx in API.md's error shape; a read may answer 200 (a
// hostile search is still a search) but never 5xx; a 4xx always has the shape.
func checkAnswer(method string, st int, raw []byte, huge bool) string {
	if st >= 500 {
		return fmt.Sprintf("answered %d: %s", st, trunc(raw))
	}
	if huge && st != 413 {
		return fmt.Sprintf("a body over the limit answered %d, want 413", st)
	}
	if st < 400 {
		if method == "POST" {
			return fmt.Sprintf("a body that must be refused answered %d: %s", st, trunc(raw))
		}
		return ""
	}
	var e struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(raw, &e); err != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
		return fmt.Sprintf("answered %d not in the error shape: %s", st, trunc(raw))
	}
	for _, ch := range e.Error.Code {
		if (ch < 'a' || ch > 'z') && ch != '_' && (ch < '0' || ch > '9') {
			return fmt.Sprintf("error code %q is not snake_case", e.Error.Code)
		}
	}
	return ""
}

// Checksum fingerprints the stored data fuzzing must not change: every row of the tables that
// hold ratings, cases, orders, their timelines, units and users (not the audit log, which
// records the refused requests by design).
func Checksum(ctx context.Context, databaseURL string) (string, error) {
	db, err := store.Open(ctx, databaseURL)
	if err != nil {
		return "", err
	}
	defer func() { _ = db.Close() }() // reads, or writes already committed: a close error loses nothing
	h := sha256.New()
	for _, q := range []string{
		"SELECT id || '|' || evaluation_id || '|' || comment || '|' || COALESCE(work_order_id, '') FROM evaluations ORDER BY id",
		"SELECT evaluation_id || '|' || case_no FROM evaluation_cases ORDER BY evaluation_id, case_no",
		"SELECT id || '|' || case_no || '|' || item_name FROM service_cases ORDER BY id",
		"SELECT id || '|' || state || '|' || CAST(version AS TEXT) FROM work_orders ORDER BY id",
		"SELECT id FROM timeline_events ORDER BY id",
		"SELECT code || '|' || name || '|' || path FROM units ORDER BY code",
		"SELECT login || '|' || name FROM users ORDER BY login",
	} {
		var rows []string
		if err := db.WithContext(ctx).Raw(q).Scan(&rows).Error; err != nil {
			return "", fmt.Errorf("checksum: %s: %w", q, err)
		}
		_, _ = fmt.Fprintf(h, "%s:%d\n", q, len(rows)) // a hash.Hash never fails to write
		for _, r := range rows {
			_, _ = fmt.Fprintln(h, r) // a hash.Hash never fails to write
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// RunFuzz measures point 6 on `redress dev` (SQLite) with one work order present.
func RunFuzz(ctx context.Context, o Options, n int) error {
	p, dev, dbURL, err := startFreshDev(ctx, o, "fuzz")
	if err != nil {
		return err
	}
	defer p.Stop()
	problems, checked, err := FuzzSystem(ctx, p.Base, dbURL, dev.Keys, n)
	if err != nil {
		return err
	}
	if len(problems) > 0 {
		o.Report.Add("fuzz: %d hostile requests: %d PROBLEMS: %s", n, len(problems), summarise(problems))
		return fmt.Errorf("fuzz: %d problems", len(problems))
	}
	o.Report.Add("fuzz: %d hostile requests (malformed, random bytes, 2 MB bodies, deep nesting, wrong types, hostile strings) to %d endpoint targets (public and integration; one also without a token): every one a clean answer (4xx in the error shape; searches 200), stored data unchanged (%s)", n, len(fuzzTargets), checked)
	return nil
}

// FuzzSystem seeds one case and one bad rating, fingerprints the data, fuzzes, and checks the
// fingerprint again. It returns the problems and a description of what was compared.
func FuzzSystem(ctx context.Context, base, dbURL string, keys Keys, n int) ([]string, string, error) {
	cases, err := SeedCases(ctx, dbURL, "FZC", 10, []string{"sz-ft-tax"})
	if err != nil {
		return nil, "", err
	}
	tokens := map[string]string{}
	for _, l := range []string{"channel", "ft-officer"} {
		tokens[l], _ = keys.Token(l)
	}
	if st, body, err := Do(ctx, Client(), "POST", base+"/api/v1/evaluations", tokens["channel"], Rating("FZ-seed", cases[0], true)); err != nil || st != 201 {
		return nil, "", fmt.Errorf("fuzz seed rating: %d %s %v", st, body, err)
	}
	// Let the seeded order settle (dispatch writes the read-model) before fingerprinting.
	if err := waitQuiet(ctx, dbURL); err != nil {
		return nil, "", err
	}
	before, err := Checksum(ctx, dbURL)
	if err != nil {
		return nil, "", err
	}
	problems := Fuzz(ctx, base, tokens, n, uint64(os.Getpid()))
	after, err := Checksum(ctx, dbURL)
	if err != nil {
		return nil, "", err
	}
	if before != after {
		problems = append(problems, fmt.Sprintf("stored data changed: checksum %s → %s", before[:12], after[:12]))
	}
	return problems, "sha256 of evaluations, case links, service cases, work orders, timelines, units and users: " + before[:12], nil
}

// waitQuiet waits until the work orders' read-model stops changing (the seeded order's
// workflow has dispatched it).
func waitQuiet(ctx context.Context, dbURL string) error {
	db, err := store.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // reads, or writes already committed: a close error loses nothing
	for i := 0; i < 300; i++ {
		var n int64
		if err := db.WithContext(ctx).Table("work_orders").Where("state = ?", "dispatched").Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			time.Sleep(time.Second) // the timeline and deadline writes that follow dispatch
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("fuzz seed order not dispatched")
}
