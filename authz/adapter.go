package authz

import (
	"errors"
	"fmt"

	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/persist"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// CasbinRule is one stored policy line, with the columns of casbin/gorm-adapter.
//
// We do not link gorm-adapter itself: it imports github.com/glebarez/sqlite, which registers
// the database/sql driver name "sqlite" that modernc.org/sqlite (our store and the embedded
// Temporal server) registers too, and the binary panics at start (DESIGN.md, "SQLite driver
// clash"). This adapter is the small part of it we need, over the same table layout.
type CasbinRule struct {
	ID    int64 `gorm:"primaryKey"`
	Ptype string
	V0    string
	V1    string
	V2    string
	V3    string
	V4    string
	V5    string
}

// TableName is gorm-adapter's table name.
func (CasbinRule) TableName() string { return "casbin_rule" }

func (r CasbinRule) values() []string {
	v := []string{r.V0, r.V1, r.V2, r.V3, r.V4, r.V5}
	n := len(v)
	for n > 0 && v[n-1] == "" {
		n--
	}
	return v[:n]
}

func toRow(ptype string, rule []string) (CasbinRule, error) {
	if len(rule) > 6 {
		return CasbinRule{}, fmt.Errorf("authz: a rule has at most 6 fields, got %d", len(rule))
	}
	var v [6]string
	copy(v[:], rule)
	return CasbinRule{Ptype: ptype, V0: v[0], V1: v[1], V2: v[2], V3: v[3], V4: v[4], V5: v[5]}, nil
}

// Adapter stores Casbin policy in the casbin_rule table through GORM. Give it a transaction
// (Adapter{DB: tx}) to make an edit part of a larger one.
type Adapter struct {
	DB *gorm.DB
}

var (
	_ persist.Adapter      = (*Adapter)(nil)
	_ persist.BatchAdapter = (*Adapter)(nil)
)

// LoadPolicy loads every stored line into the model, in insertion order.
func (a *Adapter) LoadPolicy(m model.Model) error {
	var rows []CasbinRule
	if err := a.DB.Order("id").Find(&rows).Error; err != nil {
		return fmt.Errorf("authz: load casbin_rule: %w", err)
	}
	for _, r := range rows {
		if r.Ptype == "" {
			continue
		}
		if err := persist.LoadPolicyArray(append([]string{r.Ptype}, r.values()...), m); err != nil {
			return fmt.Errorf("authz: load line %d: %w", r.ID, err)
		}
	}
	return nil
}

// SavePolicy replaces the stored policy with the model's, in one transaction.
func (a *Adapter) SavePolicy(m model.Model) error {
	var rows []CasbinRule
	for _, sec := range []string{"p", "g"} {
		for ptype, ast := range m[sec] {
			for _, rule := range ast.Policy {
				r, err := toRow(ptype, rule)
				if err != nil {
					return err
				}
				rows = append(rows, r)
			}
		}
	}
	return a.DB.Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("1 = 1").Delete(&CasbinRule{}).Error; err != nil {
			return fmt.Errorf("authz: clear casbin_rule: %w", err)
		}
		if len(rows) == 0 {
			return nil
		}
		if err := tx.CreateInBatches(rows, 200).Error; err != nil {
			return fmt.Errorf("authz: save casbin_rule: %w", err)
		}
		return nil
	})
}

// AddPolicy stores one line; storing an existing line is a no-op.
func (a *Adapter) AddPolicy(_ string, ptype string, rule []string) error {
	return a.AddPolicies("", ptype, [][]string{rule})
}

// AddPolicies stores lines, skipping those already stored.
func (a *Adapter) AddPolicies(_ string, ptype string, rules [][]string) error {
	if len(rules) == 0 {
		return nil
	}
	rows := make([]CasbinRule, 0, len(rules))
	for _, rule := range rules {
		r, err := toRow(ptype, rule)
		if err != nil {
			return err
		}
		rows = append(rows, r)
	}
	if err := a.DB.Clauses(clause.OnConflict{DoNothing: true}).Create(&rows).Error; err != nil {
		return fmt.Errorf("authz: add lines: %w", err)
	}
	return nil
}

// RemovePolicy deletes one line.
func (a *Adapter) RemovePolicy(_ string, ptype string, rule []string) error {
	return a.RemovePolicies("", ptype, [][]string{rule})
}

// RemovePolicies deletes lines; missing ones are ignored.
func (a *Adapter) RemovePolicies(_ string, ptype string, rules [][]string) error {
	for _, rule := range rules {
		r, err := toRow(ptype, rule)
		if err != nil {
			return err
		}
		err = a.DB.Where("ptype = ? AND v0 = ? AND v1 = ? AND v2 = ? AND v3 = ? AND v4 = ? AND v5 = ?",
			r.Ptype, r.V0, r.V1, r.V2, r.V3, r.V4, r.V5).Delete(&CasbinRule{}).Error
		if err != nil {
			return fmt.Errorf("authz: remove line: %w", err)
		}
	}
	return nil
}

// RemoveFilteredPolicy deletes the lines whose fields from fieldIndex on equal fieldValues
// (an empty value matches anything), as Casbin defines it.
func (a *Adapter) RemoveFilteredPolicy(_ string, ptype string, fieldIndex int, fieldValues ...string) error {
	if fieldIndex < 0 || fieldIndex+len(fieldValues) > 6 {
		return errors.New("authz: filter out of range")
	}
	q := a.DB.Where("ptype = ?", ptype)
	for i, v := range fieldValues {
		if v != "" {
			q = q.Where(fmt.Sprintf("v%d = ?", fieldIndex+i), v)
		}
	}
	if err := q.Delete(&CasbinRule{}).Error; err != nil {
		return fmt.Errorf("authz: remove filtered lines: %w", err)
	}
	return nil
}
