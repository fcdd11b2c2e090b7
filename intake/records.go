package intake

import "redress/models"

// Evaluation kinds (evaluations.kind).
const (
	KindFirst    = "first"
	KindFollowUp = "follow_up"
	KindDefault  = "default"
	// KindConflict is a later first rating of a case by the same evaluator that contradicts the
	// stored one (conflict.go): stored beside it and flagged, counted like a first rating.
	KindConflict = "conflict"
)

// Evaluator keys that are not a person's hash.
const (
	keyAnonymous = "anonymous"
	keyDefault   = "default"
)

// evalRow is an evaluations row with the columns migration 00004 added to models.Evaluation.
type evalRow struct {
	models.Evaluation `gorm:"embedded"`
	Kind              string
	FollowUpOf        *string
	EvaluatorKey      string
	Theme             string
	DeviceHash        string
	IPHash            string `gorm:"column:ip_hash"`
	CommentHash       string
	UnitPath          string
	// Excluded (migration 00003): not adopted after an upheld appeal or fraud ruling.
	Excluded bool
}

func (evalRow) TableName() string { return "evaluations" }

// slotRow claims one rating of a case by one evaluator: slot 0 is the first rating, slots
// 1…limit the follow-ups. Its primary key makes "one first rating" hold under concurrency.
type slotRow struct {
	CaseNo       string `gorm:"primaryKey"`
	EvaluatorKey string `gorm:"primaryKey"`
	Slot         int    `gorm:"primaryKey"`
	EvaluationID string
}

func (slotRow) TableName() string { return "evaluation_slots" }
