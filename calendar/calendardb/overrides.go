// Local overrides: an administrator makes a date a rest or working day for a unit subtree.
// Every change bumps its scope's revision; withdrawn rows stay for audit.

package calendardb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"redress/calendar"
	"redress/store"
)

// OverrideInput is an administrator's local deviation: date is a rest day (OffDay) or a working
// day for every unit in the subtree UnitPath.
type OverrideInput struct {
	UnitPath string
	Date     string // YYYY-MM-DD
	OffDay   bool
	Reason   string
	By       string // login of the administrator
}

// Override is a local override in force.
type Override struct {
	ID        int64     `json:"id"`
	UnitPath  string    `json:"unit_path"`
	Date      string    `json:"date"`
	OffDay    bool      `json:"off_day"`
	Reason    string    `json:"reason"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	Revision  int       `json:"revision"` // the scope revision that set it
}

// OverrideChange is the outcome of setting or removing an override.
type OverrideChange struct {
	UnitPath string `json:"unit_path"`
	Revision int    `json:"revision"` // the scope's revision now
	Changed  bool   `json:"changed"`
}

// bump raises a scope's revision inside tx and returns the new value; in PostgreSQL the upsert
// also locks the scope row, so concurrent changes of one scope queue behind each other.
func bump(tx *gorm.DB, path string) (int, error) {
	var rev int
	err := tx.Raw(`INSERT INTO calendar_override_scopes (unit_path, revision, updated_at) VALUES (?, 1, ?)
ON CONFLICT (unit_path) DO UPDATE SET revision = calendar_override_scopes.revision + 1, updated_at = excluded.updated_at
RETURNING revision`, path, time.Now().UTC()).Scan(&rev).Error
	if err != nil {
		return 0, fmt.Errorf("bump override revision of %s: %w", path, err)
	}
	return rev, nil
}

func scopeRevision(ctx context.Context, db *store.DB, path string) (int, error) {
	var rows []scopeRow
	if err := db.WithContext(ctx).Where("unit_path = ?", path).Find(&rows).Error; err != nil {
		return 0, err
	}
	if len(rows) == 0 {
		return 0, nil
	}
	return rows[0].Revision, nil
}

// SetOverride makes in.Date a rest or working day for the subtree in.UnitPath, replacing an
// override of the same scope and date; it bumps the scope's revision unless nothing changes.
func SetOverride(ctx context.Context, db *store.DB, in OverrideInput) (OverrideChange, error) {
	if err := calendar.ValidScope(in.UnitPath); err != nil {
		return OverrideChange{}, err
	}
	d, err := calendar.ParseDate(in.Date)
	if err != nil {
		return OverrideChange{}, fmt.Errorf("calendar: override: %w", err)
	}
	if strings.TrimSpace(in.Reason) == "" || strings.TrimSpace(in.By) == "" {
		return OverrideChange{}, errors.New("calendar: override needs a reason and the administrator's login")
	}
	out := OverrideChange{UnitPath: in.UnitPath}
	err = writeTx(ctx, db, func(tx *gorm.DB) error {
		rev, err := bump(tx, in.UnitPath)
		if err != nil {
			return err
		}
		var cur []overrideRow
		if err := tx.Where("unit_path = ? AND date = ? AND removed_revision IS NULL", in.UnitPath, d).Find(&cur).Error; err != nil {
			return fmt.Errorf("read override: %w", err)
		}
		if len(cur) == 1 && cur[0].IsOffDay == in.OffDay && cur[0].Reason == in.Reason {
			return errNoChange
		}
		now := time.Now().UTC()
		if len(cur) == 1 {
			if err := retire(tx, cur[0].ID, rev, in.By, now); err != nil {
				return err
			}
		}
		row := overrideRow{UnitPath: in.UnitPath, Date: d, IsOffDay: in.OffDay, Reason: in.Reason, CreatedBy: in.By, CreatedAt: now, Revision: rev}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("store override: %w", err)
		}
		out.Revision, out.Changed = rev, true
		return nil
	})
	if errors.Is(err, errNoChange) {
		out.Revision, err = scopeRevision(ctx, db, in.UnitPath)
	}
	if err != nil {
		return OverrideChange{}, fmt.Errorf("calendar: set override %s %s: %w", in.UnitPath, in.Date, err)
	}
	return out, nil
}

// errNoChange rolls back a revision bump when the change turns out to change nothing.
var errNoChange = errors.New("no change")

func retire(tx *gorm.DB, id int64, rev int, by string, at time.Time) error {
	err := tx.Model(&overrideRow{}).Where("id = ?", id).
		Updates(map[string]any{"removed_revision": rev, "removed_by": by, "removed_at": at}).Error
	if err != nil {
		return fmt.Errorf("retire override %d: %w", id, err)
	}
	return nil
}

// RemoveOverride withdraws the override of unitPath on date, bumping the scope's revision; the
// row is kept for audit. calendar.ErrOverrideNotFound when none is in force.
func RemoveOverride(ctx context.Context, db *store.DB, unitPath, date, by string) (OverrideChange, error) {
	if err := calendar.ValidScope(unitPath); err != nil {
		return OverrideChange{}, err
	}
	d, err := calendar.ParseDate(date)
	if err != nil {
		return OverrideChange{}, fmt.Errorf("calendar: override: %w", err)
	}
	if strings.TrimSpace(by) == "" {
		return OverrideChange{}, errors.New("calendar: removing an override needs the administrator's login")
	}
	out := OverrideChange{UnitPath: unitPath}
	err = writeTx(ctx, db, func(tx *gorm.DB) error {
		rev, err := bump(tx, unitPath)
		if err != nil {
			return err
		}
		var cur []overrideRow
		if err := tx.Where("unit_path = ? AND date = ? AND removed_revision IS NULL", unitPath, d).Find(&cur).Error; err != nil {
			return fmt.Errorf("read override: %w", err)
		}
		if len(cur) == 0 {
			return calendar.ErrOverrideNotFound
		}
		if err := retire(tx, cur[0].ID, rev, by, time.Now().UTC()); err != nil {
			return err
		}
		out.Revision, out.Changed = rev, true
		return nil
	})
	if err != nil {
		return OverrideChange{}, fmt.Errorf("calendar: remove override %s %s: %w", unitPath, date, err)
	}
	return out, nil
}

// ListOverrides lists the overrides in force that apply to unitPath (its scope and the scopes
// above it), or with subtree also those set anywhere below it; by date, then scope.
func ListOverrides(ctx context.Context, db *store.DB, unitPath string, subtree bool) ([]Override, error) {
	if err := calendar.ValidScope(unitPath); err != nil {
		return nil, err
	}
	q := db.WithContext(ctx).Where("removed_revision IS NULL")
	if subtree {
		// substr rather than LIKE, so that '_' and '%' in unit codes stay literal.
		q = q.Where("(unit_path IN ? OR substr(unit_path, 1, ?) = ?)", calendar.Chain(unitPath), len(unitPath), unitPath)
	} else {
		q = q.Where("unit_path IN ?", calendar.Chain(unitPath))
	}
	var rows []overrideRow
	if err := q.Order("date, unit_path").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("calendar: list overrides of %s: %w", unitPath, err)
	}
	out := make([]Override, len(rows))
	for i, r := range rows {
		out[i] = Override{ID: r.ID, UnitPath: r.UnitPath, Date: r.Date, OffDay: r.IsOffDay, Reason: r.Reason, CreatedBy: r.CreatedBy, CreatedAt: r.CreatedAt.UTC(), Revision: r.Revision}
	}
	return out, nil
}
