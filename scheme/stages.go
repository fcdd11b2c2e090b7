package scheme

import "redress/models"

// Stages of a work order that run against a deadline, by the names policies and the
// deadline list use (DOMAIN.md's time limits).
const (
	StageSign           = "sign"
	StageCallback       = "callback"
	StageRectify        = "rectify"
	StageAppealDecision = "appeal_decision"
	StageReview         = "review"
	StageFeedback       = "feedback"
	// The administration's own stages: the manual-dispatch queue and the ruling on a return.
	StageDispatch = "dispatch"
	StageRuling   = "ruling"
)

// Stages lists the stages in API.md's order: the deadlines a policy may set.
var Stages = []string{StageSign, StageCallback, StageRectify, StageAppealDecision, StageReview, StageFeedback, StageDispatch, StageRuling}

// DefaultBudgets are the national defaults used where no policy on the unit's path sets a
// stage (DOMAIN.md: callback 3 working days, rectification 10 working days).
var DefaultBudgets = map[string]models.Budget{
	StageSign:           {WorkingDays: intp(1)},
	StageCallback:       {WorkingDays: intp(3)},
	StageRectify:        {WorkingDays: intp(10)},
	StageAppealDecision: {WorkingDays: intp(5)},
	StageReview:         {WorkingDays: intp(3)},
	StageFeedback:       {NaturalDays: intp(7)},
	StageDispatch:       {WorkingDays: intp(1)},
	StageRuling:         {WorkingDays: intp(1)},
}

// DefaultReopenWindow is how long a closed order may be reopened where no policy says
// (reopen_window).
var DefaultReopenWindow = models.Budget{NaturalDays: intp(30)}

// Defaults of the rest of a policy where no policy on the path says.
const (
	DefaultRemindShare = 0.25 // remind when a quarter of the budget is left
	DefaultReopenLimit = 1    // one reopening per order
)

func intp(n int) *int { return &n }

// stageLabels are the stages as the administrators' pages name them.
var stageLabels = map[string]string{
	StageSign: "签收", StageCallback: "回访", StageRectify: "整改", StageAppealDecision: "申诉审核", StageReview: "复核",
	StageFeedback: "反馈", StageDispatch: "派发", StageRuling: "裁定",
}

// StageLabel names a stage in Chinese (the name itself for a stage it does not know).
func StageLabel(stage string) string {
	if l := stageLabels[stage]; l != "" {
		return l
	}
	return stage
}

// SameBudget reports whether two budgets say the same thing.
func SameBudget(a, b models.Budget) bool {
	eq := func(x, y *int) bool { return (x == nil) == (y == nil) && (x == nil || *x == *y) }
	return eq(a.WorkingDays, b.WorkingDays) && eq(a.NaturalDays, b.NaturalDays) && eq(a.Hours, b.Hours) &&
		(a.Duration == nil) == (b.Duration == nil) && (a.Duration == nil || *a.Duration == *b.Duration)
}
