package orgfile

import (
	"strings"
	"testing"

	"redress/models"
)

const apiExample = `{
  "units": [
    {"code": "gd", "name": "广东省政务服务数据管理局", "parent": null, "kind": "administration"},
    {"code": "sz", "name": "深圳市政务服务数据管理局", "parent": "gd", "kind": "administration"},
    {"code": "sz-ft-tax", "name": "福田区税务局", "parent": "sz", "kind": "department"}
  ],
  "staff": [{"id": "S0001", "name": "李四", "unit": "sz-ft-tax"}],
  "users": [
    {"login": "ft-officer", "name": "王五", "roles": [{"role": "officer", "unit": "sz-ft-tax"}]},
    {"login": "sz-admin", "name": "赵六", "roles": [{"role": "administrator", "unit": "sz"}]}
  ],
  "policies": [
    {"unit": "sz",
     "deadlines": {"sign": {"hours": 24}, "callback": {"working_days": 3},
                   "rectify": {"working_days": 10}, "appeal_decision": {"working_days": 5},
                   "review": {"working_days": 3}, "feedback": {"natural_days": 7}},
     "rating_window": {"natural_days": 7}, "default_level": "basically_satisfied",
     "remind_before": "25%", "reopen_limit": 1}
  ]
}`

func TestParseAPIExample(t *testing.T) {
	f, err := Parse(strings.NewReader(apiExample))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Units) != 3 || len(f.Staff) != 1 || len(f.Users) != 2 || len(f.Policies) != 1 {
		t.Fatalf("parsed %d units, %d staff, %d users, %d policies", len(f.Units), len(f.Staff), len(f.Users), len(f.Policies))
	}
	if f.Units[0].Parent != nil || f.Units[1].ParentCode() != "gd" {
		t.Errorf("parents: %v %q", f.Units[0].Parent, f.Units[1].ParentCode())
	}
	p := f.Policies[0]
	if p.Unit != "sz" || *p.Deadlines["sign"].Hours != 24 || *p.Deadlines["callback"].WorkingDays != 3 ||
		*p.RatingWindow.NaturalDays != 7 || p.DefaultLevel != "basically_satisfied" || p.RemindBefore != "25%" || *p.ReopenLimit != 1 {
		t.Errorf("policy: %+v", p)
	}
	if got := f.Users[1].Roles; len(got) != 1 || got[0] != (Role{"administrator", "sz"}) {
		t.Errorf("roles: %+v", got)
	}
}

func TestParseParentLaterAndEmptySections(t *testing.T) {
	f, err := Parse(strings.NewReader(`{"units": [
		{"code": "c", "name": "C", "parent": "b"},
		{"code": "b", "name": "B", "parent": "a"},
		{"code": "a", "name": "A"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Units) != 3 || f.Staff == nil && len(f.Staff) != 0 {
		t.Fatalf("%+v", f)
	}
	if _, err := Parse(strings.NewReader(`{}`)); err != nil {
		t.Errorf("empty file: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	// unitsOK is a valid tree that the cases below extend.
	const unitsOK = `{"code": "gd", "name": "省局", "parent": null, "kind": "administration"},
		{"code": "sz", "name": "市局", "parent": "gd", "kind": "administration"}`
	withUnits := func(more string) string {
		if more != "" {
			more = ", " + more
		}
		return `{"units": [` + unitsOK + more + `]}`
	}
	withPolicy := func(p string) string {
		return `{"units": [` + unitsOK + `], "policies": [{"unit": "sz", ` + p + `}]}`
	}
	cases := []struct {
		name, doc, want string
	}{
		{"not json", `{"units": [`, "organisation file: unexpected EOF"},
		{"empty", ``, "organisation file: empty document"},
		{"trailing data", `{} {}`, "unexpected data after the JSON value"},
		{"unknown top-level field", `{"unit": []}`, `organisation file: unknown field "unit"`},
		{"unknown unit field", withUnits(`{"code": "x", "name": "X", "parnt": "gd"}`), `units[2]: unknown field "parnt"`},
		{"unknown staff field", withUnits("")[:len(withUnits(""))-1] + `, "staff": [{"id": "S1", "name": "A", "unit": "sz", "phone": "1"}]}`, `staff[0]: unknown field "phone"`},
		{"unknown budget field", withPolicy(`"deadlines": {"sign": {"days": 1}}`), `policies[0]: unknown field "days"`},
		{"wrong type", withUnits(`{"code": 7, "name": "X"}`), `units[2]: field "code": want string, got JSON number`},
		{"empty code", withUnits(`{"code": "", "name": "X", "parent": "sz"}`), `units[2]: code is empty`},
		{"short division code", withUnits(`{"code": "x", "name": "X", "parent": "sz", "division_code": "440304"}`), `division_code "440304" must be the 9-digit 行政区划代码`},
		{"level out of range", withUnits(`{"code": "x", "name": "X", "parent": "sz", "level": 8}`), `level 8 must be a 行使层级 of GB/T 39046-2020 A.2`},
		{"bad code", withUnits(`{"code": "SZ_FT", "name": "X", "parent": "sz"}`), `unit "SZ_FT": code must be lower-case letters, digits and '-'`},
		{"duplicate code", withUnits(`{"code": "sz", "name": "X", "parent": "gd"}`), `unit "sz": code already used by units[1]`},
		{"empty name", withUnits(`{"code": "x", "name": " ", "parent": "sz"}`), `unit "x": name is empty`},
		{"bad kind", withUnits(`{"code": "x", "name": "X", "parent": "sz", "kind": "Dept!"}`), `unit "x": kind "Dept!" must be a lower-case word`},
		{"missing parent", withUnits(`{"code": "x", "name": "X", "parent": "sh"}`), `unit "x": parent "sh" is not in the file`},
		{"own parent", withUnits(`{"code": "x", "name": "X", "parent": "x"}`), `unit "x": is its own parent`},
		{"cycle", withUnits(`{"code": "a", "name": "A", "parent": "b"}, {"code": "b", "name": "B", "parent": "c"}, {"code": "c", "name": "C", "parent": "a"}`),
			`unit "a": parents form a cycle: a → b → c → a`},
		{"staff empty id", `{"units": [` + unitsOK + `], "staff": [{"id": "", "name": "A", "unit": "sz"}]}`, `staff[0]: id is empty`},
		{"staff duplicate id", `{"units": [` + unitsOK + `], "staff": [{"id": "S1", "name": "A", "unit": "sz"}, {"id": "S1", "name": "B", "unit": "sz"}]}`,
			`staff "S1": id already used by staff[0]`},
		{"staff unit missing", `{"units": [` + unitsOK + `], "staff": [{"id": "S1", "name": "A", "unit": "sz-ft"}]}`, `staff "S1": unit "sz-ft" is not in the file`},
		{"staff unit empty", `{"units": [` + unitsOK + `], "staff": [{"id": "S1", "name": "A"}]}`, `staff "S1": unit is empty`},
		{"staff empty name", `{"units": [` + unitsOK + `], "staff": [{"id": "S1", "name": "", "unit": "sz"}]}`, `staff "S1": name is empty`},
		{"login empty", `{"units": [` + unitsOK + `], "users": [{"login": "", "name": "A", "roles": []}]}`, `users[0]: login is empty`},
		{"login space", `{"units": [` + unitsOK + `], "users": [{"login": "a b", "name": "A", "roles": []}]}`, `user "a b": login contains white space`},
		{"login duplicate", `{"units": [` + unitsOK + `], "users": [{"login": "a", "name": "A"}, {"login": "a", "name": "B"}]}`,
			`user "a": login already used by users[0]`},
		{"user empty name", `{"units": [` + unitsOK + `], "users": [{"login": "a", "name": ""}]}`, `user "a": name is empty`},
		{"unknown role", `{"units": [` + unitsOK + `], "users": [{"login": "a", "name": "A", "roles": [{"role": "admin", "unit": "sz"}]}]}`,
			`user "a": roles[0]: unknown role "admin" (want one of officer, unit_leader, administrator, supervisor, auditor, integration, sysadmin)`},
		{"citizen is implicit", `{"units": [` + unitsOK + `], "users": [{"login": "a", "name": "A", "roles": [{"role": "citizen", "unit": "sz"}]}]}`,
			`user "a": roles[0]: unknown role "citizen"`},
		{"role unit missing", `{"units": [` + unitsOK + `], "users": [{"login": "a", "name": "A", "roles": [{"role": "officer", "unit": "sz-ft-tax"}]}]}`,
			`user "a": roles[0]: unit "sz-ft-tax" is not in the file`},
		{"role unit empty", `{"units": [` + unitsOK + `], "users": [{"login": "a", "name": "A", "roles": [{"role": "officer"}]}]}`,
			`user "a": roles[0]: unit is empty`},
		{"role twice", `{"units": [` + unitsOK + `], "users": [{"login": "a", "name": "A", "roles": [{"role": "officer", "unit": "sz"}, {"role": "officer", "unit": "sz"}]}]}`,
			`user "a": roles[1]: officer on "sz" is listed twice`},
		{"policy unit missing", `{"units": [` + unitsOK + `], "policies": [{"unit": "bj"}]}`, `policy "bj": unit "bj" is not in the file`},
		{"policy unit empty", `{"units": [` + unitsOK + `], "policies": [{"reopen_limit": 1}]}`, `policies[0]: unit is empty`},
		{"policy twice", `{"units": [` + unitsOK + `], "policies": [{"unit": "sz"}, {"unit": "sz"}]}`, `policy "sz": unit already has a policy at policies[0]`},
		{"deadline none", withPolicy(`"deadlines": {"sign": {}}`),
			`policy "sz": deadline "sign": want exactly one of working_days, natural_days, hours, duration; got none`},
		{"deadline two", withPolicy(`"deadlines": {"callback": {"working_days": 3, "hours": 4}}`),
			`policy "sz": deadline "callback": want exactly one of working_days, natural_days, hours, duration; got working_days and hours`},
		{"deadline name", withPolicy(`"deadlines": {"signing": {"hours": 4}}`),
			`policy "sz": deadline "signing": unknown (want one of sign, callback, rectify, appeal_decision, review, feedback, dispatch, ruling)`},
		{"negative working days", withPolicy(`"deadlines": {"rectify": {"working_days": -1}}`), `policy "sz": deadline "rectify": working_days -1: must be 0 or more`},
		{"negative natural days", withPolicy(`"deadlines": {"feedback": {"natural_days": -2}}`), `policy "sz": deadline "feedback": natural_days -2: must be 0 or more`},
		{"zero hours", withPolicy(`"deadlines": {"sign": {"hours": 0}}`), `policy "sz": deadline "sign": hours 0: must be more than 0`},
		{"bad duration", withPolicy(`"deadlines": {"review": {"duration": "90 seconds"}}`),
			`policy "sz": deadline "review": duration "90 seconds": not a Go duration`},
		{"non-positive duration", withPolicy(`"deadlines": {"review": {"duration": "-90s"}}`), `policy "sz": deadline "review": duration "-90s": must be positive`},
		{"zero duration", withPolicy(`"deadlines": {"review": {"duration": "0s"}}`), `policy "sz": deadline "review": duration "0s": must be positive`},
		{"rating window", withPolicy(`"rating_window": {"natural_days": 7, "working_days": 5}`),
			`policy "sz": rating_window: want exactly one of working_days, natural_days, hours, duration; got working_days and natural_days`},
		{"default level", withPolicy(`"default_level": "ok"`), `policy "sz": default_level "ok": not a level (want one of very_satisfied, satisfied, basically_satisfied, dissatisfied, very_dissatisfied)`},
		{"remind before no percent", withPolicy(`"remind_before": "25"`), `policy "sz": remind_before: "25": want a percentage such as "25%"`},
		{"remind before words", withPolicy(`"remind_before": "a quarter%"`), `policy "sz": remind_before: "a quarter%": want a percentage`},
		{"remind before over", withPolicy(`"remind_before": "120%"`), `policy "sz": remind_before: "120%": must be between 0% and 100%`},
		{"remind before negative", withPolicy(`"remind_before": "-5%"`), `policy "sz": remind_before: "-5%": must be between 0% and 100%`},
		{"reopen limit", withPolicy(`"reopen_limit": -1`), `policy "sz": reopen_limit -1: must be 0 or more`},
		{"follow up limit", withPolicy(`"follow_up_limit": -1`), `policy "sz": follow_up_limit -1: must be 0 or more`},
		{"reopen limit type", withPolicy(`"reopen_limit": "one"`), `policies[0]: field "reopen_limit": want int, got JSON string`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(c.doc))
			if err == nil {
				t.Fatalf("Parse accepted %s", c.doc)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error\n  %v\nwant it to contain\n  %s", err, c.want)
			}
		})
	}
}

func TestParseReportsSeveralProblems(t *testing.T) {
	_, err := Parse(strings.NewReader(`{"units": [{"code": "a", "name": ""}, {"code": "b", "name": "B", "parent": "z"}],
		"staff": [{"id": "S1", "name": "A", "unit": "q"}]}`))
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`unit "a": name is empty`, `unit "b": parent "z" is not in the file`, `staff "S1": unit "q" is not in the file`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestValidBudgets(t *testing.T) {
	f, err := Parse(strings.NewReader(`{"units": [{"code": "a", "name": "A"}], "policies": [{"unit": "a",
		"deadlines": {"sign": {"duration": "90s"}, "callback": {"working_days": 0}, "rectify": {"natural_days": 15},
		              "appeal_decision": {"hours": 48}},
		"remind_before": "12.5%", "reopen_limit": 0, "follow_up_limit": 0}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := ParsePercent(f.Policies[0].RemindBefore); v != 0.125 {
		t.Errorf("ParsePercent = %v", v)
	}
	for _, s := range []string{"0%", "100%", "25%"} {
		if _, err := ParsePercent(s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
}

func TestDemoParses(t *testing.T) {
	f := Demo()
	units := map[string]Unit{}
	for _, u := range f.Units {
		units[u.Code] = u
	}
	for code, parent := range map[string]string{
		"gd": "", "sz": "gd", "sz-ft": "sz", "sz-ns": "sz", "sz-platform": "sz",
		"sz-ft-tax": "sz-ft", "sz-ft-amr": "sz-ft", "sz-ns-tax": "sz-ns", "sz-ns-hrss": "sz-ns",
	} {
		u, ok := units[code]
		if !ok {
			t.Errorf("demo lacks unit %s", code)
		} else if u.ParentCode() != parent {
			t.Errorf("unit %s: parent %q, want %q", code, u.ParentCode(), parent)
		}
	}
	if units["sz-platform"].Kind != "platform" || units["sz-ft"].Kind != "administration" {
		t.Errorf("kinds: %+v %+v", units["sz-platform"], units["sz-ft"])
	}
	roles := map[string]Role{}
	for _, u := range f.Users {
		if len(u.Roles) != 1 {
			t.Errorf("user %s: roles %+v", u.Login, u.Roles)
			continue
		}
		roles[u.Login] = u.Roles[0]
	}
	want := map[string]Role{
		"ft-officer": {"officer", "sz-ft-tax"}, "ft-leader": {"unit_leader", "sz-ft-tax"},
		"ns-officer": {"officer", "sz-ns-tax"}, "sz-admin": {"administrator", "sz"},
		"sz-supervisor": {"supervisor", "sz"}, "sz-auditor": {"auditor", "sz"},
		"gd-admin": {"administrator", "gd"}, "channel": {"integration", "gd"}, "sysadmin": {"sysadmin", "gd"},
	}
	for login, r := range want {
		if roles[login] != r {
			t.Errorf("user %s: role %+v, want %+v", login, roles[login], r)
		}
	}
	if len(f.Staff) < 20 || f.Staff[0].ID != "S0001" {
		t.Errorf("staff: %d, first %+v", len(f.Staff), f.Staff[0])
	}
	pol := map[string]Policy{}
	for _, p := range f.Policies {
		pol[p.Unit] = p
	}
	if cb := pol["gd"].Deadlines["callback"].WorkingDays; cb == nil || *cb != 3 {
		t.Errorf("gd callback: %v", cb)
	}
	if r := pol["gd"].Deadlines["rectify"].WorkingDays; r == nil || *r != 10 {
		t.Errorf("gd rectify: %v", r)
	}
	if s := pol["sz"].Deadlines["sign"].Hours; s == nil || *s != 24 {
		t.Errorf("sz sign: %v", s)
	}
	// A fresh copy each time.
	f.Units[0].Name = "changed"
	if Demo().Units[0].Name == "changed" {
		t.Error("Demo shares its File between calls")
	}
}

// TestBudgetBounds (issue 17, finding 3): a policy budget beyond the calendar's bounds, or a
// duration under a second, is refused where it is written (PUT /units/{code}/policy and the
// organisation file both call ValidatePolicy): 100 000 000 working days stuck every new
// order in pending_dispatch, "1ns" sent every order to 挂牌督办 at once.
func TestBudgetBounds(t *testing.T) {
	n := func(v int) *int { return &v }
	s := func(v string) *string { return &v }
	for _, c := range []struct {
		b  models.Budget
		ok bool
	}{
		{models.Budget{WorkingDays: n(100000000)}, false},
		{models.Budget{NaturalDays: n(36601)}, false},
		{models.Budget{Hours: n(24*36600 + 1)}, false},
		{models.Budget{Duration: s("1ns")}, false},
		{models.Budget{Duration: s("999ms")}, false},
		{models.Budget{Duration: s("900000h")}, false},
		{models.Budget{WorkingDays: n(10)}, true},
		{models.Budget{NaturalDays: n(0)}, true},
		{models.Budget{Hours: n(48)}, true},
		{models.Budget{Duration: s("5s")}, true},
	} {
		err := ValidateBudget(c.b)
		if (err == nil) != c.ok {
			t.Errorf("ValidateBudget(%+v) = %v, want ok=%v", c.b, err, c.ok)
		}
		errs := ValidatePolicy(models.PolicyDoc{Deadlines: map[string]models.Budget{DeadlineNames[0]: c.b}})
		if (len(errs) == 0) != c.ok {
			t.Errorf("ValidatePolicy with %+v = %v, want ok=%v", c.b, errs, c.ok)
		}
	}
}
