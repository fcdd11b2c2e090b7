package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Rule is one route permission: subject (a role, "anonymous" or "signed_in") may call route
// with method in domain (a unit path, a subtree pattern "/gd/sz/*", or "*").
type Rule struct {
	Subject string `json:"subject"`
	Domain  string `json:"domain"`
	Route   string `json:"route"`
	Method  string `json:"method"`
}

func (r Rule) fields() []string { return []string{r.Subject, r.Domain, r.Route, r.Method} }

// Line renders the rule as default.csv writes it.
func (r Rule) Line() string { return "p, " + strings.Join(r.fields(), ", ") }

var (
	subjectRe = regexp.MustCompile(`^[a-z][a-z_]{0,39}$`)
	domainRe  = regexp.MustCompile(`^/([a-z0-9-]+/)+\*?$`)
	methods   = map[string]bool{"GET": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true}
)

// Validate checks the rule's shape (not who may write it).
func (r Rule) Validate() error {
	switch {
	case !subjectRe.MatchString(r.Subject):
		return errors.New("subject must be a role name")
	case r.Domain != "*" && !domainRe.MatchString(r.Domain):
		return errors.New(`domain must be "*", a unit path "/gd/sz/" or a subtree "/gd/sz/*"`)
	case !strings.HasPrefix(r.Route, "/") || len(r.Route) > 200 || strings.ContainsAny(r.Route, " ,\t\r\n"):
		return errors.New("route must be a registered route template")
	case !methods[r.Method]:
		return errors.New("method must be GET, POST, PUT, PATCH or DELETE")
	}
	return nil
}

// WithinSubtree reports whether the rule's domain lies inside the subtree of the unit path
// (a "*" domain lies inside no subtree: it is global).
func (r Rule) WithinSubtree(unitPath string) bool {
	return r.Domain != "*" && strings.HasPrefix(r.Domain, unitPath)
}

// Store is the database-backed policy and the enforcer of this process. Every edit bumps the
// revision in casbin_policy_state in the same transaction; Watch polls the revision, so every
// api process on the database reloads within one poll period, and the editing process reloads
// at once.
type Store struct {
	db     *gorm.DB
	enf    *casbin.SyncedEnforcer
	cached *Cached // enf's decisions, reset after every reload

	mu  sync.Mutex // serialises reloads
	rev int64      // revision of the policy the enforcer holds
}

func newModel() (model.Model, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("authz: model: %w", err)
	}
	return m, nil
}

// Open seeds default.csv lines not yet seeded (see SeedDefaults) and loads the stored policy
// into a new enforcer.
func Open(ctx context.Context, db *gorm.DB) (*Store, error) {
	if err := SeedDefaults(ctx, db); err != nil {
		return nil, err
	}
	m, err := newModel()
	if err != nil {
		return nil, err
	}
	enf, err := casbin.NewSyncedEnforcer(m, &Adapter{DB: db})
	if err != nil {
		return nil, fmt.Errorf("authz: enforcer: %w", err)
	}
	matchDomains(enf)
	// Edits go through the Store (with the revision bump), never through the enforcer.
	enf.EnableAutoSave(false)
	s := &Store{db: db, enf: enf, cached: NewCached(enf), rev: -1}
	if err := s.Reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Enforcer is this process's enforcer (with its decisions cached), kept current by Reload,
// Refresh and Watch.
func (s *Store) Enforcer() *Cached { return s.cached }

// Revision is the policy revision the enforcer holds.
func (s *Store) Revision() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rev
}

func readRevision(ctx context.Context, db *gorm.DB) (int64, error) {
	var rev int64
	if err := db.WithContext(ctx).Table("casbin_policy_state").Where("id = 1").Select("revision").Scan(&rev).Error; err != nil {
		return 0, fmt.Errorf("authz: read revision: %w", err)
	}
	return rev, nil
}

// Reload loads the stored policy into the enforcer. The revision is read first, so the
// rules loaded are never older than the revision recorded (at worst one extra reload).
func (s *Store) Reload(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reloadLocked(ctx)
}

func (s *Store) reloadLocked(ctx context.Context) error {
	rev, err := readRevision(ctx, s.db)
	if err != nil {
		return err
	}
	// LoadPolicy builds a new model and swaps it in under the enforcer's lock: requests see
	// the old or the new policy, never half of one.
	if err := s.enf.LoadPolicy(); err != nil {
		return fmt.Errorf("authz: reload: %w", err)
	}
	s.cached.Reset()
	s.rev = rev
	return nil
}

// Refresh reloads when the stored revision differs from the loaded one.
func (s *Store) Refresh(ctx context.Context) (bool, error) {
	rev, err := readRevision(ctx, s.db)
	if err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if rev == s.rev {
		return false, nil
	}
	return true, s.reloadLocked(ctx)
}

// Watch calls Refresh every period until ctx ends.
func (s *Store) Watch(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if changed, err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				slog.Warn("policy refresh failed", "err", err)
			} else if changed {
				slog.Info("policy reloaded", "revision", s.Revision())
			}
		}
	}
}

// List returns the stored route permissions, oldest first.
func (s *Store) List(ctx context.Context) ([]Rule, error) {
	var rows []CasbinRule
	if err := s.db.WithContext(ctx).Where("ptype = ?", "p").Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("authz: list: %w", err)
	}
	out := make([]Rule, 0, len(rows))
	for _, r := range rows {
		out = append(out, Rule{Subject: r.V0, Domain: r.V1, Route: r.V2, Method: r.V3})
	}
	return out, nil
}

// Has reports whether the stored policy holds the rule.
func (s *Store) Has(ctx context.Context, r Rule) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&CasbinRule{}).
		Where("ptype = 'p' AND v0 = ? AND v1 = ? AND v2 = ? AND v3 = ? AND v4 = '' AND v5 = ''", r.Subject, r.Domain, r.Route, r.Method).
		Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("authz: look up line: %w", err)
	}
	return n > 0, nil
}

// ErrExists and ErrMissing report an add of a stored line and a removal of a missing one.
var (
	ErrExists  = errors.New("authz: the line exists")
	ErrMissing = errors.New("authz: no such line")
)

// Add stores the rule and reloads this process's enforcer.
func (s *Store) Add(ctx context.Context, r Rule) error {
	return s.edit(ctx, func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&CasbinRule{Ptype: "p", V0: r.Subject, V1: r.Domain, V2: r.Route, V3: r.Method})
		if res.Error != nil {
			return fmt.Errorf("authz: add line: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrExists
		}
		return nil
	})
}

// Remove deletes the rule and reloads this process's enforcer.
func (s *Store) Remove(ctx context.Context, r Rule) error {
	return s.edit(ctx, func(tx *gorm.DB) error {
		res := tx.Where("ptype = 'p' AND v0 = ? AND v1 = ? AND v2 = ? AND v3 = ? AND v4 = '' AND v5 = ''", r.Subject, r.Domain, r.Route, r.Method).
			Delete(&CasbinRule{})
		if res.Error != nil {
			return fmt.Errorf("authz: remove line: %w", res.Error)
		}
		if res.RowsAffected == 0 {
			return ErrMissing
		}
		return nil
	})
}

// edit runs f and bumps the revision in one transaction, then reloads.
func (s *Store) edit(ctx context.Context, f func(tx *gorm.DB) error) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The revision first: on PostgreSQL the row lock serialises concurrent edits, on
		// SQLite the write lock is taken before any read.
		if err := bumpRevision(tx); err != nil {
			return err
		}
		return f(tx)
	})
	if err != nil {
		return err
	}
	return s.Reload(ctx)
}

func bumpRevision(tx *gorm.DB) error {
	err := tx.Exec("UPDATE casbin_policy_state SET revision = revision + 1, updated_at = ? WHERE id = 1", time.Now().UTC()).Error
	if err != nil {
		return fmt.Errorf("authz: bump revision: %w", err)
	}
	return nil
}

// RetiredDefaults are lines of earlier releases' default.csv that were wrong; SeedDefaults
// removes each from an upgraded database once.
var RetiredDefaults = []string{
	// Issue 17, finding 1: staff of the handling unit holding a case's QR rating token could
	// rate it under the applicant's identity; only the channel system issues tokens now.
	"p, officer, *, /api/v1/service-cases/:case_no/qr, POST",
	"p, unit_leader, *, /api/v1/service-cases/:case_no/qr, POST",
	"p, administrator, *, /api/v1/service-cases/:case_no/qr, POST",
}

// retiredMark prefixes a retired line in casbin_default_lines once it has been removed.
const retiredMark = "retired: "

// SeedDefaults writes every line of default.csv that was never seeded into casbin_rule and
// remembers it in casbin_default_lines, in one transaction: an empty database gets the whole
// default policy, an upgraded one the lines a newer release ships for its new routes, and a
// line an administrator removed is not brought back.
func SeedDefaults(ctx context.Context, db *gorm.DB) error {
	rules, err := DefaultRules()
	if err != nil {
		return err
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var seeded []string
		if err := tx.Table("casbin_default_lines").Pluck("line", &seeded).Error; err != nil {
			return fmt.Errorf("authz: read seeded lines: %w", err)
		}
		done := make(map[string]bool, len(seeded))
		for _, l := range seeded {
			done[l] = true
		}
		var fresh [][]string
		var lines []map[string]any
		// Retired lines go once, on the first start of the release that retires them; the
		// mark keeps a line an administrator deliberately adds back afterwards.
		var retired [][]string
		for _, l := range RetiredDefaults {
			mark := retiredMark + l
			if done[mark] {
				continue
			}
			done[mark] = true
			retired = append(retired, strings.Split(strings.TrimPrefix(l, "p, "), ", "))
			lines = append(lines, map[string]any{"line": mark, "seeded_at": time.Now().UTC()})
		}
		for _, r := range rules {
			l := "p, " + strings.Join(r, ", ")
			if done[l] {
				continue
			}
			done[l] = true
			fresh = append(fresh, r)
			lines = append(lines, map[string]any{"line": l, "seeded_at": time.Now().UTC()})
		}
		if len(fresh) == 0 && len(retired) == 0 {
			return nil
		}
		if err := bumpRevision(tx); err != nil {
			return err
		}
		if len(retired) > 0 {
			if err := (&Adapter{DB: tx}).RemovePolicies("p", "p", retired); err != nil {
				return err
			}
		}
		if len(fresh) > 0 {
			if err := (&Adapter{DB: tx}).AddPolicies("p", "p", fresh); err != nil {
				return err
			}
		}
		// Two processes starting at once may seed the same lines: the second skips them.
		if err := tx.Table("casbin_default_lines").Clauses(clause.OnConflict{DoNothing: true}).Create(lines).Error; err != nil {
			return fmt.Errorf("authz: record seeded lines: %w", err)
		}
		slog.Info("policy: default lines seeded", "lines", len(fresh), "retired", len(retired))
		return nil
	})
}
