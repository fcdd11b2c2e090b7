package intake

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"gorm.io/gorm"

	"redress/migrations"
	"redress/models"
	"redress/store"
)

// Rating fraud (刷评) is flagged, never dropped: a flagged rating is stored and counted like any
// other until an administrator rules; an upheld flag excludes the rating from statistics (the
// evaluations.excluded column that statistics already honour), a dismissed one changes
// nothing. Detection runs just before the rating is stored and its flags are stored in the
// same statement, so a stored rating always has its flags. The kinds:
const (
	FlagIdentityBurst = "identity_burst"  // many ratings from one phone or ID number
	FlagDeviceBurst   = "device_burst"    // many ratings from one device
	FlagAddressBurst  = "address_burst"   // many ratings from one network address
	FlagOwnStaff      = "own_staff"       // the case rated by its own handling staff
	FlagCommentBurst  = "comment_burst"   // many identical comments in a short time
	FlagUnitPremises  = "unit_premises"   // sent from a network or device of the rated unit
	FlagConflict      = "rating_conflict" // one evaluator's contradicting ratings of a case
)

// FraudConfig tunes the detector.
type FraudConfig struct {
	// Window and MaxPerSource: this many ratings (or more) from one phone, ID number, device
	// or address within Window flag the rating that reaches the number. Defaults 10 min, 5.
	Window       time.Duration
	MaxPerSource int
	// CommentWindow and MaxSameComment: that many identical comments of at least
	// MinCommentLen characters within CommentWindow. Defaults 1 h, 5, 4.
	CommentWindow  time.Duration
	MaxSameComment int
	MinCommentLen  int
}

func (c FraudConfig) withDefaults() FraudConfig {
	if c.Window <= 0 {
		c.Window = 10 * time.Minute
	}
	if c.MaxPerSource <= 0 {
		c.MaxPerSource = 5
	}
	if c.CommentWindow <= 0 {
		c.CommentWindow = time.Hour
	}
	if c.MaxSameComment <= 0 {
		c.MaxSameComment = 5
	}
	if c.MinCommentLen <= 0 {
		c.MinCommentLen = 4
	}
	return c
}

// commentHash is a keyed hash of a comment with its spacing normalised, or "" for a comment
// too short to mean anything when repeated ("好", "ok").
func commentHash(s *Service, comment string) string {
	norm := strings.Join(strings.Fields(comment), " ")
	if utf8.RuneCountInString(norm) < s.Fraud.withDefaults().MinCommentLen {
		return ""
	}
	return s.PII.Hash("comment", norm)
}

// FraudFlag is a fraud_flags row.
type FraudFlag struct {
	ID           string                      `gorm:"primaryKey" json:"id"`
	EvaluationID string                      `json:"evaluation"` // the evaluations row id
	Kind         string                      `json:"kind"`
	UnitPath     string                      `json:"-"`
	Evidence     models.JSON[map[string]any] `json:"evidence"`
	Status       string                      `json:"status"`
	CreatedAt    time.Time                   `json:"created_at"`
	RuledBy      string                      `json:"ruled_by,omitempty"`
	RuledAt      *time.Time                  `json:"ruled_at,omitempty"`
	RulingNote   string                      `json:"ruling_note,omitempty"`
}

// TableName names the flags table.
func (FraudFlag) TableName() string { return "fraud_flags" }

// Flag states.
const (
	FlagOpen      = "open"
	FlagUpheld    = "upheld"
	FlagDismissed = "dismissed"
)

// maxEvidence bounds the other ratings an evidence lists.
const maxEvidence = 20

// fraudCheck is one kind of burst: too many ratings with the same keyed hash in column.
type fraudCheck struct {
	kind, column, source string
	hash                 func(*evalRow) string
	window               time.Duration
	max                  int
}

func (c FraudConfig) checks() []fraudCheck {
	c = c.withDefaults()
	return []fraudCheck{
		{FlagIdentityBurst, "evaluator_id_hash", "id_number", func(e *evalRow) string { return e.EvaluatorIDHash }, c.Window, c.MaxPerSource},
		{FlagIdentityBurst, "evaluator_phone_hash", "phone", func(e *evalRow) string { return e.EvaluatorPhoneHash }, c.Window, c.MaxPerSource},
		{FlagDeviceBurst, "device_hash", "device", func(e *evalRow) string { return e.DeviceHash }, c.Window, c.MaxPerSource},
		{FlagAddressBurst, "ip_hash", "address", func(e *evalRow) string { return e.IPHash }, c.Window, c.MaxPerSource},
		{FlagCommentBurst, "comment_hash", "", func(e *evalRow) string { return e.CommentHash }, c.CommentWindow, c.MaxSameComment},
	}
}

type sourceKey struct{ column, hash string }

// fraudSources lists the burst look-ups of ratings about to be stored together, each source
// once, and where each is in the list. Each looks back from when its rating was received (the
// first of the batch's ratings of the source: the batch is in the order received).
func (s *Service) fraudSources(batch []*rating) ([]source, map[sourceKey]int) {
	index := map[sourceKey]int{}
	var srcs []source
	checks := s.Fraud.checks()
	for _, rt := range batch {
		for _, c := range checks {
			k := sourceKey{c.column, c.hash(&rt.e)}
			if _, ok := index[k]; k.hash == "" || ok {
				continue
			}
			index[k] = len(srcs)
			srcs = append(srcs, source{column: c.column, hash: k.hash, since: rt.e.ReceivedAt.Add(-c.window), limit: c.max * 4})
		}
	}
	return srcs, index
}

// detectFraud looks up the fraud sources of ratings about to be stored together and flags
// them (flagFraud).
func (s *Service) detectFraud(ctx context.Context, batch []*rating) error {
	srcs, index := s.fraudSources(batch)
	recent, err := recentBySource(ctx, s.DB, srcs)
	if err != nil {
		return err
	}
	s.flagFraud(batch, index, recent)
	return nil
}

// flagFraud sets the flags (one per kind found) of ratings about to be stored together, in
// order, given the ratings stored before them by source (recent[index[source]], newest first),
// for the caller to store with them. A rating counts itself (the rating that reaches the
// threshold is the one flagged) and heads its evidence, followed by the earlier ratings of the
// batch, then the stored ones: a burst inside one bulk upload is a burst too, and so is one
// inside a group of concurrent single ratings (the ratings stored one at a time would have
// seen each other). A flag is dated when its rating was received.
func (s *Service) flagFraud(batch []*rating, index map[sourceKey]int, recent [][]string) {
	checks := s.Fraud.checks()
	inBatch := map[sourceKey][]string{}
	for _, rt := range batch {
		e := &rt.e
		add := func(kind string, ev map[string]any) {
			rt.flags = append(rt.flags, FraudFlag{ID: uuid.NewString(), EvaluationID: e.ID, Kind: kind, UnitPath: e.UnitPath,
				Evidence: models.NewJSON(ev), Status: FlagOpen, CreatedAt: e.ReceivedAt})
		}
		for _, c := range checks {
			k := sourceKey{c.column, c.hash(e)}
			if k.hash == "" {
				continue
			}
			earlier := inBatch[k]
			inBatch[k] = append(earlier[:len(earlier):len(earlier)], e.EvaluationID)
			stored := recent[index[k]]
			n := 1 + len(earlier) + len(stored)
			if hasKind(rt.flags, c.kind) || n < c.max {
				continue
			}
			ids := make([]string, 0, min(n, maxEvidence))
			ids = append(ids, e.EvaluationID)
			for i := len(earlier) - 1; i >= 0 && len(ids) < maxEvidence; i-- {
				ids = append(ids, earlier[i])
			}
			for _, id := range stored {
				if len(ids) == maxEvidence {
					break
				}
				ids = append(ids, id)
			}
			// Evidence names the ratings by their evaluation_id and the source only by kind:
			// the hash is not shown, the identity never.
			ev := map[string]any{"count_at_least": len(ids), "window": c.window.String(), "threshold": c.max, "evaluation_ids": ids}
			if c.source != "" {
				ev["source"] = c.source
			}
			add(c.kind, ev)
		}
		// Own staff: the handling staff's identity hashes (staff_identities, read with the
		// cases) against the evaluator's.
		for _, c := range rt.inScope {
			var by string
			switch {
			case c.StaffID == nil:
				continue
			case c.StaffIDHash != nil && *c.StaffIDHash != "" && *c.StaffIDHash == e.EvaluatorIDHash:
				by = "id_number"
			case c.StaffPhoneHash != nil && *c.StaffPhoneHash != "" && *c.StaffPhoneHash == e.EvaluatorPhoneHash:
				by = "phone"
			default:
				continue
			}
			add(FlagOwnStaff, map[string]any{"staff": *c.StaffID, "matched_by": by})
			break
		}
	}
}

func hasKind(fs []FraudFlag, kind string) bool {
	for _, f := range fs {
		if f.Kind == kind {
			return true
		}
	}
	return false
}

// source is one burst look-up: the ratings received since a time with the same keyed hash in
// a column, newest first, at most limit.
type source struct {
	column, hash string
	since        time.Time
	limit        int
}

// recentBySource answers every look-up in one statement (a UNION ALL of one bounded query
// per source): the burst checks were up to five round trips per rating. The answer's i-th
// list belongs to srcs[i].
//
// Each query repeats the partial indexes' predicate, the column not empty (migration 00004),
// so that the planner may use them: with the hash a bound parameter, SQLite (and PostgreSQL's generic plans)
// cannot prove it non-empty, and every rating scanned the whole ratings table — a third of
// intake's CPU in the benchmark profile (BENCHMARKS.md).
func recentBySource(ctx context.Context, db *store.DB, srcs []source) ([][]string, error) {
	out := make([][]string, len(srcs))
	if len(srcs) == 0 {
		return out, nil
	}
	if db.Dialect == migrations.Postgres {
		return out, recentBySourcePG(ctx, db, srcs, out)
	}
	// A bulk upload's sources go a few hundred to a statement: SQLite allows 500 terms in a
	// compound SELECT.
	const perStatement = 200
	for lo := 0; lo < len(srcs); lo += perStatement {
		if err := recentBySourceInto(ctx, db.DB, srcs[lo:min(lo+perStatement, len(srcs))], out[lo:]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// recentBySourcePG is recentBySource on PostgreSQL: one statement text for any number of
// sources (a bounded index scan per source, LATERAL over arrays of the sources of each
// column), so that the driver's prepared statement serves every batch of Service.lookups and
// every bulk upload.
func recentBySourcePG(ctx context.Context, db *store.DB, srcs []source, out [][]string) error {
	q, args, err := recentQueryPG(srcs)
	if err != nil {
		return err
	}
	rs, err := db.SQL().QueryContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("recent ratings by source: %w", err)
	}
	defer rs.Close() //nolint:errcheck // read-only rows: rows.Err() after the loop reports a failed read; Close only frees the connection
	return scanRecent(rs, out)
}

// recentQueryPG is recentBySourcePG's statement and its arguments.
func recentQueryPG(srcs []source) (string, []any, error) {
	type arrays struct {
		hashes []string
		idx    []int32
		since  []time.Time
		limit  []int32
	}
	byColumn := map[string]*arrays{}
	for _, c := range fraudColumns {
		byColumn[c] = &arrays{hashes: []string{}, idx: []int32{}, since: []time.Time{}, limit: []int32{}}
	}
	for i, src := range srcs {
		a, ok := byColumn[src.column]
		if !ok {
			return "", nil, fmt.Errorf("recent ratings by source: unknown column %q", src.column)
		}
		a.hashes, a.idx, a.since, a.limit = append(a.hashes, src.hash), append(a.idx, int32(i)), append(a.since, src.since), append(a.limit, int32(src.limit))
	}
	var q strings.Builder
	var args []any
	for i, c := range fraudColumns {
		if i > 0 {
			q.WriteString(" UNION ALL ")
		}
		n := len(args)
		// c comes from the fixed list, never from input. The source's equality is written as
		// the range ">= h AND <= h" and the order as (c, received_at): with "c = h" PostgreSQL
		// takes c for fixed, and where the column's statistics say it has few values (a few
		// channel servers' address, the erased hash, generated data) the generic plan walked
		// the received_at index backwards through the whole window, filtering — 0.4–1.1 s a
		// look-up at 10 M ratings (BENCHMARKS.md, point 9, eighth sitting). Written so, only the
		// column's own (c, received_at) index gives the order, and the plan no longer depends
		// on the statistics (TestFraudLookupPlanIgnoresStatistics).
		fmt.Fprintf(&q, `SELECT s.i, r.evaluation_id, r.received_at FROM unnest($%d::text[], $%d::int[], $%d::timestamptz[], $%d::int[]) AS s(h, i, since, lim)
			CROSS JOIN LATERAL (SELECT evaluation_id, received_at FROM evaluations WHERE %[5]s >= s.h AND %[5]s <= s.h AND %[5]s <> '' AND received_at > s.since
			ORDER BY %[5]s DESC, received_at DESC LIMIT s.lim) r`,
			n+1, n+2, n+3, n+4, c)
		a := byColumn[c]
		args = append(args, a.hashes, a.idx, a.since, a.limit)
	}
	q.WriteString(" ORDER BY 3 DESC")
	return q.String(), args, nil
}

// scanRecent reads the rows of recentQueryPG into out, by source.
func scanRecent(rs rowScanner, out [][]string) error {
	for rs.Next() {
		var (
			i  int
			id string
			at time.Time
		)
		if err := rs.Scan(&i, &id, &at); err != nil {
			return fmt.Errorf("recent ratings by source: %w", err)
		}
		if i >= 0 && i < len(out) {
			out[i] = append(out[i], id)
		}
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("recent ratings by source: %w", err)
	}
	return nil
}

// fraudColumns are the columns FraudConfig.checks looks up, in its order.
var fraudColumns = func() []string {
	var cs []string
	for _, c := range (FraudConfig{}).checks() {
		cs = append(cs, c.column)
	}
	return cs
}()

func recentBySourceInto(ctx context.Context, db *gorm.DB, srcs []source, out [][]string) error {
	var sql strings.Builder
	args := make([]any, 0, 3*len(srcs))
	for i, src := range srcs {
		if i > 0 {
			sql.WriteString(" UNION ALL ")
		}
		// column comes from detectFraud's fixed list, never from input.
		fmt.Fprintf(&sql, "SELECT %d AS src, evaluation_id, received_at FROM (SELECT evaluation_id, received_at FROM evaluations WHERE %s = ? AND %s <> '' AND received_at > ? ORDER BY received_at DESC LIMIT ?) q%d",
			i, src.column, src.column, i)
		args = append(args, src.hash, src.since, src.limit)
	}
	type row struct {
		Src          int
		EvaluationID string
		ReceivedAt   time.Time
	}
	var rows []row
	rs, err := db.WithContext(ctx).Raw(sql.String(), args...).Rows()
	if err != nil {
		return fmt.Errorf("recent ratings by source: %w", err)
	}
	defer rs.Close() //nolint:errcheck // read-only rows: rows.Err() after the loop reports a failed read; Close only frees the connection
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.Src, &r.EvaluationID, &r.ReceivedAt); err != nil {
			return fmt.Errorf("recent ratings by source: %w", err)
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("recent ratings by source: %w", err)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].ReceivedAt.After(rows[j].ReceivedAt) })
	for _, r := range rows {
		if r.Src >= 0 && r.Src < len(out) {
			out[r.Src] = append(out[r.Src], r.EvaluationID)
		}
	}
	return nil
}
