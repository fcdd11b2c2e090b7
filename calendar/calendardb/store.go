// The calendar's tables (national years and their days, override scopes and overrides) and the
// write transaction that import and overrides share.

package calendardb

import (
	"context"
	"math/rand/v2"
	"strings"
	"time"

	"gorm.io/gorm"

	"redress/migrations"
	"redress/store"
)

type yearRow struct {
	ID           int64 `gorm:"primaryKey"`
	Jurisdiction string
	Year         int
	Revision     int
	Version      string
	ContentHash  string
	Source       string
	Papers       string
	DayCount     int
	ImportedAt   time.Time
}

func (yearRow) TableName() string { return "calendar_years" }

type dayRow struct {
	ID       int64 `gorm:"primaryKey"`
	YearID   int64
	Date     string
	IsOffDay bool
	Name     string
}

func (dayRow) TableName() string { return "calendar_days" }

type scopeRow struct {
	UnitPath  string `gorm:"primaryKey"`
	Revision  int
	UpdatedAt time.Time
}

func (scopeRow) TableName() string { return "calendar_override_scopes" }

type overrideRow struct {
	ID              int64 `gorm:"primaryKey"`
	UnitPath        string
	Date            string
	IsOffDay        bool
	Reason          string
	CreatedBy       string
	CreatedAt       time.Time
	Revision        int
	RemovedRevision *int
	RemovedBy       *string
	RemovedAt       *time.Time
}

func (overrideRow) TableName() string { return "calendar_overrides" }

// writeTx runs fn in a transaction. SQLite in WAL mode refuses (SQLITE_BUSY) a transaction
// that read before another connection's write committed and then tries to write; the busy
// timeout cannot help there, so the whole transaction is retried.
func writeTx(ctx context.Context, db *store.DB, fn func(tx *gorm.DB) error) error {
	for attempt := 1; ; attempt++ {
		err := db.WithContext(ctx).Transaction(fn)
		if err == nil || db.Dialect != migrations.SQLite || attempt == 20 || !isBusy(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt*5+rand.IntN(20)) * time.Millisecond):
		}
	}
}

func isBusy(err error) bool {
	s := err.Error()
	return strings.Contains(s, "SQLITE_BUSY") || strings.Contains(s, "database is locked")
}
