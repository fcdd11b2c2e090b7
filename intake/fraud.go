package intake

import (
	"context"
	"fmt"
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
// nothing. Detection runs in the rating's own transaction, so a stored rating always has its
// flags. The kinds:
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

// flagFraud checks the just-inserted rating e against recent ones and stores a flag per kind
// found; it answers how many.
func (s *Service) flagFraud(ctx context.Context, tx *gorm.DB, e *evalRow, cases []caseInfo, now time.Time) (int, error) {
	cfg := s.Fraud.withDefaults()
	var flags []FraudFlag
	add := func(kind string, ev map[string]any) {
		flags = append(flags, FraudFlag{ID: uuid.NewString(), EvaluationID: e.ID, Kind: kind, UnitPath: e.UnitPath,
			Evidence: models.NewJSON(ev), Status: FlagOpen, CreatedAt: now})
	}
	burst := func(column, hash string, window time.Duration, max int) (map[string]any, error) {
		if hash == "" {
			return nil, nil
		}
		var ids []string
		// "column <> ''" repeats the partial indexes' predicate (migration 00004) so that the
		// planner may use them: with the hash a bound parameter, SQLite (and PostgreSQL's
		// generic plans) cannot prove it non-empty, and every rating scanned the whole
		// ratings table — a third of intake's CPU in the benchmark profile (BENCHMARKS.md).
		err := tx.WithContext(ctx).Table("evaluations").Where(column+" = ? AND "+column+" <> '' AND received_at > ?", hash, now.Add(-window)).
			Order("received_at DESC").Limit(max*4).Pluck("evaluation_id", &ids).Error
		if err != nil || len(ids) < max {
			return nil, err
		}
		if len(ids) > maxEvidence {
			ids = ids[:maxEvidence]
		}
		// Evidence names the ratings by their evaluation_id and the source only by kind:
		// the hash is not shown, the identity never.
		return map[string]any{"count_at_least": len(ids), "window": window.String(), "threshold": max, "evaluation_ids": ids}, nil
	}
	for _, c := range []struct{ kind, column, hash, source string }{
		{FlagIdentityBurst, "evaluator_id_hash", e.EvaluatorIDHash, "id_number"},
		{FlagIdentityBurst, "evaluator_phone_hash", e.EvaluatorPhoneHash, "phone"},
		{FlagDeviceBurst, "device_hash", e.DeviceHash, "device"},
		{FlagAddressBurst, "ip_hash", e.IPHash, "address"},
	} {
		if hasKind(flags, c.kind) {
			continue
		}
		ev, err := burst(c.column, c.hash, cfg.Window, cfg.MaxPerSource)
		if err != nil {
			return 0, err
		}
		if ev != nil {
			ev["source"] = c.source
			add(c.kind, ev)
		}
	}
	ev, err := burst("comment_hash", e.CommentHash, cfg.CommentWindow, cfg.MaxSameComment)
	if err != nil {
		return 0, err
	}
	if ev != nil {
		add(FlagCommentBurst, ev)
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
		if err := tx.WithContext(ctx).Table("staff_identities").Where("staff_id IN ?", staffIDs).Find(&rows).Error; err != nil {
			return 0, err
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
	if len(flags) == 0 {
		return 0, nil
	}
	if err := tx.Create(&flags).Error; err != nil {
		return 0, fmt.Errorf("store flags: %w", err)
	}
	return len(flags), nil
}

func hasKind(fs []FraudFlag, kind string) bool {
	for _, f := range fs {
		if f.Kind == kind {
			return true
		}
	}
	return false
}
