package workflows

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/temporal"

	"redress/scheme"
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

// ErrTargetOutOfScope is the FieldError code of a target unit outside the caller's reach.
const ErrTargetOutOfScope = "target_out_of_scope"

// check decides whether the caller may take the action now: 403 before 409 before 422, so
// that a caller without the right learns nothing about the state.
func check(o OrderView, req ActionRequest) error {
	a, ok := specs[req.Action]
	if !ok {
		return invalid("action", "unknown_action", "unknown action %q", req.Action)
	}
	if !scheme.MayAct(req.Caller, a.Roles, o.UnitPath) {
		return refuse(ErrForbidden, fmt.Sprintf("your roles do not allow %s on this work order", req.Action))
	}
	// The target must lie within the reach of the grants that allow the action: a
	// supervisor of /gd/sz/ moves orders within Shenzhen only. Old histories carry no path.
	if a.Targets && req.ToUnitPath != "" && targetApplies(a, req) && !scheme.MayAct(req.Caller, a.Roles, req.ToUnitPath) {
		return refuse(ErrForbidden, fmt.Sprintf("unit %q is outside your jurisdiction", req.ToUnit), FieldError{Field: "to_unit", Code: ErrTargetOutOfScope})
	}
	if !slices.Contains(a.From, o.State) || (a.NeedsDraft && !o.AppealDraft) {
		return refuse(ErrWrongState, fmt.Sprintf("%s is not allowed in state %s", req.Action, o.State))
	}
	return fields(a, req)
}

// fields validates the action's own fields by the table: length of every free text first
// (whatever the action), then each field of the action in order.
func fields(a *ActionSpec, req ActionRequest) error {
	if err := CheckLengths(req); err != nil {
		return err
	}
	values := requestValues(req)
	for _, f := range a.Fields {
		if f.When != nil && values[f.When.Field] != f.When.Value {
			continue
		}
		val, set := values[f.Name]
		if !set || val == "" {
			if f.Required {
				// A missing choice is answered like a wrong one (API.md's codes of old:
				// invalid_method, invalid_days…); a missing text or yes/no is "required".
				code := f.Code
				if code == "" {
					code = "required"
				}
				return invalid(f.Name, code, "%s is required", f.Name)
			}
			continue
		}
		if err := fieldValue(f, val); err != nil {
			return err
		}
	}
	return nil
}

// fieldValue checks one present value against its field's rule.
func fieldValue(f Field, val string) error {
	code := f.Code
	if code == "" {
		code = "invalid_" + f.Name
	}
	switch f.Type {
	case scheme.FieldText, scheme.FieldUnit:
		if f.MaxLength > 0 && utf8.RuneCountInString(val) > f.MaxLength {
			return invalid(f.Name, "too_long", "%s is longer than %d characters", f.Name, f.MaxLength)
		}
	case scheme.FieldEnum:
		if !slices.Contains(f.Enum, val) {
			return invalid(f.Name, code, "%s must be one of %s", f.Name, strings.Join(f.Enum, ", "))
		}
	case scheme.FieldInteger:
		n, err := strconv.Atoi(val)
		if err != nil || n < f.Min || n > f.Max {
			return invalid(f.Name, code, "%s must be %d to %d", f.Name, f.Min, f.Max)
		}
	case scheme.FieldDate:
		if _, err := time.Parse("2006-01-02", val); err != nil {
			return invalid(f.Name, code, "%s must be YYYY-MM-DD", f.Name)
		}
	}
	return nil
}

// requestValues reads the request's set fields as strings, by JSON name ("true"/"false" for
// booleans): what the table's rules and conditions compare.
func requestValues(req ActionRequest) map[string]string {
	out := map[string]string{}
	v := reflect.ValueOf(req)
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		name := jsonName(t.Field(i))
		switch x := v.Field(i).Interface().(type) {
		case string:
			if x != "" {
				out[name] = x
			}
		case *bool:
			if x != nil {
				out[name] = strconv.FormatBool(*x)
			}
		case *int:
			if x != nil {
				out[name] = strconv.Itoa(*x)
			}
		}
	}
	return out
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// targetApplies reports whether the action's unit field is in play (rule_return names a unit
// only when it accepts the return).
func targetApplies(a *ActionSpec, req ActionRequest) bool {
	values := requestValues(req)
	for _, f := range a.Fields {
		if f.Type == scheme.FieldUnit {
			return f.When == nil || values[f.When.Field] == f.When.Value
		}
	}
	return false
}
