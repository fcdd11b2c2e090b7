// Cache keeps loaded calendars per unit and reloads them when the calendar data change.

package calendardb

import (
	"context"
	"sync"
	"time"

	"redress/calendar"
	"redress/store"
)

// Cache keeps loaded calendars per unit path and reloads them when the Stamp changes. It is safe
// for concurrent use.
type Cache struct {
	db         *store.DB
	checkEvery time.Duration

	mu        sync.Mutex
	stamp     string
	checkedAt time.Time
	national  []calendar.NationalYear
	units     map[string]*calendar.Calendar
}

// NewCache returns a cache over db. It checks the Stamp at most once per checkEvery (0: on every
// call), so a change becomes visible within checkEvery.
func NewCache(db *store.DB, checkEvery time.Duration) *Cache {
	return &Cache{db: db, checkEvery: checkEvery}
}

// Calendar returns the calendar for unitPath ("" for national only).
func (c *Cache) Calendar(ctx context.Context, unitPath string) (*calendar.Calendar, error) {
	c.mu.Lock()
	fresh := c.units != nil && c.checkEvery > 0 && time.Since(c.checkedAt) < c.checkEvery
	if fresh {
		if cal := c.units[unitPath]; cal != nil {
			c.mu.Unlock()
			return cal, nil
		}
	}
	c.mu.Unlock()

	stamp, err := Stamp(ctx, c.db)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checkedAt = time.Now()
	if stamp != c.stamp || c.units == nil {
		nat, err := loadNational(ctx, c.db, nil)
		if err != nil {
			return nil, err
		}
		c.stamp, c.national, c.units = stamp, nat, map[string]*calendar.Calendar{}
	}
	if cal := c.units[unitPath]; cal != nil {
		return cal, nil
	}
	cal, err := loadFor(ctx, c.db, unitPath, c.national, nil)
	if err != nil {
		return nil, err
	}
	c.units[unitPath] = cal
	return cal, nil
}
