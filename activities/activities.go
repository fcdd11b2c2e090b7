package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"redress/calendar"
	"redress/models"
	"redress/notify"
	"redress/scheme/indicators"
	"redress/scheme/indicators/indicatorsdb"
	"redress/store"
)

// Activities holds what the work-order activities need.
type Activities struct {
	DB        *store.DB
	Calendars CalendarSource
}

// CalendarSource gives the working-day calendar that applies to a unit (a *calendardb.Cache in
// the worker).
type CalendarSource interface {
	Calendar(ctx context.Context, unitPath string) (*calendar.Calendar, error)
}

// ResolveDispatch decides the responsible unit of a work order from the cases its evaluation
// rates: one handling unit → that unit (and the staff member, if there is exactly one);
// several units or none → the nearest administration above them, for manual dispatch.
func (a *Activities) ResolveDispatch(ctx context.Context, workOrderID string) (Dispatch, error) {
	var all []struct {
		CaseNo  string
		CaseNos models.JSON[[]string]
		UnitID  int64
		StaffID *string
		Bad     *bool
	}
	err := a.DB.WithContext(ctx).Table("work_orders").
		Select("evaluation_cases.case_no, work_orders.case_nos, service_cases.unit_id, service_cases.staff_id, evaluation_cases.bad").
		Joins("JOIN evaluation_cases ON evaluation_cases.evaluation_id = work_orders.evaluation_id").
		Joins("JOIN service_cases ON service_cases.case_no = evaluation_cases.case_no").
		Where("work_orders.id = ?", workOrderID).Scan(&all).Error
	if err != nil {
		return Dispatch{}, fmt.Errorf("resolve dispatch %s: %w", workOrderID, err)
	}
	// An order covers the cases it names: all of its rating's, except for one of the orders of
	// a theme rating split by unit (intake), which names the cases of its own unit's bad items.
	var rows []struct {
		UnitID  int64
		StaffID *string
		Bad     *bool
	}
	for _, r := range all {
		if slices.Contains(r.CaseNos.V, r.CaseNo) {
			rows = append(rows, struct {
				UnitID  int64
				StaffID *string
				Bad     *bool
			}{r.UnitID, r.StaffID, r.Bad})
		}
	}
	// A theme-service rating charges each case its own item's levels (谁办理、谁负责): the order
	// goes to the units of the items rated bad, not to every unit of the theme. Other ratings
	// carry no per-case levels and keep all their cases.
	var badCases []struct {
		UnitID  int64
		StaffID *string
		Bad     *bool
	}
	for _, r := range rows {
		if r.Bad != nil && *r.Bad {
			badCases = append(badCases, r)
		}
	}
	if len(badCases) > 0 {
		rows = badCases
	}
	units := map[int64]bool{}
	staff := map[string]bool{}
	var ids []int64
	for _, r := range rows {
		if !units[r.UnitID] {
			units[r.UnitID] = true
			ids = append(ids, r.UnitID)
		}
		if r.StaffID != nil {
			staff[*r.StaffID] = true
		}
	}
	var found []models.Unit
	if len(ids) > 0 {
		if err := a.DB.WithContext(ctx).Where("id IN ?", ids).Find(&found).Error; err != nil {
			return Dispatch{}, fmt.Errorf("resolve dispatch %s: units: %w", workOrderID, err)
		}
	}
	// The order's levels: the rating's, or for a theme rating those of its bad items.
	var ev struct {
		Levels             models.JSON[map[string]string]
		EvaluatorPhoneHash string
		EvaluatorIDHash    string
	}
	if err := a.DB.WithContext(ctx).Table("evaluations").Select("work_orders.levels, evaluations.evaluator_phone_hash, evaluations.evaluator_id_hash").
		Joins("JOIN work_orders ON work_orders.evaluation_id = evaluations.id").
		Where("work_orders.id = ?", workOrderID).Take(&ev).Error; err != nil {
		return Dispatch{}, fmt.Errorf("resolve dispatch %s: evaluation: %w", workOrderID, err)
	}
	d := Dispatch{Levels: ev.Levels.V, RealName: ev.EvaluatorPhoneHash != "" || ev.EvaluatorIDHash != ""}
	paths := make([]string, 0, len(found))
	for _, u := range found {
		paths = append(paths, u.Path)
	}
	// The kinds of its indicators, by the catalogue of the cases' jurisdiction.
	cat, err := indicatorsdb.ForPath(ctx, a.DB, commonPrefix(paths))
	if err != nil {
		return Dispatch{}, fmt.Errorf("resolve dispatch %s: %w", workOrderID, err)
	}
	d.Kinds = make(map[string]string, len(d.Levels))
	for k := range d.Levels {
		if i, ok := cat.Get(k); ok {
			d.Kinds[k] = i.Kind
		} else {
			d.Kinds[k] = indicators.DefaultKind(k)
		}
	}
	admin, err := a.nearestAdministration(ctx, commonPrefix(paths))
	if err != nil {
		return Dispatch{}, fmt.Errorf("resolve dispatch %s: %w", workOrderID, err)
	}
	d.Admin = admin
	if len(found) > 0 && platformOnly(d.Levels, d.Kinds) {
		// A rating of the platform, not of the handling: the unit that runs the platform of the
		// case's jurisdiction answers for it.
		p, ok, err := a.platformUnit(ctx, commonPrefix(paths))
		if err != nil {
			return Dispatch{}, fmt.Errorf("resolve dispatch %s: %w", workOrderID, err)
		}
		if ok {
			d.Unit, d.Reason = &p, "platform"
			return d, nil
		}
	}
	switch len(found) {
	case 1:
		u := ref(found[0])
		d.Unit = &u
		if len(staff) == 1 {
			for s := range staff {
				d.StaffID = &s
			}
		}
		d.Reason = "handling_unit"
	case 0:
		d.Reason = "unknown_unit"
	default:
		d.Reason = "several_units"
	}
	return d, nil
}

// nearestAdministration returns the deepest unit of kind administration on the path, or the
// root when there is none.
func (a *Activities) nearestAdministration(ctx context.Context, path string) (UnitRef, error) {
	var cands []models.Unit
	q := a.DB.WithContext(ctx).Where("kind = ?", "administration")
	if err := q.Find(&cands).Error; err != nil {
		return UnitRef{}, err
	}
	var best *models.Unit
	for i := range cands {
		if strings.HasPrefix(path, cands[i].Path) && (best == nil || len(cands[i].Path) > len(best.Path)) {
			best = &cands[i]
		}
	}
	if best == nil {
		var root models.Unit
		if err := a.DB.WithContext(ctx).Where("parent_id IS NULL").Order("id").First(&root).Error; err != nil {
			return UnitRef{}, fmt.Errorf("no administration and no root unit: %w", err)
		}
		best = &root
	}
	return ref(*best), nil
}

// ResolveUnit looks a unit up by code (for dispatch, rulings and reassignment).
func (a *Activities) ResolveUnit(ctx context.Context, code string) (UnitRef, error) {
	var u models.Unit
	err := a.DB.WithContext(ctx).Where("code = ?", code).First(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return UnitRef{}, temporal.NewNonRetryableApplicationError("unit "+code+" not found", ErrUnknownUnit, nil)
	}
	if err != nil {
		return UnitRef{}, fmt.Errorf("resolve unit %s: %w", code, err)
	}
	return ref(u), nil
}

// RecordEvent appends the event to the timeline, applies its change to the read-model and puts
// the notifications it causes in the outbox, in one transaction. An event is keyed by workflow,
// run and sequence number: the same event written again (a retried or replayed activity)
// changes nothing, a different event under the same key is refused (ErrEventConflict), and an
// event of a run that an operator's reset started supersedes the old run's events from its
// sequence number on (they stay for the record) and moves the read-model back to it.
func (a *Activities) RecordEvent(ctx context.Context, ev Event) error {
	return a.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		data := ev.Data
		if data == nil {
			data = map[string]any{}
		}
		id := fmt.Sprintf("%s/%d", ev.WorkflowID, ev.Seq)
		if ev.RunID != "" {
			id = fmt.Sprintf("%s/%s/%d", ev.WorkflowID, ev.RunID, ev.Seq)
		}
		hash, err := eventHash(ev)
		if err != nil {
			return fmt.Errorf("record event %s: %w", id, err)
		}
		te := models.TimelineEvent{
			ID: id, WorkOrderID: ev.WorkOrderID, Seq: ev.Seq,
			At: ev.At.UTC(), Actor: ev.Actor, Type: ev.Type, Data: models.NewJSON(data),
			RunID: ev.RunID, ContentHash: hash,
		}
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&te)
		if res.Error != nil {
			return fmt.Errorf("record event %s: timeline: %w", te.ID, res.Error)
		}
		if res.RowsAffected == 0 {
			var prev []string
			if err := tx.Table("timeline_events").Where("id = ?", id).Pluck("content_hash", &prev).Error; err != nil {
				return fmt.Errorf("record event %s: timeline: %w", id, err)
			}
			if len(prev) == 1 && prev[0] != "" && prev[0] != hash {
				slog.Error("timeline: a different event under an existing key", "event", id, "type", ev.Type)
				return temporal.NewNonRetryableApplicationError(
					fmt.Sprintf("event %s: a different event is already recorded under this key", id), ErrEventConflict, nil)
			}
		}
		if res.RowsAffected == 1 && len(ev.Notify) > 0 {
			// Only with the event's first write: the outbox keys would absorb a repeat anyway,
			// but a repeated tracking link must not be minted at all.
			if err := notify.Enqueue(tx, ev.WorkOrderID, te.ID, ev.At, ev.Notify); err != nil {
				return fmt.Errorf("record event %s: %w", te.ID, err)
			}
		}
		reset := false
		if ev.RunID != "" {
			// Events of another run at or past this number belong to a run an operator reset
			// (continue-as-new numbers on, so it never meets its own earlier runs here).
			r := tx.Table("timeline_events").
				Where("work_order_id = ? AND seq >= ? AND run_id <> ? AND NOT superseded AND type NOT IN ?", ev.WorkOrderID, ev.Seq, ev.RunID, models.OutsideWorkflowEvents).
				Update("superseded", true)
			if r.Error != nil {
				return fmt.Errorf("record event %s: supersede: %w", te.ID, r.Error)
			}
			reset = r.RowsAffected > 0
		}
		upd := map[string]any{"version": ev.Seq, "state": ev.Row.State, "updated_at": ev.At.UTC()}
		if ev.Row.Disposition != nil {
			upd["disposition"] = *ev.Row.Disposition
		}
		if ev.Row.Unit != nil {
			upd["unit_id"] = ev.Row.Unit.ID
			upd["unit_path"] = ev.Row.Unit.Path
		}
		if ev.Row.StaffID != nil {
			upd["staff_id"] = *ev.Row.StaffID
		} else if ev.Row.ClearStaff {
			upd["staff_id"] = gorm.Expr("NULL")
		}
		if ev.Row.DispatchedAt != nil {
			upd["dispatched_at"] = ev.Row.DispatchedAt.UTC()
		}
		if ev.Row.SupervisionLevel != nil {
			upd["supervision_level"] = *ev.Row.SupervisionLevel
		}
		if ev.Row.DeadlinesSet {
			upd["deadlines"] = models.NewJSON(ev.Row.Deadlines)
			if ev.Row.NextDueAt != nil {
				upd["next_due_at"] = ev.Row.NextDueAt.UTC()
			} else {
				upd["next_due_at"] = gorm.Expr("NULL")
			}
		}
		if ev.Row.OverdueDays != nil {
			upd["overdue_days"] = *ev.Row.OverdueDays
		}
		q := tx.Table("work_orders").Where("id = ? AND version < ?", ev.WorkOrderID, ev.Seq)
		if reset {
			q = tx.Table("work_orders").Where("id = ?", ev.WorkOrderID)
		}
		if err := q.Updates(upd).Error; err != nil {
			return fmt.Errorf("record event %s: read-model: %w", te.ID, err)
		}
		return nil
	})
}

// eventHash fingerprints what an event says (not its notifications' delivery).
func eventHash(ev Event) (string, error) {
	// What makes an event a different one: its number, who acted and what happened. Not its
	// time, nor data derived from the time (due dates, alarm instants): a workflow task retried
	// after a worker crash runs the same handler again with a later workflow.Now(), and that
	// is the same event, not a conflict.
	b, err := json.Marshal(struct {
		Seq   int    `json:"seq"`
		Actor string `json:"actor"`
		Type  string `json:"type"`
	}{ev.Seq, ev.Actor, ev.Type})
	if err != nil {
		return "", fmt.Errorf("event hash: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// MarkStarted notes that a work order's workflow exists (the workflow's first act), so the
// reconciler leaves it alone even if the starter died before noting it.
func (a *Activities) MarkStarted(ctx context.Context, workOrderID string) error {
	return store.MarkWorkflowStarted(ctx, a.DB, workOrderID)
}

func ref(u models.Unit) UnitRef { return UnitRef{ID: u.ID, Code: u.Code, Name: u.Name, Path: u.Path} }

// commonPrefix is the deepest unit path shared by all paths ("" for none).
func commonPrefix(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	p := paths[0]
	for _, q := range paths[1:] {
		for !strings.HasPrefix(q, p) {
			i := strings.LastIndex(strings.TrimSuffix(p, "/"), "/")
			if i < 0 {
				return ""
			}
			p = p[:i+1]
		}
	}
	return p
}

// ExcludeRating marks a work order's cases of its rating as not adopted (upheld appeal), once.
// The appeal was decided on this order, so it reaches only this order's own cases: a
// theme-service rating split into one order per unit keeps the other units' cases counted
// (issue 15). The rating as a whole is marked excluded only once none of its cases is left
// counted — a rating with one order, as every rating had before the split. excluded_at marks
// the rating's day for the statistics rollup either way.
func (a *Activities) ExcludeRating(ctx context.Context, workOrderID string) error {
	err := a.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		evalID, cases, err := orderCases(tx, workOrderID)
		if err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE evaluation_cases SET excluded = ? WHERE NOT excluded AND evaluation_id = ? AND case_no IN ?`,
			true, evalID, cases).Error; err != nil {
			return fmt.Errorf("cases: %w", err)
		}
		return tx.Exec(`UPDATE evaluations
		                    SET excluded = NOT EXISTS (SELECT 1 FROM evaluation_cases c WHERE c.evaluation_id = evaluations.id AND NOT c.excluded),
		                        excluded_at = ?
		                  WHERE NOT excluded AND id = ?`, time.Now().UTC(), evalID).Error
	})
	if err != nil {
		return fmt.Errorf("exclude rating of %s: %w", workOrderID, err)
	}
	return nil
}

// orderCases reads the rating of a work order and the cases the order answers for: its
// case_nos, less the cases another order of the same rating answers for (an order for a
// theme item that rates no case lists all the rating's cases, and the units' own orders hold
// theirs) and less the cases the rating found good (a theme item rated well is its unit's,
// not the appealed order's). A rating with one order and no per-case levels: all its cases.
func orderCases(tx *gorm.DB, workOrderID string) (string, []string, error) {
	var wo models.WorkOrder
	if err := tx.Select("evaluation_id", "case_nos").Take(&wo, "id = ?", workOrderID).Error; err != nil {
		return "", nil, fmt.Errorf("order: %w", err)
	}
	var siblings []models.WorkOrder
	if err := tx.Select("id", "case_nos").Where("evaluation_id = ? AND id <> ?", wo.EvaluationID, workOrderID).Find(&siblings).Error; err != nil {
		return "", nil, fmt.Errorf("sibling orders: %w", err)
	}
	var good []string
	if err := tx.Model(&models.EvaluationCase{}).Where("evaluation_id = ? AND bad IS NOT NULL AND NOT bad", wo.EvaluationID).
		Pluck("case_no", &good).Error; err != nil {
		return "", nil, fmt.Errorf("cases rated good: %w", err)
	}
	other := map[string]bool{}
	for _, c := range good {
		other[c] = true
	}
	for _, o := range siblings {
		for _, c := range o.CaseNos.V {
			other[c] = true
		}
	}
	var own []string
	for _, c := range wo.CaseNos.V {
		if !other[c] {
			own = append(own, c)
		}
	}
	if len(own) == 0 {
		// Nothing of the rating's is this order's alone: the appeal excludes no case.
		own = []string{}
	}
	return wo.EvaluationID, own, nil
}

// platformOnly reports whether every bad indicator of a rating (overall aside) is of kind
// platform: a rating of the online platform itself, not of the handling unit or its staff.
func platformOnly(levels, kinds map[string]string) bool {
	n := 0
	for k, v := range levels {
		if kinds[k] == indicators.KindOverall || !models.IsBadLevel(v) {
			continue
		}
		if kinds[k] != indicators.KindPlatform {
			return false
		}
		n++
	}
	return n > 0
}

// ExcludeIndicators records that an upheld appeal does not adopt the named (staff) indicators
// of a work order's cases while their process or platform complaints stay counted: nothing is
// excluded as a whole. Like ExcludeRating it reaches only the order's own cases; the rating's
// own excluded_indicators (what the rating shows) is set once every case of the rating carries
// the exclusion. excluded_at marks the day for the statistics rollup.
func (a *Activities) ExcludeIndicators(ctx context.Context, in Exclusion) error {
	list := models.NewJSON(indicators.Sorted(in.Indicators))
	err := a.DB.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		evalID, cases, err := orderCases(tx, in.WorkOrderID)
		if err != nil {
			return err
		}
		if err := tx.Exec(`UPDATE evaluation_cases SET excluded_indicators = ? WHERE NOT excluded AND evaluation_id = ? AND case_no IN ?`,
			list, evalID, cases).Error; err != nil {
			return fmt.Errorf("cases: %w", err)
		}
		if err := tx.Exec(`UPDATE evaluations SET excluded_at = ? WHERE NOT excluded AND id = ?`, time.Now().UTC(), evalID).Error; err != nil {
			return fmt.Errorf("rating: %w", err)
		}
		return tx.Exec(`UPDATE evaluations SET excluded_indicators = ?
		                 WHERE NOT excluded AND id = ?
		                   AND NOT EXISTS (SELECT 1 FROM evaluation_cases c WHERE c.evaluation_id = evaluations.id AND c.excluded_indicators = '[]' AND NOT c.excluded)`,
			list, evalID).Error
	})
	if err != nil {
		return fmt.Errorf("exclude indicators of %s: %w", in.WorkOrderID, err)
	}
	return nil
}

// platformUnit finds the unit of kind platform that serves a unit path: the deepest one whose
// parent is on the path (a city's platform serves the city's whole subtree).
func (a *Activities) platformUnit(ctx context.Context, path string) (UnitRef, bool, error) {
	var cands []models.Unit
	if err := a.DB.WithContext(ctx).Where("kind = ?", "platform").Find(&cands).Error; err != nil {
		return UnitRef{}, false, fmt.Errorf("platform units: %w", err)
	}
	var best *models.Unit
	for i := range cands {
		c := &cands[i]
		if strings.HasPrefix(path, c.Path) {
			best = c // the case was handled by the platform unit itself
			break
		}
		parent := c.Path[:strings.LastIndex(strings.TrimSuffix(c.Path, "/"), "/")+1]
		if strings.HasPrefix(path, parent) && (best == nil || len(c.Path) > len(best.Path)) {
			best = c
		}
	}
	if best == nil {
		return UnitRef{}, false, nil
	}
	return ref(*best), true, nil
}
