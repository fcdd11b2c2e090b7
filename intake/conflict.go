package intake

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"redress/models"
)

// Conflicting ratings (issue 17, finding 1). Whoever holds a case's receipt or the applicant's
// identity first used to own its rating: staff of the rated unit could rate a case good under
// the applicant's identity, and the citizen's real bad rating was then refused with 409
// already_rated. Now a later first rating of the same case by the same evaluator that
// contradicts the stored one (one good, the other bad) is stored beside it as kind "conflict"
// in the evaluator's conflict slot, both ratings are flagged (rating_conflict) for an
// administrator to rule which one stands, and a bad one opens its work order like any bad
// rating. One conflict slot per case and evaluator bounds what a repeated pair can store;
// a later rating that agrees with the stored one is still a repeat (409 already_rated).
const conflictSlot = -1

// asConflict turns rt, refused by the unique keys with dupErr, into a conflicting rating when
// the evaluator's stored first rating of one of its cases contradicts it, and answers whether
// it did (rt then carries the conflict's kind, slot and flags, to be stored again). Otherwise
// it answers dupErr, for the caller's usual answer.
func (s *Service) asConflict(ctx context.Context, rt *rating, now time.Time, dupErr error) (bool, error) {
	var earlier []struct {
		ID           string
		EvaluationID string
		Bad          bool
		Kind         string
	}
	err := s.DB.WithContext(ctx).Table("evaluation_cases").
		Select("evaluations.id, evaluations.evaluation_id, evaluations.bad, evaluations.kind").
		Joins("JOIN evaluations ON evaluations.id = evaluation_cases.evaluation_id").
		Where("evaluation_cases.case_no IN ? AND evaluation_cases.evaluator_key = ? AND evaluation_cases.slot = 0", rt.r.CaseNos, rt.key).
		Order("evaluations.received_at, evaluations.id").Scan(&earlier).Error
	if err != nil {
		return false, fmt.Errorf("evaluation %s: earlier ratings: %w", rt.r.EvaluationID, err)
	}
	var contradicted []string
	for _, e := range earlier {
		if e.EvaluationID == rt.r.EvaluationID {
			return false, dupErr // a retry of the stored rating: answered from what is stored
		}
		if e.Bad != rt.e.Bad && !slices.Contains(contradicted, e.ID) {
			contradicted = append(contradicted, e.ID)
		}
	}
	if len(contradicted) == 0 {
		return false, dupErr
	}
	rt.e.Kind, rt.slot = KindConflict, conflictSlot
	earlierIDs := make([]string, 0, len(contradicted))
	for _, e := range earlier {
		if slices.Contains(contradicted, e.ID) {
			earlierIDs = append(earlierIDs, e.EvaluationID)
		}
	}
	flag := func(evaluation string, ev map[string]any) FraudFlag {
		return FraudFlag{ID: uuid.NewString(), EvaluationID: evaluation, Kind: FlagConflict, UnitPath: rt.e.UnitPath,
			Evidence: models.NewJSON(ev), Status: FlagOpen, CreatedAt: now}
	}
	// The later rating is flagged with the ratings it contradicts, and each of those with it:
	// an upheld flag excludes its own rating, so the administrator rules on whichever is false.
	rt.flags = append(rt.flags, flag(rt.e.ID, map[string]any{"role": "later", "bad": rt.e.Bad, "evaluation_ids": append([]string{rt.e.EvaluationID}, earlierIDs...)}))
	for _, id := range contradicted {
		rt.flags = append(rt.flags, flag(id, map[string]any{"role": "earlier", "evaluation_ids": []string{rt.e.EvaluationID}}))
	}
	return true, nil
}

// Premises: a unit's own networks and window devices (policy unit_networks, unit_devices).
// A rating sent from the network or a device of the rated unit, or of a unit above it, is
// flagged unit_premises: a citizen rates on their own phone or on the hall's rating device
// (which the channel names and whose id the unit lists only if staff use it), not from the
// unit's office network. Unlike the other rules, which the nearest policy sets, these are the
// union of the policies along the unit's path: the district's office network is the office
// network of every unit in it.

// premises are the networks and devices of one unit's path.
type premises struct {
	networks []netip.Prefix
	devices  map[string]bool
}

// ParseNetwork reads one entry of unit_networks: a CIDR prefix or a single address.
func ParseNetwork(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not a CIDR prefix: %w", s, err)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR prefix", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// unitPremises reads the premises along each of paths, one statement for all.
func (s *Service) unitPremises(ctx context.Context, paths []string) (map[string]premises, error) {
	var codes []string
	for _, p := range paths {
		for _, c := range strings.Split(strings.Trim(p, "/"), "/") {
			if c != "" && !slices.Contains(codes, c) {
				codes = append(codes, c)
			}
		}
	}
	var rows []struct {
		Path string
		Doc  models.JSON[models.PolicyDoc]
	}
	if err := s.DB.WithContext(ctx).Table("policies").Select("units.path, policies.doc").
		Joins("JOIN units ON units.id = policies.unit_id").Where("units.code IN ?", codes).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("unit premises: %w", err)
	}
	out := map[string]premises{}
	for _, p := range paths {
		pr := premises{devices: map[string]bool{}}
		for _, r := range rows {
			if !strings.HasPrefix(p, r.Path) {
				continue
			}
			for _, n := range r.Doc.V.UnitNetworks {
				if pfx, err := ParseNetwork(n); err == nil {
					pr.networks = append(pr.networks, pfx)
				}
			}
			for _, d := range r.Doc.V.UnitDevices {
				pr.devices[d] = true
			}
		}
		out[p] = pr
	}
	return out, nil
}

// flagPremises flags the ratings of batch sent from their rated units' premises. It reads the
// policies only when a rating names an address or a device.
func (s *Service) flagPremises(ctx context.Context, batch []*rating) error {
	var paths []string
	for _, rt := range batch {
		if rt.ip() == "" && rt.r.DeviceID == "" {
			continue
		}
		for _, c := range rt.inScope {
			if !slices.Contains(paths, c.Path) {
				paths = append(paths, c.Path)
			}
		}
	}
	if len(paths) == 0 {
		return nil
	}
	byPath, err := s.unitPremises(ctx, paths)
	if err != nil {
		return err
	}
	for _, rt := range batch {
		addr, _ := netip.ParseAddr(rt.ip())
		addr = addr.Unmap()
		for _, c := range rt.inScope {
			pr := byPath[c.Path]
			var by string
			switch {
			case rt.r.DeviceID != "" && pr.devices[rt.r.DeviceID]:
				by = "device"
			case addr.IsValid() && slices.ContainsFunc(pr.networks, func(p netip.Prefix) bool { return p.Contains(addr) }):
				by = "address"
			default:
				continue
			}
			// Evidence says how it matched, not the address or device: the policy lists them.
			rt.flags = append(rt.flags, FraudFlag{ID: uuid.NewString(), EvaluationID: rt.e.ID, Kind: FlagUnitPremises, UnitPath: rt.e.UnitPath,
				Evidence: models.NewJSON(map[string]any{"matched_by": by, "case_no": c.CaseNo}), Status: FlagOpen, CreatedAt: rt.e.ReceivedAt})
			break
		}
	}
	return nil
}

// ip is the address the rating came from: the channel's client_ip, else the citizen's own
// request's.
func (rt *rating) ip() string {
	if rt.r.ClientIP != "" {
		return rt.r.ClientIP
	}
	return rt.r.RequestIP
}
