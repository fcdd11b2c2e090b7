// Package orgfile reads, validates and applies the organisation file of API.md ("Organisation
// file"): the unit tree, staff, users with their roles, and the per-subtree policies. Parse is
// strict (unknown fields, dangling references, cycles, bad budgets and values are refused with
// an error naming the offending entry); Apply upserts a parsed file into the database in one
// short transaction, idempotently, so `redress import` may run while `redress dev` uses the same
// SQLite file. Demo returns the embedded demonstration organisation (demo.json) that
// `redress dev` seeds on first start.
package orgfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"redress/calendar"
	"redress/models"
	"redress/scheme"
	"redress/scheme/indicators"
)

// File is a parsed organisation file.
type File struct {
	Units    []Unit   `json:"units"`
	Staff    []Staff  `json:"staff"`
	Users    []User   `json:"users"`
	Policies []Policy `json:"policies"`
	// Indicators are the jurisdictions' own indicator catalogues (package indicators): one per
	// unit at most, for the unit's subtree, the nearest one winning; units under none use the
	// default catalogue.
	Indicators []Catalogue `json:"indicators,omitempty"`
}

// Catalogue is a unit's indicator catalogue as the file gives it; applying it replaces the
// unit's whole catalogue (overall is implied when left out).
type Catalogue struct {
	Unit       string                 `json:"unit"`
	Indicators []indicators.Indicator `json:"indicators"`
}

// Unit is one organisation. Parent is the code of its parent unit (nil or "" for a root); a
// parent may appear anywhere in the file. Kind defaults to "department".
type Unit struct {
	Code   string  `json:"code"`
	Name   string  `json:"name"`
	Parent *string `json:"parent"`
	Kind   string  `json:"kind,omitempty"`
	// DivisionCode is the unit's 9-digit 行政区划代码 and Level its 行使层级 (GB/T 39046-2020
	// A.2, 1 国家级 … 7 村/社区), the national data items the upstream push speaks (issue 21).
	DivisionCode string `json:"division_code,omitempty"`
	Level        int    `json:"level,omitempty"`
}

// ParentCode returns the parent's code, "" for a root.
func (u Unit) ParentCode() string {
	if u.Parent == nil {
		return ""
	}
	return *u.Parent
}

// Staff is a member of a unit who handles service cases.
type Staff struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Unit string `json:"unit"`
}

// User is someone who signs in. Roles replace the user's role assignments when applied (an
// empty list removes them all); users absent from the file are left alone.
type User struct {
	Login string `json:"login"`
	Name  string `json:"name"`
	Roles []Role `json:"roles"`
}

// Role is one role held on one unit.
type Role struct {
	Role string `json:"role"`
	Unit string `json:"unit"`
}

// Policy is the policy of a unit's subtree: the unit's code plus the fields of
// models.PolicyDoc (deadlines, rating_window, late_upload_grace, default_level, remind_before,
// reopen_limit, follow_up_limit).
type Policy struct {
	Unit string `json:"unit"`
	models.PolicyDoc
}

// DeadlineNames lists the deadlines a policy may set (API.md).
var DeadlineNames = scheme.Stages

// DefaultKind is the kind of a unit that names none.
const DefaultKind = "department"

var (
	codeRE = regexp.MustCompile(`^[a-z0-9-]+$`)
	kindRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)
	// divisionRE: 6 digits of GB/T 2260 and 3 of the township (乡镇街道) level.
	divisionRE = regexp.MustCompile(`^[0-9]{9}$`)
	idRE       = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

// maxErrors bounds how many problems one Parse reports.
const maxErrors = 20

// Load opens and parses the organisation file at path.
func Load(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close() //nolint:errcheck // opened read-only and fully parsed before Close
	f, err := Parse(fh)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse reads an organisation file and validates it (see Validate). Unknown fields are refused;
// each error names the entry it is about (units[3], unit "sz-ft", user "ft-officer", …).
func Parse(r io.Reader) (*File, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("organisation file: read: %w", err)
	}
	var raw struct {
		Units      []json.RawMessage `json:"units"`
		Staff      []json.RawMessage `json:"staff"`
		Users      []json.RawMessage `json:"users"`
		Policies   []json.RawMessage `json:"policies"`
		Indicators []json.RawMessage `json:"indicators"`
	}
	if err := decodeStrict(data, &raw); err != nil {
		return nil, fmt.Errorf("organisation file: %w", err)
	}
	f := &File{
		Units:    make([]Unit, len(raw.Units)),
		Staff:    make([]Staff, len(raw.Staff)),
		Users:    make([]User, len(raw.Users)),
		Policies: make([]Policy, len(raw.Policies)),
	}
	if len(raw.Indicators) > 0 {
		f.Indicators = make([]Catalogue, len(raw.Indicators))
	}
	var errs []error
	for i, m := range raw.Units {
		if err := decodeStrict(m, &f.Units[i]); err != nil {
			errs = append(errs, fmt.Errorf("units[%d]: %w", i, err))
		}
	}
	for i, m := range raw.Staff {
		if err := decodeStrict(m, &f.Staff[i]); err != nil {
			errs = append(errs, fmt.Errorf("staff[%d]: %w", i, err))
		}
	}
	for i, m := range raw.Users {
		if err := decodeStrict(m, &f.Users[i]); err != nil {
			errs = append(errs, fmt.Errorf("users[%d]: %w", i, err))
		}
	}
	for i, m := range raw.Policies {
		if err := decodeStrict(m, &f.Policies[i]); err != nil {
			errs = append(errs, fmt.Errorf("policies[%d]: %w", i, err))
		}
	}
	for i, m := range raw.Indicators {
		if err := decodeStrict(m, &f.Indicators[i]); err != nil {
			errs = append(errs, fmt.Errorf("indicators[%d]: %w", i, err))
		}
	}
	if len(errs) > 0 {
		return nil, join(errs)
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return f, nil
}

// decodeStrict decodes exactly one JSON value into v, refusing unknown fields and trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			return errors.New("empty document")
		}
		return cleanJSONError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("unexpected data after the JSON value")
	}
	return nil
}

func cleanJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		field := strings.ReplaceAll(te.Field, "PolicyDoc.", "") // the embedded struct of Policy
		return fmt.Errorf("field %q: want %s, got JSON %s", field, te.Type, te.Value)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	return errors.New(msg)
}

// join combines errors, at most maxErrors of them, one per line.
func join(errs []error) error {
	if len(errs) > maxErrors {
		more := len(errs) - maxErrors
		errs = append(errs[:maxErrors:maxErrors], fmt.Errorf("… and %d more problems", more))
	}
	return errors.Join(errs...)
}

// Validate checks the file's rules: unit codes non-empty, [a-z0-9-]+ and unique; parents in the
// file and no cycles; staff ids unique with their units in the file; logins unique; role names
// among models.Roles on units in the file; at most one policy per unit, on a unit in the file;
// every budget exactly one of working_days, natural_days, hours, duration; deadline names among
// DeadlineNames; default_level a level; remind_before a percentage 0–100%; limits ≥ 0.
func (f *File) Validate() error {
	var errs []error
	add := func(err error) { errs = append(errs, err) }

	units := make(map[string]int, len(f.Units)) // code → index
	for i, u := range f.Units {
		who := unitWho(i, u.Code)
		switch {
		case u.Code == "":
			add(fmt.Errorf("%s: code is empty", who))
			continue
		case !codeRE.MatchString(u.Code):
			add(fmt.Errorf("%s: code must be lower-case letters, digits and '-'", who))
		}
		if j, dup := units[u.Code]; dup {
			add(fmt.Errorf("%s: code already used by units[%d]", who, j))
			continue
		}
		units[u.Code] = i
		if strings.TrimSpace(u.Name) == "" {
			add(fmt.Errorf("%s: name is empty", who))
		}
		if u.Kind != "" && !kindRE.MatchString(u.Kind) {
			add(fmt.Errorf("%s: kind %q must be a lower-case word (administration, department, platform, hall, …)", who, u.Kind))
		}
		if u.DivisionCode != "" && !divisionRE.MatchString(u.DivisionCode) {
			add(fmt.Errorf("%s: division_code %q must be the 9-digit 行政区划代码", who, u.DivisionCode))
		}
		if u.Level < 0 || u.Level > 7 {
			add(fmt.Errorf("%s: level %d must be a 行使层级 of GB/T 39046-2020 A.2, 1 (国家级) to 7 (村/社区)", who, u.Level))
		}
	}
	for i, u := range f.Units {
		if u.Code == "" {
			continue
		}
		if j := units[u.Code]; j != i {
			continue // duplicate, reported
		}
		p := u.ParentCode()
		if p == "" {
			continue
		}
		if p == u.Code {
			add(fmt.Errorf("unit %q: is its own parent", u.Code))
		} else if _, ok := units[p]; !ok {
			add(fmt.Errorf("unit %q: parent %q is not in the file", u.Code, p))
		}
	}
	if len(errs) == 0 {
		if c := findCycle(f.Units); c != nil {
			add(fmt.Errorf("unit %q: parents form a cycle: %s", c[0], strings.Join(c, " → ")))
		}
	}
	hasUnit := func(code string) bool { _, ok := units[code]; return ok }

	staff := make(map[string]int, len(f.Staff))
	for i, s := range f.Staff {
		who := fmt.Sprintf("staff[%d]", i)
		if s.ID != "" {
			who = fmt.Sprintf("staff %q", s.ID)
		}
		switch {
		case s.ID == "":
			add(fmt.Errorf("staff[%d]: id is empty", i))
		case !idRE.MatchString(s.ID):
			add(fmt.Errorf("%s: id must be letters, digits, '.', '_' or '-'", who))
		}
		if j, dup := staff[s.ID]; dup && s.ID != "" {
			add(fmt.Errorf("%s: id already used by staff[%d]", who, j))
		} else {
			staff[s.ID] = i
		}
		if strings.TrimSpace(s.Name) == "" {
			add(fmt.Errorf("%s: name is empty", who))
		}
		switch {
		case s.Unit == "":
			add(fmt.Errorf("%s: unit is empty", who))
		case !hasUnit(s.Unit):
			add(fmt.Errorf("%s: unit %q is not in the file", who, s.Unit))
		}
	}

	logins := make(map[string]int, len(f.Users))
	for i, u := range f.Users {
		who := fmt.Sprintf("users[%d]", i)
		if u.Login != "" {
			who = fmt.Sprintf("user %q", u.Login)
		}
		switch {
		case u.Login == "":
			add(fmt.Errorf("users[%d]: login is empty", i))
		case strings.IndexFunc(u.Login, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0:
			add(fmt.Errorf("%s: login contains white space", who))
		}
		if j, dup := logins[u.Login]; dup && u.Login != "" {
			add(fmt.Errorf("%s: login already used by users[%d]", who, j))
		} else {
			logins[u.Login] = i
		}
		if strings.TrimSpace(u.Name) == "" {
			add(fmt.Errorf("%s: name is empty", who))
		}
		seen := map[Role]bool{}
		for k, r := range u.Roles {
			rwho := fmt.Sprintf("%s: roles[%d]", who, k)
			if !isRole(r.Role) {
				add(fmt.Errorf("%s: unknown role %q (want one of %s)", rwho, r.Role, strings.Join(models.Roles, ", ")))
			}
			switch {
			case r.Unit == "":
				add(fmt.Errorf("%s: unit is empty", rwho))
			case !hasUnit(r.Unit):
				add(fmt.Errorf("%s: unit %q is not in the file", rwho, r.Unit))
			}
			if seen[r] {
				add(fmt.Errorf("%s: %s on %q is listed twice", rwho, r.Role, r.Unit))
			}
			seen[r] = true
		}
	}

	policies := make(map[string]int, len(f.Policies))
	for i, p := range f.Policies {
		who := fmt.Sprintf("policies[%d]", i)
		if p.Unit != "" {
			who = fmt.Sprintf("policy %q", p.Unit)
		}
		switch {
		case p.Unit == "":
			add(fmt.Errorf("policies[%d]: unit is empty", i))
		case !hasUnit(p.Unit):
			add(fmt.Errorf("%s: unit %q is not in the file", who, p.Unit))
		}
		if j, dup := policies[p.Unit]; dup && p.Unit != "" {
			add(fmt.Errorf("%s: unit already has a policy at policies[%d]", who, j))
		} else {
			policies[p.Unit] = i
		}
		for _, err := range ValidatePolicy(p.PolicyDoc) {
			add(fmt.Errorf("%s: %w", who, err))
		}
	}
	catalogues := make(map[string]int, len(f.Indicators))
	for i, c := range f.Indicators {
		who := fmt.Sprintf("indicators[%d]", i)
		if c.Unit != "" {
			who = fmt.Sprintf("indicators of %q", c.Unit)
		}
		switch {
		case c.Unit == "":
			add(fmt.Errorf("indicators[%d]: unit is empty", i))
		case !hasUnit(c.Unit):
			add(fmt.Errorf("%s: unit %q is not in the file", who, c.Unit))
		}
		if j, dup := catalogues[c.Unit]; dup && c.Unit != "" {
			add(fmt.Errorf("%s: unit already has a catalogue at indicators[%d]", who, j))
		} else {
			catalogues[c.Unit] = i
		}
		for _, err := range ValidateCatalogue(c.Indicators) {
			add(fmt.Errorf("%s: %w", who, err))
		}
	}
	if len(errs) > 0 {
		return join(errs)
	}
	return nil
}

func unitWho(i int, code string) string {
	if code == "" {
		return fmt.Sprintf("units[%d]", i)
	}
	return fmt.Sprintf("unit %q", code)
}

func isRole(s string) bool {
	for _, r := range models.Roles {
		if r == s {
			return true
		}
	}
	return false
}

// findCycle returns the codes of a parent cycle (first repeated at the end), or nil. It
// assumes every parent is in the file.
func findCycle(units []Unit) []string {
	parent := make(map[string]string, len(units))
	for _, u := range units {
		parent[u.Code] = u.ParentCode()
	}
	done := map[string]bool{}
	for _, u := range units {
		onPath := map[string]int{}
		var chain []string
		for c := u.Code; c != "" && !done[c]; c = parent[c] {
			if k, ok := onPath[c]; ok {
				return append(chain[k:], c)
			}
			onPath[c] = len(chain)
			chain = append(chain, c)
		}
		for _, c := range chain {
			done[c] = true
		}
	}
	return nil
}

// ValidatePolicy lists what is wrong with a policy document (nil when nothing is).
func ValidatePolicy(d models.PolicyDoc) []error {
	var errs []error
	names := make([]string, 0, len(d.Deadlines))
	for n := range d.Deadlines {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		if !isDeadlineName(n) {
			errs = append(errs, fmt.Errorf("deadline %q: unknown (want one of %s)", n, strings.Join(DeadlineNames, ", ")))
			continue
		}
		if err := ValidateBudget(d.Deadlines[n]); err != nil {
			errs = append(errs, fmt.Errorf("deadline %q: %w", n, err))
		}
	}
	if d.RatingWindow != nil {
		if err := ValidateBudget(*d.RatingWindow); err != nil {
			errs = append(errs, fmt.Errorf("rating_window: %w", err))
		}
	}
	if d.LateUploadGrace != nil {
		if err := ValidateBudget(*d.LateUploadGrace); err != nil {
			errs = append(errs, fmt.Errorf("late_upload_grace: %w", err))
		}
	}
	if d.DefaultLevel != "" && !models.IsLevel(d.DefaultLevel) {
		errs = append(errs, fmt.Errorf("default_level %q: not a level (want one of %s)", d.DefaultLevel, strings.Join(models.Levels, ", ")))
	}
	if d.RemindBefore != "" {
		if _, err := ParsePercent(d.RemindBefore); err != nil {
			errs = append(errs, fmt.Errorf("remind_before: %w", err))
		}
	}
	if d.ReopenWindow != nil {
		if err := ValidateBudget(*d.ReopenWindow); err != nil {
			errs = append(errs, fmt.Errorf("reopen_window: %w", err))
		} else if d.ReopenWindow.WorkingDays != nil {
			errs = append(errs, fmt.Errorf("reopen_window: natural_days, hours or duration (a window is counted in natural time)"))
		}
	}
	if d.ReopenLimit != nil && *d.ReopenLimit < 0 {
		errs = append(errs, fmt.Errorf("reopen_limit %d: must be 0 or more", *d.ReopenLimit))
	}
	if len(d.UnitNetworks) > MaxPremises {
		errs = append(errs, fmt.Errorf("unit_networks: at most %d entries", MaxPremises))
	}
	for _, n := range d.UnitNetworks {
		if err := validNetwork(n); err != nil {
			errs = append(errs, fmt.Errorf("unit_networks: %w", err))
		}
	}
	if len(d.UnitDevices) > MaxPremises {
		errs = append(errs, fmt.Errorf("unit_devices: at most %d entries", MaxPremises))
	}
	for _, dev := range d.UnitDevices {
		if dev == "" || len(dev) > 128 || !deviceIDRE.MatchString(dev) {
			errs = append(errs, fmt.Errorf("unit_devices: %q is not a device id (1–128 letters, digits and . _ : / -)", dev))
		}
	}
	if d.FollowUps != nil && *d.FollowUps < 0 {
		errs = append(errs, fmt.Errorf("follow_up_limit %d: must be 0 or more", *d.FollowUps))
	}
	return errs
}

// MaxPremises bounds the entries of unit_networks and of unit_devices.
const MaxPremises = 200

// deviceIDRE is the form of a rating's device_id (the intake's codeRe).
var deviceIDRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]*$`)

// validNetwork checks one unit_networks entry: a CIDR prefix or a single address, as the
// intake reads it (intake.ParseNetwork; orgfile cannot import the intake).
func validNetwork(s string) error {
	if strings.Contains(s, "/") {
		if _, err := netip.ParsePrefix(s); err != nil {
			return fmt.Errorf("%q is not a CIDR prefix", s)
		}
		return nil
	}
	if _, err := netip.ParseAddr(s); err != nil {
		return fmt.Errorf("%q is not an address or CIDR prefix", s)
	}
	return nil
}

// indicatorCodeRE is the form of an indicator code (the keys of a rating's levels).
var indicatorCodeRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)

// ValidateCatalogue lists what is wrong with an indicator catalogue: codes in the levels' form
// and unique, names given, kinds among indicators.Kinds, overall (if listed) of kind overall
// and no other indicator of that kind.
func ValidateCatalogue(list []indicators.Indicator) []error {
	var errs []error
	if len(list) == 0 {
		errs = append(errs, errors.New("the catalogue is empty"))
	}
	seen := map[string]bool{}
	for k, ind := range list {
		who := fmt.Sprintf("indicators[%d]", k)
		if ind.Code != "" {
			who = fmt.Sprintf("indicator %q", ind.Code)
		}
		if !indicatorCodeRE.MatchString(ind.Code) {
			errs = append(errs, fmt.Errorf("%s: code must be lower-case letters, digits and _ (at most 40, starting with a letter)", who))
		}
		if seen[ind.Code] {
			errs = append(errs, fmt.Errorf("%s: listed twice", who))
		}
		seen[ind.Code] = true
		if strings.TrimSpace(ind.Name) == "" {
			errs = append(errs, fmt.Errorf("%s: name is empty", who))
		}
		switch {
		case !indicators.IsKind(ind.Kind):
			errs = append(errs, fmt.Errorf("%s: kind %q (want one of %s)", who, ind.Kind, strings.Join(indicators.Kinds, ", ")))
		case (ind.Code == indicators.Overall) != (ind.Kind == indicators.KindOverall):
			errs = append(errs, fmt.Errorf("%s: only %q has kind %q", who, indicators.Overall, indicators.KindOverall))
		}
	}
	return errs
}

func isDeadlineName(s string) bool {
	for _, n := range DeadlineNames {
		if n == s {
			return true
		}
	}
	return false
}

// ValidateBudget checks that b is exactly one of working_days, natural_days (both ≥ 0; 0 means
// the same day), hours (> 0) or duration (a positive Go duration such as "90s").
func ValidateBudget(b models.Budget) error {
	var set []string
	if b.WorkingDays != nil {
		set = append(set, "working_days")
	}
	if b.NaturalDays != nil {
		set = append(set, "natural_days")
	}
	if b.Hours != nil {
		set = append(set, "hours")
	}
	if b.Duration != nil {
		set = append(set, "duration")
	}
	switch len(set) {
	case 0:
		return errors.New("want exactly one of working_days, natural_days, hours, duration; got none")
	case 1:
	default:
		return fmt.Errorf("want exactly one of working_days, natural_days, hours, duration; got %s", strings.Join(set, " and "))
	}
	switch {
	case b.WorkingDays != nil && *b.WorkingDays < 0:
		return fmt.Errorf("working_days %d: must be 0 or more", *b.WorkingDays)
	case b.NaturalDays != nil && *b.NaturalDays < 0:
		return fmt.Errorf("natural_days %d: must be 0 or more", *b.NaturalDays)
	case b.Hours != nil && *b.Hours <= 0:
		return fmt.Errorf("hours %d: must be more than 0", *b.Hours)
	case b.Duration != nil:
		d, err := time.ParseDuration(*b.Duration)
		if err != nil {
			return fmt.Errorf("duration %q: not a Go duration such as \"90s\" or \"2h30m\"", *b.Duration)
		}
		if d <= 0 {
			return fmt.Errorf("duration %q: must be positive", *b.Duration)
		}
		if d < MinDuration {
			// "1ns" sent every order of the subtree to 挂牌督办 at once.
			return fmt.Errorf("duration %q: must be at least %s", *b.Duration, MinDuration)
		}
	}
	// The calendar's own bounds (about 100 years): beyond them no deadline can be computed
	// and every new order of the subtree stuck in pending_dispatch (issue 17, finding 3).
	if err := toCalendarBudget(b).Validate(); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "calendar: "))
	}
	return nil
}

// MinDuration is the shortest duration budget a policy may set.
const MinDuration = time.Second

// toCalendarBudget converts a shape-checked policy budget to the calendar's.
func toCalendarBudget(b models.Budget) calendar.Budget {
	switch {
	case b.WorkingDays != nil:
		return calendar.WorkingDaysBudget(int64(*b.WorkingDays))
	case b.NaturalDays != nil:
		return calendar.NaturalDaysBudget(int64(*b.NaturalDays))
	case b.Hours != nil:
		return calendar.HoursBudget(int64(*b.Hours))
	}
	d, _ := time.ParseDuration(*b.Duration)
	return calendar.DurationBudget(d)
}

// ParsePercent parses a percentage such as "25%" (0–100, decimals allowed) into a fraction
// (0.25).
func ParsePercent(s string) (float64, error) {
	num, ok := strings.CutSuffix(s, "%")
	if !ok || num == "" || strings.TrimSpace(num) != num {
		return 0, fmt.Errorf("%q: want a percentage such as \"25%%\"", s)
	}
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || v != v { // NaN
		return 0, fmt.Errorf("%q: want a percentage such as \"25%%\"", s)
	}
	if v < 0 || v > 100 {
		return 0, fmt.Errorf("%q: must be between 0%% and 100%%", s)
	}
	return v / 100, nil
}

// ValidUnitCode reports whether s may be a unit code (the API creating units uses the same
// rule as the file).
func ValidUnitCode(s string) bool { return codeRE.MatchString(s) && len(s) <= 64 }

// ValidKind reports whether s may be a unit kind.
func ValidKind(s string) bool { return kindRE.MatchString(s) }
