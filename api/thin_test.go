package api

import (
	"go/ast"
	"testing"

	"redress/internal/gosource"
)

// dbReachers are the handler files still allowed to reach the database handle itself, with
// exactly how many times: the list only shrinks, and a count left higher than the file's
// use fails too, so that the list always says what is left. Handlers read and write through the repositories
// of store (store.WorkOrders, store.Attachments, …), which take the caller and apply their
// scope where they read and write; a handler that queries s.deps.DB itself is one scope
// check away from leaking another unit's data.
var dbReachers = map[string]int{
	// The readiness probe pings the database itself (store.DB.Ready: a round trip and the
	// schema's version), which is what it checks; it reads no rows, so there is no scope.
	"server.go": 1,
}

// TestHandlersReachTheDatabaseThroughRepositories fails when a handler file outside
// dbReachers uses s.deps.DB, or one inside uses it more often than listed.
func TestHandlersReachTheDatabaseThroughRepositories(t *testing.T) {
	_, files := gosource.Package(t)
	for _, f := range files {
		name := f.Name
		n := 0
		ast.Inspect(f.AST, func(node ast.Node) bool {
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
