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

// linkRow is a rating's case link with the evaluator's slot on it (migration 00029): slot 0
// is the first rating, slots 1…limit the follow-ups, conflictSlot the conflicting rating. The
// unique index evaluation_cases_slot (case_no, evaluator_key, slot) makes "one first rating"
// hold under concurrency.
type linkRow struct {
	models.EvaluationCase `gorm:"embedded"`
	EvaluatorKey          string
	Slot                  int
}

func (linkRow) TableName() string { return "evaluation_cases" }
