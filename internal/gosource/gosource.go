// Package gosource parses a package's own source for the tests that check how its code is
// written (which handlers reach the database, how workflows schedule activities).
package gosource

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// File is one parsed source file of the package.
type File struct {
	Name string
	AST  *ast.File
}

// Package parses the non-test .go files of the test's working directory (its package), in
// name order, with the file set their positions resolve in.
func Package(t testing.TB) (*token.FileSet, []File) {
	t.Helper()
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []File
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, File{Name: name, AST: f})
	}
	return fset, out
}
