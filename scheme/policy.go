package scheme

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"redress/models"
)

// Policy is the part of the nearest policy a work order needs, defaults filled in. It is the
// result of the LoadPolicy activity, recorded in workflow histories: its JSON shape stays.
type Policy struct {
	Unit        string                   `json:"unit"` // code of the unit whose policy applies ("" = defaults)
	Deadlines   map[string]models.Budget `json:"deadlines"`
	RemindShare float64                  `json:"remind_share"` // remind when this share of the budget is left
	ReopenLimit int                      `json:"reopen_limit"`
	// ReopenWindow is how long after closing an order may be reopened (nil in policies loaded
	// before the window was policy: 30 natural days).
	ReopenWindow *models.Budget `json:"reopen_window,omitempty"`
}

// PolicyOnPath is a policy set on a unit, as read for a path (store.EffectivePolicy).
type PolicyOnPath struct {
	Code string // the unit's code
	Path string // the unit's path
	Doc  models.PolicyDoc
}

// ResolvePolicy is the effective policy of the unit at unitPath, given the policies set on
// units (any order; those not on the path are ignored): the nearest unit's policy wins, each
// stage or setting it leaves out is taken from the next policy up, then from the national
// defaults. A remind_before that does not parse is as if left out.
func ResolvePolicy(unitPath string, found []PolicyOnPath) Policy {
	rows := append([]PolicyOnPath(nil), found...)
	// Nearest first: the longest path is the deepest unit.
	sort.Slice(rows, func(i, j int) bool { return len(rows[i].Path) > len(rows[j].Path) })
	p := Policy{Deadlines: map[string]models.Budget{}, RemindShare: -1, ReopenLimit: -1}
	for _, r := range rows {
		if !strings.HasPrefix(unitPath, r.Path) {
			continue
		}
		if p.Unit == "" {
			p.Unit = r.Code
		}
		for name, b := range r.Doc.Deadlines {
			if _, set := p.Deadlines[name]; !set {
				p.Deadlines[name] = b
			}
		}
		if p.RemindShare < 0 && r.Doc.RemindBefore != "" {
			if f, err := parsePercent(r.Doc.RemindBefore); err == nil {
				p.RemindShare = f
			}
		}
		if p.ReopenLimit < 0 && r.Doc.ReopenLimit != nil {
			p.ReopenLimit = *r.Doc.ReopenLimit
		}
		if p.ReopenWindow == nil && r.Doc.ReopenWindow != nil {
			rw := *r.Doc.ReopenWindow
			p.ReopenWindow = &rw
		}
	}
	for name, b := range DefaultBudgets {
		if _, set := p.Deadlines[name]; !set {
			p.Deadlines[name] = b
		}
	}
	if p.RemindShare < 0 {
		p.RemindShare = DefaultRemindShare
	}
	if p.ReopenLimit < 0 {
		p.ReopenLimit = DefaultReopenLimit
	}
	if p.ReopenWindow == nil {
		rw := DefaultReopenWindow
		p.ReopenWindow = &rw
	}
	return p
}

// parsePercent reads a stored policy's percentage ("25%", "25") as a share (0.25), 0 to 100 %.
// It is more lenient than the validation of new policies (orgfile.ParsePercent): policies
// stored before that validation keep the reminder they had.
func parsePercent(s string) (float64, error) {
	f, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || f < 0 || f > 100 {
		return 0, fmt.Errorf("bad percentage %q", s)
	}
	return f / 100, nil
}

// PathCodes lists the unit codes of a path, root first ("/gd/sz/" → gd, sz): the units whose
// policies ResolvePolicy weighs.
func PathCodes(unitPath string) []string {
	return strings.Split(strings.Trim(unitPath, "/"), "/")
}
