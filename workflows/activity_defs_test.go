package workflows

import (
	"go/ast"
	"testing"

	"redress/internal/gosource"
)

// TestActivitiesAreScheduledByDefinition: workflow code schedules activities only through
// their definitions in activities/activitydefs (Run hands the definition's name to
// workflow.ExecuteActivity, workflow.ExecuteLocalActivity or exec), so that every name a
// workflow uses is one the worker's test checks is registered with the same types. A direct
// ExecuteActivity call with a name or a function of its own fails here, as does a direct call
// of exec (the order's runner, which only passes a definition's name on).
func TestActivitiesAreScheduledByDefinition(t *testing.T) {
	fset, files := gosource.Package(t)
	for _, f := range files {
		ast.Inspect(f.AST, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if ok && sel.Sel.Name == "exec" {
				// exec is a runner: handed to a definition's Run, never called with a name of its own.
				t.Errorf("%s: exec is called directly, not through an activitydefs definition", fset.Position(call.Pos()))
				return true
			}
			if !ok || (sel.Sel.Name != "ExecuteActivity" && sel.Sel.Name != "ExecuteLocalActivity") {
				return true
			}
			// The runner's own parameter is the one activity argument allowed: a definition's name.
			if len(call.Args) >= 2 {
				if id, ok := call.Args[1].(*ast.Ident); ok && id.Name == "activity" {
					return true
				}
			}
			t.Errorf("%s: %s schedules an activity not through its activitydefs definition", fset.Position(call.Pos()), sel.Sel.Name)
			return true
		})
	}
}
