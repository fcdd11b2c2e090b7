package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"redress/models"
)

// Error types carried by refused actions; the API maps them to 403, 409 and 422.
const (
	ErrForbidden  = "forbidden"
	ErrWrongState = "wrong_state"
	ErrInvalid    = "invalid"
	ErrNotReady   = "not_ready"
)

// FieldError is the detail of an ErrInvalid refusal.
type FieldError struct {
	Field string `json:"field"`
	Code  string `json:"code"`
}

func refuse(kind, msg string, details ...any) error {
	return temporal.NewApplicationErrorWithOptions(msg, kind, temporal.ApplicationErrorOptions{NonRetryable: true, Details: details})
}

func invalid(field, code, format string, args ...any) error {
	return refuse(ErrInvalid, fmt.Sprintf(format, args...), FieldError{Field: field, Code: code})
}

// check decides whether the caller may take the action now: 403 before 409 before 422, so
// that a caller without the right learns nothing about the state.
func check(state, unitPath string, req ActionRequest) error {
	r, ok := rules[req.Action]
	if !ok {
		return invalid("action", "unknown_action", "unknown action %q", req.Action)
	}
	if !mayAct(req.Caller, r.roles, unitPath) {
		return refuse(ErrForbidden, fmt.Sprintf("your roles do not allow %s on this work order", req.Action))
	}
	if !contains(r.from, state) {
		return refuse(ErrWrongState, fmt.Sprintf("%s is not allowed in state %s", req.Action, state))
	}
	return fields(req)
}

func need(cond bool, field, format string, args ...any) error {
	if cond {
		return nil
	}
	return invalid(field, "required", format, args...)
}

// fields validates the action's own fields.
func fields(req ActionRequest) error {
	switch req.Action {
	case "dispatch":
		return need(req.ToUnit != "", "to_unit", "to_unit is required")
	case "return":
		return need(req.Reason != "", "reason", "a return needs a reason")
	case "rule_return":
		if err := need(req.Accept != nil, "accept", "accept (true or false) is required"); err != nil {
			return err
		}
		if *req.Accept {
			if err := need(req.ToUnit != "", "to_unit", "an accepted return needs to_unit"); err != nil {
				return err
			}
		}
		return need(req.Reason != "", "reason", "a ruling needs a reason")
	case "callback":
		if err := need(req.Reached != nil, "reached", "reached (true or false) is required"); err != nil {
			return err
		}
		switch req.Method {
		case "phone", "sms", "visit":
			return nil
		}
		return invalid("method", "invalid_method", "method must be phone, sms or visit")
	case "waive_callback":
		return need(req.Note != "", "note", "an exception needs a note saying why")
	case "dispose":
		if err := need(req.True != nil, "true", "true (属实) is required"); err != nil {
			return err
		}
		if err := need(req.Reasonable != nil, "reasonable", "reasonable (合理) is required"); err != nil {
			return err
		}
		switch req.Disposition {
		case "rectify_now":
			return need(req.Measures != "", "measures", "rectify_now needs the measures taken")
		case "ledger":
			if err := need(req.Plan != "", "plan", "a ledger entry needs a plan"); err != nil {
				return err
			}
			if _, err := time.Parse("2006-01-02", req.CommittedDate); err != nil {
				return invalid("committed_date", "invalid_date", "committed_date must be YYYY-MM-DD")
			}
			return nil
		case "explain":
			return need(req.Explanation != "", "explanation", "explain needs the explanation")
		case "appeal":
			if req.AppealReason != "mistaken" && req.AppealReason != "malicious" {
				return invalid("appeal_reason", "invalid_appeal_reason", "appeal_reason must be mistaken or malicious")
			}
			return need(req.Evidence != "", "evidence", "an appeal needs evidence")
		}
		return invalid("disposition", "invalid_disposition", "disposition must be rectify_now, ledger, explain or appeal")
	case "progress":
		return need(req.Note != "", "note", "a progress report needs a note")
	case "complete":
		return need(req.Measures != "", "measures", "complete needs the measures taken")
	case "request_extension":
		if req.Days == nil || *req.Days < 1 || *req.Days > 60 {
			return invalid("days", "invalid_days", "days must be 1 to 60")
		}
		return need(req.Reason != "", "reason", "an extension request needs a reason")
	case "decide_extension":
		return need(req.Approve != nil, "approve", "approve (true or false) is required")
	case "decide_appeal":
		return need(req.Upheld != nil, "upheld", "upheld (true or false) is required")
	case "review":
		return need(req.Approve != nil, "approve", "approve (true or false) is required")
	case "record_feedback":
		switch req.Satisfaction {
		case models.Satisfied, models.BasicallySatisfied, models.Dissatisfied:
			return nil
		}
		return invalid("satisfaction", "invalid_satisfaction", "satisfaction must be satisfied, basically_satisfied or dissatisfied")
	case "escalate":
		return need(req.Note != "", "note", "an escalation needs a note")
	case "reassign":
		if err := need(req.ToUnit != "", "to_unit", "to_unit is required"); err != nil {
			return err
		}
		return need(req.Reason != "", "reason", "a reassignment needs a reason")
	case "reopen":
		return need(req.Note != "", "note", "a reopening needs a note")
	}
	return nil
}
