package upstream

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"

	"redress/codes"
	"redress/migrations"
	"redress/models"
	"redress/notify/message"
	"redress/pii"
	"redress/profiles"
	"redress/stats"
	"redress/store"
)

// OutcomeEvents are the timeline events pushed upstream as a work order's outcome.
var OutcomeEvents = []string{"dispatched", "callback", "dispose", "decide_appeal", "review", "record_feedback",
	"closed_without_feedback", "reopen", "deadline_breached", "supervision"}

// Feeder enqueues a message for every rating and every work-order outcome since its mark.
type Feeder struct {
	DB *store.DB
	// Lag is the safety window re-read before the mark (default 10 minutes): a transaction
	// that committed late is still seen; enqueueing is idempotent. Every pass re-reads the
	// last Recent of it (default 1 minute), the first and one every Lag/2 the whole of it
	// (stats.Rereads says why and how).
	Lag, Recent time.Duration
	Now         func() time.Time
	// Profile shapes the records (nil: GB/T 39046, profiles.National).
	Profile *profiles.Profile
	// PII, when set, opens the evaluator's name so that the record carries it masked (张*);
	// without it the record carries no name.
	PII *pii.Box

	rereads stats.Rereads
}

// FeedMark names the feed's mark in job_marks: everything received before it has been queued,
// but for ratings whose transactions commit late (Feeder.Lag).
const FeedMark = "upstream_feed"

// RatingPayload is a rating as the provincial/national platform receives it: levels in GB/T
// 39046 codes (非常满意 1 … 非常不满意 5), the channel in the provincial code, no personal data.
type RatingPayload struct {
	Type         string         `json:"type"` // "rating"
	MessageID    string         `json:"message_id"`
	EvaluationID string         `json:"evaluation_id"`
	CaseNos      []string       `json:"case_nos"`
	Units        []string       `json:"units"`
	ItemCodes    []string       `json:"item_codes"`
	Channel      int            `json:"channel"`
	Level        int            `json:"level"`
	Levels       map[string]int `json:"levels"`
	Bad          bool           `json:"bad"`
	RatedAt      time.Time      `json:"rated_at"`
	// Profile names the shape of Records: one record a case (办件), GB/T 39046-2020 表9 under
	// the national profile.
	Profile string              `json:"profile"`
	Records []map[string]string `json:"records"`
}

// OutcomePayload is one step of a work order's handling.
type OutcomePayload struct {
	Type             string         `json:"type"` // "order_outcome"
	MessageID        string         `json:"message_id"`
	WorkOrderID      string         `json:"work_order_id"`
	EvaluationID     string         `json:"evaluation_id"`
	Event            string         `json:"event"`
	At               time.Time      `json:"at"`
	Unit             string         `json:"unit"`
	Level            int            `json:"level"`
	Disposition      string         `json:"disposition,omitempty"`
	Reached          *bool          `json:"reached,omitempty"`
	Upheld           *bool          `json:"upheld,omitempty"`
	Approved         *bool          `json:"approved,omitempty"`
	Satisfaction     string         `json:"satisfaction,omitempty"`
	SupervisionLevel int            `json:"supervision_level"`
	OverdueDays      int            `json:"overdue_days"`
	Extra            map[string]any `json:"extra,omitempty"`
	// Record is a supervision (督办) as the profile's supervision record: GB/T 39046-2020 表11
	// (电子监察) under the national profile.
	Profile string            `json:"profile,omitempty"`
	Record  map[string]string `json:"record,omitempty"`
}

func (f *Feeder) profile() *profiles.Profile {
	if f.Profile != nil {
		return f.Profile
	}
	p, err := profiles.Get(profiles.National)
	if err != nil {
		panic(err) // built in
	}
	return p
}

func (f *Feeder) now() time.Time {
	if f.Now != nil {
		return f.Now().UTC()
	}
	return time.Now().UTC()
}

// Run feeds every period until ctx ends.
func (f *Feeder) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := f.Pass(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("upstream feed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass enqueues what is new since the mark and answers how many messages it queued.
func (f *Feeder) Pass(ctx context.Context) (int, error) {
	now := f.now()
	mark, err := stats.LoadMark(ctx, f.DB, FeedMark)
	if err != nil {
		return 0, err
	}
	since, whole := f.rereads.Since(mark, now, f.Lag, f.Recent)
	n1, err := f.ratings(ctx, since)
	if err != nil {
		return 0, err
	}
	n2, err := f.outcomes(ctx, since)
	if err != nil {
		return 0, err
	}
	n3, err := f.supplements(ctx, since)
	if err != nil {
		return 0, err
	}
	n2 += n3
	if err := stats.SaveMark(ctx, f.DB, FeedMark, now); err != nil {
		return 0, err
	}
	if whole {
		f.rereads.Whole(now)
	}
	return n1 + n2, nil
}

const page = 500

// Both feeds read the window since the mark page by page: each page starts after the last row
// of the one before (keyset, not OFFSET, which re-reads every earlier page), and leaves out
// what an earlier pass already queued, so the safety window costs an index probe a row, not
// a payload and an insert.

// after keeps the rows of q past the last row of the page before, in the order (col, id): the
// first condition alone bounds the index scan on col, the second steps over the ties.
func after(q *gorm.DB, col string, at time.Time, id string) *gorm.DB {
	return q.Where(col+" >= ? AND ("+col+" > ? OR id > ?)", at, at, id)
}

func (f *Feeder) ratings(ctx context.Context, since time.Time) (int, error) {
	seen := 0
	var last models.Evaluation
	divisions, err := LoadDivisions(ctx, f.DB)
	if err != nil {
		return 0, err
	}
	prof := f.profile()
	for {
		q := f.DB.WithContext(ctx).Table("evaluations").Select(feedRatingColumns).
			Where("received_at >= ?", since).
			Where("NOT EXISTS (SELECT 1 FROM upstream_messages m WHERE m.id = 'rating:' || evaluations.evaluation_id)")
		if last.ID != "" {
			q = after(q, "received_at", last.ReceivedAt, last.ID)
		}
		evs, err := scanFeedRatings(q.Order("received_at, id").Limit(page))
		if err != nil {
			return seen, fmt.Errorf("upstream feed: ratings: %w", err)
		}
		if len(evs) == 0 {
			return seen, nil
		}
		seen += len(evs)
		last = evs[len(evs)-1].Evaluation
		ids := make([]string, len(evs))
		for i, e := range evs {
			ids[i] = e.ID
		}
		cases, err := f.casesOf(ctx, ids)
		if err != nil {
			return seen, fmt.Errorf("upstream feed: cases: %w", err)
		}
		byEval := map[string][]ratedCase{}
		for _, c := range cases {
			byEval[c.EvaluationID] = append(byEval[c.EvaluationID], c)
		}
		msgs := make([]Message, 0, len(evs))
		for _, e := range evs {
			m, err := f.ratingMessage(prof, e, byEval[e.ID], divisions)
			if err != nil {
				// A value the platform's codes do not know cannot be sent: park it dead
				// with the reason, visible in the dead-letter view, rather than drop it.
				slog.Warn("upstream feed: rating not codable", "evaluation", e.EvaluationID, "err", err)
				m.Status, m.LastError = StatusDead, err.Error()
			}
			msgs = append(msgs, m)
		}
		if err := EnqueueAll(f.DB.WithContext(ctx), msgs); err != nil {
			return seen, fmt.Errorf("upstream feed: %w", err)
		}
	}
}

// feedRatingColumns are what the feed reads of a rating, in the order scanFeedRatings scans them.
const feedRatingColumns = "id, evaluation_id, channel, overall, levels, bad, tags, comment, evaluator_name, follow_up_of, rated_at, received_at"

// scanFeedRatings runs q, which selects feedRatingColumns, and scans
// the rows by hand: every rating passes here once, and GORM's reflective Find cost more CPU
// than the query itself (a 90-second profile of the single form: 14 µs a rating, 6 % of the
// process; BENCHMARKS.md, point 9, fourth sitting), as it did for the principals (store/principal.go).
func scanFeedRatings(q *gorm.DB) ([]feedEvaluation, error) {
	rs, err := q.Rows()
	if err != nil {
		return nil, err
	}
	defer rs.Close() //nolint:errcheck // read-only rows: rows.Err() after the loop reports a failed read; Close only frees the connection
	var evs []feedEvaluation
	for rs.Next() {
		var e feedEvaluation
		if err := rs.Scan(&e.ID, &e.EvaluationID, &e.Channel, &e.Overall, &e.Levels, &e.Bad, &e.Tags, &e.Comment, &e.EvaluatorName,
			&e.FollowUpOf, &e.RatedAt, &e.ReceivedAt); err != nil {
			return nil, err
		}
		evs = append(evs, e)
	}
	return evs, rs.Err()
}

// feedEvaluation is a rating as the feed reads it.
type feedEvaluation struct {
	models.Evaluation
	FollowUpOf *string
	// Read by the supplements only.
	Excluded   bool
	ExcludedAt time.Time
}

// ratingMessage makes a rating's message: Redress's envelope with the profile's records, or,
// for a profile without the envelope, the records alone (one object for one case, else a list).
func (f *Feeder) ratingMessage(prof *profiles.Profile, e feedEvaluation, cases []ratedCase, divisions map[string]string) (Message, error) {
	return f.recordsMessage(prof, profiles.KindRating, nil, e, cases, divisions)
}

// recordsMessage makes a rating's message of a kind (rating, or supplement with its extra
// values).
func (f *Feeder) recordsMessage(prof *profiles.Profile, kind string, extra profiles.Record, e feedEvaluation, cases []ratedCase, divisions map[string]string) (Message, error) {
	var nos, units, items []string
	path := ""
	for _, c := range cases {
		if path == "" {
			path = c.UnitPath
		}
		nos = append(nos, c.CaseNo)
		units = appendNew(units, c.UnitCode)
		items = appendNew(items, c.ItemCode)
	}
	p, err := ratingPayload(e.Evaluation, nos, units, items)
	p.Profile = prof.Name
	p.Records = []map[string]string{}
	m := Message{ID: p.MessageID, Target: TargetUpstream, Kind: "rating", SubjectID: e.EvaluationID, UnitPath: path}
	if kind == profiles.KindSupplement {
		p.Type, p.MessageID = KindSupplement, "supplement:"+e.EvaluationID+":"+fmt.Sprint(extra["key"])
		m.ID, m.Kind = p.MessageID, KindSupplement
	}
	if err == nil {
		for _, c := range cases {
			rec := f.record(e, c, divisions)
			for k, v := range extra {
				rec[k] = v
			}
			out, rerr := prof.Render(kind, rec)
			if rerr != nil {
				err = fmt.Errorf("case %s: %w", c.CaseNo, rerr)
				break
			}
			p.Records = append(p.Records, out)
		}
	}
	var body []byte
	switch {
	case prof.Envelope || err != nil:
		body, _ = json.Marshal(p)
	case len(p.Records) == 1:
		body, _ = json.Marshal(p.Records[0])
	default:
		body, _ = json.Marshal(p.Records)
	}
	m.Payload = string(body)
	return m, err
}

// record is one case of a rating as canonical values for a profile.
func (f *Feeder) record(e feedEvaluation, c ratedCase, divisions map[string]string) profiles.Record {
	count := 1
	if e.FollowUpOf != nil && *e.FollowUpOf != "" {
		count = 2 // 追评: the evaluator's second rating of the case
	}
	rec := profiles.Record{
		"evaluation_id": e.EvaluationID, "case_no": c.CaseNo, "item_code": c.ItemCode, "unit_code": c.UnitCode,
		"unit_name": c.UnitName, "division": DivisionOf(divisions, c.UnitPath), "channel": e.Channel, "level": e.Overall,
		"rated_at": e.RatedAt, "count": count, "comment": e.Comment, "tags": nonNil(e.Tags.V),
		"user_type": ApplicantTypeOf(c.ApplicantType), "promise": PromiseKindOf(c.PromiseKind),
	}
	if f.PII != nil && e.EvaluatorName != "" {
		if name, err := f.PII.Open(e.EvaluatorName); err == nil {
			rec["evaluator_name"] = name // the profile masks it
		}
	}
	return rec
}

// ApplicantTypeOf is a case's applicant kind for a profile: a case that does not say (the
// channel registered none, or it predates migration 00024) counts as a natural person (个人),
// the common case and the provincial interfaces' own default.
func ApplicantTypeOf(v string) string {
	if v == "" {
		return models.ApplicantPersonal
	}
	return v
}

// PromiseKindOf is a case's promise kind for a profile: a case that does not say counts as a
// 承诺件 (the item has a promised time limit), as ApplicantTypeOf.
func PromiseKindOf(v string) string {
	if v == "" {
		return models.PromiseCommitted
	}
	return v
}

// LoadDivisions answers the units' 行政区划代码 by path (those that have one).
func LoadDivisions(ctx context.Context, db *store.DB) (map[string]string, error) {
	var us []models.Unit
	if err := db.WithContext(ctx).Select("path, division_code").Where("division_code <> ''").Find(&us).Error; err != nil {
		return nil, fmt.Errorf("upstream feed: divisions: %w", err)
	}
	out := make(map[string]string, len(us))
	for _, u := range us {
		out[u.Path] = u.DivisionCode
	}
	return out, nil
}

// DivisionOf is the 行政区划代码 of a unit: its own, else its nearest ancestor's (a department
// lies in the division of the administration above it).
func DivisionOf(divisions map[string]string, path string) string {
	for p := path; p != "" && p != "/"; {
		if d, ok := divisions[p]; ok {
			return d
		}
		i := strings.LastIndex(strings.TrimSuffix(p, "/"), "/")
		if i < 0 {
			break
		}
		p = p[:i+1]
	}
	return ""
}

// KindSupplement is a correction of a rating already pushed (补报): the rating as it stands now,
// in the profile's supplement record, naming the platform's id for it (filled in by the
// deliverer once the rating's answer brought it).
const KindSupplement = "rating_supplement"

// supplementExcluded is the reason of the supplement sent when a rating is excluded (an
// upheld fraud flag or appeal): the platform counts it no longer.
const supplementExcluded = "评价经核实不予采信，已从统计中剔除"

// supplements queues a 补报 for every rating with an exclusion since the mark (excluded_at: an
// upheld fraud flag, or an upheld appeal, which since migration 00022 excludes the cases of
// the appealed order only) whose rating message was queued. The supplement carries the
// excluded cases' records; its key supplement:<evaluation_id>:excluded:<n> (n excluded cases,
// which only grow) makes one per step, and enqueueing skips what exists.
//
// It pages through the window as the ratings feed does, in the order of the partial index on
// excluded_at: one ruling can exclude more ratings than a page, and a single page read again
// every pass queued the first 500 (by id) and never the rest. Ordered by id, PostgreSQL also
// walked the primary key looking for exclusions (a generic plan guesses a third of the rows
// match), every rating of the table every pass (BENCHMARKS.md, point 9, sixth sitting).
func (f *Feeder) supplements(ctx context.Context, since time.Time) (int, error) {
	var (
		divisions map[string]string
		queued    int
		last      struct {
			id string
			at time.Time
		}
	)
	for {
		q := f.DB.WithContext(ctx).Table("evaluations").Select("id, evaluation_id, channel, overall, levels, bad, tags, comment, evaluator_name, follow_up_of, rated_at, received_at, excluded, excluded_at").
			Where("excluded_at >= ?", since).
			Where("EXISTS (SELECT 1 FROM upstream_messages m WHERE m.id = 'rating:' || evaluations.evaluation_id)")
		if last.id != "" {
			q = after(q, "excluded_at", last.at, last.id)
		}
		var evs []feedEvaluation
		if err := q.Order("excluded_at, id").Limit(page).Find(&evs).Error; err != nil {
			return queued, fmt.Errorf("upstream feed: exclusions: %w", err)
		}
		if len(evs) == 0 {
			return queued, nil
		}
		last.id, last.at = evs[len(evs)-1].ID, evs[len(evs)-1].ExcludedAt
		if divisions == nil {
			var err error
			if divisions, err = LoadDivisions(ctx, f.DB); err != nil {
				return queued, err
			}
		}
		n, err := f.supplementPage(ctx, evs, divisions)
		queued += n
		if err != nil || len(evs) < page {
			return queued, err
		}
	}
}

// supplementPage queues the supplements of one page of excluded ratings that are not queued
// yet, and answers how many it queued.
func (f *Feeder) supplementPage(ctx context.Context, evs []feedEvaluation, divisions map[string]string) (int, error) {
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.ID
	}
	cases, err := f.casesOf(ctx, ids)
	if err != nil {
		return 0, fmt.Errorf("upstream feed: supplement cases: %w", err)
	}
	var excludedCases []struct{ EvaluationID, CaseNo string }
	if err := f.DB.WithContext(ctx).Table("evaluation_cases").Select("evaluation_id, case_no").
		Where("evaluation_id IN ? AND excluded", ids).Scan(&excludedCases).Error; err != nil {
		return 0, fmt.Errorf("upstream feed: excluded cases: %w", err)
	}
	caseExcluded := map[string]bool{}
	for _, c := range excludedCases {
		caseExcluded[c.EvaluationID+"|"+c.CaseNo] = true
	}
	byEval := map[string][]ratedCase{}
	for _, c := range cases {
		byEval[c.EvaluationID] = append(byEval[c.EvaluationID], c)
	}
	msgs := make([]Message, 0, len(evs))
	for _, e := range evs {
		var excl []ratedCase
		for _, c := range byEval[e.ID] {
			if e.Excluded || caseExcluded[e.ID+"|"+c.CaseNo] {
				excl = append(excl, c)
			}
		}
		if len(excl) == 0 {
			continue
		}
		extra := profiles.Record{"supplement": "1", "answer_id": answerPlaceholder, "reason": supplementExcluded,
			"key": fmt.Sprintf("excluded:%d", len(excl))}
		m, err := f.recordsMessage(f.profile(), profiles.KindSupplement, extra, e, excl, divisions)
		if err != nil {
			slog.Warn("upstream feed: supplement not codable", "evaluation", e.EvaluationID, "err", err)
			m.Status, m.LastError = StatusDead, err.Error()
		}
		msgs = append(msgs, m)
	}
	// The safety window reads the same exclusions again: what is queued already is not new.
	keys := make([]string, len(msgs))
	for i, m := range msgs {
		keys[i] = m.ID
	}
	var queued []string
	if len(keys) > 0 {
		if err := f.DB.WithContext(ctx).Model(&Message{}).Where("id IN ?", keys).Pluck("id", &queued).Error; err != nil {
			return 0, fmt.Errorf("upstream feed: queued supplements: %w", err)
		}
	}
	have := map[string]bool{}
	for _, id := range queued {
		have[id] = true
	}
	fresh := msgs[:0]
	for _, m := range msgs {
		if !have[m.ID] {
			fresh = append(fresh, m)
		}
	}
	if err := EnqueueAll(f.DB.WithContext(ctx), fresh); err != nil {
		return 0, fmt.Errorf("upstream feed: supplements: %w", err)
	}
	return len(fresh), nil
}

type ratedCase struct {
	EvaluationID, CaseNo, ItemCode, UnitCode, UnitName, UnitPath string
	// The case's kinds (migration 00024); empty when the channel did not say.
	ApplicantType, PromiseKind string
}

// casesQueryPG looks the cases up rating by rating: an index probe of the case links and of
// the cases for each. The plain join with an IN list leaves the plan to the statistics, and on
// tables not yet analysed (a new database, autovacuum not yet round) PostgreSQL chose a hash
// join over every service case, every page. OFFSET 0 keeps the subquery from being flattened
// back into such a join.
const casesQueryPG = `SELECT x.id, c.case_no, c.item_code, c.unit_code, c.unit_name, c.unit_path, c.applicant_type, c.promise_kind
	FROM unnest($1::text[]) AS x(id)
	CROSS JOIN LATERAL (SELECT ec.case_no, sc.item_code, u.code AS unit_code, u.name AS unit_name, u.path AS unit_path, sc.applicant_type, sc.promise_kind
		FROM evaluation_cases ec JOIN service_cases sc ON sc.case_no = ec.case_no JOIN units u ON u.id = sc.unit_id
		WHERE ec.evaluation_id = x.id OFFSET 0) c
	ORDER BY c.case_no`

// casesOf answers the cases of the ratings ids, with their item and unit, in case order.
func (f *Feeder) casesOf(ctx context.Context, ids []string) ([]ratedCase, error) {
	var cases []ratedCase
	if f.DB.Dialect != migrations.Postgres {
		err := f.DB.WithContext(ctx).Table("evaluation_cases ec").
			Select("ec.evaluation_id, ec.case_no, sc.item_code, u.code AS unit_code, u.name AS unit_name, u.path AS unit_path, sc.applicant_type, sc.promise_kind").
			Joins("JOIN service_cases sc ON sc.case_no = ec.case_no").Joins("JOIN units u ON u.id = sc.unit_id").
			Where("ec.evaluation_id IN ?", ids).Order("ec.case_no").Scan(&cases).Error
		return cases, err
	}
	// Beside GORM, which would expand the array into a list of parameters.
	rs, err := f.DB.SQL().QueryContext(ctx, casesQueryPG, ids)
	if err != nil {
		return nil, err
	}
	defer rs.Close() //nolint:errcheck // read-only rows: rows.Err() after the loop reports a failed read; Close only frees the connection
	for rs.Next() {
		var c ratedCase
		if err := rs.Scan(&c.EvaluationID, &c.CaseNo, &c.ItemCode, &c.UnitCode, &c.UnitName, &c.UnitPath, &c.ApplicantType, &c.PromiseKind); err != nil {
			return nil, err
		}
		cases = append(cases, c)
	}
	return cases, rs.Err()
}

func ratingPayload(e models.Evaluation, nos, units, items []string) (RatingPayload, error) {
	p := RatingPayload{Type: "rating", MessageID: "rating:" + e.EvaluationID, EvaluationID: e.EvaluationID,
		CaseNos: nonNil(nos), Units: nonNil(units), ItemCodes: nonNil(items), Bad: e.Bad, RatedAt: e.RatedAt.UTC(), Levels: map[string]int{}}
	var err error
	if p.Channel, err = codes.ChannelToProvincial(e.Channel); err != nil {
		return p, fmt.Errorf("channel %q: %w", e.Channel, err)
	}
	if p.Level, err = codes.LevelToGB(e.Overall); err != nil {
		return p, fmt.Errorf("level %q: %w", e.Overall, err)
	}
	keys := make([]string, 0, len(e.Levels.V))
	for k := range e.Levels.V {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		c, err := codes.LevelToGB(e.Levels.V[k])
		if err != nil {
			return p, fmt.Errorf("level %s=%q: %w", k, e.Levels.V[k], err)
		}
		p.Levels[k] = c
	}
	return p, nil
}

func (f *Feeder) outcomes(ctx context.Context, since time.Time) (int, error) {
	seen := 0
	var lastAt time.Time
	var lastID string
	for {
		var rows []struct {
			ID               string
			WorkOrderID      string
			Type             string
			At               time.Time
			Data             models.JSON[map[string]any]
			EvaluationID     string
			Overall          string
			UnitPath         string
			UnitCode         string
			UnitName         string
			SupervisionLevel int
			OverdueDays      int
		}
		q := f.DB.WithContext(ctx).Table("timeline_events te").
			Select("te.id, te.work_order_id, te.type, te.at, te.data, e.evaluation_id, w.overall, w.unit_path, COALESCE(u.code, '') AS unit_code, COALESCE(u.name, '') AS unit_name, w.supervision_level, w.overdue_days").
			Joins("JOIN work_orders w ON w.id = te.work_order_id").
			Joins("JOIN evaluations e ON e.id = w.evaluation_id").
			Joins("LEFT JOIN units u ON u.path = w.unit_path").
			Where("te.at >= ? AND te.type IN ? AND NOT te.superseded", since, OutcomeEvents).
			Where("NOT EXISTS (SELECT 1 FROM upstream_messages m WHERE m.id = 'outcome:' || te.id)")
		if lastID != "" {
			q = q.Where("te.at >= ? AND (te.at > ? OR te.id > ?)", lastAt, lastAt, lastID)
		}
		if err := q.Order("te.at, te.id").Limit(page).Scan(&rows).Error; err != nil {
			return seen, fmt.Errorf("upstream feed: outcomes: %w", err)
		}
		if len(rows) == 0 {
			return seen, nil
		}
		seen += len(rows)
		lastAt, lastID = rows[len(rows)-1].At, rows[len(rows)-1].ID
		msgs := make([]Message, 0, len(rows))
		for _, r := range rows {
			p := OutcomePayload{Type: "order_outcome", MessageID: "outcome:" + r.ID, WorkOrderID: r.WorkOrderID,
				EvaluationID: r.EvaluationID, Event: r.Type, At: r.At.UTC(), Unit: r.UnitCode,
				SupervisionLevel: r.SupervisionLevel, OverdueDays: r.OverdueDays}
			d := r.Data.V
			p.Disposition, _ = d["disposition"].(string)
			p.Satisfaction, _ = d["satisfaction"].(string)
			p.Reached, p.Upheld, p.Approved = boolOf(d, "reached"), boolOf(d, "upheld"), boolOf(d, "approve")
			lvl, lerr := codes.LevelToGB(r.Overall)
			p.Level = lvl
			if r.Type == "supervision" && lerr == nil {
				rec, err := SupervisionRecord(ctx, f.DB, r.ID, r.At, r.UnitPath, r.UnitName, d)
				if err != nil {
					lerr = err
				} else if p.Record, err = f.profile().Render(profiles.KindSupervision, rec); err != nil {
					lerr = err
				}
				p.Profile = f.profile().Name
			}
			body, _ := json.Marshal(p)
			m := Message{ID: p.MessageID, Target: TargetUpstream, Kind: "order_outcome", SubjectID: r.WorkOrderID,
				UnitPath: r.UnitPath, Payload: string(body)}
			if lerr != nil {
				m.Status, m.LastError = StatusDead, "outcome: "+lerr.Error()
			}
			msgs = append(msgs, m)
		}
		if err := EnqueueAll(f.DB.WithContext(ctx), msgs); err != nil {
			return seen, fmt.Errorf("upstream feed: %w", err)
		}
	}
}

// SupervisionRecord is a supervision (督办) event as canonical values for the profile's
// supervision record (GB/T 39046-2020 表11): the content in words, when it was issued, the
// event as 监察编号, the breached deadline as the rule, the level as the warning type (1 督办,
// 2 挂牌督办) and the responsible unit — the owner of the breached clock where the order has
// owners (the administration's own delay is charged to it, not to the unit).
//
// The work-order export's 表11 (GET /exports/work-orders?profile=…&table=11) uses the same
// function, so that the export and the push agree field by field.
func SupervisionRecord(ctx context.Context, db *store.DB, id string, at time.Time, orderPath, orderUnit string, d map[string]any) (profiles.Record, error) {
	level := 0
	if v, ok := d["level"].(float64); ok {
		level = int(v)
	}
	deadline, _ := d["deadline"].(string)
	label := message.DeadlineLabels[deadline]
	if label == "" {
		label = deadline
	}
	levelWords := message.LevelLabels[strconv.Itoa(level)]
	content := "“" + label + "”时限已超期，" + levelWords
	if note, _ := d["note"].(string); note != "" {
		content = note
	}
	rule := "manual"
	if deadline != "" {
		rule = "deadline:" + deadline
	}
	unit := orderUnit
	if owner, _ := d["owner_path"].(string); owner != "" && owner != orderPath {
		var names []string
		if err := db.WithContext(ctx).Table("units").Where("path = ?", owner).Limit(1).Pluck("name", &names).Error; err != nil {
			return nil, fmt.Errorf("supervision %s: owner: %w", id, err)
		}
		if len(names) == 1 {
			unit = names[0]
		}
	}
	result := levelWords
	if reason, _ := d["reason"].(string); reason != "" {
		result += "（" + breachWords(reason) + "）"
	}
	return profiles.Record{"content": content, "at": at, "id": MonitorID(id), "rule": rule, "level": level, "result": result, "unit_name": unit}, nil
}

// MonitorID is a supervision event's 监察编号 (表11, an..64). A timeline event's id names the
// workflow, its run and the sequence number (work-order-<order>/<run>/<seq>, 86 characters and
// more), which the field does not hold: every supervision was refused as not codable. The
// number is the order, the run as the first 8 hex digits of its SHA-256 (the run ids are UUIDv7,
// whose leading digits are a timestamp shared by runs a minute apart) and the sequence number:
// unique, stable for the same event, and still telling which order it concerns. An id that fits
// stays as it is.
func MonitorID(eventID string) string {
	if len(eventID) <= 64 {
		return eventID
	}
	if parts := strings.Split(eventID, "/"); len(parts) == 3 {
		run := sha256.Sum256([]byte(parts[1]))
		if id := strings.TrimPrefix(parts[0], "work-order-") + "/" + hex.EncodeToString(run[:4]) + "/" + parts[2]; len(id) <= 64 {
			return id
		}
	}
	sum := sha256.Sum256([]byte(eventID))
	return hex.EncodeToString(sum[:16])
}

// breachWords names a breach kind in words.
func breachWords(kind string) string {
	switch kind {
	case "breach":
		return "超期"
	case "long_breach":
		return "超期超过整个时限"
	}
	return kind
}

func boolOf(d map[string]any, k string) *bool {
	if b, ok := d[k].(bool); ok {
		return &b
	}
	return nil
}

func appendNew(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
