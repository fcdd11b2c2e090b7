package intake

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"redress/pii"
	"redress/store"
)

// RotateResult counts what a key rotation did.
type RotateResult struct {
	Key       string `json:"key"`       // the key values are now sealed with
	Resealed  int    `json:"resealed"`  // rows rewritten
	Unchanged int    `json:"unchanged"` // rows already under the key
}

// sealedColumns are the personal-data columns sealed by package pii, per table.
var sealedColumns = []struct {
	table   string
	columns []string
}{
	{"evaluations", []string{"evaluator_name", "evaluator_phone", "evaluator_id_number"}},
	{"service_cases", []string{"applicant_name", "applicant_phone", "applicant_id_number"}},
}

// RotatePII re-seals every personal-data value that is not sealed with the box's first key
// (the one new values use): after adding a new key in front of REDRESS_PII_KEYS and running
// this, the old key can be removed. It is idempotent (a second run rewrites nothing), works in
// batches of its own transactions, and compares before it writes, so a run interrupted
// half-way is resumed by running it again. The keyed hashes do not change (they use the hash
// key, which is not rotated by this).
func RotatePII(ctx context.Context, db *store.DB, box *pii.Box, batch int) (RotateResult, error) {
	if batch <= 0 {
		batch = 500
	}
	current := pii.KeyID(box.Seal("probe"))
	res := RotateResult{Key: current}
	for _, t := range sealedColumns {
		last := ""
		for {
			var rows []map[string]any
			cols := append([]string{"id"}, t.columns...)
			if err := db.WithContext(ctx).Table(t.table).Select(cols).Where("id > ?", last).Order("id").Limit(batch).Find(&rows).Error; err != nil {
				return res, fmt.Errorf("rotate %s: %w", t.table, err)
			}
			if len(rows) == 0 {
				break
			}
			err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
				for _, r := range rows {
					id := fmt.Sprint(r["id"])
					last = id
					upd := map[string]any{}
					for _, c := range t.columns {
						v, _ := r[c].(string)
						if v == "" || pii.KeyID(v) == current {
							continue
						}
						plain, err := box.Open(v)
						if err != nil {
							return fmt.Errorf("%s %s.%s: %w", t.table, id, c, err)
						}
						upd[c] = box.Seal(plain)
					}
					if len(upd) == 0 {
						res.Unchanged++
						continue
					}
					// Only where the row still holds what was read: a concurrent writer wins.
					q := tx.Table(t.table).Where("id = ?", id)
					for c := range upd {
						q = q.Where(c+" = ?", r[c])
					}
					if err := q.Updates(upd).Error; err != nil {
						return err
					}
					res.Resealed++
				}
				return nil
			})
			if err != nil {
				return res, fmt.Errorf("rotate %s: %w", t.table, err)
			}
		}
	}
	return res, nil
}
