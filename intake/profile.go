package intake

import (
	"context"
	"errors"
	"fmt"
	"time"

	"redress/apperr"
	"redress/calendar"
	"redress/models"
	"redress/profiles"
	"redress/store"
)

// FromProfile reads a rating that a channel system posted in a platform's profile (e.g. the
// Zhejiang 办件评价 record, POST /evaluations?profile=zhejiang) as Redress's own request: the
// profile's codes through its tables (satisfaction reversed, pf, evalDetail tag codes), the
// time in China Standard Time. A second rating of the case (assessNumber 2, 评价次数 2) is a
// follow-up (追评) of the case's first rating, which must exist. The applicant's kind
// (userProp) and the item's promise kind (promiseTime) are facts of the case: RecordCaseKinds
// stores them on it.
func (s *Service) FromProfile(ctx context.Context, name string, in map[string]any) (EvaluationRequest, error) {
	p, err := profiles.Get(name)
	if err != nil {
		return EvaluationRequest{}, apperr.Invalid("profile", "unknown_profile", "unknown profile %q (known: %v)", name, profiles.Names())
	}
	rec, err := p.Parse(profiles.KindRating, in)
	var fe profiles.FieldError
	if errors.As(err, &fe) {
		return EvaluationRequest{}, apperr.Invalid(fe.Key, "invalid_profile_field", "%s (profile %s)", fe.Error(), name)
	} else if err != nil {
		return EvaluationRequest{}, fmt.Errorf("profile %s: %w", name, err)
	}
	str := func(k string) string { v, _ := rec[k].(string); return v }
	req := EvaluationRequest{
		EvaluationID: str("evaluation_id"),
		Channel:      str("channel"),
		Levels:       map[string]string{"overall": str("level")},
		Comment:      str("comment"),
		Evaluator:    Person{Name: str("evaluator_name"), Phone: str("evaluator_phone"), IDNumber: str("evaluator_id_number")},
	}
	if no := str("case_no"); no != "" {
		req.CaseNos = []string{no}
	}
	if t, ok := rec["rated_at"].(time.Time); ok {
		req.RatedAt = &t
		// A profile without the channel's own id (GB/T 39046 表9 names none) is keyed by what
		// identifies the rating there — case, time and count — so that a retry is the same
		// rating and not a second one.
		if req.EvaluationID == "" && len(req.CaseNos) == 1 {
			count := str("count")
			if count == "" {
				count = "1"
			}
			req.EvaluationID = name + ":" + req.CaseNos[0] + ":" + t.In(calendar.Zone()).Format("20060102T150405") + ":" + count
		}
	}
	req.kinds = caseKinds{applicantType: str("user_type"), promiseKind: str("promise")}
	for _, f := range p.Rating {
		switch f.From {
		case "user_type":
			req.kinds.applicantKey = f.Key
		case "promise":
			req.kinds.promiseKey = f.Key
		}
	}
	if tags, ok := rec["tags"].([]string); ok {
		req.Tags = tags
	}
	if str("count") == "2" && len(req.CaseNos) == 1 {
		// The evaluator's first rating of the case (a follow-up is by the same person).
		if err := req.Evaluator.validate("evaluator"); err != nil {
			return req, err
		}
		var first []string
		err := s.DB.WithContext(ctx).Table("evaluations e").Joins("JOIN evaluation_cases ec ON ec.evaluation_id = e.id").
			Where("ec.case_no = ? AND e.kind = ? AND e.evaluator_key = ?", req.CaseNos[0], KindFirst, s.evaluatorKey(req.Evaluator)).
			Order("e.rated_at, e.id").Limit(1).Pluck("e.evaluation_id", &first).Error
		if err != nil {
			return req, fmt.Errorf("profile %s: first rating of %s: %w", name, req.CaseNos[0], err)
		}
		if len(first) == 0 {
			return req, apperr.Invalid("assessNumber", "no_first_rating", "case %q has no first rating to follow up", req.CaseNos[0])
		}
		req.FollowUpOf = first[0]
	}
	return req, nil
}

// RecordCaseKinds stores on the case what a profile record (FromProfile) said of it: the
// applicant's kind and the item's promise kind, where the case does not say yet. A record that
// contradicts what the case already holds is refused (422 case_kind_mismatch, naming the
// record's key), before the rating is stored. It runs before the rating is stored so that the
// rating is never pushed with the kinds missing; a case outside the caller's scope, or not
// registered, is left to the rating's own checks (which refuse it).
func (s *Service) RecordCaseKinds(ctx context.Context, scope store.Scope, r EvaluationRequest) error {
	k := r.kinds
	if len(r.CaseNos) != 1 || (k.applicantType == "" && k.promiseKind == "") {
		return nil
	}
	if !ValidApplicantType(k.applicantType) {
		return apperr.Invalid(k.applicantKey, "invalid_applicant_type", "the applicant's kind %q is neither %s nor %s", k.applicantType, models.ApplicantPersonal, models.ApplicantLegal)
	}
	if !ValidPromiseKind(k.promiseKind) {
		return apperr.Invalid(k.promiseKey, "invalid_promise_kind", "the promise kind %q is neither %s nor %s", k.promiseKind, models.PromiseCommitted, models.PromiseImmediate)
	}
	var c struct {
		ID, Path, ApplicantType, PromiseKind string
	}
	err := s.DB.WithContext(ctx).Table("service_cases sc").Select("sc.id, u.path, sc.applicant_type, sc.promise_kind").
		Joins("JOIN units u ON u.id = sc.unit_id").Where("sc.case_no = ?", r.CaseNos[0]).Limit(1).Scan(&c).Error
	if err != nil {
		return fmt.Errorf("case kinds of %s: %w", r.CaseNos[0], err)
	}
	if c.ID == "" || !scope.Covers(c.Path) {
		return nil
	}
	set := map[string]any{}
	for _, f := range []struct{ column, what, key, stated, registered string }{
		{"applicant_type", "applicant kind", k.applicantKey, k.applicantType, c.ApplicantType},
		{"promise_kind", "promise kind", k.promiseKey, k.promiseKind, c.PromiseKind},
	} {
		switch {
		case f.stated == "" || f.stated == f.registered:
		case f.registered == "":
			set[f.column] = f.stated
		default:
			return apperr.Invalid(f.key, "case_kind_mismatch", "case %q is registered with %s %s, the record says %s", r.CaseNos[0], f.what, f.registered, f.stated)
		}
	}
	if len(set) == 0 {
		return nil
	}
	if err := s.DB.WithContext(ctx).Table("service_cases").Where("id = ?", c.ID).Updates(set).Error; err != nil {
		return fmt.Errorf("case kinds of %s: %w", r.CaseNos[0], err)
	}
	return nil
}
