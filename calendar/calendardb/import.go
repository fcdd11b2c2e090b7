// The national calendar comes in by import: a year in the holiday-cn JSON format, or the
// years shipped with the binary, each stored as the year's next revision when its content
// differs from the one in force.

package calendardb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"gorm.io/gorm"

	"redress/calendar"
	"redress/store"
)

// ImportResult tells what an import did.
type ImportResult struct {
	Year    int    `json:"year"`
	Version string `json:"version"` // e.g. "2025.2": the year's version now in force
	Changed bool   `json:"changed"` // false when the content equalled the version in force
	Days    int    `json:"days"`    // exceptions listed
}

// ImportHolidayCN imports one year in the holiday-cn JSON format. Content equal to the year's
// current version changes nothing; different content becomes the year's next revision (older
// revisions are kept for recomputation). source describes where the file came from (a path or
// URL) for the record.
func ImportHolidayCN(ctx context.Context, db *store.DB, r io.Reader, source string) (ImportResult, error) {
	yd, err := calendar.ParseHolidayCN(r)
	if err != nil {
		return ImportResult{}, fmt.Errorf("calendar: import %s: %w", source, err)
	}
	res, err := storeYear(ctx, db, yd, source, false)
	if err != nil {
		return ImportResult{}, fmt.Errorf("calendar: import %s: %w", source, err)
	}
	return res, nil
}

// EnsureShipped loads each year of the shipped national calendar that the database does not
// have yet (any revision counts as having it, so an imported correction is never overwritten).
// It is idempotent and safe to run from several processes at once; it returns the years loaded.
func EnsureShipped(ctx context.Context, db *store.DB) ([]ImportResult, error) {
	years, err := calendar.ShippedYears()
	if err != nil {
		return nil, err
	}
	var loaded []ImportResult
	for _, yd := range years {
		res, err := storeYear(ctx, db, yd, calendar.ShippedSource, true)
		if err != nil {
			return loaded, fmt.Errorf("calendar: load shipped %d: %w", yd.Year(), err)
		}
		if res.Changed {
			loaded = append(loaded, res)
		}
	}
	return loaded, nil
}

// storeYear stores yd as the year's next revision unless the current one has the same content
// (or, with onlyIfAbsent, unless any revision exists).
func storeYear(ctx context.Context, db *store.DB, yd calendar.NationalYear, source string, onlyIfAbsent bool) (ImportResult, error) {
	hash := yd.ContentHash()
	var res ImportResult
	err := writeTx(ctx, db, func(tx *gorm.DB) error {
		var cur []yearRow
		if err := tx.Where("jurisdiction = ? AND year = ?", calendar.National, yd.Year()).
			Order("revision DESC").Limit(1).Find(&cur).Error; err != nil {
			return fmt.Errorf("read current version: %w", err)
		}
		if len(cur) == 1 && (onlyIfAbsent || cur[0].ContentHash == hash) {
			res = ImportResult{Year: yd.Year(), Version: cur[0].Version, Days: cur[0].DayCount}
			return nil
		}
		yd = yd.WithRevision(1)
		if len(cur) == 1 {
			yd = yd.WithRevision(cur[0].Revision + 1)
		}
		papers, _ := json.Marshal(yd.Papers())
		row := yearRow{
			Jurisdiction: calendar.National, Year: yd.Year(), Revision: yd.Revision(), Version: yd.Version(),
			ContentHash: hash, Source: source, Papers: string(papers), DayCount: len(yd.Exceptions()),
			ImportedAt: time.Now().UTC(),
		}
		if err := tx.Create(&row).Error; err != nil {
			return fmt.Errorf("store version %s: %w", row.Version, err)
		}
		exceptions := yd.Exceptions()
		days := make([]dayRow, len(exceptions))
		for i, e := range exceptions {
			days[i] = dayRow{YearID: row.ID, Date: e.Date, IsOffDay: e.Off, Name: e.Name}
		}
		if err := tx.CreateInBatches(days, 100).Error; err != nil {
			return fmt.Errorf("store days of %s: %w", row.Version, err)
		}
		res = ImportResult{Year: yd.Year(), Version: row.Version, Changed: true, Days: len(days)}
		return nil
	})
	if errors.Is(err, gorm.ErrDuplicatedKey) {
		// Another process stored a revision at the same moment; report what is there now.
		var cur yearRow
		if err2 := db.WithContext(ctx).Where("jurisdiction = ? AND year = ?", calendar.National, yd.Year()).
			Order("revision DESC").First(&cur).Error; err2 == nil && (onlyIfAbsent || cur.ContentHash == hash) {
			return ImportResult{Year: yd.Year(), Version: cur.Version, Days: cur.DayCount}, nil
		}
	}
	return res, err
}
