// Package intake takes in service cases and evaluations from every channel: it validates them,
// stores each exactly once (the client's keys make every submission idempotent, also under
// concurrent retries), encrypts personal data, and for a bad evaluation stores its work order
// in the same transaction and asks the Starter to start its workflow. A crash between the
// commit and the start loses nothing: the order stays marked unstarted and the reconciler
// starts it.
package intake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"redress/apperr"
	"redress/pii"
	"redress/scheme/indicators/indicatorsdb"
	"redress/store"
)

// Starter starts the workflow of a stored work order; starting one that exists is a no-op.
type Starter interface {
	StartWorkOrder(ctx context.Context, workOrderID string) error
}

// Service is the intake of cases and ratings.
type Service struct {
	DB      *store.DB
	PII     *pii.Box
	Starter Starter
	Now     func() time.Time
	// Calendars computes rating windows; nil uses a cache over DB.
	Calendars CalendarSource
	// Fraud tunes the rating-fraud detector; zero values take the defaults.
	Fraud FraudConfig
	// Indicators resolves the indicator catalogue of a unit; nil uses a source over DB.
	Indicators *indicatorsdb.Source

	// What concurrent ratings read before they are stored, and what they store, goes to the
	// database together (group read, group commit); set up on first use.
	batchesOnce sync.Once
	indOnce     sync.Once
	lookups     store.Batch[lookup, lookedUp]
	writes      store.Committer
}

// batches sets up the group read and the group commit. The read has one runner, so that
// ratings queue behind a read under way and share the next instead of each sending its own.
func (s *Service) batches() {
	s.batchesOnce.Do(func() {
		s.lookups.Run, s.lookups.Runners = s.lookupAll, 1
		s.writes.DB = s.DB
	})
}

// IndicatorSource is the indicator catalogues the intake checks ratings against.
func (s *Service) IndicatorSource() *indicatorsdb.Source { return s.indicators() }

// indicators is the catalogue source, made on first use when none was given.
func (s *Service) indicators() *indicatorsdb.Source {
	s.indOnce.Do(func() {
		if s.Indicators == nil {
			s.Indicators = &indicatorsdb.Source{DB: s.DB}
		}
	})
	return s.Indicators
}

// lookup reads a rating's cases and recent ratings by fraud source with those of concurrent
// ratings.
func (s *Service) lookup(ctx context.Context, l lookup) (lookedUp, error) {
	s.batches()
	return s.lookups.Do(ctx, l)
}

// insert stores a rating's rows with those of concurrent ratings.
func (s *Service) insert(ctx context.Context, rows ...any) error {
	s.batches()
	return s.writes.Insert(ctx, rows...)
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Limits of free text and lists; beyond them a request is refused, not truncated.
const (
	MaxCaseNo     = 64
	MaxItemName   = 200
	MaxComment    = 1000
	MaxTags       = 20
	MaxTagLen     = 32
	MaxCases      = 50
	MaxIndicators = 20
	MaxEvalID     = 128
	// clockSkew is how far in the future a channel's clock may run before a time is refused.
	clockSkew = 5 * time.Minute
)

var (
	// EarliestCompletion bounds completed_at from below: the national 好差评 scheme
	// (国办发〔2019〕51号) runs from December 2019.
	EarliestCompletion = time.Date(2019, 12, 1, 0, 0, 0, 0, time.FixedZone("CST", 8*3600))

	codeRe      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._:/-]*$`)
	indicatorRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,39}$`)
	phoneRe     = regexp.MustCompile(`^\+?[0-9][0-9-]{4,19}$`)
	idNumberRe  = regexp.MustCompile(`^[0-9A-Za-z]{6,32}$`)
)

// Person is an applicant's or evaluator's identity as posted.
type Person struct {
	Name     string `json:"name"`
	Phone    string `json:"phone"`
	IDNumber string `json:"id_number"`
}

// validate checks the person and normalises the phone and ID number in place (pii's
// NormalisePhone and NormaliseIDNumber), so that one person always hashes the same: before,
// "13700137000" and "+13700137000" were two evaluators.
func (p *Person) validate(field string) error {
	if utf8.RuneCountInString(p.Name) > 64 {
		return apperr.Invalid(field+".name", "too_long", "name is longer than 64 characters")
	}
	if p.Phone != "" {
		n, err := pii.NormalisePhone(p.Phone)
		if err != nil || !phoneRe.MatchString(n) {
			return apperr.Invalid(field+".phone", "invalid_phone", "phone must be 5–20 digits, optionally with +86, spaces and -")
		}
		p.Phone = n
	}
	if p.IDNumber != "" {
		n, err := pii.NormaliseIDNumber(p.IDNumber)
		if err != nil || !idNumberRe.MatchString(n) {
			return apperr.Invalid(field+".id_number", "invalid_id_number", "id_number must be 6–32 letters or digits; an 18-character resident ID number must carry its GB 11643 check character")
		}
		p.IDNumber = n
	}
	return nil
}

// RealName reports whether the person is identified (实名).
func (p Person) RealName() bool { return p.Phone != "" || p.IDNumber != "" }

func hashJSON(v any) string {
	b, _ := json.Marshal(v)
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func isDuplicate(err error) bool {
	return errors.Is(err, gorm.ErrDuplicatedKey) ||
		strings.Contains(err.Error(), "UNIQUE constraint failed") ||
		strings.Contains(err.Error(), "duplicate key value")
}

func requiredText(field, v string, max int) error {
	if strings.TrimSpace(v) == "" {
		return apperr.Invalid(field, "required", "%s is required", field)
	}
	if utf8.RuneCountInString(v) > max {
		return apperr.Invalid(field, "too_long", "%s is longer than %d characters", field, max)
	}
	return nil
}

// sortedCopy returns the strings sorted, for content hashes that ignore order.
func sortedCopy(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}
