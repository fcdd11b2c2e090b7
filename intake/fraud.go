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

	"redress/models"
)

// Rating fraud (刷评) is flagged, never dropped: a flagged rating is stored and counted like any
// other until an administrator rules; an upheld flag excludes the rating from statistics (the
// evaluations.excluded column that statistics already honour), a dismissed one changes
// nothing. Detection runs just before the rating is stored and its flags are stored in the
// same statement, so a stored rating always has its flags. The kinds:
const (
	FlagIdentityBurst = "identity_burst" // many ratings from one phone or ID number
	FlagDeviceBurst   = "device_burst"   // many ratings from one device
	FlagAddressBurst  = "address_burst"  // many ratings from one network address
	FlagOwnStaff      = "own_staff"      // the case rated by its own handling staff
	FlagCommentBurst  = "comment_burst"  // many identical comments in a short time
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

// detectFraud checks rating e, about to be stored, against the ratings stored before it and
// answers a flag per kind found, for the caller to store with the rating. e counts itself
// (the rating that reaches the threshold is the one flagged) and heads its evidence.
func (s *Service) detectFraud(ctx context.Context, db *gorm.DB, e *evalRow, cases []caseInfo, now time.Time) ([]FraudFlag, error) {
	cfg := s.Fraud.withDefaults()
	var flags []FraudFlag
	add := func(kind string, ev map[string]any) {
		flags = append(flags, FraudFlag{ID: uuid.NewString(), EvaluationID: e.ID, Kind: kind, UnitPath: e.UnitPath,
			Evidence: models.NewJSON(ev), Status: FlagOpen, CreatedAt: now})
	}
	type check struct {
		kind, column, hash, source string
		window                     time.Duration
		max                        int
	}
	var checks []check
	for _, c := range []check{
		{FlagIdentityBurst, "evaluator_id_hash", e.EvaluatorIDHash, "id_number", cfg.Window, cfg.MaxPerSource},
		{FlagIdentityBurst, "evaluator_phone_hash", e.EvaluatorPhoneHash, "phone", cfg.Window, cfg.MaxPerSource},
		{FlagDeviceBurst, "device_hash", e.DeviceHash, "device", cfg.Window, cfg.MaxPerSource},
		{FlagAddressBurst, "ip_hash", e.IPHash, "address", cfg.Window, cfg.MaxPerSource},
		{FlagCommentBurst, "comment_hash", e.CommentHash, "", cfg.CommentWindow, cfg.MaxSameComment},
	} {
		if c.hash != "" {
			checks = append(checks, c)
		}
	}
	srcs := make([]source, len(checks))
	for i, c := range checks {
		srcs[i] = source{column: c.column, hash: c.hash, since: now.Add(-c.window), limit: c.max * 4}
	}
	recent, err := recentBySource(ctx, db, srcs)
	if err != nil {
		return nil, err
	}
	for i, c := range checks {
		ids := append([]string{e.EvaluationID}, recent[i]...)
		if hasKind(flags, c.kind) || len(ids) < c.max {
			continue
		}
		if len(ids) > maxEvidence {
			ids = ids[:maxEvidence]
		}
		// Evidence names the ratings by their evaluation_id and the source only by kind:
		// the hash is not shown, the identity never.
		ev := map[string]any{"count_at_least": len(ids), "window": c.window.String(), "threshold": c.max, "evaluation_ids": ids}
		if c.source != "" {
			ev["source"] = c.source
		}
		add(c.kind, ev)
	}
	// Own staff: the handling staff's identity hashes (staff_identities) against the
	// evaluator's.
	var staffIDs []string
	for _, c := range cases {
		if c.StaffID != nil {
			staffIDs = append(staffIDs, *c.StaffID)
		}
	}
	if len(staffIDs) > 0 && (e.EvaluatorIDHash != "" || e.EvaluatorPhoneHash != "") {
		var rows []struct {
			StaffID   string
			IDHash    string
			PhoneHash string
		}
		if err := db.WithContext(ctx).Table("staff_identities").Where("staff_id IN ?", staffIDs).Find(&rows).Error; err != nil {
			return nil, err
		}
		for _, r := range rows {
			var by string
			switch {
			case r.IDHash != "" && r.IDHash == e.EvaluatorIDHash:
				by = "id_number"
			case r.PhoneHash != "" && r.PhoneHash == e.EvaluatorPhoneHash:
				by = "phone"
			default:
				continue
			}
			add(FlagOwnStaff, map[string]any{"staff": r.StaffID, "matched_by": by})
			break
		}
	}
	return flags, nil
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
func recentBySource(ctx context.Context, db *gorm.DB, srcs []source) ([][]string, error) {
	out := make([][]string, len(srcs))
	if len(srcs) == 0 {
		return out, nil
	}
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
		return nil, fmt.Errorf("recent ratings by source: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.Src, &r.EvaluationID, &r.ReceivedAt); err != nil {
			return nil, fmt.Errorf("recent ratings by source: %w", err)
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("recent ratings by source: %w", err)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].ReceivedAt.After(rows[j].ReceivedAt) })
	for _, r := range rows {
		if r.Src >= 0 && r.Src < len(out) {
			out[r.Src] = append(out[r.Src], r.EvaluationID)
		}
	}
	return out, nil
}
