package intake

import (
	"context"
	"fmt"
	"strings"
	"time"

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

// normalised is a stored value as hashing takes it since issue 17 (finding 2): phones and ID
// numbers normalised (pii.NormalisePhone, NormaliseIDNumber), so that rows stored before
// normalisation hash as the same person's new ones; a value that does not normalise is hashed
// as it is, as it was.
func normalised(kind, v string) string {
	var n string
	var err error
	switch kind {
	case "phone":
		n, err = pii.NormalisePhone(v)
	case "id":
		n, err = pii.NormaliseIDNumber(v)
	default:
		return v
	}
	if err != nil {
		return v
	}
	return n
}

// rekey recomputes an evaluator key ("id:HASH" or "phone:HASH"; anonymous and default keys
// stay) from the row's hashes as updated.
func rekey(key string, upd, row map[string]any) string {
	hash := func(col string) string {
		if v, ok := upd[col].(string); ok {
			return v
		}
		v, _ := row[col].(string)
		return v
	}
	switch {
	case strings.HasPrefix(key, "id:") && hash("evaluator_id_hash") != "":
		return "id:" + hash("evaluator_id_hash")
	case strings.HasPrefix(key, "phone:") && hash("evaluator_phone_hash") != "":
		return "phone:" + hash("evaluator_phone_hash")
	}
	return key
}

// RotatePII re-seals every personal-data value that is not sealed with the box's first key
// (the one new values use): after adding a new key in front of REDRESS_PII_KEYS and running
// this, the old key can be removed. It is also the upgrade step of issue 17's normalisation:
// it recomputes the identity hashes (and the ratings' evaluator keys and slots) of rows hashed
// from un-normalised phones and ID numbers; the worker runs it once at start
// (RehashIdentitiesOnce). It is idempotent (a second run rewrites nothing), works in
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
			if t.table == "evaluations" {
				cols = append(cols, "evaluator_key")
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
						if want := box.Hash(src[1], normalised(src[1], plain[src[0]])); old != want {
							upd[h], rehashed = want, true
						}
					}
					// The rating's evaluator key follows its hashes (evaluatorKey: the ID
					// number's, else the phone's), and so do its slots.
					var oldKey, newKey string
					if t.table == "evaluations" {
						oldKey, _ = r["evaluator_key"].(string)
						newKey = rekey(oldKey, upd, r)
						if newKey != oldKey {
							upd["evaluator_key"], rehashed = newKey, true
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
					if newKey != oldKey {
						// A slot the new key holds already (the same person rated the case under
						// two spellings before normalisation) keeps the old key: both ratings stay.
						// The slots are on the rating's case links (migration 00029), found by
						// their primary key.
						if err := tx.Exec(`UPDATE evaluation_cases SET evaluator_key = ?
							WHERE evaluation_id = ? AND evaluator_key = ?
							AND NOT EXISTS (SELECT 1 FROM evaluation_cases s2 WHERE s2.case_no = evaluation_cases.case_no AND s2.evaluator_key = ? AND s2.slot = evaluation_cases.slot)`,
							newKey, id, oldKey, newKey).Error; err != nil {
							return err
						}
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

// rehashJob names the one-time rehash in maintenance_runs (migration 00019).
const rehashJob = "rehash_normalised_identities"

// RehashIdentitiesOnce runs RotatePII once per database (recorded in maintenance_runs), the
// upgrade step of issue 17's normalisation: it recomputes the hashes, evaluator keys and slots
// of rows hashed from un-normalised phones and ID numbers (and re-seals values under the
// current key on the way, as a rotation does). ran says whether it ran now. An interrupted run
// is not recorded and runs again at the next start (RotatePII resumes where nothing changed).
func RehashIdentitiesOnce(ctx context.Context, db *store.DB, box *pii.Box) (res RotateResult, ran bool, err error) {
	var n int64
	if err := db.WithContext(ctx).Table("maintenance_runs").Where("name = ?", rehashJob).Count(&n).Error; err != nil {
		return res, false, fmt.Errorf("rehash identities: %w", err)
	}
	if n > 0 {
		return res, false, nil
	}
	if res, err = RotatePII(ctx, db, box, 500); err != nil {
		return res, true, fmt.Errorf("rehash identities: %w", err)
	}
	// Two processes starting at once both run it (idempotent); the second record is skipped.
	err = db.WithContext(ctx).Exec("INSERT INTO maintenance_runs (name, done_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", rehashJob, time.Now().UTC()).Error
	if err != nil {
		return res, true, fmt.Errorf("rehash identities: record: %w", err)
	}
	return res, true, nil
}
