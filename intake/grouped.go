// Group commit of single ratings: the first ratings that concurrent POST /evaluations requests
// hand in while a group is under way are read, checked and stored together, as the bulk form
// stores an upload's (BENCHMARKS.md, point 1): one round trip for the group's reads and one
// insert and commit for its rows, where each rating paid a read, a write and a commit of its
// own. Each request is answered exactly as the one-at-a-time path (submit) would answer it.

package intake

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"redress/apperr"
	"redress/migrations"
	"redress/models"
	"redress/store"
)

// maxGroup bounds how many ratings go into one group: its inserts stay well under
// PostgreSQL's 65 535 parameters however many cases a rating carries (MaxCases).
const maxGroup = 256

// groupJob is one request's first rating on its way into a group, built and validated by the
// request's own goroutine (the runner only reads, checks and writes).
type groupJob struct {
	ctx   context.Context // the request's, without its cancellation: for the checks' logs
	scope store.Scope
	rt    *rating
	audit *models.AuditEntry // the request's audit entry, stored with the rating's rows
}

// groupAnswer is what the group did with a job's rating.
type groupAnswer struct {
	stored bool              // its rows are committed: 201
	replay *EvaluationResult // the evaluation_id was stored before with the same request: 200
	err    error             // refused (a check, or the evaluation_id used for another rating)
	// single: the group did not decide; the one-at-a-time path answers (a rating that shares
	// an evaluation_id or an evaluator's slot with an earlier one of the group, or whose slot
	// is taken, or whose group the database refused).
	single bool
}

// groupStats counts what the groups did, for tests and the logs: groups written and the
// ratings they stored.
type groupStats struct {
	groups, stored, largest atomic.Int64
}

// submitGrouped answers a first rating through the group commit; handled=false leaves it to
// the one-at-a-time path.
func (s *Service) submitGrouped(ctx context.Context, scope store.Scope, r EvaluationRequest, reqHash string, now time.Time) (res EvaluationResult, created, handled bool, err error) {
	rt := s.newRating(r, reqHash, s.evaluatorKey(r.Evaluator), now)
	j := &groupJob{ctx: context.WithoutCancel(ctx), scope: scope, rt: rt}
	if audit, audited := store.AuditEntryFor(ctx, http.StatusCreated); audited {
		j.audit = &audit
	}
	s.batches()
	a, err := s.groups.Do(ctx, j)
	switch {
	case err != nil:
		return EvaluationResult{}, false, true, fmt.Errorf("evaluation %s: %w", r.EvaluationID, err)
	case a.single:
		return EvaluationResult{}, false, false, nil
	case a.replay != nil:
		return *a.replay, false, true, nil
	case a.err != nil:
		ae, refused := apperr.As(a.err)
		if !refused {
			return EvaluationResult{}, false, true, fmt.Errorf("evaluation %s: %w", r.EvaluationID, a.err)
		}
		if ae.Code != "evaluation_conflict" {
			// A retry gets the stored answer even where the checks now refuse it, as in
			// SubmitEvaluation (stored since the group's read, by a concurrent request).
			if res, found, err2 := s.existing(ctx, r.EvaluationID, reqHash); found || err2 != nil {
				return res, false, true, err2
			}
		}
		return EvaluationResult{}, false, true, a.err
	}
	if j.audit != nil {
		store.MarkAuditWritten(ctx)
	}
	rt.stored(ctx)
	if s.Starter != nil {
		for _, wo := range rt.orders() {
			s.startOrder(ctx, wo.ID)
		}
	}
	return rt.result(), true, true, nil
}

// groupReads is what a group reads before its checks.
type groupReads struct {
	stored map[string]storedAnswer // by evaluation_id
	taken  map[[2]string]bool      // first-rating slots taken: case_no, evaluator key
	cases  []caseInfo
	recent [][]string // by fraud source
}

// runGroup reads, checks and stores the ratings of a group, in the order they were received,
// and answers each as submit would have: a stored rating counts in the fraud checks of the
// later ones (as it would have, stored first); a rating that could meet an earlier one of the
// group at the database's unique keys is left to the one-at-a-time path, which runs once the
// group is committed; if the database refuses the group's rows, none is stored and every
// rating goes the one-at-a-time way.
func (s *Service) runGroup(ctx context.Context, jobs []*groupJob) ([]groupAnswer, error) {
	if s.groupGate != nil {
		s.groupGate()
	}
	out := make([]groupAnswer, len(jobs))
	order := make([]int, len(jobs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool {
		return jobs[order[a]].rt.e.ReceivedAt.Before(jobs[order[b]].rt.e.ReceivedAt)
	})

	// Ratings that share an evaluation_id or a slot with an earlier one wait for it.
	ids := map[string]bool{}
	slots := map[[2]string]bool{}
	var live []int
	for _, i := range order {
		rt := jobs[i].rt
		taken := ids[rt.e.EvaluationID]
		for _, c := range rt.r.CaseNos {
			taken = taken || slots[[2]string{c, rt.key}]
		}
		if taken {
			out[i].single = true
			continue
		}
		ids[rt.e.EvaluationID] = true
		for _, c := range rt.r.CaseNos {
			slots[[2]string{c, rt.key}] = true
		}
		live = append(live, i)
	}

	rts := make([]*rating, len(live))
	for k, i := range live {
		rts[k] = jobs[i].rt
	}
	srcs, index := s.fraudSources(rts)
	reads, err := s.readGroup(ctx, rts, srcs)
	if err != nil {
		return nil, err
	}

	// Each rating's answer from what is stored, then its checks.
	var (
		ratings []*rating
		at      []int // ratings[k] answers jobs[at[k]]
	)
	want := make([][]string, len(live))
	for k, i := range live {
		want[k] = jobs[i].rt.r.CaseNos
	}
	split := splitCases(reads.cases, want)
	for k, i := range live {
		j := jobs[i]
		rt := j.rt
		if st, ok := reads.stored[rt.e.EvaluationID]; ok {
			if st.hash != rt.e.RequestHash {
				out[i].err = apperr.Conflict("evaluation_conflict", "evaluation_id %q was already used for a different rating", rt.e.EvaluationID)
				continue
			}
			res, err := s.storedResult(ctx, st)
			if err != nil {
				out[i].err = err
				continue
			}
			out[i].replay = &res
			continue
		}
		if slices.ContainsFunc(rt.r.CaseNos, func(c string) bool { return reads.taken[[2]string{c, rt.key}] }) {
			// Already rated by this evaluator: a repeat or a contradicting rating (asConflict).
			out[i].single = true
			continue
		}
		r := rt.r
		inScope, err := s.checkCases(j.ctx, j.scope, &r, split[k], rt.e.ReceivedAt)
		if err != nil {
			out[i].err = err // refused, or its own look-up failed: this rating's answer only
			continue
		}
		rt.place(inScope)
		ratings = append(ratings, rt)
		at = append(at, i)
	}
	if len(ratings) == 0 {
		return out, nil
	}
	if err := s.flagPremises(ctx, ratings); err != nil {
		return nil, fmt.Errorf("fraud check: %w", err)
	}
	// The fraud sources were read for every rating of the group; those refused above count
	// for no one, as flagFraud counts only the ratings it is given.
	s.flagFraud(ratings, index, reads.recent)

	groups := make([][]any, len(ratings))
	for k, rt := range ratings {
		groups[k] = rt.rows()
		if a := jobs[at[k]].audit; a != nil {
			groups[k] = append(groups[k], a)
		}
	}
	merged, err := store.MergeRows(groups)
	if err == nil {
		err = store.InsertAll(ctx, s.DB, merged...)
	}
	if err != nil {
		// Nothing of the group is stored (one statement batch, one transaction): each rating
		// goes the one-at-a-time way, which answers for its own rows only.
		for _, i := range at {
			out[i] = groupAnswer{single: true}
		}
		return out, nil
	}
	s.grouped.groups.Add(1)
	s.grouped.stored.Add(int64(len(ratings)))
	for {
		l := s.grouped.largest.Load()
		if int64(len(ratings)) <= l || s.grouped.largest.CompareAndSwap(l, int64(len(ratings))) {
			break
		}
	}
	for _, i := range at {
		out[i].stored = true
	}
	return out, nil
}

// storedResult is a stored rating's answer, as existing gives it: with all its orders.
func (s *Service) storedResult(ctx context.Context, st storedAnswer) (EvaluationResult, error) {
	res := st.res
	if res.WorkOrderID != nil {
		if err := s.DB.WithContext(ctx).Table("work_orders").Where("evaluation_id = ?", res.ID).Order("id").Pluck("id", &res.WorkOrderIDs).Error; err != nil {
			return EvaluationResult{}, fmt.Errorf("evaluation %s: orders: %w", res.ID, err)
		}
	}
	return res, nil
}

// Group reads on PostgreSQL: one statement text each whatever the group's size (arrays are
// one parameter each), so that the prepared statements serve every group. Each looks up its
// keys one by one through the unique index (LATERAL … LIMIT 1 keeps the planner from joining
// the table whole): the benchmarks' databases are never analysed, and a plan cached while a
// table was nearly empty scanned it whole for every group once it had grown (BENCHMARKS.md).
const (
	storedByIDPG = `SELECT e.evaluation_id, e.id, e.bad, e.work_order_id, e.request_hash FROM unnest($1::text[]) AS w(evaluation_id)
		CROSS JOIN LATERAL (SELECT evaluation_id, id, bad, work_order_id, request_hash FROM evaluations WHERE evaluation_id = w.evaluation_id LIMIT 1) e`
	takenSlotsPG = `SELECT s.case_no, s.evaluator_key FROM unnest($1::text[], $2::text[]) AS w(case_no, evaluator_key)
		CROSS JOIN LATERAL (SELECT case_no, evaluator_key FROM evaluation_cases WHERE case_no = w.case_no AND evaluator_key = w.evaluator_key AND slot = 0 LIMIT 1) s`
)

// readGroup reads what the group's checks need: the stored answers of its evaluation_ids, the
// first-rating slots its evaluators already hold on its cases, its cases, and its fraud
// sources' recent ratings. On PostgreSQL the four statements go in one round trip.
func (s *Service) readGroup(ctx context.Context, rts []*rating, srcs []source) (groupReads, error) {
	var evalIDs, caseNos, slotCases, slotKeys []string
	for _, rt := range rts {
		evalIDs = append(evalIDs, rt.e.EvaluationID)
		caseNos = append(caseNos, rt.r.CaseNos...)
		for _, c := range rt.r.CaseNos {
			slotCases, slotKeys = append(slotCases, c), append(slotKeys, rt.key)
		}
	}
	g := groupReads{taken: map[[2]string]bool{}, recent: make([][]string, len(srcs))}
	if len(rts) == 0 {
		return g, nil
	}
	if s.DB.Dialect != migrations.Postgres {
		var err error
		if g.stored, err = s.storedAnswers(ctx, evalIDs); err != nil {
			return g, err
		}
		var taken []struct{ CaseNo, EvaluatorKey string }
		if err := s.DB.WithContext(ctx).Table("evaluation_cases").Select("case_no, evaluator_key").
			Where("slot = 0 AND case_no IN ?", caseNos).Scan(&taken).Error; err != nil {
			return g, fmt.Errorf("group: slots: %w", err)
		}
		for _, t := range taken {
			g.taken[[2]string{t.CaseNo, t.EvaluatorKey}] = true
		}
		if g.cases, err = s.loadCases(ctx, caseNos); err != nil {
			return g, fmt.Errorf("group: cases: %w", err)
		}
		if g.recent, err = recentBySource(ctx, s.DB, srcs); err != nil {
			return g, fmt.Errorf("group: %w", err)
		}
		return g, nil
	}
	recentQ, recentArgs, err := recentQueryPG(srcs)
	if err != nil {
		return g, err
	}
	pool := s.DB.SQL()
	err = store.OnPgx(ctx, pool, func(c *pgx.Conn) error {
		var b pgx.Batch
		b.Queue(storedByIDPG, evalIDs)
		b.Queue(takenSlotsPG, slotCases, slotKeys)
		b.Queue(casesByNoPG, caseNos)
		if len(srcs) > 0 {
			b.Queue(recentQ, recentArgs...)
		}
		br := c.SendBatch(ctx, &b)
		defer br.Close() //nolint:errcheck // read-only: each result's error is checked as it is read
		read := func(what string, f func(pgx.Rows) error) error {
			rs, err := br.Query()
			if err != nil {
				return fmt.Errorf("group: %s: %w", what, err)
			}
			defer rs.Close()
			if err := f(rs); err != nil {
				return fmt.Errorf("group: %s: %w", what, err)
			}
			return nil
		}
		g.stored = map[string]storedAnswer{}
		if err := read("stored answers", func(rs pgx.Rows) error {
			for rs.Next() {
				var id string
				var a storedAnswer
				if err := rs.Scan(&id, &a.res.ID, &a.res.Bad, &a.res.WorkOrderID, &a.hash); err != nil {
					return err
				}
				g.stored[id] = a
			}
			return rs.Err()
		}); err != nil {
			return err
		}
		if err := read("slots", func(rs pgx.Rows) error {
			for rs.Next() {
				var k [2]string
				if err := rs.Scan(&k[0], &k[1]); err != nil {
					return err
				}
				g.taken[k] = true
			}
			return rs.Err()
		}); err != nil {
			return err
		}
		if err := read("cases", func(rs pgx.Rows) (err error) {
			g.cases, err = scanCases(rs)
			return err
		}); err != nil {
			return err
		}
		if len(srcs) > 0 {
			return read("fraud sources", func(rs pgx.Rows) error { return scanRecent(rs, g.recent) })
		}
		return nil
	})
	return g, err
}
