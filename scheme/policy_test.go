package scheme

import (
	"reflect"
	"testing"

	"redress/models"
)

func days(n int) models.Budget { return models.Budget{WorkingDays: &n} }

func TestResolvePolicy(t *testing.T) {
	limit0, limit3 := 0, 3
	window := models.Budget{NaturalDays: intp(60)}
	gd := PolicyOnPath{Code: "gd", Path: "/gd/", Doc: models.PolicyDoc{
		Deadlines: map[string]models.Budget{StageCallback: days(5), StageRectify: days(15)}, RemindBefore: "50%", ReopenLimit: &limit3}}
	sz := PolicyOnPath{Code: "sz", Path: "/gd/sz/", Doc: models.PolicyDoc{
		Deadlines: map[string]models.Budget{StageCallback: days(2)}, RemindBefore: "a lot", ReopenLimit: &limit0, ReopenWindow: &window}}
	gz := PolicyOnPath{Code: "gz", Path: "/gd/gz/", Doc: models.PolicyDoc{Deadlines: map[string]models.Budget{StageSign: days(9)}}}
	szx := PolicyOnPath{Code: "szx", Path: "/gd/szx/", Doc: models.PolicyDoc{Deadlines: map[string]models.Budget{StageSign: days(9)}}}

	withDefaults := func(over map[string]models.Budget) map[string]models.Budget {
		out := map[string]models.Budget{}
		for k, v := range DefaultBudgets {
			out[k] = v
		}
		for k, v := range over {
			out[k] = v
		}
		return out
	}
	rw := DefaultReopenWindow
	cases := []struct {
		name  string
		path  string
		found []PolicyOnPath
		want  Policy
	}{
		{"no policy: the national defaults", "/gd/sz/sz-ft/", nil,
			Policy{Deadlines: withDefaults(nil), RemindShare: DefaultRemindShare, ReopenLimit: DefaultReopenLimit, ReopenWindow: &rw}},
		// The nearest unit names the policy; each setting comes from the nearest policy that
		// sets it; a remind_before that does not parse is as if left out.
		{"nearest wins, stage by stage", "/gd/sz/sz-ft/", []PolicyOnPath{gd, sz, gz, szx},
			Policy{Unit: "sz", Deadlines: withDefaults(map[string]models.Budget{StageCallback: days(2), StageRectify: days(15)}),
				RemindShare: 0.5, ReopenLimit: 0, ReopenWindow: &window}},
		{"in any order", "/gd/sz/", []PolicyOnPath{sz, gd},
			Policy{Unit: "sz", Deadlines: withDefaults(map[string]models.Budget{StageCallback: days(2), StageRectify: days(15)}),
				RemindShare: 0.5, ReopenLimit: 0, ReopenWindow: &window}},
		{"the parent's policy below it", "/gd/gz/x/", []PolicyOnPath{gd},
			Policy{Unit: "gd", Deadlines: withDefaults(map[string]models.Budget{StageCallback: days(5), StageRectify: days(15)}),
				RemindShare: 0.5, ReopenLimit: 3, ReopenWindow: &rw}},
		{"policies off the path ignored", "/gd/", []PolicyOnPath{sz, gz},
			Policy{Deadlines: withDefaults(nil), RemindShare: DefaultRemindShare, ReopenLimit: DefaultReopenLimit, ReopenWindow: &rw}},
	}
	for _, c := range cases {
		if got := ResolvePolicy(c.path, c.found); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: ResolvePolicy(%s) = %+v, want %+v", c.name, c.path, got, c.want)
		}
	}
	if got := PathCodes("/gd/sz/sz-ft/"); !reflect.DeepEqual(got, []string{"gd", "sz", "sz-ft"}) {
		t.Errorf("PathCodes = %v", got)
	}
}

func TestStages(t *testing.T) {
	if len(Stages) != len(DefaultBudgets) {
		t.Fatalf("%d stages, %d default budgets", len(Stages), len(DefaultBudgets))
	}
	for _, s := range Stages {
		if _, ok := DefaultBudgets[s]; !ok {
			t.Errorf("stage %s has no default budget", s)
		}
		if StageLabel(s) == s {
			t.Errorf("stage %s has no label", s)
		}
	}
}
