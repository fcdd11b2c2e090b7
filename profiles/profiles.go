// Package profiles holds the shapes in which ratings, their corrections (补报) and supervision
// (督办) leave Redress for a platform and in which channel systems may send ratings in: the
// national data items of GB/T 39046-2020 (表9 绩效评价, 表11 电子监察) and provincial interfaces
// such as Zhejiang's 办件评价 report. A profile is data, not code: a field map (the platform's
// key, the canonical value it comes from, a code table and a format) and code tables, in JSON.
// The built-in profiles are embedded; a further province is one more JSON file (LoadFile,
// REDRESS_UPSTREAM_PROFILE_FILE), no code.
//
// Values go out as strings (codes as strings, as the platforms' interfaces carry them).
// Formats follow the standard's notation: "an..N" text of at most N characters, "nK" exactly
// K digits, "n..K" at most K digits, "datetime" YYYYMMDDThhmmss in China Standard Time (or
// "datetime:<Go layout>"), "mask" a person's name masked (张*), "list" values through a code
// table joined by commas.
package profiles

import (
	"embed"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"redress/calendar"
	"redress/pii"
)

// Built-in profile names.
const (
	National = "gb39046"
	Zhejiang = "zhejiang"
)

// Kinds of record a profile shapes.
const (
	KindRating      = "rating"
	KindSupplement  = "supplement" // a rating's fields and the supplement's own
	KindSupervision = "supervision"
)

// Field maps one platform key to a canonical value.
type Field struct {
	Key      string `json:"key"`
	From     string `json:"from"`
	Table    string `json:"table,omitempty"`
	Format   string `json:"format"`
	Required bool   `json:"required,omitempty"`
	// InOnly fields are read from a channel's record and never sent (the evaluator's phone
	// and ID number: personal data does not go up).
	InOnly bool `json:"in_only,omitempty"`
}

// Profile is one platform's shape.
type Profile struct {
	Name  string `json:"name"`
	Title string `json:"title"`
	// Envelope: the record travels inside Redress's message (type, message_id, … and
	// "record"); false: the record is the whole body, as a provincial interface expects.
	Envelope bool `json:"envelope"`
	// AnswerID is the dotted path of the platform's id for a rating in its answer.
	AnswerID    string                       `json:"answer_id"`
	Tables      map[string]map[string]string `json:"tables"`
	Rating      []Field                      `json:"rating"`
	Supplement  []Field                      `json:"supplement"`
	Supervision []Field                      `json:"supervision"`
}

// Record is a canonical record: values are string, int, time.Time or []string, by the
// canonical names the profiles' "from" use (case_no, channel, level, rated_at, count, …).
type Record map[string]any

//go:embed *.json
var builtin embed.FS

var (
	mu       sync.RWMutex
	registry = map[string]*Profile{}
)

func init() {
	entries, err := builtin.ReadDir(".")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := builtin.ReadFile(e.Name())
		if err != nil {
			panic(err)
		}
		if _, err := register(b); err != nil {
			panic(fmt.Sprintf("profiles: built-in %s: %v", e.Name(), err))
		}
	}
}

// LoadFile reads and registers a profile from a JSON file (a further province's shape).
func LoadFile(path string) (*Profile, error) {
	b, err := os.ReadFile(path) //nolint:gosec // G304: the operator names the profile file in the configuration; reading it is the point
	if err != nil {
		return nil, fmt.Errorf("profiles: %w", err)
	}
	p, err := register(b)
	if err != nil {
		return nil, fmt.Errorf("profiles: %s: %w", path, err)
	}
	return p, nil
}

func register(b []byte) (*Profile, error) {
	var p Profile
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, err
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	mu.Lock()
	registry[p.Name] = &p
	mu.Unlock()
	return &p, nil
}

// check refuses a profile with an unknown table or format, so that a mistake in a province's
// file shows at start, not in the first push.
func (p *Profile) check() error {
	if p.Name == "" {
		return fmt.Errorf("a profile needs a name")
	}
	for kind, fs := range map[string][]Field{KindRating: p.Rating, KindSupplement: p.Supplement, KindSupervision: p.Supervision} {
		for _, f := range fs {
			if f.Key == "" || f.From == "" {
				return fmt.Errorf("%s: a field needs key and from", kind)
			}
			if f.Table != "" && p.Tables[f.Table] == nil {
				return fmt.Errorf("%s.%s: no code table %q", kind, f.Key, f.Table)
			}
			if _, _, err := parseFormat(f.Format); err != nil {
				return fmt.Errorf("%s.%s: %w", kind, f.Key, err)
			}
		}
	}
	if len(p.Rating) == 0 {
		return fmt.Errorf("a profile needs rating fields")
	}
	return nil
}

// Get answers a registered profile.
func Get(name string) (*Profile, error) {
	mu.RLock()
	defer mu.RUnlock()
	p, ok := registry[name]
	if !ok {
		return nil, fmt.Errorf("profiles: no profile %q (known: %s)", name, strings.Join(namesLocked(), ", "))
	}
	return p, nil
}

// Names lists the registered profiles.
func Names() []string {
	mu.RLock()
	defer mu.RUnlock()
	return namesLocked()
}

func namesLocked() []string {
	out := make([]string, 0, len(registry))
	for n := range registry {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// fields answers the field map of a kind.
func (p *Profile) fields(kind string) ([]Field, error) {
	switch kind {
	case KindRating:
		return p.Rating, nil
	case KindSupplement:
		return append(append([]Field{}, p.Rating...), p.Supplement...), nil
	case KindSupervision:
		return p.Supervision, nil
	}
	return nil, fmt.Errorf("profiles: unknown kind %q", kind)
}

// format kinds
const (
	fText = iota
	fDigits
	fDigitsUpTo
	fDatetime
	fMask
	fList
)

const gbDatetime = "20060102T150405"

func parseFormat(s string) (kind int, arg string, err error) {
	switch {
	case s == "datetime":
		return fDatetime, gbDatetime, nil
	case strings.HasPrefix(s, "datetime:"):
		return fDatetime, strings.TrimPrefix(s, "datetime:"), nil
	case s == "mask":
		return fMask, "", nil
	case s == "list":
		return fList, "", nil
	case strings.HasPrefix(s, "an.."):
		arg = strings.TrimPrefix(s, "an..")
		kind = fText
	case strings.HasPrefix(s, "n.."):
		arg = strings.TrimPrefix(s, "n..")
		kind = fDigitsUpTo
	case strings.HasPrefix(s, "n"):
		arg = strings.TrimPrefix(s, "n")
		kind = fDigits
	default:
		return 0, "", fmt.Errorf("unknown format %q", s)
	}
	if n, err := strconv.Atoi(arg); err != nil || n <= 0 {
		return 0, "", fmt.Errorf("unknown format %q", s)
	}
	return kind, arg, nil
}

// Render shapes a canonical record as the profile's kind: the platform's keys and codes. A
// value the profile's tables do not know, or one that breaks its format, is an error naming
// the key: such a record cannot be sent as it is (the feed parks it with the reason).
func (p *Profile) Render(kind string, rec Record) (map[string]string, error) {
	fs, err := p.fields(kind)
	if err != nil {
		return nil, err
	}
	out := make(map[string]string, len(fs))
	for _, f := range fs {
		if f.InOnly {
			continue
		}
		v, err := p.renderField(f, rec[f.From])
		if err != nil {
			return nil, fmt.Errorf("profile %s, %s %s: %w", p.Name, kind, f.Key, err)
		}
		if v == "" && f.Required {
			return nil, fmt.Errorf("profile %s, %s %s: required (%s)", p.Name, kind, f.Key, f.From)
		}
		out[f.Key] = v
	}
	return out, nil
}

func (p *Profile) renderField(f Field, v any) (string, error) {
	kind, arg, _ := parseFormat(f.Format)
	var s string
	switch x := v.(type) {
	case nil:
	case string:
		s = x
	case int:
		s = strconv.Itoa(x)
	case time.Time:
		if kind != fDatetime {
			return "", fmt.Errorf("a time needs a datetime format")
		}
		if x.IsZero() {
			return "", nil
		}
		return x.In(calendar.Zone()).Format(arg), nil
	case []string:
		if kind != fList {
			return "", fmt.Errorf("a list needs the list format")
		}
		codes := make([]string, 0, len(x))
		for _, e := range x {
			c, err := p.code(f.Table, e)
			if err != nil {
				return "", err
			}
			codes = append(codes, c)
		}
		return strings.Join(codes, ","), nil
	default:
		return "", fmt.Errorf("value of type %T", v)
	}
	if s == "" {
		return "", nil
	}
	if f.Table != "" {
		c, err := p.code(f.Table, s)
		if err != nil {
			return "", err
		}
		s = c
	}
	switch kind {
	case fMask:
		return pii.MaskName(s), nil
	case fDatetime, fList:
		return "", fmt.Errorf("%q is not a %s value", s, f.Format)
	}
	return s, checkFormat(kind, arg, s)
}

func (p *Profile) code(table, v string) (string, error) {
	if table == "" {
		return v, nil
	}
	c, ok := p.Tables[table][v]
	if !ok {
		return "", fmt.Errorf("%q is not in the code table %s", v, table)
	}
	return c, nil
}

// checkFormat checks a rendered or received value against an an/n format.
func checkFormat(kind int, arg, s string) error {
	n, _ := strconv.Atoi(arg)
	switch kind {
	case fText:
		if utf8.RuneCountInString(s) > n {
			return fmt.Errorf("longer than %d characters", n)
		}
	case fDigits, fDigitsUpTo:
		for _, r := range s {
			if r < '0' || r > '9' {
				return fmt.Errorf("%q is not digits", s)
			}
		}
		if kind == fDigits && len(s) != n {
			return fmt.Errorf("%q is not %d digits", s, n)
		}
		if kind == fDigitsUpTo && (len(s) > n || s == "") {
			return fmt.Errorf("%q is not 1–%d digits", s, n)
		}
	}
	return nil
}

// Parse reads a record sent in the profile's kind back to canonical values: codes through the
// tables (where two names share a code, the first in alphabetical order, e.g. 6 → hotline),
// times in China Standard Time, lists split. Numbers may come as JSON numbers or strings.
// Keys the profile does not name are ignored; a required key missing or a code the tables do
// not know is an error naming the key.
func (p *Profile) Parse(kind string, in map[string]any) (Record, error) {
	fs, err := p.fields(kind)
	if err != nil {
		return nil, err
	}
	rec := Record{}
	for _, f := range fs {
		raw, ok := in[f.Key]
		var s string
		switch x := raw.(type) {
		case nil:
			ok = false
		case string:
			s = strings.TrimSpace(x)
		case float64:
			s = strconv.FormatFloat(x, 'f', -1, 64)
		case json.Number:
			s = x.String()
		default:
			return nil, FieldError{Key: f.Key, Reason: fmt.Sprintf("a %T is not a value", raw)}
		}
		if !ok || s == "" {
			if f.Required {
				return nil, FieldError{Key: f.Key, Reason: "required"}
			}
			continue
		}
		kindF, arg, _ := parseFormat(f.Format)
		switch kindF {
		case fDatetime:
			t, err := time.ParseInLocation(arg, s, calendar.Zone())
			if err != nil {
				return nil, FieldError{Key: f.Key, Reason: fmt.Sprintf("not a time in the form %s", arg)}
			}
			rec[f.From] = t.UTC()
		case fList:
			var vals []string
			for _, c := range strings.Split(s, ",") {
				v, err := p.name(f.Table, strings.TrimSpace(c))
				if err != nil {
					return nil, FieldError{Key: f.Key, Reason: err.Error()}
				}
				vals = append(vals, v)
			}
			rec[f.From] = vals
		case fMask:
			rec[f.From] = s
		default:
			if err := checkFormat(kindF, arg, s); err != nil {
				return nil, FieldError{Key: f.Key, Reason: err.Error()}
			}
			v, err := p.name(f.Table, s)
			if err != nil {
				return nil, FieldError{Key: f.Key, Reason: err.Error()}
			}
			rec[f.From] = v
		}
	}
	return rec, nil
}

// name is the reverse of code: the canonical name of a code.
func (p *Profile) name(table, code string) (string, error) {
	if table == "" {
		return code, nil
	}
	var names []string
	for n, c := range p.Tables[table] {
		if c == code {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "", fmt.Errorf("%q is not a code of the table %s", code, table)
	}
	sort.Strings(names)
	return names[0], nil
}

// FieldError is a received value the profile refuses.
type FieldError struct{ Key, Reason string }

func (e FieldError) Error() string { return e.Key + ": " + e.Reason }

// AnswerOf reads the platform's id for a record from its answer (the profile's dotted path);
// "" when the answer carries none.
func (p *Profile) AnswerOf(body []byte) string {
	if p.AnswerID == "" || len(body) == 0 {
		return ""
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return ""
	}
	for _, k := range strings.Split(p.AnswerID, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return ""
		}
		v = m[k]
	}
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}
