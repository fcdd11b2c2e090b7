package intake

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"redress/apperr"
	"redress/calendar"
	"redress/codes"
	"redress/migrations"
	"redress/models"
	"redress/store"
)

// EvaluationRequest is the body of POST /evaluations.
//
// Forms: a rating of one case; a batch rating (several case_nos of one visit, the rating
// applies to each); a theme-service rating (theme: the overall levels rate the theme, each
// theme item carries its own levels); a follow-up rating (追评, follow_up_of names the
// evaluation_id of the evaluator's first rating; case_nos may be left out and are then those
// of the first). With codes "provincial" or "gb" the channel and the levels are given as the
// numeric codes of that table (as strings, e.g. "5") and are translated at the edge.
type EvaluationRequest struct {
	EvaluationID string            `json:"evaluation_id"`
	CaseNos      []string          `json:"case_nos"`
	Channel      string            `json:"channel"`
	Levels       map[string]string `json:"levels"`
	Tags         []string          `json:"tags"`
	Comment      string            `json:"comment"`
	RatedAt      *time.Time        `json:"rated_at"`
	Evaluator    Person            `json:"evaluator"`
	FollowUpOf   string            `json:"follow_up_of,omitempty"`
	Theme        *Theme            `json:"theme,omitempty"`
	DeviceID     string            `json:"device_id,omitempty"`
	ClientIP     string            `json:"client_ip,omitempty"`
	Codes        string            `json:"codes,omitempty"`
	// RequestIP is the citizen's address as the HTTP layer saw it, when the citizen posted the
	// rating themselves (the QR rating page; not a channel relaying it): used for fraud
	// detection when client_ip is absent, never part of the hash.
	RequestIP string `json:"-"`
	// kinds are the case's applicant and promise kinds a profile record stated (userProp,
	// promiseTime): recorded on the case by RecordCaseKinds, never part of the hash.
	kinds caseKinds
}

// caseKinds are a case's kinds as a profile record states them, with the record's keys.
type caseKinds struct {
	applicantType, promiseKind string
	applicantKey, promiseKey   string
}

// Theme is a theme-service rating (主题服务): the request's levels rate the theme as a whole,
// each item its related service item.
type Theme struct {
	Code  string      `json:"code"`
	Name  string      `json:"name"`
	Items []ThemeItem `json:"items"`
}

// ThemeItem rates one service item of a theme; case_no optionally names its case (one of
// the request's case_nos).
type ThemeItem struct {
	ItemCode string            `json:"item_code"`
	CaseNo   string            `json:"case_no,omitempty"`
	Levels   map[string]string `json:"levels"`
}

// EvaluationResult answers an evaluation: the same body for a first submission and a retry.
// WorkOrderIDs lists every order the rating opened (sorted): one, except for a theme rating
// whose bad items belong to several units, which opens one order per unit; WorkOrderID is the
// first of them (the evaluation's own link).
type EvaluationResult struct {
	ID           string   `json:"id"`
	Bad          bool     `json:"bad"`
	WorkOrderID  *string  `json:"work_order_id"`
	WorkOrderIDs []string `json:"work_order_ids,omitempty"`
}

// Limits of the newer fields.
const (
	MaxThemeItems = 20
	MaxDeviceID   = 128
)

// Code tables a request may use (codes field).
const (
	CodesProvincial = "provincial"
	CodesGB         = "gb"
)

// normalize translates a coded request (codes "provincial" or "gb") to canonical names, so
// that validation, storage and the idempotency hash see one form whatever the client sent.
func (r *EvaluationRequest) normalize() error {
	if r.Codes == "" {
		return nil
	}
	var level func(int) (string, error)
	switch r.Codes {
	case CodesProvincial:
		level = codes.LevelFromProvincial
	case CodesGB:
		level = codes.LevelFromGB
	default:
		return apperr.Invalid("codes", "invalid_codes", "codes must be %q or %q", CodesProvincial, CodesGB)
	}
	tr := func(field string, m map[string]string) error {
		for k, v := range m {
			n, err := strconv.Atoi(v)
			if err != nil {
				return apperr.Invalid(field+"."+k, "invalid_level", "with codes %q a level is a number 1–5", r.Codes)
			}
			l, err := level(n)
			if err != nil {
				return apperr.Invalid(field+"."+k, "invalid_level", "level code %d is not in the %s table (1–5)", n, r.Codes)
			}
			m[k] = l
		}
		return nil
	}
	if err := tr("levels", r.Levels); err != nil {
		return err
	}
	if r.Theme != nil {
		for i := range r.Theme.Items {
			if err := tr(fmt.Sprintf("theme.items[%d].levels", i), r.Theme.Items[i].Levels); err != nil {
				return err
			}
		}
	}
	// Provincial channel codes 1–7 are the only numeric channel table; 7 (system default) is
	// refused below like the name.
	if n, err := strconv.Atoi(r.Channel); err == nil {
		c, err := codes.ChannelFromProvincial(n)
		if err != nil {
			return apperr.Invalid("channel", "invalid_channel", "channel code %d is not in the provincial table (1–6)", n)
		}
		r.Channel = c
	}
	r.Codes = ""
	return nil
}

func validLevels(field string, levels map[string]string) error {
	if levels["overall"] == "" {
		return apperr.Invalid(field+".overall", "required", "the overall level is required")
	}
	if len(levels) > MaxIndicators {
		return apperr.Invalid(field, "too_many", "at most %d indicators", MaxIndicators)
	}
	// Sorted, so that the error named for a request with several faults is always the same.
	keys := make([]string, 0, len(levels))
	for k := range levels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !indicatorRe.MatchString(k) {
			return apperr.Invalid(field+"."+k, "invalid_indicator", "indicator names are lower-case letters, digits and _")
		}
		if !models.IsLevel(levels[k]) {
			return apperr.Invalid(field+"."+k, "invalid_level", "level must be one of %v", models.Levels)
		}
	}
	return nil
}

func (r *EvaluationRequest) validate(now time.Time) error {
	if err := requiredText("evaluation_id", r.EvaluationID, MaxEvalID); err != nil {
		return err
	}
	if !codeRe.MatchString(r.EvaluationID) {
		return apperr.Invalid("evaluation_id", "invalid_evaluation_id", "evaluation_id may hold letters, digits and . _ : / - only")
	}
	if r.FollowUpOf != "" {
		if len(r.FollowUpOf) > MaxEvalID || !codeRe.MatchString(r.FollowUpOf) {
			return apperr.Invalid("follow_up_of", "invalid_evaluation_id", "follow_up_of is the evaluation_id of a first rating")
		}
		if r.FollowUpOf == r.EvaluationID {
			return apperr.Invalid("follow_up_of", "invalid_follow_up", "a rating cannot follow up itself")
		}
		if r.Theme != nil {
			return apperr.Invalid("theme", "invalid_follow_up", "a follow-up rating has no theme")
		}
	}
	if len(r.CaseNos) == 0 && r.FollowUpOf == "" {
		return apperr.Invalid("case_nos", "required", "case_nos needs at least one case number")
	}
	if len(r.CaseNos) > MaxCases {
		return apperr.Invalid("case_nos", "too_many", "at most %d cases in one rating", MaxCases)
	}
	seen := map[string]bool{}
	for _, c := range r.CaseNos {
		if c == "" || len(c) > MaxCaseNo || !codeRe.MatchString(c) {
			return apperr.Invalid("case_nos", "invalid_case_no", "case number %q is not valid", c)
		}
		if seen[c] {
			return apperr.Invalid("case_nos", "duplicate_case_no", "case number %q given twice", c)
		}
		seen[c] = true
	}
	if !models.IsChannel(r.Channel) {
		return apperr.Invalid("channel", "invalid_channel", "channel must be one of %v", models.Channels)
	}
	if err := validLevels("levels", r.Levels); err != nil {
		return err
	}
	if r.Theme != nil {
		if err := requiredText("theme.code", r.Theme.Code, MaxCaseNo); err != nil {
			return err
		}
		if utf8.RuneCountInString(r.Theme.Name) > MaxItemName {
			return apperr.Invalid("theme.name", "too_long", "theme.name is longer than %d characters", MaxItemName)
		}
		if len(r.Theme.Items) == 0 {
			return apperr.Invalid("theme.items", "required", "a theme rating rates at least one item")
		}
		if len(r.Theme.Items) > MaxThemeItems {
			return apperr.Invalid("theme.items", "too_many", "at most %d theme items", MaxThemeItems)
		}
		items := map[string]bool{}
		for i, it := range r.Theme.Items {
			f := fmt.Sprintf("theme.items[%d]", i)
			if it.ItemCode == "" || len(it.ItemCode) > MaxCaseNo || !codeRe.MatchString(it.ItemCode) {
				return apperr.Invalid(f+".item_code", "invalid_item_code", "item_code is required (letters, digits and . _ : / -)")
			}
			if items[it.ItemCode] {
				return apperr.Invalid(f+".item_code", "duplicate_item_code", "item %q rated twice", it.ItemCode)
			}
			items[it.ItemCode] = true
			if it.CaseNo != "" && !seen[it.CaseNo] {
				return apperr.Invalid(f+".case_no", "unknown_case", "case %q is not one of case_nos", it.CaseNo)
			}
			if err := validLevels(f+".levels", it.Levels); err != nil {
				return err
			}
		}
	}
	if len(r.Tags) > MaxTags {
		return apperr.Invalid("tags", "too_many", "at most %d tags", MaxTags)
	}
	for _, t := range r.Tags {
		if t == "" || utf8.RuneCountInString(t) > MaxTagLen {
			return apperr.Invalid("tags", "invalid_tag", "a tag is 1–%d characters", MaxTagLen)
		}
	}
	if !utf8.ValidString(r.Comment) {
		return apperr.Invalid("comment", "invalid_text", "comment is not valid UTF-8")
	}
	if utf8.RuneCountInString(r.Comment) > MaxComment {
		return apperr.Invalid("comment", "too_long", "comment is longer than %d characters", MaxComment)
	}
	if r.RatedAt == nil {
		return apperr.Invalid("rated_at", "required", "rated_at is required (RFC 3339)")
	}
	if r.RatedAt.After(now.Add(clockSkew)) {
		return apperr.Invalid("rated_at", "in_future", "rated_at is in the future")
	}
	if r.DeviceID != "" && (len(r.DeviceID) > MaxDeviceID || !codeRe.MatchString(r.DeviceID)) {
		return apperr.Invalid("device_id", "invalid_device_id", "device_id is 1–%d letters, digits and . _ : / -", MaxDeviceID)
	}
	if r.ClientIP != "" && net.ParseIP(r.ClientIP) == nil {
		return apperr.Invalid("client_ip", "invalid_ip", "client_ip must be an IPv4 or IPv6 address")
	}
	return r.Evaluator.validate("evaluator")
}

// bad reports whether any indicator is 不满意 or 非常不满意.
func bad(levels map[string]string) bool {
	for _, v := range levels {
		if models.IsBadLevel(v) {
			return true
		}
	}
	return false
}

// badItems lists the theme items rated bad on any indicator.
func badItems(t *Theme) []string {
	if t == nil {
		return nil
	}
	var out []string
	for _, it := range t.Items {
		if bad(it.Levels) {
			out = append(out, it.ItemCode)
		}
	}
	return out
}

// evaluatorKey identifies an evaluator for "one first rating per case and evaluator": the
// keyed hash of the ID number, else of the phone; anonymous ratings share one key per case
// (an anonymous evaluator cannot be told from another, so a case takes one anonymous first
// rating — a second would be indistinguishable from stuffing).
func (s *Service) evaluatorKey(p Person) string {
	if p.IDNumber != "" {
		return "id:" + s.PII.Hash("id", p.IDNumber)
	}
	if p.Phone != "" {
		return "phone:" + s.PII.Hash("phone", p.Phone)
	}
	return keyAnonymous
}

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
		rs, err = s.DB.SQL().QueryContext(ctx, casesSelect+" WHERE service_cases.case_no = ANY($1) ORDER BY service_cases.case_no", caseNos)
	} else {
		rs, err = s.DB.WithContext(ctx).Raw(casesSelect+" WHERE service_cases.case_no IN ? ORDER BY service_cases.case_no", caseNos).Rows()
	}
	if err != nil {
		return nil, err
	}
	defer rs.Close() //nolint:errcheck // read-only rows: rows.Err() after the loop reports a failed read; Close only frees the connection
	// Scanned by hand, like the caller's account: every rating runs it (BENCHMARKS.md, point 1).
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
	srcs, index := s.fraudSources([]*rating{rt}, now)
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
	if err := s.flagPremises(ctx, []*rating{rt}, now); err != nil {
		return EvaluationResult{}, false, fmt.Errorf("evaluation %s: %w", r.EvaluationID, err)
	}
	s.flagFraud([]*rating{rt}, index, got.recent, now)
	// Everything a rating stores goes in as one statement (store.InsertAll), parents first,
	// with the ratings of concurrent requests (store.Committer).
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

// rating is one evaluation on its way to the database: the rows it stores, built from its
// request once the request has passed every check.
type rating struct {
	r       EvaluationRequest
	key     string
	slot    int
	inScope []caseInfo
	e       evalRow
	wo      *models.WorkOrder
	// more are the further orders of a theme rating whose bad items belong to several units
	// (one per unit, place); wo is then the first of them by id and the evaluation's link.
	more     []*models.WorkOrder
	badItems []string
	// orderItems are the bad theme items of each order (by order id), for its opening event.
	orderItems map[string][]string
	flags      []FraudFlag
	// caseLevels are a theme rating's per-case levels (themeCaseLevels).
	caseLevels map[string]map[string]string
}

// newRating builds the rows of a valid request, as a first rating; place and followUp
// complete them once its cases are checked.
func (s *Service) newRating(r EvaluationRequest, reqHash, key string, now time.Time) *rating {
	badItemCodes := badItems(r.Theme)
	isBad := bad(r.Levels) || len(badItemCodes) > 0
	theme := ""
	if r.Theme != nil {
		theme = jsonText(r.Theme)
	}
	ip := r.ClientIP
	if ip == "" {
		ip = r.RequestIP
	}
	rt := &rating{r: r, key: key, badItems: badItemCodes}
	rt.e = evalRow{
		Evaluation: models.Evaluation{
			ID:                 uuid.NewString(),
			EvaluationID:       r.EvaluationID,
			Channel:            r.Channel,
			Overall:            r.Levels["overall"],
			Levels:             models.NewJSON(r.Levels),
			Bad:                isBad,
			Tags:               models.NewJSON(nonNil(r.Tags)),
			Comment:            r.Comment,
			RatedAt:            r.RatedAt.UTC(),
			ReceivedAt:         now,
			EvaluatorName:      s.PII.Seal(r.Evaluator.Name),
			EvaluatorPhone:     s.PII.Seal(r.Evaluator.Phone),
			EvaluatorIDNumber:  s.PII.Seal(r.Evaluator.IDNumber),
			EvaluatorPhoneHash: s.PII.Hash("phone", r.Evaluator.Phone),
			EvaluatorIDHash:    s.PII.Hash("id", r.Evaluator.IDNumber),
			RequestHash:        reqHash,
		},
		Kind:         KindFirst,
		EvaluatorKey: key,
		Theme:        theme,
		DeviceHash:   s.PII.Hash("device", r.DeviceID),
		IPHash:       s.PII.Hash("ip", ip),
		CommentHash:  commentHash(s, r.Comment),
	}
	if isBad {
		id := uuid.NewString()
		rt.e.WorkOrderID = &id
		rt.wo = &models.WorkOrder{
			ID:           id,
			EvaluationID: rt.e.ID,
			WorkflowID:   WorkflowID(id),
			State:        models.StatePendingDispatch,
			CaseNos:      models.NewJSON(r.CaseNos),
			Overall:      rt.e.Overall,
			Levels:       rt.e.Levels,
			Comment:      r.Comment,
			OpenedAt:     now,
			Deadlines:    models.NewJSON([]models.Deadline{}),
			UpdatedAt:    now,
		}
	}
	return rt
}

// place records the rating's checked cases: the first one's unit is the rating's. A theme
// rating's cases take their own item's levels, and its work order those of the bad items.
func (rt *rating) place(inScope []caseInfo) {
	rt.inScope = inScope
	rt.e.UnitPath = inScope[0].Path
	rt.caseLevels = themeCaseLevels(rt.r.Theme, inScope)
	if rt.wo == nil || len(rt.badItems) == 0 {
		return
	}
	// 谁办理、谁负责: the order is about the items rated bad, at their units (ResolveDispatch
	// dispatches by the cases marked bad); it shows their levels, not the theme's.
	// Bad items at two units or more: one order per unit. Bad items of one unit (with or
	// without items that rate no case) keep the one order they always had.
	groups := themeOrderGroups(rt.r.Theme, inScope)
	if units := len(groups) - count(groups, func(g orderGroup) bool { return g.unitPath == "" }); units > 1 {
		rt.split(groups)
		return
	}
	merged := mergeLevels(rt.r.Theme.Items)
	rt.wo.Levels = models.NewJSON(merged)
	rt.wo.Overall = merged["overall"]
}

// orderGroup is what one order of a theme rating covers: the bad items of one unit and the
// cases they rate there.
type orderGroup struct {
	unitPath string // "" for bad items that rate no case of the rating
	caseNos  []string
	items    []ThemeItem
}

// themeOrderGroups groups a theme rating's bad items by the unit of the cases they rate (as
// themeCaseLevels matches them), units in path order; bad items that rate none of the cases
// form a last group with no unit.
func themeOrderGroups(t *Theme, cases []caseInfo) []orderGroup {
	byUnit := map[string]*orderGroup{}
	var order []string
	get := func(path string) *orderGroup {
		g, ok := byUnit[path]
		if !ok {
			g = &orderGroup{unitPath: path}
			byUnit[path] = g
			order = append(order, path)
		}
		return g
	}
	for _, it := range t.Items {
		if !bad(it.Levels) {
			continue
		}
		matched := false
		for _, c := range cases {
			if c.CaseNo != it.CaseNo && (it.CaseNo != "" || c.ItemCode != it.ItemCode) {
				continue
			}
			matched = true
			g := get(c.Path)
			if !slices.Contains(g.caseNos, c.CaseNo) {
				g.caseNos = append(g.caseNos, c.CaseNo)
			}
			if !slices.ContainsFunc(g.items, func(x ThemeItem) bool { return x.ItemCode == it.ItemCode }) {
				g.items = append(g.items, it)
			}
		}
		if !matched {
			g := get("")
			g.items = append(g.items, it)
		}
	}
	out := make([]orderGroup, 0, len(order))
	for _, p := range order {
		g := *byUnit[p]
		sort.Strings(g.caseNos)
		out = append(out, g)
	}
	sort.SliceStable(out, func(i, j int) bool {
		// The group without a unit last, the units by path.
		if (out[i].unitPath == "") != (out[j].unitPath == "") {
			return out[j].unitPath == ""
		}
		return out[i].unitPath < out[j].unitPath
	})
	return out
}

// split makes one order per group in place of the rating's single order: each bad item opens
// (or, with another bad item of the same unit, joins) an order at its own unit, which carries
// only those items' levels and cases, so that ResolveDispatch sends each to its unit and each
// runs its own clocks. Bad items that rate no case get an order over all the rating's cases,
// which ResolveDispatch puts in the administration's queue for manual dispatch.
func (rt *rating) split(groups []orderGroup) {
	tmpl := *rt.wo
	orders := make([]*models.WorkOrder, 0, len(groups))
	rt.orderItems = map[string][]string{}
	for _, g := range groups {
		wo := tmpl
		wo.ID = uuid.NewString()
		wo.WorkflowID = WorkflowID(wo.ID)
		caseNos := g.caseNos
		if g.unitPath == "" {
			caseNos = rt.r.CaseNos
		}
		wo.CaseNos = models.NewJSON(caseNos)
		merged := mergeLevels(g.items)
		wo.Levels = models.NewJSON(merged)
		wo.Overall = merged["overall"]
		codes := make([]string, len(g.items))
		for i, it := range g.items {
			codes[i] = it.ItemCode
		}
		rt.orderItems[wo.ID] = codes
		orders = append(orders, &wo)
	}
	// Sorted by id, so that a retry's answer (existing, which reads them back by id) lists them
	// in the same order and names the same first one.
	sort.Slice(orders, func(i, j int) bool { return orders[i].ID < orders[j].ID })
	rt.wo, rt.more = orders[0], orders[1:]
	rt.e.WorkOrderID = &rt.wo.ID
}

func count[T any](s []T, f func(T) bool) int {
	n := 0
	for _, x := range s {
		if f(x) {
			n++
		}
	}
	return n
}

// mergeLevels is the worst level of each indicator over the bad items among items.
func mergeLevels(items []ThemeItem) map[string]string {
	merged := map[string]string{}
	for _, it := range items {
		if !bad(it.Levels) {
			continue
		}
		for k, v := range it.Levels {
			if worse(v, merged[k]) {
				merged[k] = v
			}
		}
	}
	return merged
}

// orders lists the work orders the rating opens (none for a good rating).
func (rt *rating) orders() []*models.WorkOrder {
	if rt.wo == nil {
		return nil
	}
	return append([]*models.WorkOrder{rt.wo}, rt.more...)
}

// worse reports whether level a is worse than b ("" is better than any level).
func worse(a, b string) bool {
	return b == "" || slices.Index(models.Levels, a) > slices.Index(models.Levels, b)
}

// themeCaseLevels gives each case of a theme rating that a theme item rates (by case_no, else
// by the case's service item) that item's levels; nil for other ratings.
func themeCaseLevels(t *Theme, cases []caseInfo) map[string]map[string]string {
	if t == nil {
		return nil
	}
	out := map[string]map[string]string{}
	for _, it := range t.Items {
		for _, c := range cases {
			if c.CaseNo != it.CaseNo && (it.CaseNo != "" || c.ItemCode != it.ItemCode) {
				continue
			}
			if have, ok := out[c.CaseNo]; ok && !bad(it.Levels) && bad(have) {
				continue // a case rated by two items keeps the bad one
			}
			out[c.CaseNo] = it.Levels
		}
	}
	return out
}

// followUp makes the rating a follow-up (追评) of the first rating firstID, in slot.
func (rt *rating) followUp(firstID string, slot int) {
	rt.e.Kind, rt.e.FollowUpOf, rt.slot = KindFollowUp, &firstID, slot
}

// rows lists what the rating stores, parents first, as store.InsertAll takes them: the
// evaluation, its case links and evaluator slots, its fraud flags, and a bad rating's work
// order with its opening timeline event.
func (rt *rating) rows() []any {
	r, e := &rt.r, &rt.e
	links := make([]models.EvaluationCase, len(r.CaseNos))
	slots := make([]slotRow, len(r.CaseNos))
	for i, c := range r.CaseNos {
		links[i] = models.EvaluationCase{EvaluationID: e.ID, CaseNo: c}
		if lv, ok := rt.caseLevels[c]; ok {
			overall, isBad := lv["overall"], bad(lv)
			links[i].Overall, links[i].Bad = &overall, &isBad
		}
		slots[i] = slotRow{CaseNo: c, EvaluatorKey: rt.key, Slot: rt.slot, EvaluationID: e.ID}
	}
	rows := []any{e, &links, &slots}
	if len(rt.flags) > 0 {
		rows = append(rows, &rt.flags)
	}
	if rt.wo == nil {
		return rows
	}
	orders := rt.orders()
	wos := make([]models.WorkOrder, len(orders))
	events := make([]models.TimelineEvent, len(orders))
	for i, wo := range orders {
		data := map[string]any{"evaluation_id": r.EvaluationID, "channel": r.Channel, "case_nos": r.CaseNos}
		if r.Theme != nil {
			data["theme"] = r.Theme.Code
			data["bad_theme_items"] = nonNil(rt.badItems)
		}
		if len(orders) > 1 {
			// One of several orders of a theme rating: its own cases and bad items, and its
			// sister orders (each at its own unit).
			data["case_nos"] = wo.CaseNos.V
			data["bad_theme_items"] = nonNil(rt.orderItems[wo.ID])
			var others []string
			for _, o := range orders {
				if o.ID != wo.ID {
					others = append(others, o.ID)
				}
			}
			data["sibling_orders"] = others
		}
		if e.FollowUpOf != nil {
			data["follow_up_of"] = r.FollowUpOf
		}
		wos[i] = *wo
		events[i] = models.TimelineEvent{
			ID: wo.WorkflowID + "/0", WorkOrderID: wo.ID, Seq: 0, At: wo.OpenedAt, Actor: "system", Type: "opened",
			Data: models.NewJSON(data),
		}
	}
	return append(rows, &wos, &events)
}

// stored logs what is worth logging once the rating's rows are committed.
func (rt *rating) stored(ctx context.Context) {
	if len(rt.flags) > 0 {
		// Ids only: identity never reaches a log line.
		slog.InfoContext(ctx, "rating flagged for possible fraud", "evaluation", rt.e.ID, "flags", len(rt.flags))
	}
}

func (rt *rating) result() EvaluationResult {
	res := EvaluationResult{ID: rt.e.ID, Bad: rt.e.Bad, WorkOrderID: rt.e.WorkOrderID}
	for _, wo := range rt.orders() {
		res.WorkOrderIDs = append(res.WorkOrderIDs, wo.ID)
	}
	return res
}

// startOrder starts a stored order's workflow. The order is safe in the database; if this
// start fails, the reconciler retries it. startGuarded (startguard.go) bounds the start so an
// engine outage never stalls intake.
func (s *Service) startOrder(ctx context.Context, workOrderID string) {
	if err := s.startGuarded(ctx, workOrderID); err != nil {
		slog.WarnContext(ctx, "work order stored, workflow start deferred to reconciler", "work_order", workOrderID, "err", err)
	}
}

// requestHash fingerprints what a rating says rather than how it was spelled: rated_at as an
// instant, the cases in any order and the canonical names of coded values, so that a client's
// retry in another zone, order or code table compares equal instead of conflicting.
func requestHash(r EvaluationRequest) string {
	t := r.RatedAt.UTC()
	r.RatedAt = &t
	r.CaseNos = sortedCopy(r.CaseNos)
	r.Tags = nonNil(r.Tags)
	return hashJSON(r)
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

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// Check translates and validates a request as SubmitEvaluation does, without the database
// (for the request decoders' fuzz targets and for channels' dry runs).
func (r *EvaluationRequest) Check(now time.Time) error {
	if err := r.normalize(); err != nil {
		return err
	}
	return r.validate(now)
}
