// A rating on its way to the database: the evaluator's key, the evaluation built from the
// request, a theme rating's orders split by unit, and the rows it stores.

package intake

import (
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"sort"
	"time"

	"github.com/google/uuid"

	"redress/models"
)

// evaluatorKey identifies an evaluator for "one first rating per case and evaluator": the
// keyed hash of the ID number, else of the phone; anonymous ratings share one key per case
// (an anonymous evaluator cannot be told from another, so a case takes one anonymous first
// rating — a second would be indistinguishable from stuffing).
func (s *Service) evaluatorKey(p Person) string {
	if p.IDNumber != "" {
		return "id:" + s.PII.Hash("id", p.IDNumber)
	}
	if p.Phone != "" {
		return "phone:" + s.PII.Hash("phone", p.Phone)
	}
	return keyAnonymous
}

// rating is one evaluation on its way to the database: the rows it stores, built from its
// request once the request has passed every check.
type rating struct {
	r       EvaluationRequest
	key     string
	slot    int
	inScope []caseInfo
	e       evalRow
	wo      *models.WorkOrder
	// more are the further orders of a theme rating whose bad items belong to several units
	// (one per unit, place); wo is then the first of them by id and the evaluation's link.
	more     []*models.WorkOrder
	badItems []string
	// orderItems are the bad theme items of each order (by order id), for its opening event.
	orderItems map[string][]string
	flags      []FraudFlag
	// caseLevels are a theme rating's per-case levels (themeCaseLevels).
	caseLevels map[string]map[string]string
}

// newRating builds the rows of a valid request, as a first rating; place and followUp
// complete them once its cases are checked.
func (s *Service) newRating(r EvaluationRequest, reqHash, key string, now time.Time) *rating {
	badItemCodes := badItems(r.Theme)
	isBad := bad(r.Levels) || len(badItemCodes) > 0
	theme := ""
	if r.Theme != nil {
		theme = jsonText(r.Theme)
	}
	ip := r.ClientIP
	if ip == "" {
		ip = r.RequestIP
	}
	rt := &rating{r: r, key: key, badItems: badItemCodes}
	rt.e = evalRow{
		Evaluation: models.Evaluation{
			ID:                 uuid.NewString(),
			EvaluationID:       r.EvaluationID,
			Channel:            r.Channel,
			Overall:            r.Levels["overall"],
			Levels:             models.NewJSON(r.Levels),
			Bad:                isBad,
			Tags:               models.NewJSON(nonNil(r.Tags)),
			Comment:            r.Comment,
			RatedAt:            r.RatedAt.UTC(),
			ReceivedAt:         now,
			EvaluatorName:      s.PII.Seal(r.Evaluator.Name),
			EvaluatorPhone:     s.PII.Seal(r.Evaluator.Phone),
			EvaluatorIDNumber:  s.PII.Seal(r.Evaluator.IDNumber),
			EvaluatorPhoneHash: s.PII.Hash("phone", r.Evaluator.Phone),
			EvaluatorIDHash:    s.PII.Hash("id", r.Evaluator.IDNumber),
			RequestHash:        reqHash,
		},
		Kind:         KindFirst,
		EvaluatorKey: key,
		Theme:        theme,
		DeviceHash:   s.PII.Hash("device", r.DeviceID),
		IPHash:       s.PII.Hash("ip", ip),
		CommentHash:  commentHash(s, r.Comment),
	}
	if isBad {
		id := uuid.NewString()
		rt.e.WorkOrderID = &id
		rt.wo = &models.WorkOrder{
			ID:           id,
			EvaluationID: rt.e.ID,
			WorkflowID:   WorkflowID(id),
			State:        models.StatePendingDispatch,
			CaseNos:      models.NewJSON(r.CaseNos),
			Overall:      rt.e.Overall,
			Levels:       rt.e.Levels,
			Comment:      r.Comment,
			OpenedAt:     now,
			Deadlines:    models.NewJSON([]models.Deadline{}),
			UpdatedAt:    now,
		}
	}
	return rt
}

// place records the rating's checked cases: the first one's unit is the rating's. A theme
// rating's cases take their own item's levels, and its work order those of the bad items.
func (rt *rating) place(inScope []caseInfo) {
	rt.inScope = inScope
	rt.e.UnitPath = inScope[0].Path
	rt.caseLevels = themeCaseLevels(rt.r.Theme, inScope)
	if rt.wo == nil || len(rt.badItems) == 0 {
		return
	}
	// 谁办理、谁负责: the order is about the items rated bad, at their units (ResolveDispatch
	// dispatches by the cases marked bad); it shows their levels, not the theme's.
	// Bad items at two units or more: one order per unit. Bad items of one unit (with or
	// without items that rate no case) keep the one order they always had.
	groups := themeOrderGroups(rt.r.Theme, inScope)
	if units := len(groups) - count(groups, func(g orderGroup) bool { return g.unitPath == "" }); units > 1 {
		rt.split(groups)
		return
	}
	merged := mergeLevels(rt.r.Theme.Items)
	rt.wo.Levels = models.NewJSON(merged)
	rt.wo.Overall = merged["overall"]
}

// orderGroup is what one order of a theme rating covers: the bad items of one unit and the
// cases they rate there.
type orderGroup struct {
	unitPath string // "" for bad items that rate no case of the rating
	caseNos  []string
	items    []ThemeItem
}

// themeOrderGroups groups a theme rating's bad items by the unit of the cases they rate (as
// themeCaseLevels matches them), units in path order; bad items that rate none of the cases
// form a last group with no unit.
func themeOrderGroups(t *Theme, cases []caseInfo) []orderGroup {
	byUnit := map[string]*orderGroup{}
	var order []string
	get := func(path string) *orderGroup {
		g, ok := byUnit[path]
		if !ok {
			g = &orderGroup{unitPath: path}
			byUnit[path] = g
			order = append(order, path)
		}
		return g
	}
	for _, it := range t.Items {
		if !bad(it.Levels) {
			continue
		}
		matched := false
		for _, c := range cases {
			if c.CaseNo != it.CaseNo && (it.CaseNo != "" || c.ItemCode != it.ItemCode) {
				continue
			}
			matched = true
			g := get(c.Path)
			if !slices.Contains(g.caseNos, c.CaseNo) {
				g.caseNos = append(g.caseNos, c.CaseNo)
			}
			if !slices.ContainsFunc(g.items, func(x ThemeItem) bool { return x.ItemCode == it.ItemCode }) {
				g.items = append(g.items, it)
			}
		}
		if !matched {
			g := get("")
			g.items = append(g.items, it)
		}
	}
	out := make([]orderGroup, 0, len(order))
	for _, p := range order {
		g := *byUnit[p]
		sort.Strings(g.caseNos)
		out = append(out, g)
	}
	sort.SliceStable(out, func(i, j int) bool {
		// The group without a unit last, the units by path.
		if (out[i].unitPath == "") != (out[j].unitPath == "") {
			return out[j].unitPath == ""
		}
		return out[i].unitPath < out[j].unitPath
	})
	return out
}

// split makes one order per group in place of the rating's single order: each bad item opens
// (or, with another bad item of the same unit, joins) an order at its own unit, which carries
// only those items' levels and cases, so that ResolveDispatch sends each to its unit and each
// runs its own clocks. Bad items that rate no case get an order over all the rating's cases,
// which ResolveDispatch puts in the administration's queue for manual dispatch.
func (rt *rating) split(groups []orderGroup) {
	tmpl := *rt.wo
	orders := make([]*models.WorkOrder, 0, len(groups))
	rt.orderItems = map[string][]string{}
	for _, g := range groups {
		wo := tmpl
		wo.ID = uuid.NewString()
		wo.WorkflowID = WorkflowID(wo.ID)
		caseNos := g.caseNos
		if g.unitPath == "" {
			caseNos = rt.r.CaseNos
		}
		wo.CaseNos = models.NewJSON(caseNos)
		merged := mergeLevels(g.items)
		wo.Levels = models.NewJSON(merged)
		wo.Overall = merged["overall"]
		codes := make([]string, len(g.items))
		for i, it := range g.items {
			codes[i] = it.ItemCode
		}
		rt.orderItems[wo.ID] = codes
		orders = append(orders, &wo)
	}
	// Sorted by id, so that a retry's answer (existing, which reads them back by id) lists them
	// in the same order and names the same first one.
	sort.Slice(orders, func(i, j int) bool { return orders[i].ID < orders[j].ID })
	rt.wo, rt.more = orders[0], orders[1:]
	rt.e.WorkOrderID = &rt.wo.ID
}

func count[T any](s []T, f func(T) bool) int {
	n := 0
	for _, x := range s {
		if f(x) {
			n++
		}
	}
	return n
}

// mergeLevels is the worst level of each indicator over the bad items among items.
func mergeLevels(items []ThemeItem) map[string]string {
	merged := map[string]string{}
	for _, it := range items {
		if !bad(it.Levels) {
			continue
		}
		for k, v := range it.Levels {
			if worse(v, merged[k]) {
				merged[k] = v
			}
		}
	}
	return merged
}

// orders lists the work orders the rating opens (none for a good rating).
func (rt *rating) orders() []*models.WorkOrder {
	if rt.wo == nil {
		return nil
	}
	return append([]*models.WorkOrder{rt.wo}, rt.more...)
}

// worse reports whether level a is worse than b ("" is better than any level).
func worse(a, b string) bool {
	return b == "" || slices.Index(models.Levels, a) > slices.Index(models.Levels, b)
}

// themeCaseLevels gives each case of a theme rating that a theme item rates (by case_no, else
// by the case's service item) that item's levels; nil for other ratings.
func themeCaseLevels(t *Theme, cases []caseInfo) map[string]map[string]string {
	if t == nil {
		return nil
	}
	out := map[string]map[string]string{}
	for _, it := range t.Items {
		for _, c := range cases {
			if c.CaseNo != it.CaseNo && (it.CaseNo != "" || c.ItemCode != it.ItemCode) {
				continue
			}
			if have, ok := out[c.CaseNo]; ok && !bad(it.Levels) && bad(have) {
				continue // a case rated by two items keeps the bad one
			}
			out[c.CaseNo] = it.Levels
		}
	}
	return out
}

// followUp makes the rating a follow-up (追评) of the first rating firstID, in slot.
func (rt *rating) followUp(firstID string, slot int) {
	rt.e.Kind, rt.e.FollowUpOf, rt.slot = KindFollowUp, &firstID, slot
}

// rows lists what the rating stores, parents first, as store.InsertAll takes them: the
// evaluation, its case links (each with the evaluator's slot), its fraud flags, and a bad
// rating's work order with its opening timeline event.
func (rt *rating) rows() []any {
	r, e := &rt.r, &rt.e
	links := make([]linkRow, len(r.CaseNos))
	for i, c := range r.CaseNos {
		links[i] = linkRow{EvaluationCase: models.EvaluationCase{EvaluationID: e.ID, CaseNo: c}, EvaluatorKey: rt.key, Slot: rt.slot}
		if lv, ok := rt.caseLevels[c]; ok {
			overall, isBad := lv["overall"], bad(lv)
			links[i].Overall, links[i].Bad = &overall, &isBad
		}
	}
	rows := []any{e, &links}
	if len(rt.flags) > 0 {
		rows = append(rows, &rt.flags)
	}
	if rt.wo == nil {
		return rows
	}
	orders := rt.orders()
	wos := make([]models.WorkOrder, len(orders))
	events := make([]models.TimelineEvent, len(orders))
	for i, wo := range orders {
		data := map[string]any{"evaluation_id": r.EvaluationID, "channel": r.Channel, "case_nos": r.CaseNos}
		if r.Theme != nil {
			data["theme"] = r.Theme.Code
			data["bad_theme_items"] = nonNil(rt.badItems)
		}
		if len(orders) > 1 {
			// One of several orders of a theme rating: its own cases and bad items, and its
			// sister orders (each at its own unit).
			data["case_nos"] = wo.CaseNos.V
			data["bad_theme_items"] = nonNil(rt.orderItems[wo.ID])
			var others []string
			for _, o := range orders {
				if o.ID != wo.ID {
					others = append(others, o.ID)
				}
			}
			data["sibling_orders"] = others
		}
		if e.FollowUpOf != nil {
			data["follow_up_of"] = r.FollowUpOf
		}
		wos[i] = *wo
		events[i] = models.TimelineEvent{
			ID: wo.WorkflowID + "/0", WorkOrderID: wo.ID, Seq: 0, At: wo.OpenedAt, Actor: "system", Type: "opened",
			Data: models.NewJSON(data),
		}
	}
	return append(rows, &wos, &events)
}

// stored logs what is worth logging once the rating's rows are committed.
func (rt *rating) stored(ctx context.Context) {
	if len(rt.flags) > 0 {
		// Ids only: identity never reaches a log line.
		slog.InfoContext(ctx, "rating flagged for possible fraud", "evaluation", rt.e.ID, "flags", len(rt.flags))
	}
}

func (rt *rating) result() EvaluationResult {
	res := EvaluationResult{ID: rt.e.ID, Bad: rt.e.Bad, WorkOrderID: rt.e.WorkOrderID}
	for _, wo := range rt.orders() {
		res.WorkOrderIDs = append(res.WorkOrderIDs, wo.ID)
	}
	return res
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
