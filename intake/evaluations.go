// Submitting a rating: the cases it rates read (with concurrent requests' reads), checked
// against the caller's scope and the indicators, the rating stored with its audit entry, and
// a bad rating's workflow started; a retry answers what is stored.

package intake

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"time"

	"redress/apperr"
	"redress/calendar"
	"redress/migrations"
	"redress/models"
	"redress/store"
)

// caseInfo is what a rating needs to know of each case it rates.
type caseInfo struct {
	CaseNo         string
	CompletedAt    time.Time
	Path           string
	ItemCode       string
	StaffID        *string
	Ratable        bool
	RatingClosesAt *time.Time
	// The handling staff's identity hashes (staff_identities), for the own-staff fraud check.
	StaffIDHash, StaffPhoneHash *string
}

const casesSelect = `SELECT service_cases.case_no, service_cases.completed_at, units.path, service_cases.item_code, service_cases.staff_id, service_cases.ratable,
	service_cases.rating_closes_at, staff_identities.id_hash, staff_identities.phone_hash
	FROM service_cases JOIN units ON units.id = service_cases.unit_id
	LEFT JOIN staff_identities ON staff_identities.staff_id = service_cases.staff_id`

func (s *Service) loadCases(ctx context.Context, caseNos []string) ([]caseInfo, error) {
	var (
		rs  *sql.Rows
		err error
	)
	if s.DB.Dialect == migrations.Postgres {
		// One statement text whatever the number of cases (the array is one parameter), so
		// that the driver's prepared statement serves every batch of Service.lookups. Sent
		// beside GORM, which would expand the array into a list.
		rs, err = s.DB.SQL().QueryContext(ctx, casesByNoPG, caseNos)
	} else {
		rs, err = s.DB.WithContext(ctx).Raw(casesSelect+" WHERE service_cases.case_no IN ? ORDER BY service_cases.case_no", caseNos).Rows()
	}
	if err != nil {
		return nil, err
	}
	defer rs.Close() //nolint:errcheck // read-only rows: rows.Err() after the loop reports a failed read; Close only frees the connection
	return scanCases(rs)
}

// casesByNoPG reads the cases of an array of case numbers on PostgreSQL: one statement text
// whatever the number of cases (the array is one parameter), so that one prepared statement
// serves every group.
const casesByNoPG = casesSelect + " WHERE service_cases.case_no = ANY($1) ORDER BY service_cases.case_no"

// rowScanner is what a scan needs of a result: database/sql's rows and pgx's alike.
type rowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// scanCases reads the rows of casesSelect. Scanned by hand, like the caller's account: every
// rating runs it (BENCHMARKS.md, point 1).
func scanCases(rs rowScanner) ([]caseInfo, error) {
	var cases []caseInfo
	for rs.Next() {
		var c caseInfo
		if err := rs.Scan(&c.CaseNo, &c.CompletedAt, &c.Path, &c.ItemCode, &c.StaffID, &c.Ratable, &c.RatingClosesAt, &c.StaffIDHash, &c.StaffPhoneHash); err != nil {
			return nil, err
		}
		cases = append(cases, c)
	}
	return cases, rs.Err()
}

// lookup is what one rating reads before it is stored: its cases and its fraud sources' recent
// ratings. The look-ups of concurrent ratings go to the database together (Service.lookups).
type lookup struct {
	caseNos []string
	srcs    []source
}

type lookedUp struct {
	cases  []caseInfo
	recent [][]string
}

// lookupAll answers the look-ups of ratings that arrived together: two statements for all of
// them, where each rating cost two of its own.
func (s *Service) lookupAll(ctx context.Context, in []lookup) ([]lookedUp, error) {
	var caseNos []string
	var srcs []source
	for _, l := range in {
		caseNos = append(caseNos, l.caseNos...)
		srcs = append(srcs, l.srcs...)
	}
	cases, err := s.loadCases(ctx, caseNos)
	if err != nil {
		return nil, fmt.Errorf("cases: %w", err)
	}
	recent, err := recentBySource(ctx, s.DB, srcs)
	if err != nil {
		return nil, err
	}
	want := make([][]string, len(in))
	for i, l := range in {
		want[i] = l.caseNos
	}
	split := splitCases(cases, want)
	out := make([]lookedUp, len(in))
	for i, l := range in {
		out[i].cases = split[i]
		out[i].recent, recent = recent[:len(l.srcs)], recent[len(l.srcs):]
	}
	return out, nil
}

// splitCases hands each rating the cases it names (want[i]), of those read for many ratings.
func splitCases(cases []caseInfo, want [][]string) [][]caseInfo {
	byNo := make(map[string]caseInfo, len(cases))
	for _, c := range cases {
		byNo[c.CaseNo] = c
	}
	out := make([][]caseInfo, len(want))
	for i, nos := range want {
		for _, no := range nos {
			if c, ok := byNo[no]; ok {
				out[i] = append(out[i], c)
			}
		}
	}
	return out
}

// SubmitEvaluation stores an evaluation once. created=false means the same evaluation_id had
// been stored before (the answer is the stored one); other content under that id is a
// conflict. A bad evaluation opens exactly one work order, stored in the same transaction,
// however many indicators, theme items or cases are bad. Fraud flags are stored in the same
// transaction too: a flag never stops a rating.
func (s *Service) SubmitEvaluation(ctx context.Context, scope store.Scope, r EvaluationRequest) (EvaluationResult, bool, error) {
	now := s.now()
	if err := r.normalize(); err != nil {
		return EvaluationResult{}, false, err
	}
	if err := r.validate(now); err != nil {
		return EvaluationResult{}, false, err
	}
	reqHash := requestHash(r)
	// The stored answer of a retry is looked up only when this submission is refused (the
	// insert's unique keys refuse a repeat): a lookup before every rating cost a round trip
	// that nearly always found nothing (BENCHMARKS.md, point 1). A retry must get the stored
	// answer even when the checks would now refuse it (a window closed since, the follow-up
	// slot it took itself), so every refusal looks first.
	if r.FollowUpOf == "" && !s.oneAtATime {
		// A first rating goes with those of concurrent requests (grouped.go), which answers it
		// as submit would, or hands it back.
		if res, created, handled, err := s.submitGrouped(ctx, scope, r, reqHash, now); handled {
			return res, created, err
		}
	}
	res, created, err := s.submit(ctx, scope, r, reqHash, now)
	if _, refused := apperr.As(err); refused {
		if res, found, err2 := s.existing(ctx, r.EvaluationID, reqHash); found || err2 != nil {
			return res, false, err2
		}
	}
	return res, created, err
}

func (s *Service) submit(ctx context.Context, scope store.Scope, r EvaluationRequest, reqHash string, now time.Time) (EvaluationResult, bool, error) {
	key := s.evaluatorKey(r.Evaluator)

	var first *evalRow
	if r.FollowUpOf != "" {
		if key == keyAnonymous {
			return EvaluationResult{}, false, apperr.Invalid("evaluator", "follow_up_needs_identity", "a follow-up rating needs the evaluator's phone or ID number")
		}
		var f evalRow
		if err := s.DB.WithContext(ctx).Where("evaluation_id = ?", r.FollowUpOf).Limit(1).Find(&f).Error; err != nil {
			return EvaluationResult{}, false, fmt.Errorf("evaluation %s: first rating: %w", r.EvaluationID, err)
		}
		// Another evaluator's rating reads as unknown: the answer must not confirm it exists.
		if f.ID == "" || f.Kind != KindFirst || f.EvaluatorKey != key {
			return EvaluationResult{}, false, apperr.Invalid("follow_up_of", "unknown_first_rating", "no first rating %q of this evaluator", r.FollowUpOf)
		}
		var firstCases []string
		if err := s.DB.WithContext(ctx).Table("evaluation_cases").Where("evaluation_id = ?", f.ID).Order("case_no").Pluck("case_no", &firstCases).Error; err != nil {
			return EvaluationResult{}, false, fmt.Errorf("evaluation %s: first rating's cases: %w", r.EvaluationID, err)
		}
		if len(r.CaseNos) == 0 {
			r.CaseNos = firstCases
		} else if fmt.Sprint(sortedCopy(r.CaseNos)) != fmt.Sprint(firstCases) {
			return EvaluationResult{}, false, apperr.Invalid("case_nos", "follow_up_cases", "a follow-up rates the cases of its first rating")
		}
		first = &f
	}

	rt := s.newRating(r, reqHash, key, now)
	srcs, index := s.fraudSources([]*rating{rt})
	got, err := s.lookup(ctx, lookup{caseNos: r.CaseNos, srcs: srcs})
	if err != nil {
		return EvaluationResult{}, false, fmt.Errorf("evaluation %s: look-ups: %w", r.EvaluationID, err)
	}
	inScope, err := s.checkCases(ctx, scope, &r, got.cases, now)
	if err != nil {
		return EvaluationResult{}, false, err
	}
	rt.place(inScope)

	if first != nil {
		pol, err := s.ratingPolicy(ctx, inScope[0].Path)
		if err != nil {
			return EvaluationResult{}, false, fmt.Errorf("evaluation %s: %w", r.EvaluationID, err)
		}
		var n int64
		if err := s.DB.WithContext(ctx).Table("evaluations").Where("follow_up_of = ?", first.ID).Count(&n).Error; err != nil {
			return EvaluationResult{}, false, fmt.Errorf("evaluation %s: follow-ups: %w", r.EvaluationID, err)
		}
		if int(n) >= pol.FollowUpLimit {
			return EvaluationResult{}, false, apperr.Conflict("follow_up_limit", "the policy allows %d follow-up rating(s) of a first rating", pol.FollowUpLimit)
		}
		rt.followUp(first.ID, int(n)+1)
	}
	if err := s.flagPremises(ctx, []*rating{rt}); err != nil {
		return EvaluationResult{}, false, fmt.Errorf("evaluation %s: %w", r.EvaluationID, err)
	}
	s.flagFraud([]*rating{rt}, index, got.recent)
	// Everything a rating stores goes in one round trip and one commit (store.InsertAll),
	// parents first, with the ratings of concurrent requests (store.Committer).
	rows := rt.rows()
	// The request's audit entry goes in with the rating (one commit, not two).
	audit, audited := store.AuditEntryFor(ctx, http.StatusCreated)
	if audited {
		rows = append(rows, &audit)
	}
	err = s.insert(ctx, rows...)
	if err != nil && isDuplicate(err) && first == nil {
		// The evaluator's first rating of a case is taken. A rating that contradicts it is not
		// refused (issue 17: staff holding the receipt could rate first and block the citizen):
		// it is stored beside it as a conflict, both flagged for review.
		var conflict bool
		if conflict, err = s.asConflict(ctx, rt, now, err); conflict {
			rows = rt.rows()
			if audited {
				rows = append(rows, &audit)
			}
			err = s.insert(ctx, rows...)
		}
	}
	if err == nil && audited {
		store.MarkAuditWritten(ctx)
	}
	if err != nil {
		if isDuplicate(err) {
			// A repeat of a stored request (SubmitEvaluation then answers what is stored), or
			// the evaluator's slot was taken: by their first rating, or by a follow-up that
			// raced this one.
			if first != nil {
				return EvaluationResult{}, false, apperr.Conflict("follow_up_limit", "the follow-up ratings of %q are used up", r.FollowUpOf)
			}
			return EvaluationResult{}, false, apperr.Conflict("already_rated", "this evaluator has already rated one of these cases; send a follow-up rating (follow_up_of) instead")
		}
		return EvaluationResult{}, false, fmt.Errorf("evaluation %s: store: %w", r.EvaluationID, err)
	}
	rt.stored(ctx)
	if s.Starter != nil {
		for _, wo := range rt.orders() {
			s.startOrder(ctx, wo.ID)
		}
	}
	return rt.result(), true, nil
}

// checkCases keeps those of r's cases (as found, splitCases) that the scope covers, and refuses
// r unless every case of r is there and open to rating at now.
func (s *Service) checkCases(ctx context.Context, scope store.Scope, r *EvaluationRequest, cases []caseInfo, now time.Time) ([]caseInfo, error) {
	found := map[string]bool{}
	var inScope []caseInfo
	for _, c := range cases {
		if !scope.Covers(c.Path) {
			continue // out of the channel's scope reads as unknown
		}
		found[c.CaseNo] = true
		inScope = append(inScope, c)
	}
	for _, c := range r.CaseNos {
		if !found[c] {
			return nil, apperr.Invalid("case_nos", "unknown_case", "case %q is not registered", c)
		}
	}
	for _, c := range inScope {
		if !c.Ratable {
			return nil, apperr.Invalid("case_nos", "not_ratable", "case %q was not completed (intake failed) and opens no rating", c.CaseNo)
		}
		if r.RatedAt.Before(c.CompletedAt) {
			return nil, apperr.Invalid("rated_at", "before_completion", "rated_at is before case %q was completed", c.CaseNo)
		}
		closes := c.RatingClosesAt
		if closes == nil {
			t, err := s.WindowCloses(ctx, c.Path, c.CompletedAt)
			switch {
			case errors.Is(err, calendar.ErrYearNotCovered):
				// A calendar year not imported yet must not cost a citizen their rating
				// (ratings are never suppressed): accept it and say so; the default job
				// waits for the year, so the case cannot get a default meanwhile.
				slog.WarnContext(ctx, "rating accepted without a window check: calendar year missing", "case_no", c.CaseNo, "err", err)
				continue
			case err != nil:
				return nil, fmt.Errorf("evaluation %s: window of %s: %w", r.EvaluationID, c.CaseNo, err)
			}
			closes = &t
		}
		// Judged by when the evaluator rated: a rating given after the window is refused.
		if r.RatedAt.After(*closes) {
			return nil, apperr.Invalid("rated_at", "rating_window_closed",
				"the rating window of case %q closed at %s", c.CaseNo, closes.In(calendar.Zone()).Format(time.RFC3339))
		}
		// And by when it arrived: a rating given in time but uploaded late (a hall's terminals
		// after an outage) is accepted within the policy's late_upload_grace after the window's
		// end (rated_at and received_at both stored). The default-rating job takes a case only
		// after the same grace and margin, so an accepted rating and a default never meet.
		// The grace is looked up only for late arrivals: the common rating costs nothing more.
		if now.After(closes.Add(clockSkew)) {
			until, err := s.UploadDeadline(ctx, c.Path, *closes)
			switch {
			case errors.Is(err, calendar.ErrYearNotCovered):
				slog.WarnContext(ctx, "late rating accepted without a grace check: calendar year missing", "case_no", c.CaseNo, "err", err)
				continue
			case err != nil:
				return nil, fmt.Errorf("evaluation %s: upload grace of %s: %w", r.EvaluationID, c.CaseNo, err)
			}
			if now.After(until.Add(clockSkew)) {
				return nil, apperr.Invalid("rated_at", "rating_window_closed",
					"the rating window of case %q closed at %s and late uploads were accepted until %s", c.CaseNo,
					closes.In(calendar.Zone()).Format(time.RFC3339), until.In(calendar.Zone()).Format(time.RFC3339))
			}
		}
	}
	if err := s.checkIndicators(ctx, r, inScope); err != nil {
		return nil, err
	}
	return inScope, nil
}

// checkIndicators refuses a rating that names an indicator outside the catalogue of any of
// its cases' units (the nearest jurisdiction's catalogue, else the default): an unknown name
// cannot be told to be staff, process or platform, so it could be neither appealed nor routed.
func (s *Service) checkIndicators(ctx context.Context, r *EvaluationRequest, cases []caseInfo) error {
	seen := map[string]bool{}
	for _, c := range cases {
		if seen[c.Path] {
			continue
		}
		seen[c.Path] = true
		cat, err := s.indicators().For(ctx, c.Path)
		if err != nil {
			return fmt.Errorf("evaluation %s: %w", r.EvaluationID, err)
		}
		check := func(field string, levels map[string]string) error {
			keys := make([]string, 0, len(levels))
			for k := range levels {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				if _, ok := cat.Get(k); !ok {
					return apperr.Invalid(field+"."+k, "unknown_indicator", "indicator %q is not in the indicator catalogue of case %q's unit (GET /api/v1/indicators?unit=…)", k, c.CaseNo)
				}
			}
			return nil
		}
		if err := check("levels", r.Levels); err != nil {
			return err
		}
		if r.Theme != nil {
			for i, it := range r.Theme.Items {
				if err := check(fmt.Sprintf("theme.items[%d].levels", i), it.Levels); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// startOrder starts a stored order's workflow. The order is safe in the database; if this
// start fails, the reconciler retries it. startGuarded (startguard.go) bounds the start so an
// engine outage never stalls intake.
func (s *Service) startOrder(ctx context.Context, workOrderID string) {
	if err := s.startGuarded(ctx, workOrderID); err != nil {
		slog.WarnContext(ctx, "work order stored, workflow start deferred to reconciler", "work_order", workOrderID, "err", err)
	}
}

// existing returns the stored answer for an evaluation_id, or a conflict if the stored
// submission differs from this one.
func (s *Service) existing(ctx context.Context, evaluationID, reqHash string) (EvaluationResult, bool, error) {
	var e models.Evaluation
	err := s.DB.WithContext(ctx).Select("id", "bad", "work_order_id", "request_hash").
		Where("evaluation_id = ?", evaluationID).Limit(1).Find(&e).Error
	if err != nil {
		return EvaluationResult{}, false, fmt.Errorf("evaluation %s: lookup: %w", evaluationID, err)
	}
	if e.ID == "" {
		return EvaluationResult{}, false, nil
	}
	if e.RequestHash != reqHash {
		return EvaluationResult{}, true, apperr.Conflict("evaluation_conflict", "evaluation_id %q was already used for a different rating", evaluationID)
	}
	res := EvaluationResult{ID: e.ID, Bad: e.Bad, WorkOrderID: e.WorkOrderID}
	if e.WorkOrderID != nil {
		// All the rating's orders (several for a theme rating split by unit), as first answered.
		if err := s.DB.WithContext(ctx).Table("work_orders").Where("evaluation_id = ?", e.ID).Order("id").Pluck("id", &res.WorkOrderIDs).Error; err != nil {
			return EvaluationResult{}, false, fmt.Errorf("evaluation %s: orders: %w", evaluationID, err)
		}
	}
	return res, true, nil
}

// WorkflowID derives a work order's workflow id from its id, so that starting it twice is
// refused by Temporal rather than creating a second workflow.
func WorkflowID(workOrderID string) string { return "work-order-" + workOrderID }
