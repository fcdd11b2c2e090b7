// Package publish freezes and serves the monthly results (公开) of a jurisdiction. An
// administrator publishes a month for the unit they administer: the figures of every unit of
// its subtree are computed from the (freshly caught-up) rollups and stored as a frozen,
// numbered version; publishing the same month again makes the next version (a correction) and
// keeps the old ones. The public answer is the latest version of each jurisdiction and holds
// no personal data: units, counts and rates only — no staff, no evaluators, no comments.
package publish

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"redress/apperr"
	"redress/models"
	"redress/stats"
	"redress/store"
)

// Figures are the frozen content of one publication.
type Figures struct {
	Jurisdiction UnitRef             `json:"jurisdiction"`
	Month        string              `json:"month"`
	Period       stats.Period        `json:"period"`
	Total        UnitTotals          `json:"total"`
	Units        []stats.UnitFigures `json:"units"`
	// Formulas names the version of the formulas used, so old versions stay interpretable.
	Formulas string `json:"formulas"`
	// Monthly is the month in the shape provinces publish (issue 21); absent in versions
	// published before it existed.
	Monthly *Monthly `json:"monthly,omitempty"`
}

// UnitTotals are the jurisdiction's totals.
type UnitTotals struct {
	Ratings stats.Ratings `json:"ratings"`
	Orders  stats.Orders  `json:"orders"`
}

// UnitRef names a unit publicly.
type UnitRef struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// FormulasVersion changes whenever a formula in package stats changes meaning.
const FormulasVersion = "2026-1"

// Publication is one stored version.
type Publication struct {
	ID          int64 `gorm:"primaryKey"`
	UnitID      int64
	UnitPath    string
	Month       string
	Version     int
	PublishedBy string
	PublishedAt time.Time
	Note        string
	Figures     models.JSON[Figures]
}

// Summary describes a version without its figures.
type Summary struct {
	Jurisdiction UnitRef   `json:"jurisdiction"`
	Month        string    `json:"month"`
	Version      int       `json:"version"`
	PublishedBy  string    `json:"published_by"`
	PublishedAt  time.Time `json:"published_at"`
	Note         string    `json:"note"`
}

// Compute computes the figures of a month for a jurisdiction from the rollups.
func Compute(ctx context.Context, db *store.DB, unit models.Unit, month string) (Figures, error) {
	p, err := stats.MonthPeriod(month)
	if err != nil {
		return Figures{}, apperr.Invalid("month", "invalid_month", "month must be YYYY-MM")
	}
	units, err := stats.Units(ctx, db, store.Scope{Subtrees: []string{unit.Path}}, p)
	if err != nil {
		return Figures{}, err
	}
	r, o := stats.Total(units)
	m, err := ComputeMonthly(ctx, db, unit, p, units)
	if err != nil {
		return Figures{}, err
	}
	return Figures{Jurisdiction: UnitRef{unit.Code, unit.Name}, Month: month, Period: p,
		Total: UnitTotals{r, o}, Units: units, Formulas: FormulasVersion, Monthly: &m}, nil
}

// Publish brings the rollups up to date, computes the month and stores it as the next version.
// Only a month that has ended may be published (figures of a running month would move).
func Publish(ctx context.Context, db *store.DB, roller *stats.Roller, unit models.Unit, month, by, note string, now time.Time) (Summary, error) {
	p, err := stats.MonthPeriod(month)
	if err != nil {
		return Summary{}, apperr.Invalid("month", "invalid_month", "month must be YYYY-MM")
	}
	if stats.Day(now) <= p.To {
		return Summary{}, apperr.Invalid("month", "month_not_over", "month %s has not ended yet", month)
	}
	if roller != nil {
		if _, err := roller.Pass(ctx); err != nil {
			return Summary{}, fmt.Errorf("publish %s: catch up rollups: %w", month, err)
		}
	}
	fig, err := Compute(ctx, db, unit, month)
	if err != nil {
		return Summary{}, fmt.Errorf("publish %s: %w", month, err)
	}
	var pub Publication
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var last struct{ V int }
		if err := tx.Model(&Publication{}).Select("COALESCE(MAX(version), 0) AS v").
			Where("unit_id = ? AND month = ?", unit.ID, month).Scan(&last).Error; err != nil {
			return err
		}
		pub = Publication{UnitID: unit.ID, UnitPath: unit.Path, Month: month, Version: last.V + 1,
			PublishedBy: by, PublishedAt: now.UTC(), Note: note, Figures: models.NewJSON(fig)}
		return tx.Create(&pub).Error
	})
	if err != nil {
		if isDuplicate(err) {
			return Summary{}, apperr.Conflict("publication_race", "another publication of %s was stored at the same moment; try again", month)
		}
		return Summary{}, fmt.Errorf("publish %s: store: %w", month, err)
	}
	return summary(pub, unit), nil
}

func isDuplicate(err error) bool { return errors.Is(err, gorm.ErrDuplicatedKey) }

func summary(p Publication, u models.Unit) Summary {
	return Summary{Jurisdiction: UnitRef{u.Code, u.Name}, Month: p.Month, Version: p.Version,
		PublishedBy: p.PublishedBy, PublishedAt: p.PublishedAt, Note: p.Note}
}

// Public is the public answer for a month.
type Public struct {
	Month         string          `json:"month"`
	Jurisdictions []PublicVersion `json:"jurisdictions"`
}

// PublicVersion is the latest version of one jurisdiction.
type PublicVersion struct {
	Version     int       `json:"version"`
	PublishedAt time.Time `json:"published_at"`
	Note        string    `json:"note"`
	Figures
}

// Latest answers the latest version of every jurisdiction that published the month (or only
// of the jurisdiction with code, when given).
func Latest(ctx context.Context, db *store.DB, month, code string) (Public, error) {
	q := db.WithContext(ctx).Where(`month = ? AND version = (SELECT MAX(p2.version) FROM publications p2 WHERE p2.unit_id = publications.unit_id AND p2.month = publications.month)`, month)
	if code != "" {
		q = q.Where("unit_id = (SELECT id FROM units WHERE code = ?)", code)
	}
	var pubs []Publication
	if err := q.Order("unit_path").Find(&pubs).Error; err != nil {
		return Public{}, fmt.Errorf("public results %s: %w", month, err)
	}
	out := Public{Month: month, Jurisdictions: []PublicVersion{}}
	for _, p := range pubs {
		out.Jurisdictions = append(out.Jurisdictions, PublicVersion{Version: p.Version, PublishedAt: p.PublishedAt, Note: p.Note, Figures: p.Figures.V})
	}
	return out, nil
}

// Stamp identifies what Latest(month, code) reads: the number of the rows it selects and the
// highest id among them. Versions are only ever added, each with a new id, and an id belongs to
// one unit, so two equal stamps mean the same rows (a code that came to name another unit
// selects another highest id) and the same answer: an answer built once can be served again
// while its stamp stands.
func Stamp(ctx context.Context, db *store.DB, month, code string) (string, error) {
	var st struct{ N, Last int64 }
	q := db.WithContext(ctx).Table("publications").Select("COUNT(*) AS n, COALESCE(MAX(id), 0) AS last").Where("month = ?", month)
	if code != "" {
		q = q.Where("unit_id = (SELECT id FROM units WHERE code = ?)", code)
	}
	if err := q.Scan(&st).Error; err != nil {
		return "", fmt.Errorf("public results %s: stamp: %w", month, err)
	}
	return fmt.Sprintf("%d/%d", st.N, st.Last), nil
}

// Versions lists every version of the publications in scope (newest first), optionally of one
// month.
func Versions(ctx context.Context, db *store.DB, scope store.Scope, month string) ([]Summary, error) {
	q := db.WithContext(ctx).Select("id, unit_id, unit_path, month, version, published_by, published_at, note")
	if month != "" {
		q = q.Where("month = ?", month)
	}
	var pubs []Publication
	if err := scope.Apply(q, "unit_path").Order("month DESC, unit_path, version DESC").Find(&pubs).Error; err != nil {
		return nil, fmt.Errorf("publications: %w", err)
	}
	var units []models.Unit
	ids := make([]int64, 0, len(pubs))
	for _, p := range pubs {
		ids = append(ids, p.UnitID)
	}
	if len(ids) > 0 {
		if err := db.WithContext(ctx).Where("id IN ?", ids).Find(&units).Error; err != nil {
			return nil, fmt.Errorf("publications: units: %w", err)
		}
	}
	byID := map[int64]models.Unit{}
	for _, u := range units {
		byID[u.ID] = u
	}
	out := make([]Summary, 0, len(pubs))
	for _, p := range pubs {
		out = append(out, summary(p, byID[p.UnitID]))
	}
	return out, nil
}

// Version returns one stored version of a jurisdiction's month.
func Version(ctx context.Context, db *store.DB, unitID int64, month string, version int) (Publication, error) {
	var p Publication
	err := db.WithContext(ctx).Where("unit_id = ? AND month = ? AND version = ?", unitID, month, version).Take(&p).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return p, apperr.NotFound("publication")
	}
	if err != nil {
		return p, fmt.Errorf("publication %s v%d: %w", month, version, err)
	}
	return p, nil
}
