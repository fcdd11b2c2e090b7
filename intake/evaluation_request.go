// The rating request (POST /evaluations): its forms, the translation of coded values, its
// validation, and the fingerprint that tells a client's retry from a different rating.

package intake

import (
	"fmt"
	"net"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"

	"redress/apperr"
	"redress/codes"
	"redress/models"
)

// EvaluationRequest is the body of POST /evaluations.
//
// Forms: a rating of one case; a batch rating (several case_nos of one visit, the rating
// applies to each); a theme-service rating (theme: the overall levels rate the theme, each
// theme item carries its own levels); a follow-up rating (追评, follow_up_of names the
// evaluation_id of the evaluator's first rating; case_nos may be left out and are then those
// of the first). With codes "provincial" or "gb" the channel and the levels are given as the
// numeric codes of that table (as strings, e.g. "5") and are translated at the edge.
type EvaluationRequest struct {
	EvaluationID string            `json:"evaluation_id"`
	CaseNos      []string          `json:"case_nos"`
	Channel      string            `json:"channel"`
	Levels       map[string]string `json:"levels"`
	Tags         []string          `json:"tags"`
	Comment      string            `json:"comment"`
	RatedAt      *time.Time        `json:"rated_at"`
	Evaluator    Person            `json:"evaluator"`
	FollowUpOf   string            `json:"follow_up_of,omitempty"`
	Theme        *Theme            `json:"theme,omitempty"`
	DeviceID     string            `json:"device_id,omitempty"`
	ClientIP     string            `json:"client_ip,omitempty"`
	Codes        string            `json:"codes,omitempty"`
	// RequestIP is the citizen's address as the HTTP layer saw it, when the citizen posted the
	// rating themselves (the QR rating page; not a channel relaying it): used for fraud
	// detection when client_ip is absent, never part of the hash.
	RequestIP string `json:"-"`
	// kinds are the case's applicant and promise kinds a profile record stated (userProp,
	// promiseTime): recorded on the case by RecordCaseKinds, never part of the hash.
	kinds caseKinds
}

// caseKinds are a case's kinds as a profile record states them, with the record's keys.
type caseKinds struct {
	applicantType, promiseKind string
	applicantKey, promiseKey   string
}

// Theme is a theme-service rating (主题服务): the request's levels rate the theme as a whole,
// each item its related service item.
type Theme struct {
	Code  string      `json:"code"`
	Name  string      `json:"name"`
	Items []ThemeItem `json:"items"`
}

// ThemeItem rates one service item of a theme; case_no optionally names its case (one of
// the request's case_nos).
type ThemeItem struct {
	ItemCode string            `json:"item_code"`
	CaseNo   string            `json:"case_no,omitempty"`
	Levels   map[string]string `json:"levels"`
}

// EvaluationResult answers an evaluation: the same body for a first submission and a retry.
// WorkOrderIDs lists every order the rating opened (sorted): one, except for a theme rating
// whose bad items belong to several units, which opens one order per unit; WorkOrderID is the
// first of them (the evaluation's own link).
type EvaluationResult struct {
	ID           string   `json:"id"`
	Bad          bool     `json:"bad"`
	WorkOrderID  *string  `json:"work_order_id"`
	WorkOrderIDs []string `json:"work_order_ids,omitempty"`
}

// Limits of the newer fields.
const (
	MaxThemeItems = 20
	MaxDeviceID   = 128
)

// Code tables a request may use (codes field).
const (
	CodesProvincial = "provincial"
	CodesGB         = "gb"
)

// normalize translates a coded request (codes "provincial" or "gb") to canonical names, so
// that validation, storage and the idempotency hash see one form whatever the client sent.
func (r *EvaluationRequest) normalize() error {
	if r.Codes == "" {
		return nil
	}
	var level func(int) (string, error)
	switch r.Codes {
	case CodesProvincial:
		level = codes.LevelFromProvincial
	case CodesGB:
		level = codes.LevelFromGB
	default:
		return apperr.Invalid("codes", "invalid_codes", "codes must be %q or %q", CodesProvincial, CodesGB)
	}
	tr := func(field string, m map[string]string) error {
		for k, v := range m {
			n, err := strconv.Atoi(v)
			if err != nil {
				return apperr.Invalid(field+"."+k, "invalid_level", "with codes %q a level is a number 1–5", r.Codes)
			}
			l, err := level(n)
			if err != nil {
				return apperr.Invalid(field+"."+k, "invalid_level", "level code %d is not in the %s table (1–5)", n, r.Codes)
			}
			m[k] = l
		}
		return nil
	}
	if err := tr("levels", r.Levels); err != nil {
		return err
	}
	if r.Theme != nil {
		for i := range r.Theme.Items {
			if err := tr(fmt.Sprintf("theme.items[%d].levels", i), r.Theme.Items[i].Levels); err != nil {
				return err
			}
		}
	}
	// Provincial channel codes 1–7 are the only numeric channel table; 7 (system default) is
	// refused below like the name.
	if n, err := strconv.Atoi(r.Channel); err == nil {
		c, err := codes.ChannelFromProvincial(n)
		if err != nil {
			return apperr.Invalid("channel", "invalid_channel", "channel code %d is not in the provincial table (1–6)", n)
		}
		r.Channel = c
	}
	r.Codes = ""
	return nil
}

func validLevels(field string, levels map[string]string) error {
	if levels["overall"] == "" {
		return apperr.Invalid(field+".overall", "required", "the overall level is required")
	}
	if len(levels) > MaxIndicators {
		return apperr.Invalid(field, "too_many", "at most %d indicators", MaxIndicators)
	}
	// Sorted, so that the error named for a request with several faults is always the same.
	keys := make([]string, 0, len(levels))
	for k := range levels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !indicatorRe.MatchString(k) {
			return apperr.Invalid(field+"."+k, "invalid_indicator", "indicator names are lower-case letters, digits and _")
		}
		if !models.IsLevel(levels[k]) {
			return apperr.Invalid(field+"."+k, "invalid_level", "level must be one of %v", models.Levels)
		}
	}
	return nil
}

func (r *EvaluationRequest) validate(now time.Time) error {
	if err := requiredText("evaluation_id", r.EvaluationID, MaxEvalID); err != nil {
		return err
	}
	if !codeRe.MatchString(r.EvaluationID) {
		return apperr.Invalid("evaluation_id", "invalid_evaluation_id", "evaluation_id may hold letters, digits and . _ : / - only")
	}
	if r.FollowUpOf != "" {
		if len(r.FollowUpOf) > MaxEvalID || !codeRe.MatchString(r.FollowUpOf) {
			return apperr.Invalid("follow_up_of", "invalid_evaluation_id", "follow_up_of is the evaluation_id of a first rating")
		}
		if r.FollowUpOf == r.EvaluationID {
			return apperr.Invalid("follow_up_of", "invalid_follow_up", "a rating cannot follow up itself")
		}
		if r.Theme != nil {
			return apperr.Invalid("theme", "invalid_follow_up", "a follow-up rating has no theme")
		}
	}
	if len(r.CaseNos) == 0 && r.FollowUpOf == "" {
		return apperr.Invalid("case_nos", "required", "case_nos needs at least one case number")
	}
	if len(r.CaseNos) > MaxCases {
		return apperr.Invalid("case_nos", "too_many", "at most %d cases in one rating", MaxCases)
	}
	seen := map[string]bool{}
	for _, c := range r.CaseNos {
		if c == "" || len(c) > MaxCaseNo || !codeRe.MatchString(c) {
			return apperr.Invalid("case_nos", "invalid_case_no", "case number %q is not valid", c)
		}
		if seen[c] {
			return apperr.Invalid("case_nos", "duplicate_case_no", "case number %q given twice", c)
		}
		seen[c] = true
	}
	if !models.IsChannel(r.Channel) {
		return apperr.Invalid("channel", "invalid_channel", "channel must be one of %v", models.Channels)
	}
	if err := validLevels("levels", r.Levels); err != nil {
		return err
	}
	if r.Theme != nil {
		if err := requiredText("theme.code", r.Theme.Code, MaxCaseNo); err != nil {
			return err
		}
		if utf8.RuneCountInString(r.Theme.Name) > MaxItemName {
			return apperr.Invalid("theme.name", "too_long", "theme.name is longer than %d characters", MaxItemName)
		}
		if len(r.Theme.Items) == 0 {
			return apperr.Invalid("theme.items", "required", "a theme rating rates at least one item")
		}
		if len(r.Theme.Items) > MaxThemeItems {
			return apperr.Invalid("theme.items", "too_many", "at most %d theme items", MaxThemeItems)
		}
		items := map[string]bool{}
		for i, it := range r.Theme.Items {
			f := fmt.Sprintf("theme.items[%d]", i)
			if it.ItemCode == "" || len(it.ItemCode) > MaxCaseNo || !codeRe.MatchString(it.ItemCode) {
				return apperr.Invalid(f+".item_code", "invalid_item_code", "item_code is required (letters, digits and . _ : / -)")
			}
			if items[it.ItemCode] {
				return apperr.Invalid(f+".item_code", "duplicate_item_code", "item %q rated twice", it.ItemCode)
			}
			items[it.ItemCode] = true
			if it.CaseNo != "" && !seen[it.CaseNo] {
				return apperr.Invalid(f+".case_no", "unknown_case", "case %q is not one of case_nos", it.CaseNo)
			}
			if err := validLevels(f+".levels", it.Levels); err != nil {
				return err
			}
		}
	}
	if len(r.Tags) > MaxTags {
		return apperr.Invalid("tags", "too_many", "at most %d tags", MaxTags)
	}
	for _, t := range r.Tags {
		if t == "" || utf8.RuneCountInString(t) > MaxTagLen {
			return apperr.Invalid("tags", "invalid_tag", "a tag is 1–%d characters", MaxTagLen)
		}
	}
	if !utf8.ValidString(r.Comment) {
		return apperr.Invalid("comment", "invalid_text", "comment is not valid UTF-8")
	}
	if utf8.RuneCountInString(r.Comment) > MaxComment {
		return apperr.Invalid("comment", "too_long", "comment is longer than %d characters", MaxComment)
	}
	if r.RatedAt == nil {
		return apperr.Invalid("rated_at", "required", "rated_at is required (RFC 3339)")
	}
	if r.RatedAt.After(now.Add(clockSkew)) {
		return apperr.Invalid("rated_at", "in_future", "rated_at is in the future")
	}
	if r.DeviceID != "" && (len(r.DeviceID) > MaxDeviceID || !codeRe.MatchString(r.DeviceID)) {
		return apperr.Invalid("device_id", "invalid_device_id", "device_id is 1–%d letters, digits and . _ : / -", MaxDeviceID)
	}
	if r.ClientIP != "" && net.ParseIP(r.ClientIP) == nil {
		return apperr.Invalid("client_ip", "invalid_ip", "client_ip must be an IPv4 or IPv6 address")
	}
	return r.Evaluator.validate("evaluator")
}

// bad reports whether any indicator is 不满意 or 非常不满意.
func bad(levels map[string]string) bool {
	for _, v := range levels {
		if models.IsBadLevel(v) {
			return true
		}
	}
	return false
}

// badItems lists the theme items rated bad on any indicator.
func badItems(t *Theme) []string {
	if t == nil {
		return nil
	}
	var out []string
	for _, it := range t.Items {
		if bad(it.Levels) {
			out = append(out, it.ItemCode)
		}
	}
	return out
}

// requestHash fingerprints what a rating says rather than how it was spelled: rated_at as an
// instant, the cases in any order and the canonical names of coded values, so that a client's
// retry in another zone, order or code table compares equal instead of conflicting.
func requestHash(r EvaluationRequest) string {
	t := r.RatedAt.UTC()
	r.RatedAt = &t
	r.CaseNos = sortedCopy(r.CaseNos)
	r.Tags = nonNil(r.Tags)
	return hashJSON(r)
}

// Check translates and validates a request as SubmitEvaluation does, without the database
// (for the request decoders' fuzz targets and for channels' dry runs).
func (r *EvaluationRequest) Check(now time.Time) error {
	if err := r.normalize(); err != nil {
		return err
	}
	return r.validate(now)
}
