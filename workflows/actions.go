package workflows

import "redress/scheme"

// The "action" update's payload and the actions table are the scheme's rules (package
// scheme: who may act on what); the workflow validates and applies them. The aliases keep
// the names the update, its validators and the API were written with; the JSON recorded in
// histories is the same.
type (
	Grant         = scheme.Grant
	Caller        = scheme.Caller
	ActionRequest = scheme.ActionRequest
	ActionSpec    = scheme.ActionSpec
	Field         = scheme.Field
	OrderView     = scheme.OrderView
)

// MaxTextLength is the longest free text an action takes (scheme.MaxTextLength).
const MaxTextLength = scheme.MaxTextLength

// ActionResult is what an accepted action answers.
type ActionResult struct {
	State string `json:"state"`
	Seq   int    `json:"seq"`
}

// specs indexes the actions table by name.
var specs = scheme.ActionIndex()
