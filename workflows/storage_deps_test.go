package workflows

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// TestWorkflowCodeLinksNoStorage: workflow code must stay deterministic and never touch storage,
// so it must not link database code at all (issue 20): neither redress/store, nor GORM, nor a
// database driver, through any of its imports. The messages a workflow asks the outbox to send
// come from notify/message, which imports no storage, not from notify (the outbox itself).
//
// No path is walked around: the activities' names and types are activities/activitydefs (the
// activities themselves, which touch the database, run in the worker and are registered
// there), and the calendar's arithmetic is package calendar while its storage is
// calendar/calendardb. Any path to storage — the activities', the outbox's, the indicator
// catalogues' loading (scheme/indicators/indicatorsdb), the calendar's, intake's, or a new one —
// fails this test.
func TestWorkflowCodeLinksNoStorage(t *testing.T) {
	storage := regexp.MustCompile(`^(redress/store(/|$)|gorm\.io/|github\.com/jackc/|github\.com/lib/pq|modernc\.org/sqlite|github\.com/glebarez/|github\.com/mattn/go-sqlite3|database/sql$)`)
	out, err := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "redress/workflows").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		imports[f[0]] = f[1:]
	}
	// Walk the import graph from workflows, remembering how each package was reached so that a
	// failure names the path.
	via := map[string]string{"redress/workflows": ""}
	queue := []string{"redress/workflows"}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		for _, q := range imports[p] {
			if _, seen := via[q]; seen {
				continue
			}
			via[q] = p
			queue = append(queue, q)
		}
	}
	for p := range via {
		if !storage.MatchString(p) {
			continue
		}
		path := []string{p}
		for q := via[p]; q != ""; q = via[q] {
			path = append([]string{q}, path...)
		}
		t.Errorf("workflow code links storage: %s", strings.Join(path, " → "))
	}
}
