package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	notify "redress/notify/message"
	"redress/scheme"
)

// catalogue is the one file allowed to hold Chinese text.
const catalogue = "assets/i18n/zh-CN.js"

// Chinese characters, and CJK punctuation and full-width forms, which only belong in catalogues.
var cjk = regexp.MustCompile(`[\p{Han}\x{3000}-\x{303F}\x{FF00}-\x{FFEF}]`)

var (
	// import … from './x.js', import './x.js', export … from './x.js', import('./x.js')
	importRe = regexp.MustCompile(`(?m)(?:^\s*(?:import|export)\b[^'"]*?\bfrom\s*|^\s*import\s*|\bimport\(\s*)['"]([^'"]+)['"]`)
	// src= and href= attributes of index.html
	htmlRefRe = regexp.MustCompile(`(?:src|href)="([^"]+)"`)
	// 'key': 'text', lines of the catalogue
	keyRe = regexp.MustCompile(`(?m)^\s*'([A-Za-z0-9_.]+)':\s*'`)
	// t('literal.key' — calls with a constant key
	tCallRe = regexp.MustCompile(`\bt\(\s*'([A-Za-z0-9_.]+)'\s*[,)]`)
	// any 'a.b' string literal: a key when its first part is one of the catalogue's prefixes
	keyLikeRe = regexp.MustCompile(`'([a-z_]+(?:\.[A-Za-z0-9_]+)+)'`)
)

func files(t *testing.T, ext string) []string {
	t.Helper()
	var out []string
	err := fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ext) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func read(t *testing.T, p string) string {
	t.Helper()
	b, err := fs.ReadFile(FS, p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestIndexAtRoot(t *testing.T) {
	html := read(t, "index.html")
	if !strings.Contains(html, `type="module"`) {
		t.Error("index.html loads no ES module")
	}
	for _, m := range htmlRefRe.FindAllStringSubmatch(html, -1) {
		ref := m[1]
		if strings.HasPrefix(ref, "data:") {
			continue
		}
		if !strings.HasPrefix(ref, "/assets/") {
			t.Errorf("index.html refers to %q: want a local /assets/ path (no CDN, absolute for the SPA fallback)", ref)
			continue
		}
		if _, err := fs.Stat(FS, strings.TrimPrefix(ref, "/")); err != nil {
			t.Errorf("index.html refers to %q, which is not in FS", ref)
		}
	}
}

func TestImportsResolve(t *testing.T) {
	n := 0
	for _, f := range files(t, ".js") {
		for _, m := range importRe.FindAllStringSubmatch(read(t, f), -1) {
			spec := m[1]
			var target string
			switch {
			case strings.HasPrefix(spec, "./"), strings.HasPrefix(spec, "../"):
				target = path.Join(path.Dir(f), spec)
			case strings.HasPrefix(spec, "/"):
				target = strings.TrimPrefix(spec, "/")
			default:
				t.Errorf("%s imports %q: only relative or absolute local paths are allowed", f, spec)
				continue
			}
			n++
			if _, err := fs.Stat(FS, target); err != nil {
				t.Errorf("%s imports %q, but %s is not in FS", f, spec, target)
			}
		}
	}
	if n < 10 {
		t.Errorf("found only %d imports: is the import pattern still right?", n)
	}
}

func TestChineseOnlyInCatalogue(t *testing.T) {
	checked := 0
	err := fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == catalogue {
			return err
		}
		checked++
		b, err := fs.ReadFile(FS, p)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(b), "\n") {
			if cjk.MatchString(line) {
				t.Errorf("%s:%d holds Chinese text; move it to %s: %s", p, i+1, catalogue, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The Go sources of this package follow the same rule.
	gos, _ := filepath.Glob("*.go")
	for _, g := range gos {
		b, err := os.ReadFile(g)
		if err != nil {
			t.Fatal(err)
		}
		if cjk.Match(b) {
			t.Errorf("%s holds Chinese text", g)
		}
	}
	if checked < 5 {
		t.Errorf("checked only %d files", checked)
	}
	if !cjk.MatchString(read(t, catalogue)) {
		t.Errorf("%s holds no Chinese: is it the zh-CN catalogue?", catalogue)
	}
}

// templateCodes are the codes of the notification templates (notify.Templates).
func templateCodes() []string {
	out := make([]string, 0, len(notify.Templates))
	for k := range notify.Templates {
		out = append(out, k)
	}
	return out
}

func TestMessageKeysExist(t *testing.T) {
	keys := map[string]bool{}
	for _, m := range keyRe.FindAllStringSubmatch(read(t, catalogue), -1) {
		if keys[m[1]] {
			t.Errorf("catalogue key %q defined twice", m[1])
		}
		keys[m[1]] = true
	}
	prefixes := map[string]bool{}
	for k := range keys {
		first, _, _ := strings.Cut(k, ".")
		prefixes[first] = true
	}
	if len(keys) < 100 {
		t.Fatalf("read only %d catalogue keys", len(keys))
	}
	// Keys built from a prefix and a code must cover the codes of API.md.
	for prefix, codes := range map[string][]string{
		"state":    {"pending_dispatch", "dispatched", "returned", "signed", "called_back", "rectifying", "appealing", "reviewing", "feedback", "closed"},
		"level":    {"very_satisfied", "satisfied", "basically_satisfied", "dissatisfied", "very_dissatisfied"},
		"role":     {"officer", "unit_leader", "administrator", "supervisor", "auditor", "integration", "sysadmin"},
		"deadline": {"sign", "callback", "rectify", "appeal_decision", "review", "feedback"},
		// Every action of the server's table (scheme.Actions) has a label.
		"action":        scheme.Actions(),
		"disposition":   {"rectify_now", "ledger", "explain", "appeal", "appeal_draft"},
		"method":        {"phone", "sms", "visit"},
		"appeal_reason": {"mistaken", "malicious"},
		"channel":       {"window_device", "qr_code", "pc", "mobile", "terminal", "hotline", "sms", "default"},
		// Every message template is named in the notification centre, never by its code.
		"notice.template": templateCodes(),
	} {
		for _, c := range codes {
			if !keys[prefix+"."+c] {
				t.Errorf("catalogue lacks %s.%s", prefix, c)
			}
		}
	}
	for _, f := range files(t, ".js") {
		if f == catalogue {
			continue
		}
		src := read(t, f)
		for _, m := range tCallRe.FindAllStringSubmatch(src, -1) {
			if !keys[m[1]] {
				t.Errorf("%s uses message %q, which the catalogue lacks", f, m[1])
			}
		}
		for _, ix := range keyLikeRe.FindAllStringSubmatchIndex(src, -1) {
			lit := src[ix[2]:ix[3]]
			before := strings.TrimRight(src[:ix[0]], " ")
			// h('tag.class') selectors and label('prefix', code) prefixes are not keys.
			if strings.HasSuffix(before, "h(") || strings.HasSuffix(before, "label(") {
				continue
			}
			first, _, _ := strings.Cut(lit, ".")
			if prefixes[first] && !keys[lit] {
				t.Errorf("%s names message %q, which the catalogue lacks", f, lit)
			}
		}
	}
}

func TestHandler(t *testing.T) {
	srv := httptest.NewServer(Handler())
	defer srv.Close()
	for _, c := range []struct {
		path, status, ctype, body string
	}{
		{"/", "200", "text/html", `<script type="module"`},
		{"/orders/abc", "200", "text/html", `<script type="module"`},
		{"/assets/js/main.js", "200", "javascript", "import"},
		{"/assets/css/app.css", "200", "text/css", ":root"},
		{"/assets/js/missing.js", "404", "", ""},
		{"/api/v1/nothing", "404", "", ""},
	} {
		res, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		if err := res.Body.Close(); err != nil {
			t.Fatalf("close the answer: %v", err)
		}
		if got := res.Status[:3]; got != c.status {
			t.Errorf("%s: status %s, want %s", c.path, got, c.status)
		}
		if !strings.Contains(res.Header.Get("Content-Type"), c.ctype) {
			t.Errorf("%s: Content-Type %q, want %q", c.path, res.Header.Get("Content-Type"), c.ctype)
		}
		if !strings.Contains(string(b), c.body) {
			t.Errorf("%s: body lacks %q", c.path, c.body)
		}
	}
}
