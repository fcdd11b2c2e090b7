package orgfile

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"redress/migrations"
	"redress/models"
	"redress/scheme/indicators"
	"redress/store"
)

// Counts tells what Apply did with the rows of one kind.
type Counts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
}

// Changed reports whether any row was created or updated.
func (c Counts) Changed() bool { return c.Created > 0 || c.Updated > 0 }

func (c Counts) String() string {
	return fmt.Sprintf("%d created, %d updated, %d unchanged", c.Created, c.Updated, c.Unchanged)
}

// Summary counts what Apply did per kind. Units counts the file's units, plus (as updated)
// units outside the file whose path changed because an ancestor moved. A user counts as
// updated when their name or their role assignments changed; RolesAdded and RolesRemoved
// count the assignments themselves.
type Summary struct {
	Units        Counts `json:"units"`
	Staff        Counts `json:"staff"`
	Users        Counts `json:"users"`
	Policies     Counts `json:"policies"`
	Indicators   Counts `json:"indicators"`
	RolesAdded   int    `json:"roles_added"`
	RolesRemoved int    `json:"roles_removed"`
}

// Changed reports whether Apply changed anything.
func (s Summary) Changed() bool {
	return s.Units.Changed() || s.Staff.Changed() || s.Users.Changed() || s.Policies.Changed() || s.Indicators.Changed() ||
		s.RolesAdded > 0 || s.RolesRemoved > 0
}

func (s Summary) String() string {
	out := fmt.Sprintf("units: %s; staff: %s; users: %s (roles: %d added, %d removed); policies: %s",
		s.Units, s.Staff, s.Users, s.RolesAdded, s.RolesRemoved, s.Policies)
	if s.Indicators != (Counts{}) {
		out += fmt.Sprintf("; indicator catalogues: %s", s.Indicators)
	}
	return out
}

// importLockKey serialises concurrent imports on PostgreSQL (pg_advisory_xact_lock).
const importLockKey = 0x7265647265737301 // "redress" 01

// chunk bounds the parameters of one IN (…) query.
const chunk = 500

// Apply upserts the file into db in one transaction: units (by code; moving a unit rewrites
// its path and its descendants' paths), staff (by id), users (by login, their role
// assignments replaced by the file's list) and policies (by unit). Nothing absent from the
// file is deleted, except role assignments of users named in the file. Applying the same file
// twice changes nothing the second time. The file is validated first (see File.Validate).
//
// On SQLite the transaction takes the write lock with its first statement, so it waits (busy
// timeout) rather than fails when another process, such as `redress dev`, is writing.
func Apply(ctx context.Context, db *store.DB, f *File) (Summary, error) {
	if f == nil {
		return Summary{}, errors.New("orgfile: nil file")
	}
	if err := f.Validate(); err != nil {
		return Summary{}, fmt.Errorf("organisation file: %w", err)
	}
	var sum Summary
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		sum = Summary{}
		if err := lockForImport(tx, db.Dialect); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		ids, err := applyUnits(tx, f, &sum)
		if err != nil {
			return err
		}
		if err := applyStaff(tx, f, ids, &sum); err != nil {
			return err
		}
		if err := applyUsers(tx, f, ids, &sum); err != nil {
			return err
		}
		if err := applyPolicies(tx, f, ids, &sum); err != nil {
			return err
		}
		return applyIndicators(tx, f, ids, &sum)
	})
	if err != nil {
		return Summary{}, fmt.Errorf("apply organisation file: %w", err)
	}
	return sum, nil
}

// lockForImport makes the transaction a writer from its first statement. On SQLite a deferred
// transaction that reads first and then writes fails at once with SQLITE_BUSY if another
// connection wrote meanwhile; a write as the first statement instead waits for the lock under
// busy_timeout. On PostgreSQL an advisory lock serialises concurrent imports.
func lockForImport(tx *gorm.DB, d migrations.Dialect) error {
	if d == migrations.Postgres {
		return tx.Exec("SELECT pg_advisory_xact_lock(?)", int64(importLockKey)).Error
	}
	return tx.Exec("UPDATE units SET code = code WHERE id = -1").Error
}

// unitNode is a unit as it will stand after the import.
type unitNode struct {
	row    *models.Unit // nil when new
	parent string
	name   string
	kind   string
	inFile bool
	path   string
	// division and level are the national data items (issue 21).
	division string
	level    int
}

// applyUnits upserts the units and returns every unit's id by code.
func applyUnits(tx *gorm.DB, f *File, sum *Summary) (map[string]int64, error) {
	var existing []models.Unit
	if err := tx.Order("id").Find(&existing).Error; err != nil {
		return nil, fmt.Errorf("load units: %w", err)
	}
	codeByID := make(map[int64]string, len(existing))
	for _, u := range existing {
		codeByID[u.ID] = u.Code
	}
	nodes := make(map[string]*unitNode, len(existing)+len(f.Units))
	for i := range existing {
		u := &existing[i]
		n := &unitNode{row: u, name: u.Name, kind: u.Kind, division: u.DivisionCode, level: u.Level}
		if u.ParentID != nil {
			p, ok := codeByID[*u.ParentID]
			if !ok {
				return nil, fmt.Errorf("unit %q: parent id %d does not exist", u.Code, *u.ParentID)
			}
			n.parent = p
		}
		nodes[u.Code] = n
	}
	for _, u := range f.Units {
		n := nodes[u.Code]
		if n == nil {
			n = &unitNode{}
			nodes[u.Code] = n
		}
		n.parent, n.name, n.kind, n.inFile = u.ParentCode(), u.Name, u.Kind, true
		n.division, n.level = u.DivisionCode, u.Level
		if n.kind == "" {
			n.kind = DefaultKind
		}
	}

	// Paths from the final tree; a unit of the database that the file puts under its own
	// descendant makes a cycle.
	const visiting = "\x00"
	var pathOf func(code string, chain []string) (string, error)
	pathOf = func(code string, chain []string) (string, error) {
		n := nodes[code]
		if n == nil {
			return "", fmt.Errorf("unit %q: parent %q does not exist", chain[len(chain)-1], code)
		}
		switch n.path {
		case "":
		case visiting:
			return "", fmt.Errorf("unit %q: parents form a cycle: %s → %s", code, strings.Join(chain, " → "), code)
		default:
			return n.path, nil
		}
		n.path = visiting
		p := "/"
		if n.parent != "" {
			var err error
			if p, err = pathOf(n.parent, append(chain, code)); err != nil {
				return "", err
			}
		}
		n.path = p + code + "/"
		return n.path, nil
	}
	codes := make([]string, 0, len(nodes))
	for c := range nodes {
		codes = append(codes, c)
		if _, err := pathOf(c, nil); err != nil {
			return nil, err
		}
	}
	// Parents before children, so that a new unit's parent already has an id.
	slices.SortFunc(codes, func(a, b string) int {
		da, db := strings.Count(nodes[a].path, "/"), strings.Count(nodes[b].path, "/")
		if da != db {
			return da - db
		}
		return strings.Compare(a, b)
	})

	ids := make(map[string]int64, len(nodes))
	for _, c := range codes {
		n := nodes[c]
		var parentID *int64
		if n.parent != "" {
			id := ids[n.parent]
			parentID = &id
		}
		if n.row == nil {
			u := models.Unit{Code: c, Name: n.name, Kind: n.kind, DivisionCode: n.division, Level: n.level, ParentID: parentID, Path: n.path}
			if err := tx.Create(&u).Error; err != nil {
				return nil, fmt.Errorf("unit %q: create: %w", c, err)
			}
			ids[c] = u.ID
			sum.Units.Created++
			continue
		}
		r := n.row
		ids[c] = r.ID
		changes := map[string]any{}
		if r.Name != n.name {
			changes["name"] = n.name
		}
		if r.Kind != n.kind {
			changes["kind"] = n.kind
		}
		if r.DivisionCode != n.division {
			changes["division_code"] = n.division
		}
		if r.Level != n.level {
			changes["level"] = n.level
		}
		if !sameID(r.ParentID, parentID) {
			changes["parent_id"] = parentID
		}
		if r.Path != n.path {
			changes["path"] = n.path
		}
		if len(changes) == 0 {
			if n.inFile {
				sum.Units.Unchanged++
			}
			continue
		}
		if err := tx.Model(&models.Unit{}).Where("id = ?", r.ID).Updates(changes).Error; err != nil {
			return nil, fmt.Errorf("unit %q: update: %w", c, err)
		}
		sum.Units.Updated++
	}
	return ids, nil
}

func sameID(a, b *int64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// inChunks runs f on consecutive slices of at most chunk elements.
func inChunks[T any](all []T, f func(part []T) error) error {
	for len(all) > 0 {
		n := min(len(all), chunk)
		if err := f(all[:n]); err != nil {
			return err
		}
		all = all[n:]
	}
	return nil
}

func applyStaff(tx *gorm.DB, f *File, ids map[string]int64, sum *Summary) error {
	keys := make([]string, len(f.Staff))
	for i, s := range f.Staff {
		keys[i] = s.ID
	}
	existing := make(map[string]models.Staff, len(keys))
	err := inChunks(keys, func(part []string) error {
		var rows []models.Staff
		if err := tx.Where("id IN ?", part).Find(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			existing[r.ID] = r
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load staff: %w", err)
	}
	for _, s := range f.Staff {
		unitID := ids[s.Unit]
		r, ok := existing[s.ID]
		switch {
		case !ok:
			if err := tx.Create(&models.Staff{ID: s.ID, Name: s.Name, UnitID: unitID}).Error; err != nil {
				return fmt.Errorf("staff %q: create: %w", s.ID, err)
			}
			sum.Staff.Created++
		case r.Name != s.Name || r.UnitID != unitID:
			err := tx.Model(&models.Staff{}).Where("id = ?", s.ID).
				Updates(map[string]any{"name": s.Name, "unit_id": unitID}).Error
			if err != nil {
				return fmt.Errorf("staff %q: update: %w", s.ID, err)
			}
			sum.Staff.Updated++
		default:
			sum.Staff.Unchanged++
		}
	}
	return nil
}

type roleKey struct {
	role   string
	unitID int64
}

func applyUsers(tx *gorm.DB, f *File, ids map[string]int64, sum *Summary) error {
	logins := make([]string, len(f.Users))
	for i, u := range f.Users {
		logins[i] = u.Login
	}
	existing := make(map[string]models.User, len(logins))
	err := inChunks(logins, func(part []string) error {
		var rows []models.User
		if err := tx.Where("login IN ?", part).Find(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			existing[r.Login] = r
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load users: %w", err)
	}
	userIDs := make([]int64, 0, len(existing))
	for _, u := range existing {
		userIDs = append(userIDs, u.ID)
	}
	held := make(map[int64][]models.RoleAssignment, len(userIDs))
	err = inChunks(userIDs, func(part []int64) error {
		var rows []models.RoleAssignment
		if err := tx.Where("user_id IN ?", part).Order("id").Find(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			held[r.UserID] = append(held[r.UserID], r)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load role assignments: %w", err)
	}

	for _, u := range f.Users {
		r, ok := existing[u.Login]
		changed := false
		if !ok {
			r = models.User{Login: u.Login, Name: u.Name}
			if err := tx.Create(&r).Error; err != nil {
				return fmt.Errorf("user %q: create: %w", u.Login, err)
			}
			sum.Users.Created++
		} else if r.Name != u.Name {
			if err := tx.Model(&models.User{}).Where("id = ?", r.ID).Update("name", u.Name).Error; err != nil {
				return fmt.Errorf("user %q: update: %w", u.Login, err)
			}
			changed = true
		}

		want := make(map[roleKey]bool, len(u.Roles))
		for _, role := range u.Roles {
			want[roleKey{role.Role, ids[role.Unit]}] = true
		}
		have := map[roleKey]bool{}
		var drop []int64
		for _, a := range held[r.ID] {
			k := roleKey{a.Role, a.UnitID}
			if !want[k] || have[k] {
				drop = append(drop, a.ID)
				continue
			}
			have[k] = true
		}
		if len(drop) > 0 {
			if err := tx.Where("id IN ?", drop).Delete(&models.RoleAssignment{}).Error; err != nil {
				return fmt.Errorf("user %q: remove roles: %w", u.Login, err)
			}
			sum.RolesRemoved += len(drop)
			changed = true
		}
		for _, role := range u.Roles { // in file order, for stable ids
			k := roleKey{role.Role, ids[role.Unit]}
			if have[k] {
				continue
			}
			have[k] = true
			a := models.RoleAssignment{UserID: r.ID, Role: k.role, UnitID: k.unitID}
			if err := tx.Create(&a).Error; err != nil {
				return fmt.Errorf("user %q: role %s on %q: %w", u.Login, role.Role, role.Unit, err)
			}
			sum.RolesAdded++
			changed = true
		}
		switch {
		case !ok:
		case changed:
			sum.Users.Updated++
		default:
			sum.Users.Unchanged++
		}
	}
	return nil
}

func applyPolicies(tx *gorm.DB, f *File, ids map[string]int64, sum *Summary) error {
	unitIDs := make([]int64, len(f.Policies))
	for i, p := range f.Policies {
		unitIDs[i] = ids[p.Unit]
	}
	existing := make(map[int64]models.Policy, len(unitIDs))
	err := inChunks(unitIDs, func(part []int64) error {
		var rows []models.Policy
		if err := tx.Where("unit_id IN ?", part).Find(&rows).Error; err != nil {
			return err
		}
		for _, r := range rows {
			existing[r.UnitID] = r
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("load policies: %w", err)
	}
	for _, p := range f.Policies {
		unitID := ids[p.Unit]
		r, ok := existing[unitID]
		if !ok {
			if err := tx.Create(&models.Policy{UnitID: unitID, Doc: models.NewJSON(p.PolicyDoc)}).Error; err != nil {
				return fmt.Errorf("policy %q: create: %w", p.Unit, err)
			}
			sum.Policies.Created++
			continue
		}
		same, err := sameDoc(r.Doc.V, p.PolicyDoc)
		if err != nil {
			return fmt.Errorf("policy %q: %w", p.Unit, err)
		}
		if same {
			sum.Policies.Unchanged++
			continue
		}
		err = tx.Model(&models.Policy{}).Where("id = ?", r.ID).
			Updates(map[string]any{"doc": models.NewJSON(p.PolicyDoc)}).Error
		if err != nil {
			return fmt.Errorf("policy %q: update: %w", p.Unit, err)
		}
		sum.Policies.Updated++
	}
	return nil
}

// sameDoc compares two policy documents by their canonical JSON.
func sameDoc(a, b models.PolicyDoc) (bool, error) {
	ja, err := json.Marshal(a)
	if err != nil {
		return false, err
	}
	jb, err := json.Marshal(b)
	if err != nil {
		return false, err
	}
	return string(ja) == string(jb), nil
}

// applyIndicators replaces each listed unit's indicator catalogue with the file's (unchanged
// when equal, so a second import changes nothing); units not listed keep theirs.
func applyIndicators(tx *gorm.DB, f *File, ids map[string]int64, sum *Summary) error {
	for _, c := range f.Indicators {
		unitID := ids[c.Unit]
		var have []indicators.Row
		if err := tx.Where("unit_id = ?", unitID).Order("position, id").Find(&have).Error; err != nil {
			return fmt.Errorf("indicators of %q: load: %w", c.Unit, err)
		}
		same := len(have) == len(c.Indicators)
		for i := 0; same && i < len(have); i++ {
			w := c.Indicators[i]
			same = have[i].Code == w.Code && have[i].Name == w.Name && have[i].Kind == w.Kind && have[i].Position == i
		}
		if same {
			sum.Indicators.Unchanged++
			continue
		}
		if err := tx.Where("unit_id = ?", unitID).Delete(&indicators.Row{}).Error; err != nil {
			return fmt.Errorf("indicators of %q: clear: %w", c.Unit, err)
		}
		now := time.Now().UTC()
		rows := make([]indicators.Row, len(c.Indicators))
		for i, ind := range c.Indicators {
			rows[i] = indicators.Row{UnitID: unitID, Code: ind.Code, Name: ind.Name, Kind: ind.Kind, Position: i, CreatedAt: now, UpdatedAt: now}
		}
		if err := tx.Create(&rows).Error; err != nil {
			return fmt.Errorf("indicators of %q: write: %w", c.Unit, err)
		}
		if len(have) == 0 {
			sum.Indicators.Created++
		} else {
			sum.Indicators.Updated++
		}
	}
	return nil
}
