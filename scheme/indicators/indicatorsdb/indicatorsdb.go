// Package indicatorsdb reads the jurisdictions' indicator catalogues from the database and
// keeps them for a moment. The catalogue itself and its rules (kinds, the default catalogue,
// the nearest unit's catalogue wins) are package indicators, which imports no storage, so that
// workflow code can read an indicator's kind without linking database code.
package indicatorsdb

import (
	"context"
	"fmt"
	"sync"
	"time"

	"redress/scheme/indicators"
	"redress/store"
)

// Source resolves catalogues from the database. The whole table is small (a few catalogues of
// a few entries); it is read at once and kept for TTL, so a rating costs no extra statement.
type Source struct {
	DB  *store.DB
	TTL time.Duration // default 2s

	mu     sync.Mutex
	at     time.Time
	byPath map[string]indicators.Catalogue // unit path → its own catalogue
}

// For answers the catalogue of the nearest unit on path that has one, else indicators.Default.
func (s *Source) For(ctx context.Context, path string) (indicators.Catalogue, error) {
	all, err := s.load(ctx)
	if err != nil {
		return indicators.Catalogue{}, err
	}
	return indicators.Nearest(all, path), nil
}

func (s *Source) load(ctx context.Context) (map[string]indicators.Catalogue, error) {
	ttl := s.TTL
	if ttl <= 0 {
		ttl = 2 * time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byPath != nil && time.Since(s.at) < ttl {
		return s.byPath, nil
	}
	all, err := Load(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	s.byPath, s.at = all, time.Now()
	return all, nil
}

// Load reads every unit's own catalogue, keyed by the unit's path.
func Load(ctx context.Context, db *store.DB) (map[string]indicators.Catalogue, error) {
	var rows []struct {
		indicators.Row
		Path     string
		UnitCode string
	}
	err := db.WithContext(ctx).Table("indicators").
		Select("indicators.*, units.path AS path, units.code AS unit_code").
		Joins("JOIN units ON units.id = indicators.unit_id").
		Order("units.path, indicators.position, indicators.id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("indicator catalogues: %w", err)
	}
	lists := map[string][]indicators.Indicator{}
	codes := map[string]string{}
	for _, r := range rows {
		lists[r.Path] = append(lists[r.Path], indicators.Indicator{Code: r.Code, Name: r.Name, Kind: r.Kind})
		codes[r.Path] = r.UnitCode
	}
	out := make(map[string]indicators.Catalogue, len(lists))
	for p, l := range lists {
		out[p] = indicators.New(codes[p], l)
	}
	return out, nil
}

// ForPath reads the catalogue of a unit path straight from the database (no cache).
func ForPath(ctx context.Context, db *store.DB, path string) (indicators.Catalogue, error) {
	all, err := Load(ctx, db)
	if err != nil {
		return indicators.Catalogue{}, err
	}
	return indicators.Nearest(all, path), nil
}
