package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"redress/models"
	"redress/store"
)

// WaitDispatched waits until every order stands dispatched to a unit in the read-model.
func WaitDispatched(ctx context.Context, databaseURL string, ids []string, limit time.Duration) error {
	db, err := store.Open(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // reads, or writes already committed: a close error loses nothing
	deadline := time.Now().Add(limit)
	for {
		var n int64
		left := 0
		for i := 0; i < len(ids); i += 500 {
			chunk := ids[i:min(i+500, len(ids))]
			if err := db.WithContext(ctx).Table("work_orders").Where("id IN ? AND state = ? AND unit_path <> ''", chunk, models.StateDispatched).Count(&n).Error; err != nil {
				return err
			}
			left += len(chunk) - int(n)
		}
		if left == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d orders not dispatched within %s", left, len(ids), limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Expect is what a reliability scenario promised: the evaluation ids answered 2xx (and which
// of them are bad). Ids whose answer was lost (the process died mid-request) must have been
// resent until answered before checking, so that every id here is definite.
type Expect struct {
	Prefix   string // every evaluation id of the scenario starts with it
	Accepted map[string]bool
	Bad      map[string]bool
}

// NewExpect makes an empty Expect.
func NewExpect(prefix string) *Expect {
	return &Expect{Prefix: prefix, Accepted: map[string]bool{}, Bad: map[string]bool{}}
}

// Add records accepted ratings.
func (e *Expect) Add(r LoadResult) {
	for _, id := range r.Accepted {
		e.Accepted[id] = true
	}
	for _, id := range r.Bad {
		e.Bad[id] = true
	}
}

// Verify proves the promises against the database and Temporal, waiting up to limit for the
// reconciler and workers to catch up:
//   - every accepted rating is stored exactly once, and nothing else under the prefix is;
//   - every bad one has exactly one work order and exactly one workflow execution;
//   - every work order that is not closed has its workflow running with at least one deadline
//     timer pending, and a next_due_at in the read-model.
func Verify(ctx context.Context, databaseURL, temporalAddr string, keys Keys, e *Expect, limit time.Duration) error {
	db, err := store.Open(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }() // reads, or writes already committed: a close error loses nothing
	tc, err := dialTemporal(ctx, temporalAddr, keys)
	if err != nil {
		return err
	}
	defer tc.Close()
	deadline := time.Now().Add(limit)
	for {
		err := verifyOnce(ctx, db, tc, e)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		time.Sleep(500 * time.Millisecond)
	}
}

type evalRow struct {
	EvaluationID string
	Bad          bool
	WorkOrderID  *string
	N            int64
}

func verifyOnce(ctx context.Context, db *store.DB, tc client.Client, e *Expect) error {
	var rows []evalRow
	if err := db.WithContext(ctx).Raw(`SELECT evaluation_id, MAX(CASE WHEN bad THEN 1 ELSE 0 END) = 1 AS bad, MAX(work_order_id) AS work_order_id, COUNT(*) AS n
		FROM evaluations WHERE evaluation_id LIKE ? GROUP BY evaluation_id`, e.Prefix+"%").Scan(&rows).Error; err != nil {
		return fmt.Errorf("verify: evaluations: %w", err)
	}
	stored := map[string]evalRow{}
	var problems []string
	for _, r := range rows {
		stored[r.EvaluationID] = r
		if r.N != 1 {
			problems = append(problems, fmt.Sprintf("evaluation %s stored %d times", r.EvaluationID, r.N))
		}
		if !e.Accepted[r.EvaluationID] {
			problems = append(problems, fmt.Sprintf("evaluation %s stored but never answered 2xx", r.EvaluationID))
		}
	}
	var orders []string
	for id := range e.Accepted {
		r, ok := stored[id]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("accepted evaluation %s lost", id))
		case r.Bad != e.Bad[id]:
			problems = append(problems, fmt.Sprintf("evaluation %s bad=%v, sent bad=%v", id, r.Bad, e.Bad[id]))
		case r.Bad && r.WorkOrderID == nil:
			problems = append(problems, fmt.Sprintf("bad evaluation %s has no work order", id))
		case r.Bad:
			orders = append(orders, *r.WorkOrderID)
		}
	}
	if len(problems) > 0 {
		return errors.New(summarise(problems))
	}
	// Exactly one work order per bad evaluation (the UNIQUE constraint says so too; this
	// checks nothing slipped around it).
	var dup int64
	if err := db.WithContext(ctx).Raw(`SELECT COUNT(*) FROM (SELECT w.evaluation_id FROM work_orders w JOIN evaluations e ON e.id = w.evaluation_id
		WHERE e.evaluation_id LIKE ? GROUP BY w.evaluation_id HAVING COUNT(*) > 1) d`, e.Prefix+"%").Scan(&dup).Error; err != nil {
		return fmt.Errorf("verify: work orders: %w", err)
	}
	if dup > 0 {
		return fmt.Errorf("%d evaluations with more than one work order", dup)
	}
	type woRow struct {
		ID              string
		State           string
		WorkflowStarted bool
		NextDueAt       *time.Time
	}
	var wos []woRow
	for i := 0; i < len(orders); i += 500 {
		var part []woRow
		if err := db.WithContext(ctx).Table("work_orders").Select("id, state, workflow_started, next_due_at").
			Where("id IN ?", orders[i:min(i+500, len(orders))]).Scan(&part).Error; err != nil {
			return fmt.Errorf("verify: work orders: %w", err)
		}
		wos = append(wos, part...)
	}
	if len(wos) != len(orders) {
		return fmt.Errorf("%d work orders referenced, %d stored", len(orders), len(wos))
	}
	var mu sync.Mutex
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, w := range wos {
		if !w.WorkflowStarted {
			problems = append(problems, fmt.Sprintf("order %s: workflow not started yet", w.ID))
			continue
		}
		if w.State != models.StateClosed && w.State != models.StatePendingDispatch && w.NextDueAt == nil {
			problems = append(problems, fmt.Sprintf("order %s (%s): no next_due_at", w.ID, w.State))
		}
		wg.Add(1)
		sem <- struct{}{}
		go func(w woRow) {
			defer wg.Done()
			defer func() { <-sem }()
			if p := checkWorkflow(ctx, tc, w.ID, w.State); p != "" {
				mu.Lock()
				problems = append(problems, p)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	if len(problems) > 0 {
		return errors.New(summarise(problems))
	}
	return nil
}

// checkWorkflow checks the order's workflow: one execution of its id (the first event of the
// only run is its start, no other run exists), running while the order is open, and, once
// dispatched, at least one timer armed and not yet fired or cancelled.
func checkWorkflow(ctx context.Context, tc client.Client, orderID, state string) string {
	wid := "work-order-" + orderID
	d, err := tc.DescribeWorkflowExecution(ctx, wid, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Sprintf("order %s: no workflow", orderID)
	}
	if err != nil {
		return fmt.Sprintf("order %s: describe: %v", orderID, err)
	}
	st := d.WorkflowExecutionInfo.Status
	if state != models.StateClosed && st != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return fmt.Sprintf("order %s is %s but its workflow is %s", orderID, state, st)
	}
	runs, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: fmt.Sprintf("WorkflowId = '%s'", wid)})
	if err == nil && len(runs.Executions) > 1 {
		return fmt.Sprintf("order %s: %d workflow executions", orderID, len(runs.Executions))
	}
	if state == models.StateClosed || state == models.StatePendingDispatch {
		return ""
	}
	it := tc.GetWorkflowHistory(ctx, wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	timers := map[string]bool{}
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return fmt.Sprintf("order %s: history: %v", orderID, err)
		}
		switch ev.EventType {
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			timers[ev.GetTimerStartedEventAttributes().TimerId] = true
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			delete(timers, ev.GetTimerFiredEventAttributes().TimerId)
		case enumspb.EVENT_TYPE_TIMER_CANCELED:
			delete(timers, ev.GetTimerCanceledEventAttributes().TimerId)
		}
	}
	if len(timers) == 0 {
		return fmt.Sprintf("order %s (%s): no deadline timer armed", orderID, state)
	}
	return ""
}

func summarise(p []string) string {
	if len(p) > 10 {
		return fmt.Sprintf("%d problems, first: %s", len(p), strings.Join(p[:10], "; "))
	}
	return strings.Join(p, "; ")
}
