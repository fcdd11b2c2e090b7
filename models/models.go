// Package models holds the relational records of redress — units, staff, users and their roles,
// policies, service cases, evaluations, the work-order read-model and its append-only timeline —
// as GORM structs, and the canonical value sets (levels, channels, states, roles) of API.md.
// The schema itself is owned by the versioned migrations in package migrations; these structs
// only map it.
package models

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"time"
)

// JSON stores any JSON-encodable value in a text column.
type JSON[T any] struct{ V T }

// NewJSON wraps v.
func NewJSON[T any](v T) JSON[T] { return JSON[T]{V: v} }

// Value implements driver.Valuer.
func (j JSON[T]) Value() (driver.Value, error) {
	b, err := json.Marshal(j.V)
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Scan implements sql.Scanner.
func (j *JSON[T]) Scan(src any) error {
	switch s := src.(type) {
	case nil:
		var zero T
		j.V = zero
		return nil
	case string:
		return json.Unmarshal([]byte(s), &j.V)
	case []byte:
		return json.Unmarshal(s, &j.V)
	default:
		return fmt.Errorf("models.JSON: cannot scan %T", src)
	}
}

// MarshalJSON lets a JSON column appear as its value in API answers.
func (j JSON[T]) MarshalJSON() ([]byte, error) { return json.Marshal(j.V) }

// Unit is an organisation in the tree province › city › district › street › community.
// Path is the chain of codes from the root, with slashes on both ends ("/gd/sz/sz-ft-tax/"),
// so that a subtree is `path LIKE '/gd/sz/%'` and a Casbin domain pattern is "/gd/sz/*".
type Unit struct {
	ID   int64  `gorm:"primaryKey"`
	Code string `gorm:"uniqueIndex"`
	Name string
	Kind string // administration, department, platform, hall, …
	// DivisionCode is the 9-digit 行政区划代码 and Level the 行使层级 (GB/T 39046-2020 A.2:
	// 1 国家级 … 7 村/社区), the national data items of a unit ("" and 0 when not given).
	DivisionCode string
	Level        int
	ParentID     *int64
	Path         string
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Staff is a member of a unit who handles service cases (the 谁办理 of 谁办理、谁负责).
type Staff struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	UnitID    int64
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName keeps the plural that the migrations use.
func (Staff) TableName() string { return "staff" }

// User is someone who signs in. A disabled user's tokens stop working at once because every
// request reloads the user.
type User struct {
	ID        int64  `gorm:"primaryKey"`
	Login     string `gorm:"uniqueIndex"`
	Name      string
	Disabled  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// RoleAssignment gives a user a role on a unit.
type RoleAssignment struct {
	ID     int64 `gorm:"primaryKey"`
	UserID int64
	Role   string
	UnitID int64
}

// Policy is the scheme's configurable rules for a unit's subtree; the nearest one wins.
type Policy struct {
	ID        int64 `gorm:"primaryKey"`
	UnitID    int64 `gorm:"uniqueIndex"`
	Doc       JSON[PolicyDoc]
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PolicyDoc is the policy as written in the organisation file.
type PolicyDoc struct {
	Deadlines    map[string]Budget `json:"deadlines,omitempty"`
	RatingWindow *Budget           `json:"rating_window,omitempty"`
	DefaultLevel string            `json:"default_level,omitempty"`
	RemindBefore string            `json:"remind_before,omitempty"`
	ReopenLimit  *int              `json:"reopen_limit,omitempty"`
	// ReopenWindow is how long after closing an order may be reopened (default 30 natural
	// days; natural_days, hours or duration).
	ReopenWindow *Budget `json:"reopen_window,omitempty"`
	FollowUps    *int    `json:"follow_up_limit,omitempty"`
	// LateUploadGrace is how long after the rating window's end a rating given inside the
	// window may still arrive (a hall's terminals uploading after an outage); default 3
	// natural days.
	LateUploadGrace *Budget `json:"late_upload_grace,omitempty"`
	// UnitNetworks (CIDR prefixes or addresses) and UnitDevices (device ids) are the unit's
	// own office networks and staff devices: a rating sent from one of them, for a case of
	// this unit or of a unit below it, is flagged for fraud review (unit_premises). Unlike
	// the rules above they add up along the path instead of the nearest policy winning.
	UnitNetworks []string `json:"unit_networks,omitempty"`
	UnitDevices  []string `json:"unit_devices,omitempty"`
}

// Budget is exactly one of working days, natural days, hours or a Go duration.
type Budget struct {
	WorkingDays *int    `json:"working_days,omitempty"`
	NaturalDays *int    `json:"natural_days,omitempty"`
	Hours       *int    `json:"hours,omitempty"`
	Duration    *string `json:"duration,omitempty"`
}

// ServiceCase is a completed piece of government business (办件) that can be rated.
type ServiceCase struct {
	ID          string `gorm:"primaryKey"`
	CaseNo      string `gorm:"uniqueIndex"`
	ItemCode    string
	ItemName    string
	UnitID      int64
	StaffID     *string
	Channel     string
	CompletedAt time.Time
	// Applicant identity, encrypted (see package pii); PhoneHash is a keyed hash for lookups.
	ApplicantName     string
	ApplicantPhone    string
	ApplicantIDNumber string
	ApplicantIDHash   string
	ContentHash       string
	CreatedAt         time.Time
	// ApplicantType is ApplicantPersonal or ApplicantLegal, PromiseKind PromiseCommitted or
	// PromiseImmediate (migration 00024); empty when the channel did not say.
	ApplicantType string
	PromiseKind   string
}

// The applicant's kind (the provincial userProp) and the item's promise kind (promiseTime) of
// a service case: the canonical values of the profiles' user_type and promise tables.
const (
	ApplicantPersonal = "personal"  // 个人
	ApplicantLegal    = "legal"     // 法人
	PromiseCommitted  = "promise"   // 承诺件
	PromiseImmediate  = "immediate" // 即办件
)

// Evaluation is one rating by one evaluator of one or more service cases.
type Evaluation struct {
	ID           string `gorm:"primaryKey"`
	EvaluationID string `gorm:"uniqueIndex"` // the client's idempotency key
	Channel      string
	Overall      string
	Levels       JSON[map[string]string]
	Bad          bool
	Tags         JSON[[]string]
	Comment      string
	RatedAt      time.Time
	ReceivedAt   time.Time
	// Evaluator identity, encrypted; the hashes are keyed (HMAC) for lookups.
	EvaluatorName      string
	EvaluatorPhone     string
	EvaluatorIDNumber  string
	EvaluatorPhoneHash string
	EvaluatorIDHash    string
	RequestHash        string // hash of the request body: a reused evaluation_id with other content is refused
	WorkOrderID        *string
}

// EvaluationCase links an evaluation to each case it rates (more than one: a batch rating).
type EvaluationCase struct {
	EvaluationID string `gorm:"primaryKey"`
	CaseNo       string `gorm:"primaryKey"`
	// Overall and Bad are the case's own levels in a theme-service rating (its item's overall
	// level, and whether the item was rated bad): statistics charge each case's unit its own
	// item (谁办理、谁负责). Nil for every other rating, whose levels apply to each case.
	Overall *string
	Bad     *bool
}

// WorkOrder is the read-model of a bad-review work order. The workflow is the truth; its
// activities keep this row up to date for inboxes, statistics and search.
type WorkOrder struct {
	ID           string `gorm:"primaryKey"`
	EvaluationID string `gorm:"uniqueIndex"`
	WorkflowID   string
	// WorkflowStarted is false from the moment the order is stored (in the evaluation's
	// transaction) until its workflow is known to exist; the reconciler starts the rest.
	WorkflowStarted  bool
	State            string
	Disposition      string
	UnitID           *int64
	UnitPath         string // responsible unit's path, or the administration's while pending dispatch
	StaffID          *string
	CaseNos          JSON[[]string]
	Overall          string
	Levels           JSON[map[string]string]
	Comment          string
	OpenedAt         time.Time
	DispatchedAt     *time.Time
	NextDueAt        *time.Time
	SupervisionLevel int
	OverdueDays      int
	Deadlines        JSON[[]Deadline]
	Version          int // sequence number of the last timeline event applied
	UpdatedAt        time.Time
	// DeadlineError says (in Chinese, for the administration) why a deadline of the order
	// cannot be computed while it waits for the policy to be fixed; "" otherwise
	// (migration 00019).
	DeadlineError string
}

// Deadline is one stage's deadline as API.md describes it, with who answers for it and
// where it stands. A deadline that could not be computed (a calendar year is missing) has
// status calendar_missing and no dates: DueDate "" and DueAt zero, written as null.
type Deadline struct {
	Name            string     `json:"name"`
	Budget          string     `json:"budget"`
	Unit            string     `json:"unit"`
	Start           time.Time  `json:"start"`
	DueDate         string     `json:"due_date"`
	DueAt           time.Time  `json:"due_at"`
	MetAt           *time.Time `json:"met_at"`
	Overdue         bool       `json:"overdue"`
	Paused          bool       `json:"paused"`
	CalendarVersion string     `json:"calendar_version"`
	// Owner answers for the deadline: its reminders, supervision and figures go to it alone
	// (nil on deadlines stored before owners were recorded: the order's unit).
	Owner *DeadlineOwner `json:"owner,omitempty"`
	// Status is one of the DeadlineStatus values.
	Status string `json:"status,omitempty"`
	// Superseded: a restarted clock (a new unit, a reopening) replaced this one; it stays for
	// the record, with SupersededAt the instant it stopped.
	Superseded   bool       `json:"superseded"`
	SupersededAt *time.Time `json:"superseded_at,omitempty"`
	// PausedAt is when the running pause began (the clock counts nothing while paused).
	PausedAt *time.Time `json:"paused_at,omitempty"`
	// MissingYear is the calendar year a calendar_missing deadline waits for.
	MissingYear int `json:"missing_year,omitempty"`
	// OverdueDays is how late the deadline is (or was when it stopped), in its own unit; the
	// API computes it as of the request (clock.Days), the stored value is as of the last event.
	OverdueDays int `json:"overdue_days"`
}

// Deadline statuses.
const (
	DeadlineRunning         = "running"
	DeadlineMet             = "met"
	DeadlinePaused          = "paused"
	DeadlineSuperseded      = "superseded"
	DeadlineCalendarMissing = "calendar_missing"
)

// Deadline owner kinds: a unit answers for its own stages, the administration for its
// decisions, and the evaluator for the feedback window (whose silence is nobody's lateness).
const (
	OwnerUnit           = "unit"
	OwnerAdministration = "administration"
	OwnerEvaluator      = "evaluator"
)

// DeadlineOwner is who answers for a deadline.
type DeadlineOwner struct {
	Kind string `json:"kind"`
	Code string `json:"code,omitempty"`
	Path string `json:"path,omitempty"`
}

// Charged reports whether lateness of the deadline counts against someone.
func (d Deadline) Charged() bool { return d.Owner == nil || d.Owner.Kind != OwnerEvaluator }

// OwnerPath is the unit path a deadline's lateness is charged to: its owner's, or the
// order's unit for deadlines stored before owners were recorded.
func (d Deadline) OwnerPath(orderUnitPath string) string {
	if d.Owner != nil && d.Owner.Path != "" {
		return d.Owner.Path
	}
	return orderUnitPath
}

// MarshalJSON writes a missing due date and instant as null, never "" or year 1.
func (d Deadline) MarshalJSON() ([]byte, error) {
	type plain Deadline
	out := struct {
		plain
		DueDate *string    `json:"due_date"`
		DueAt   *time.Time `json:"due_at"`
	}{plain: plain(d)}
	if d.DueDate != "" {
		out.DueDate = &d.DueDate
	}
	if !d.DueAt.IsZero() {
		out.DueAt = &d.DueAt
	}
	return json.Marshal(out)
}

// TimelineEvent is one append-only entry of a work order's history. ID is derived from the
// workflow and the event's sequence number, so a replayed or retried write adds nothing.
type TimelineEvent struct {
	ID          string `gorm:"primaryKey"`
	WorkOrderID string
	Seq         int
	At          time.Time
	Actor       string
	Type        string
	Data        JSON[map[string]any]
	// RunID is the workflow run that recorded the event ("" before issue 16 and for the
	// intake's own event); ContentHash fingerprints the event; Superseded marks an event of a
	// run that an operator's reset replaced (kept for the record, not shown).
	RunID       string
	ContentHash string
	Superseded  bool
}

// EventEvidenceAdded is the timeline event of an evidence upload (api's attachments).
const EventEvidenceAdded = "evidence_added"

// OutsideWorkflowEvents are timeline event types written outside the order's workflow (by
// the API, for things done beside it). They carry the number of the workflow event they
// follow but belong to no run: an operator's reset of the workflow does not supersede them.
var OutsideWorkflowEvents = []string{EventEvidenceAdded}

// AuditEntry is one state-changing request, append-only, separate from the timelines.
type AuditEntry struct {
	ID        int64 `gorm:"primaryKey"`
	At        time.Time
	RequestID string
	Login     string
	Roles     string
	Method    string
	Path      string
	Target    string
	Status    int
	Outcome   string
	// UnitPath is the acting unit (the unit of the grant that allowed the request, else the
	// caller's first unit; empty for anonymous callers): auditors see their subtree's entries.
	UnitPath string
	// Action names what was asked: a work-order action's name, else "METHOD route".
	Action string
}

// TableName names the audit table.
func (AuditEntry) TableName() string { return "audit_log" }
