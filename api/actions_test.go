package api

import (
	"slices"
	"sort"
	"testing"

	"go.yaml.in/yaml/v3"

	"redress/scheme"
)

// schemaProp is the part of an OpenAPI property the table decides.
type schemaProp struct {
	Type      string   `yaml:"type"`
	Enum      []string `yaml:"enum"`
	MaxLength int      `yaml:"maxLength"`
	Minimum   int      `yaml:"minimum"`
	Maximum   int      `yaml:"maximum"`
}

// TestOpenAPIActionSchemaMatchesTable: api/openapi.yaml's Action schema names exactly the
// table's actions and fields, with the table's enums, length limits and ranges. Adding an
// action or a field to the scheme's actions table without documenting it fails here.
func TestOpenAPIActionSchemaMatchesTable(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]schemaProp `yaml:"properties"`
			} `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(openAPIYAML, &doc); err != nil {
		t.Fatal(err)
	}
	props := doc.Components.Schemas["Action"].Properties
	if got, want := props["action"].Enum, scheme.Actions(); !slices.Equal(got, want) {
		t.Errorf("Action.action enum %v, the table %v", got, want)
	}
	var names []string
	for k := range props {
		if k != "action" {
			names = append(names, k)
		}
	}
	want := scheme.FieldNames()
	sort.Strings(names)
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Errorf("Action properties %v, the request's fields %v", names, want)
	}
	for _, a := range scheme.Table() {
		for _, f := range a.Fields {
			p, ok := props[f.Name]
			if !ok {
				t.Errorf("%s.%s: not documented", a.Name, f.Name)
				continue
			}
			if f.Enum != nil && !slices.Equal(p.Enum, f.Enum) {
				t.Errorf("%s.%s: enum %v, the table %v", a.Name, f.Name, p.Enum, f.Enum)
			}
			if p.MaxLength != f.MaxLength {
				t.Errorf("%s.%s: maxLength %d, the table %d", a.Name, f.Name, p.MaxLength, f.MaxLength)
			}
			if f.Type == scheme.FieldInteger && (p.Minimum != f.Min || p.Maximum != f.Max) {
				t.Errorf("%s.%s: range %d..%d, the table %d..%d", a.Name, f.Name, p.Minimum, p.Maximum, f.Min, f.Max)
			}
			wantType := map[string]string{scheme.FieldBoolean: "boolean", scheme.FieldInteger: "integer"}[f.Type]
			if wantType == "" {
				wantType = "string"
			}
			if p.Type != wantType {
				t.Errorf("%s.%s: type %s, the table's %s wants %s", a.Name, f.Name, p.Type, f.Type, wantType)
			}
		}
	}
}
