package scheme

import (
	"maps"
	"reflect"
	"slices"
	"strings"

	"redress/models"
)

// Grant is a role held on a unit, as the API passes it with an action.
type Grant struct {
	Role     string `json:"role"`
	UnitPath string `json:"unit_path"`
}

// Caller is who asks for an action.
type Caller struct {
	Login  string  `json:"login"`
	Grants []Grant `json:"grants"`
}

// ActionRequest is the argument of the work-order workflow's "action" update: the action of
// API.md's table with its fields (only those the action uses are read). It is recorded in
// workflow histories: its JSON shape stays.
type ActionRequest struct {
	Action string `json:"action"`
	Caller Caller `json:"caller"`

	ToUnit string `json:"to_unit,omitempty"`
	// ToUnitPath is the path of ToUnit, resolved by the API before it sends the action, so
	// that the validator can refuse a target outside the caller's reach synchronously. Old
	// histories carry no path: their actions were judged by the rules of their day.
	ToUnitPath    string `json:"to_unit_path,omitempty"`
	Reason        string `json:"reason,omitempty"`
	Accept        *bool  `json:"accept,omitempty"`
	Reached       *bool  `json:"reached,omitempty"`
	Method        string `json:"method,omitempty"`
	Note          string `json:"note,omitempty"`
	True          *bool  `json:"true,omitempty"`
	Reasonable    *bool  `json:"reasonable,omitempty"`
	Disposition   string `json:"disposition,omitempty"`
	Measures      string `json:"measures,omitempty"`
	Plan          string `json:"plan,omitempty"`
	CommittedDate string `json:"committed_date,omitempty"`
	Explanation   string `json:"explanation,omitempty"`
	AppealReason  string `json:"appeal_reason,omitempty"`
	Evidence      string `json:"evidence,omitempty"`
	Days          *int   `json:"days,omitempty"`
	Approve       *bool  `json:"approve,omitempty"`
	Upheld        *bool  `json:"upheld,omitempty"`
	Satisfaction  string `json:"satisfaction,omitempty"`
	Comment       string `json:"comment,omitempty"`
}

// Field types of the actions table.
const (
	FieldText    = "text"    // free text, at most MaxLength characters
	FieldBoolean = "boolean" // true or false
	FieldEnum    = "enum"    // one of Enum
	FieldInteger = "integer" // Min to Max
	FieldDate    = "date"    // YYYY-MM-DD
	FieldUnit    = "unit"    // a unit code: the target the order is sent to
)

// MaxTextLength is the longest free text an action takes, in characters: enough for a full
// account of a rectification, short enough that one order's timeline stays readable and a
// forged body cannot bloat the history (every action is stored in the workflow's history).
const MaxTextLength = 2000

// Cond makes a field apply only when another field has a value ("accept" = "true",
// "disposition" = "ledger").
type Cond struct {
	Field string `json:"field"`
	Value string `json:"value"`
}

// Field is one input of an action.
type Field struct {
	Name  string `json:"name"`
	Type  string `json:"type"`
	Label string `json:"label"` // zh-CN, as the UI's form shows it
	// Required: the action is refused without the field (when When holds).
	Required bool     `json:"required"`
	Enum     []string `json:"enum,omitempty"`
	// EnumLabels names each value of Enum in zh-CN.
	EnumLabels map[string]string `json:"enum_labels,omitempty"`
	MaxLength  int               `json:"max_length,omitempty"`
	Min        int               `json:"min,omitempty"`
	Max        int               `json:"max,omitempty"`
	// When: the field belongs to the action only under this condition.
	When *Cond `json:"when,omitempty"`
	// Code is the error code of a value outside Enum, Min..Max or the date format.
	Code string `json:"-"`
}

// Transition is where an accepted action takes the order; When and Roles narrow it (e.g. a
// disposition, or who disposes an appeal). To "" means the state stays.
type Transition struct {
	When  *Cond    `json:"when,omitempty"`
	Roles []string `json:"roles,omitempty"`
	To    string   `json:"to"`
	Note  string   `json:"note,omitempty"`
}

// ActionSpec is one row of the actions table: who may take the action, from which states,
// with which fields, and where it leads. The validators, allowed_actions, the served table
// (GET /api/v1/actions, from which the UI builds its forms) and the OpenAPI document's
// Action schema all read this table, so adding an action is one entry here (plus its effect
// in the work-order workflow, package workflows).
type ActionSpec struct {
	Name  string `json:"name"`
	Label string `json:"label"`
	// Roles may take the action; unit roles (officer, unit leader) on the order's unit, the
	// others on a unit whose subtree holds it (GrantCovers).
	Roles  []string `json:"roles"`
	From   []string `json:"from"`
	Fields []Field  `json:"fields"`
	// Targets: the action names a unit (to_unit) that must lie within the reach of the
	// caller's grants of Roles.
	Targets     bool         `json:"targets"`
	Transitions []Transition `json:"transitions"`
	// NeedsDraft: allowed only while the order holds an officer's draft appeal.
	NeedsDraft bool `json:"-"`
}

var (
	unitStaff    = []string{models.RoleOfficer, models.RoleUnitLeader}
	adminOnly    = []string{models.RoleAdministrator}
	openStates   = []string{models.StatePendingDispatch, models.StateDispatched, models.StateReturned, models.StateSigned, models.StateCalledBack, models.StateRectifying, models.StateAppealing, models.StateReviewing, models.StateFeedback}
	beforeReview = []string{models.StatePendingDispatch, models.StateDispatched, models.StateReturned, models.StateSigned, models.StateCalledBack, models.StateRectifying, models.StateAppealing}
)

func text(name, label string, required bool) Field {
	return Field{Name: name, Type: FieldText, Label: label, Required: required, MaxLength: MaxTextLength}
}

func boolean(name, label string) Field {
	return Field{Name: name, Type: FieldBoolean, Label: label, Required: true}
}

func when(f Field, field, value string) Field {
	f.When = &Cond{Field: field, Value: value}
	return f
}

func toUnit(required bool) Field {
	return Field{Name: "to_unit", Type: FieldUnit, Label: "目标单位", Required: required, MaxLength: 64}
}

func to(state string) []Transition { return []Transition{{To: state}} }

// dispositionField is dispose's choice of disposition.
var dispositionField = Field{Name: "disposition", Type: FieldEnum, Label: "处置方式", Required: true,
	Enum:       []string{"rectify_now", "ledger", "explain", "appeal"},
	EnumLabels: map[string]string{"rectify_now": "立行立改", "ledger": "建立台账、限期整改", "explain": "解释说明", "appeal": "申诉"},
	Code:       "invalid_disposition"}

var appealReasonField = Field{Name: "appeal_reason", Type: FieldEnum, Label: "申诉理由", Required: true,
	Enum: []string{"mistaken", "malicious"}, EnumLabels: map[string]string{"mistaken": "误评", "malicious": "恶意差评"},
	Code: "invalid_appeal_reason"}

// actionTable is API.md's actions table, in its order.
var actionTable = []ActionSpec{
	{Name: "dispatch", Label: "派单", Roles: adminOnly, From: []string{models.StatePendingDispatch}, Targets: true,
		Fields: []Field{toUnit(true)}, Transitions: to(models.StateDispatched)},
	{Name: "sign", Label: "签收", Roles: unitStaff, From: []string{models.StateDispatched}, Transitions: to(models.StateSigned)},
	{Name: "return", Label: "退单", Roles: unitStaff, From: []string{models.StateDispatched},
		Fields: []Field{text("reason", "退单理由", true)}, Transitions: to(models.StateReturned)},
	{Name: "rule_return", Label: "裁定退单", Roles: adminOnly, From: []string{models.StateReturned}, Targets: true,
		Fields: []Field{boolean("accept", "同意退单"), when(toUnit(true), "accept", "true"), text("reason", "裁定理由", true)},
		Transitions: []Transition{{When: &Cond{"accept", "true"}, To: models.StateDispatched, Note: "改派至目标单位"},
			{When: &Cond{"accept", "false"}, To: models.StateDispatched, Note: "原单位继续办理"}}},
	{Name: "callback", Label: "回访", Roles: unitStaff, From: []string{models.StateSigned, models.StateCalledBack},
		Fields: []Field{boolean("reached", "已联系上评价人"),
			{Name: "method", Type: FieldEnum, Label: "回访方式", Required: true, Enum: []string{"phone", "sms", "visit"},
				EnumLabels: map[string]string{"phone": "电话", "sms": "短信", "visit": "上门"}, Code: "invalid_method"},
			text("note", "回访记录", false)},
		Transitions: []Transition{{When: &Cond{"reached", "true"}, To: models.StateCalledBack}, {When: &Cond{"reached", "false"}}}},
	// An administrator's recorded exception lets an order go on without a reached callback
	// (e.g. the evaluator cannot be reached, or left no contact).
	{Name: "waive_callback", Label: "免回访（例外登记）", Roles: adminOnly, From: []string{models.StateSigned},
		Fields: []Field{text("note", "例外原因", true)}, Transitions: to(models.StateCalledBack)},
	// Officers draft an appeal, the unit leader submits it (DESIGN.md's role table).
	{Name: "dispose", Label: "核实处置", Roles: unitStaff, From: []string{models.StateCalledBack},
		Fields: []Field{boolean("true", "情况属实"), boolean("reasonable", "诉求合理"), dispositionField,
			when(text("measures", "整改措施", true), "disposition", "rectify_now"),
			when(text("plan", "整改计划", true), "disposition", "ledger"),
			when(Field{Name: "committed_date", Type: FieldDate, Label: "承诺完成日期", Required: true, Code: "invalid_date"}, "disposition", "ledger"),
			when(text("explanation", "解释说明", true), "disposition", "explain"),
			when(appealReasonField, "disposition", "appeal"),
			when(text("evidence", "申诉证据", true), "disposition", "appeal"),
			text("note", "备注", false)},
		Transitions: []Transition{
			{When: &Cond{"disposition", "rectify_now"}, To: models.StateReviewing},
			{When: &Cond{"disposition", "explain"}, To: models.StateReviewing},
			{When: &Cond{"disposition", "ledger"}, To: models.StateRectifying},
			{When: &Cond{"disposition", "appeal"}, Roles: []string{models.RoleUnitLeader}, To: models.StateAppealing, Note: "单位负责人直接提交申诉"},
			{When: &Cond{"disposition", "appeal"}, Roles: []string{models.RoleOfficer}, Note: "整改专员起草申诉，待单位负责人提交"}}},
	{Name: "submit_appeal", Label: "提交申诉", Roles: []string{models.RoleUnitLeader}, From: []string{models.StateCalledBack}, NeedsDraft: true,
		Fields: []Field{text("note", "提交意见", false)}, Transitions: to(models.StateAppealing)},
	{Name: "progress", Label: "报告整改进展", Roles: unitStaff, From: []string{models.StateRectifying},
		Fields: []Field{text("note", "进展说明", true)}, Transitions: to("")},
	{Name: "complete", Label: "整改完成", Roles: unitStaff, From: []string{models.StateRectifying},
		Fields: []Field{text("measures", "整改措施", true)}, Transitions: to(models.StateReviewing)},
	{Name: "request_extension", Label: "申请延期", Roles: []string{models.RoleUnitLeader}, From: []string{models.StateRectifying},
		Fields: []Field{{Name: "days", Type: FieldInteger, Label: "延期天数", Required: true, Min: 1, Max: 60, Code: "invalid_days"},
			text("reason", "延期理由", true)}, Transitions: to("")},
	{Name: "decide_extension", Label: "审批延期", Roles: []string{models.RoleAdministrator, models.RoleSupervisor}, From: []string{models.StateRectifying},
		Fields: []Field{boolean("approve", "批准"), text("note", "审批意见", false)}, Transitions: to("")},
	{Name: "decide_appeal", Label: "申诉裁决", Roles: adminOnly, From: []string{models.StateAppealing},
		Fields: []Field{boolean("upheld", "申诉成立"), text("note", "裁决意见", false)},
		Transitions: []Transition{{When: &Cond{"upheld", "true"}, To: models.StateReviewing, Note: "差评不予采纳"},
			{When: &Cond{"upheld", "false"}, To: models.StateCalledBack, Note: "退回整改"}}},
	{Name: "review", Label: "审核", Roles: adminOnly, From: []string{models.StateReviewing},
		Fields: []Field{boolean("approve", "审核通过"), text("note", "审核意见", false)},
		Transitions: []Transition{{When: &Cond{"approve", "true"}, To: models.StateFeedback},
			{When: &Cond{"approve", "false"}, To: models.StateCalledBack, Note: "退回重办"}}},
	{Name: "record_feedback", Label: "登记反馈", Roles: unitStaff, From: []string{models.StateFeedback},
		Fields: []Field{{Name: "satisfaction", Type: FieldEnum, Label: "评价人满意度", Required: true,
			Enum:       []string{models.Satisfied, models.BasicallySatisfied, models.Dissatisfied},
			EnumLabels: map[string]string{models.Satisfied: "满意", models.BasicallySatisfied: "基本满意", models.Dissatisfied: "不满意"},
			Code:       "invalid_satisfaction"}, text("comment", "评价人意见", false)},
		Transitions: to(models.StateClosed)},
	{Name: "escalate", Label: "督办", Roles: []string{models.RoleSupervisor, models.RoleAdministrator}, From: openStates,
		Fields: []Field{text("note", "督办意见", true)}, Transitions: to("")},
	{Name: "reassign", Label: "改派", Roles: []string{models.RoleSupervisor, models.RoleAdministrator}, From: beforeReview, Targets: true,
		Fields: []Field{toUnit(true), text("reason", "改派理由", true)}, Transitions: to(models.StateDispatched)},
	{Name: "reopen", Label: "重新办理", Roles: adminOnly, From: []string{models.StateClosed},
		Fields: []Field{text("note", "重办原因", true)}, Transitions: to(models.StateCalledBack)},
}

// specs indexes actionTable by name.
var specs = func() map[string]*ActionSpec {
	m := make(map[string]*ActionSpec, len(actionTable))
	for i := range actionTable {
		if actionTable[i].Fields == nil {
			actionTable[i].Fields = []Field{} // served as [], as the OpenAPI document says
		}
		m[actionTable[i].Name] = &actionTable[i]
	}
	return m
}()

// ActionIndex indexes the actions table by action name (a copy of the index; the rows are
// the table's own).
func ActionIndex() map[string]*ActionSpec { return maps.Clone(specs) }

// Table is the actions table, in order, for the API to serve and document.
func Table() []ActionSpec { return actionTable }

// Actions lists the action names, in the table's order.
func Actions() []string {
	out := make([]string, len(actionTable))
	for i, a := range actionTable {
		out[i] = a.Name
	}
	return out
}

// FieldNames lists every field any action takes, in ActionRequest's order.
func FieldNames() []string {
	var out []string
	t := reflect.TypeOf(ActionRequest{})
	for i := 0; i < t.NumField(); i++ {
		name := jsonName(t.Field(i))
		if name != "action" && name != "caller" && name != "to_unit_path" {
			out = append(out, name)
		}
	}
	return out
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// MayAct reports whether one of the caller's grants gives one of the roles over the unit.
func MayAct(c Caller, roles []string, unitPath string) bool {
	for _, g := range c.Grants {
		if slices.Contains(roles, g.Role) && GrantCovers(g.Role, g.UnitPath, unitPath) {
			return true
		}
	}
	return false
}

// HoldsRole reports whether the caller holds the role on the unit (unit roles: that unit).
func HoldsRole(c Caller, role, unitPath string) bool {
	return MayAct(c, []string{role}, unitPath)
}

// OrderView is what AllowedActions needs to know of an order.
type OrderView struct {
	State    string
	UnitPath string
	// AppealDraft: an officer's appeal waits for the unit leader's submission.
	AppealDraft bool
}

// AllowedActions lists what the caller may do now, for the UI to show exactly those forms.
func AllowedActions(o OrderView, c Caller) []string {
	var out []string
	for _, a := range actionTable {
		if slices.Contains(a.From, o.State) && MayAct(c, a.Roles, o.UnitPath) && (!a.NeedsDraft || o.AppealDraft) {
			out = append(out, a.Name)
		}
	}
	return out
}

// Targets reports whether the action names a unit the order is sent to.
func Targets(action string) bool {
	a, ok := specs[action]
	return ok && a.Targets
}
