package intake

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sync"

	"redress/apperr"
	"redress/store"
)

// MaxBulkEvaluations bounds one bulk upload of ratings; a channel with more sends several.
const MaxBulkEvaluations = 500

// bulkChunk is how many ratings go to the database in one write (store.InsertGroups): each of
// its inserts stays well under PostgreSQL's 65 535 parameters however many cases and flags a
// rating carries.
const bulkChunk = 100

// BulkEvaluationsRequest is the body of POST /evaluations/bulk: the ratings a channel has
// collected (a hall's terminals after a network outage, a platform's nightly hand-over).
type BulkEvaluationsRequest struct {
	Evaluations []EvaluationRequest `json:"evaluations"`
}

// BulkEvaluationResult answers one rating of a bulk upload as POST /evaluations would have:
// status 201 (stored), 200 (a repeat, with the stored answer) or its error's status and error.
type BulkEvaluationResult struct {
	Index        int        `json:"index"`
	EvaluationID string     `json:"evaluation_id"`
	Status       int        `json:"status"`
	ID           string     `json:"id,omitempty"`
	Bad          *bool      `json:"bad,omitempty"`
	WorkOrderID  *string    `json:"work_order_id,omitempty"`
	Error        *ItemError `json:"error,omitempty"`
}

// SubmitEvaluations stores each rating of a bulk upload as SubmitEvaluation would, every one
// on its own (no all-or-nothing: a refused rating does not hold back the others), with the
// same checks, idempotency, fraud detection and work orders. Only a failure of the database
// itself aborts the request, so that the channel sends it again; what was stored then answers
// 200.
//
// It is not a loop over SubmitEvaluation: the ratings of an upload are looked up together
// (the stored answers of repeats, the cases, the fraud sources, the staff identities: a
// statement each) and stored a hundred to a statement. Ratings that need more than that go
// the single way afterwards, in order: follow-ups, a second rating in the upload with the same
// evaluation_id or the same case and evaluator as an earlier one, and a rating whose group
// the database refused.
func (s *Service) SubmitEvaluations(ctx context.Context, scope store.Scope, req BulkEvaluationsRequest) ([]BulkEvaluationResult, error) {
	if len(req.Evaluations) == 0 {
		return nil, apperr.Invalid("evaluations", "required", "evaluations needs at least one rating")
	}
	if len(req.Evaluations) > MaxBulkEvaluations {
		return nil, apperr.Invalid("evaluations", "too_many", "at most %d ratings in one request", MaxBulkEvaluations)
	}
	now := s.now()
	out := make([]BulkEvaluationResult, len(req.Evaluations))
	fail := func(i int, err error) error {
		ae, ok := apperr.As(err)
		if !ok {
			return fmt.Errorf("bulk evaluations, rating %d: %w", i, err)
		}
		ie := &ItemError{Code: ae.Code, Message: ae.Message}
		if ae.Field != "" {
			ie.Field = fmt.Sprintf("evaluations[%d].%s", i, ae.Field)
		}
		out[i].Status, out[i].Error = ae.Status, ie
		return nil
	}
	answer := func(i int, res EvaluationResult, created bool) {
		out[i].Status, out[i].ID, out[i].Bad, out[i].WorkOrderID = http.StatusOK, res.ID, &res.Bad, res.WorkOrderID
		if created {
			out[i].Status = http.StatusCreated
		}
	}

	// Validate each; set aside what the batch cannot take.
	type item struct {
		i       int
		r       EvaluationRequest
		reqHash string
		key     string
	}
	var (
		norm   = make([]EvaluationRequest, len(req.Evaluations)) // as translated from codes
		batch  []item
		single []int // answered by SubmitEvaluation afterwards, in order
		ids    = map[string]bool{}
		slots  = map[[2]string]bool{}
	)
	for i := range req.Evaluations {
		r := req.Evaluations[i]
		out[i] = BulkEvaluationResult{Index: i, EvaluationID: r.EvaluationID}
		if err := r.normalize(); err != nil {
			if err := fail(i, err); err != nil {
				return nil, err
			}
			continue
		}
		norm[i] = r
		if err := r.validate(now); err != nil {
			if err := fail(i, err); err != nil {
				return nil, err
			}
			continue
		}
		it := item{i: i, r: r, reqHash: requestHash(r), key: s.evaluatorKey(r.Evaluator)}
		taken := ids[r.EvaluationID] || r.FollowUpOf != ""
		for _, c := range r.CaseNos {
			taken = taken || slots[[2]string{c, it.key}]
		}
		if taken {
			single = append(single, i)
			continue
		}
		ids[r.EvaluationID] = true
		for _, c := range r.CaseNos {
			slots[[2]string{c, it.key}] = true
		}
		batch = append(batch, it)
	}

	// Repeats answer what is stored, or a conflict.
	if len(batch) > 0 {
		evalIDs := make([]string, len(batch))
		for k, it := range batch {
			evalIDs[k] = it.r.EvaluationID
		}
		stored, err := s.storedAnswers(ctx, evalIDs)
		if err != nil {
			return nil, err
		}
		kept := batch[:0]
		for _, it := range batch {
			st, ok := stored[it.r.EvaluationID]
			switch {
			case !ok:
				kept = append(kept, it)
			case st.hash != it.reqHash:
				if err := fail(it.i, apperr.Conflict("evaluation_conflict", "evaluation_id %q was already used for a different rating", it.r.EvaluationID)); err != nil {
					return nil, err
				}
			default:
				answer(it.i, st.res, false)
			}
		}
		batch = kept
	}

	// The cases of the whole batch, then each rating's checks.
	var caseNos []string
	want := make([][]string, len(batch))
	for k, it := range batch {
		caseNos = append(caseNos, it.r.CaseNos...)
		want[k] = it.r.CaseNos
	}
	var cases []caseInfo
	if len(caseNos) > 0 {
		var err error
		if cases, err = s.loadCases(ctx, caseNos); err != nil {
			return nil, fmt.Errorf("bulk evaluations: cases: %w", err)
		}
	}
	split := splitCases(cases, want)
	var ratings []*rating
	var at []int // ratings[k] answers item at[k]
	for k, it := range batch {
		inScope, err := s.checkCases(ctx, scope, &it.r, split[k], now)
		if err != nil {
			if err := fail(it.i, err); err != nil {
				return nil, err
			}
			continue
		}
		rt := s.newRating(it.r, it.reqHash, it.key, now)
		rt.place(inScope)
		ratings = append(ratings, rt)
		at = append(at, it.i)
	}
	if err := s.flagPremises(ctx, ratings); err != nil {
		return nil, fmt.Errorf("bulk evaluations: fraud check: %w", err)
	}
	if err := s.detectFraud(ctx, ratings); err != nil {
		return nil, fmt.Errorf("bulk evaluations: fraud check: %w", err)
	}

	// Store: a statement per chunk; a refused chunk is written rating by rating, and a refused
	// rating goes the single way, which finds what refused it.
	// The request's audit entry goes with the first chunk; SubmitEvaluation must not write
	// one of its own for a rating of the upload.
	audit, audited := store.AuditEntryFor(ctx, http.StatusOK)
	itemCtx := store.WithAuditHook(ctx, nil)
	var started []*rating
	for lo := 0; lo < len(ratings); lo += bulkChunk {
		chunk := ratings[lo:min(lo+bulkChunk, len(ratings))]
		groups := make([][]any, len(chunk), len(chunk)+1)
		for k, rt := range chunk {
			groups[k] = rt.rows()
		}
		if audited && lo == 0 {
			groups = append(groups, []any{&audit})
		}
		errs := store.InsertGroups(ctx, s.DB, groups)
		if audited && lo == 0 {
			if errs[len(chunk)] == nil {
				store.MarkAuditWritten(ctx)
			}
		}
		for k, rt := range chunk {
			switch err := errs[k]; {
			case err == nil:
				rt.stored(ctx)
				answer(at[lo+k], rt.result(), true)
				if rt.wo != nil {
					started = append(started, rt)
				}
			case isDuplicate(err):
				single = append(single, at[lo+k])
			default:
				return nil, fmt.Errorf("bulk evaluations, rating %d: store: %w", at[lo+k], err)
			}
		}
	}

	// Bad ratings' workflows, a few at a time: each start is a round trip to the engine.
	if s.Starter != nil && len(started) > 0 {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for _, rt := range started {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				for _, wo := range rt.orders() {
					s.startOrder(ctx, wo.ID)
				}
			}()
		}
		wg.Wait()
	}

	// The rest, in the order of the upload, the single way.
	slices.Sort(single)
	for _, i := range single {
		res, created, err := s.SubmitEvaluation(itemCtx, scope, norm[i])
		if err != nil {
			if err := fail(i, err); err != nil {
				return nil, err
			}
			continue
		}
		answer(i, res, created)
	}
	return out, nil
}

type storedAnswer struct {
	res  EvaluationResult
	hash string
}

// storedAnswers reads the stored answers of the evaluation_ids that are stored.
func (s *Service) storedAnswers(ctx context.Context, evalIDs []string) (map[string]storedAnswer, error) {
	rs, err := s.DB.WithContext(ctx).Table("evaluations").Select("evaluation_id, id, bad, work_order_id, request_hash").
		Where("evaluation_id IN ?", evalIDs).Rows()
	if err != nil {
		return nil, fmt.Errorf("bulk evaluations: stored answers: %w", err)
	}
	defer rs.Close() //nolint:errcheck // read-only rows: rows.Err() after the loop reports a failed read; Close only frees the connection
	out := map[string]storedAnswer{}
	for rs.Next() {
		var evalID string
		var a storedAnswer
		if err := rs.Scan(&evalID, &a.res.ID, &a.res.Bad, &a.res.WorkOrderID, &a.hash); err != nil {
			return nil, fmt.Errorf("bulk evaluations: stored answers: %w", err)
		}
		out[evalID] = a
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("bulk evaluations: stored answers: %w", err)
	}
	return out, nil
}
