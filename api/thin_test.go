package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// dbReachers are the handler files still allowed to reach the database handle itself, with
// exactly how many times: the list only shrinks, and a count left higher than the file's
// use fails too, so that the list always says what is left. Handlers read and write through the repositories
// of store (store.WorkOrders, store.Attachments, …), which take the caller and apply their
// scope where they read and write; a handler that queries s.deps.DB itself is one scope
// check away from leaking another unit's data.
var dbReachers = map[string]int{
	"citizen.go":       1, // notify.IssueToken
	"export.go":        2, // upstream.LoadDivisions, upstream.SupervisionRecord
	"middleware.go":    1, // the principals' batch load (store.UsersWithGrants)
	"notifications.go": 1, // builds notify.Center, which takes the caller on every call
	"open311.go":       3, // open311.* (public data only: no scope to apply)
	"reports.go":       4, // stats.Roller, reports.* (they take the scope)
	"results.go":       9, // stats.*, publish.* (they take the scope)
	"retention.go":     1, // retention.EraseOnRequest (takes the scope)
	"server.go":        2, // readiness: the database's own ping and the SMS queue
	"units.go":         1, // store.EffectivePolicy (the scheme policy in force, for the unit page)
	"upstream.go":      1, // builds upstream.Service
}

// TestHandlersReachTheDatabaseThroughRepositories fails when a handler file outside
// dbReachers uses s.deps.DB, or one inside uses it more often than listed.
func TestHandlersReachTheDatabaseThroughRepositories(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		ast.Inspect(f, func(node ast.Node) bool {
			if sel, ok := node.(*ast.SelectorExpr); ok && sel.Sel.Name == "DB" {
				if deps, ok := sel.X.(*ast.SelectorExpr); ok && deps.Sel.Name == "deps" {
					if id, ok := deps.X.(*ast.Ident); ok && id.Name == "s" {
						n++
					}
				}
			}
			return true
		})
		switch allowed := dbReachers[name]; {
		case n > allowed:
			t.Errorf("%s uses s.deps.DB %d times (allowed %d): read and write through a repository of store that takes the caller (store.Caller)", name, n, allowed)
		case n < allowed:
			t.Errorf("%s uses s.deps.DB %d times but %d are allowed: lower its count in dbReachers", name, n, allowed)
		}
	}
}
