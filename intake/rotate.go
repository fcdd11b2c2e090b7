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
	Suite     string `json:"suite"`     // aes or gm
	Resealed  int    `json:"resealed"`  // rows rewritten
	Unchanged int    `json:"unchanged"` // rows already under the key
	Rehashed  int    `json:"rehashed"`  // rows whose search hashes were recomputed (suite change)
}

// sealedColumns are the personal-data columns sealed by package pii, per table, and the
// search hashes computed from them (hash column → sealed column and hash kind), which a move
// between suites (HMAC-SHA-256 ↔ HMAC-SM3) must recompute.
var sealedColumns = []struct {
	table   string
	columns []string
	hashes  map[string][2]string
}{
	{"evaluations", []string{"evaluator_name", "evaluator_phone", "evaluator_id_number"},
		map[string][2]string{"evaluator_phone_hash": {"evaluator_phone", "phone"}, "evaluator_id_hash": {"evaluator_id_number", "id"}}},
	{"service_cases", []string{"applicant_name", "applicant_phone", "applicant_id_number"},
		map[string][2]string{"applicant_id_hash": {"applicant_id_number", "id"}}},
}

// RotatePII re-seals every personal-data value that is not sealed with the box's first key
// (the one new values use): after adding a new key in front of REDRESS_PII_KEYS and running
// this, the old key can be removed. It is idempotent (a second run rewrites nothing), works in
// batches of its own transactions, and compares before it writes, so a run interrupted
// half-way is resumed by running it again. The keyed hashes keep their key; when the suite
// changed (REDRESS_CRYPTO=gm after aes, or back), the hashes that can be recomputed from the
// sealed values are rewritten in the new suite's HMAC (see README: hashes of values that are
// not stored — devices, addresses, staff identities — start afresh).
func RotatePII(ctx context.Context, db *store.DB, box *pii.Box, batch int) (RotateResult, error) {
	if batch <= 0 {
		batch = 500
	}
	current := pii.KeyID(box.Seal("probe"))
	res := RotateResult{Key: current, Suite: string(box.Suite())}
	for _, t := range sealedColumns {
		last := ""
		for {
			var rows []map[string]any
			cols := append([]string{"id"}, t.columns...)
			for h := range t.hashes {
				cols = append(cols, h)
			}
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
					plain := map[string]string{}
					for _, c := range t.columns {
						v, _ := r[c].(string)
						if v == "" {
							continue
						}
						p, err := box.Open(v)
						if err != nil {
							return fmt.Errorf("%s %s.%s: %w", t.table, id, c, err)
						}
						plain[c] = p
						if pii.KeyID(v) != current {
							upd[c] = box.Seal(p)
						}
					}
					resealed, rehashed := len(upd) > 0, false
					for h, src := range t.hashes {
						old, _ := r[h].(string)
						if plain[src[0]] == "" {
							continue // nothing to hash (or erased by retention: its marker stays)
						}
						if want := box.Hash(src[1], plain[src[0]]); old != want {
							upd[h], rehashed = want, true
						}
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
					if resealed {
						res.Resealed++
					}
					if rehashed {
						res.Rehashed++
					}
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
