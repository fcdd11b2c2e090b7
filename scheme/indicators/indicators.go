// Package indicators is the catalogue of rating indicators (评价指标), one of the scheme's rules
// (package scheme, its parent, holds the others): each has a code, a Chinese name and a kind — overall
// (总体评价), staff (a person's attitude or conduct), process (efficiency, procedure,
// materials, convenience) or platform (a website's or app's usability).
// The kind decides what an appeal can touch (only staff indicators, Shenzhen art. 22) and where
// a rating of the platform alone goes (the unit that runs it).
//
// A jurisdiction may keep its own catalogue (organisation file, "indicators"); like a policy,
// the nearest unit on a path that has one wins, and units without one use Default. A rating
// naming an indicator outside its catalogue is refused (unknown_indicator). The catalogues are
// read from the database by package indicatorsdb; this package imports no storage.
package indicators

import (
	"sort"
	"strings"
	"time"
)

// The kinds of indicator.
const (
	KindOverall  = "overall"
	KindStaff    = "staff"
	KindProcess  = "process"
	KindPlatform = "platform"
)

// Kinds lists the kinds in the order a catalogue shows them.
var Kinds = []string{KindOverall, KindStaff, KindProcess, KindPlatform}

// IsKind reports whether k is one of Kinds.
func IsKind(k string) bool {
	for _, x := range Kinds {
		if x == k {
			return true
		}
	}
	return false
}

// Overall is the code of the required overall rating.
const Overall = "overall"

// Indicator is one entry of a catalogue.
type Indicator struct {
	Code string `json:"code"`
	Name string `json:"name"`
	Kind string `json:"kind"`
}

// Default is the catalogue of units whose jurisdiction keeps none: the national scheme's
// dimensions, plus the free names ratings used before indicators were a catalogue (staff,
// service_attitude, platform_usability, usability, system, environment, speed, business,
// service), so that channels sending them keep working and stored ratings keep their meaning.
var Default = Catalogue{list: []Indicator{
	{Overall, "总体评价", KindOverall},
	{"attitude", "服务态度", KindStaff},
	{"conduct", "工作作风", KindStaff},
	{"efficiency", "办事效率", KindProcess},
	{"procedure", "办事流程", KindProcess},
	{"materials", "申请材料", KindProcess},
	{"convenience", "便利程度", KindProcess},
	{"platform", "平台易用性", KindPlatform},
	// Names in use before the catalogue.
	{"staff", "工作人员", KindStaff},
	{"service_attitude", "服务态度", KindStaff},
	{"environment", "服务环境", KindProcess},
	{"speed", "办理速度", KindProcess},
	{"business", "业务评价", KindProcess},
	{"service", "服务评价", KindProcess},
	{"platform_usability", "平台易用性", KindPlatform},
	{"usability", "易用性", KindPlatform},
	{"system", "系统运行", KindPlatform},
}}

// Offered are the default catalogue's indicators a rating form offers besides the overall
// level (the older names stay accepted, not offered).
var Offered = []string{"attitude", "conduct", "efficiency", "procedure", "materials", "convenience", "platform"}

// Catalogue is the indicators that apply to a unit.
type Catalogue struct {
	// Unit is the code of the unit whose catalogue this is ("" for Default).
	Unit string
	list []Indicator
}

// New makes a catalogue of list for unit; the overall indicator is added when missing (every
// rating has one).
func New(unit string, list []Indicator) Catalogue {
	c := Catalogue{Unit: unit}
	has := false
	for _, i := range list {
		if i.Code == Overall {
			has = true
		}
	}
	if !has {
		c.list = append(c.list, Default.list[0])
	}
	c.list = append(c.list, list...)
	return c
}

// List is the catalogue's indicators in order.
func (c Catalogue) List() []Indicator { return append([]Indicator(nil), c.list...) }

// Get finds an indicator by code.
func (c Catalogue) Get(code string) (Indicator, bool) {
	for _, i := range c.list {
		if i.Code == code {
			return i, true
		}
	}
	return Indicator{}, false
}

// KindsOf answers the kind of each named code that the catalogue knows.
func (c Catalogue) KindsOf(codes []string) map[string]string {
	out := make(map[string]string, len(codes))
	for _, k := range codes {
		if i, ok := c.Get(k); ok {
			out[k] = i.Kind
		}
	}
	return out
}

// Offered is what a rating form offers besides the overall level: the jurisdiction's own
// list, or the default's current names.
func (c Catalogue) Offered() []Indicator {
	if c.Unit == "" {
		out := make([]Indicator, 0, len(Offered))
		for _, code := range Offered {
			i, _ := c.Get(code)
			out = append(out, i)
		}
		return out
	}
	var out []Indicator
	for _, i := range c.list {
		if i.Code != Overall {
			out = append(out, i)
		}
	}
	return out
}

// DefaultKind is the kind of an indicator by the default catalogue; unknown names read as
// process (neither appealable nor routed to the platform), as free names did before.
func DefaultKind(code string) string {
	if i, ok := Default.Get(code); ok {
		return i.Kind
	}
	return KindProcess
}

// Row is an indicators table row.
type Row struct {
	ID        int64 `gorm:"primaryKey"`
	UnitID    int64
	Code      string
	Name      string
	Kind      string
	Position  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName names the table.
func (Row) TableName() string { return "indicators" }

// Nearest answers the catalogue of the nearest unit on path that has one of its own, else
// Default; all holds each unit's own catalogue keyed by the unit's path.
func Nearest(all map[string]Catalogue, path string) Catalogue {
	best, bestLen := Default, -1
	for p, c := range all {
		if strings.HasPrefix(path, p) && len(p) > bestLen {
			best, bestLen = c, len(p)
		}
	}
	return best
}

// Sorted returns codes sorted (for stable error messages and timelines).
func Sorted(codes []string) []string {
	out := append([]string(nil), codes...)
	sort.Strings(out)
	return out
}
