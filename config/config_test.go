package config

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	tableStart = "<!-- config-table:start -->"
	tableEnd   = "<!-- config-table:end -->"
)

// readmeTable returns the text between the README's configuration-table markers.
func readmeTable(t *testing.T) string {
	t.Helper()
	p := filepath.Join("..", "README.md")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("read %s: %v\n%s", p, err, regenerate)
	}
	s := string(b)
	i := strings.Index(s, tableStart)
	j := strings.Index(s, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("%s has no region between %s and %s\n%s", p, tableStart, tableEnd, regenerate)
	}
	return strings.TrimSpace(s[i+len(tableStart) : j])
}

var update = flag.Bool("update", false, "rewrite the README's configuration table from Config")

const regenerate = "regenerate the README's configuration table (between the config-table markers) with:\n" +
	"  go test ./config -run TestReadmeConfigTable -update\n" +
	"or paste the output of `go run ./config/cmd/configtable` between the markers"

// writeReadmeTable replaces the region between the markers with MarkdownTable's output.
func writeReadmeTable(t *testing.T) {
	t.Helper()
	p := filepath.Join("..", "README.md")
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("-update: %v", err)
	}
	s := string(b)
	i := strings.Index(s, tableStart)
	j := strings.Index(s, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("-update: %s has no region between %s and %s; add the two markers first", p, tableStart, tableEnd)
	}
	s = s[:i+len(tableStart)] + "\n" + MarkdownTable() + s[j:]
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// row is one parsed line of the table.
type row struct{ name, def string }

func parseRows(t *testing.T, table string) []row {
	t.Helper()
	var out []row
	for n, line := range strings.Split(strings.TrimSpace(table), "\n") {
		line = strings.TrimSpace(line)
		if n < 2 { // header and separator
			continue
		}
		if !strings.HasPrefix(line, "|") {
			t.Errorf("README configuration table line %d is not a table row: %q", n+1, line)
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		if len(cells) < 3 {
			t.Errorf("README configuration table line %d has %d cells, want 3: %q", n+1, len(cells), line)
			continue
		}
		name := strings.Trim(strings.TrimSpace(cells[0]), "`")
		def := strings.TrimSpace(cells[1])
		if def == "—" || def == "required" {
			def = ""
		}
		out = append(out, row{name, strings.Trim(def, "`")})
	}
	return out
}

// TestReadmeConfigTable: the README lists exactly the variables Config reads, with their
// defaults, and its table is MarkdownTable's output.
func TestReadmeConfigTable(t *testing.T) {
	if *update {
		writeReadmeTable(t)
	}
	got := readmeTable(t)
	rows := parseRows(t, got)
	vars := Vars()
	byName := map[string]string{}
	for _, r := range rows {
		byName[r.name] = r.def
	}
	known := map[string]bool{}
	for _, v := range vars {
		known[v.Name] = true
		def, ok := byName[v.Name]
		switch {
		case !ok:
			t.Errorf("README does not list %s", v.Name)
		case def != v.Default:
			t.Errorf("README gives %s the default %q, Config has %q", v.Name, def, v.Default)
		}
	}
	for _, r := range rows {
		if !known[r.name] {
			t.Errorf("README lists %s, which Config does not read", r.name)
		}
	}
	if want := strings.TrimSpace(MarkdownTable()); got != want {
		t.Errorf("README configuration table differs from config.MarkdownTable().\n%s\nwant:\n%s\n\ngot:\n%s", regenerate, want, got)
	}
}

func TestMarkdownTable(t *testing.T) {
	table := MarkdownTable()
	lines := strings.Split(strings.TrimRight(table, "\n"), "\n")
	if lines[0] != "| variable | default | meaning |" {
		t.Errorf("header = %q", lines[0])
	}
	vars := Vars()
	if len(lines) != len(vars)+2 {
		t.Fatalf("%d lines for %d variables", len(lines), len(vars))
	}
	rows := parseRows(t, table)
	for i, v := range vars {
		if rows[i].name != v.Name || rows[i].def != v.Default {
			t.Errorf("row %d = %+v, want %s %q", i, rows[i], v.Name, v.Default)
		}
		if strings.Count(lines[i+2], " | ") != 2 && !strings.Contains(v.Doc, "|") {
			t.Errorf("row %d has the wrong number of cells: %q", i, lines[i+2])
		}
	}
	// Every Config field is read from the environment and documented.
	for _, v := range vars {
		if v.Doc == "" {
			t.Errorf("%s has no doc tag", v.Name)
		}
	}
}
