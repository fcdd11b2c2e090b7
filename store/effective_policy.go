package store

import (
	"context"
	"fmt"

	"redress/models"
	"redress/scheme"
)

// EffectivePolicy is the scheme policy that applies to the unit at unitPath: the policies
// set on the units of the path, resolved by the scheme's rule (scheme.ResolvePolicy: the
// nearest wins, stage by stage, over the national defaults).
func EffectivePolicy(ctx context.Context, db *DB, unitPath string) (scheme.Policy, error) {
	var rows []struct {
		Code string
		Path string
		Doc  models.JSON[models.PolicyDoc]
	}
	err := db.WithContext(ctx).Table("policies").
		Select("units.code, units.path, policies.doc").
		Joins("JOIN units ON units.id = policies.unit_id").
		Where("units.code IN ?", scheme.PathCodes(unitPath)).Scan(&rows).Error
	if err != nil {
		return scheme.Policy{}, fmt.Errorf("load policy %s: %w", unitPath, err)
	}
	found := make([]scheme.PolicyOnPath, len(rows))
	for i, r := range rows {
		found[i] = scheme.PolicyOnPath{Code: r.Code, Path: r.Path, Doc: r.Doc.V}
	}
	return scheme.ResolvePolicy(unitPath, found), nil
}

// EffectivePolicy is the scheme policy in force at u (EffectivePolicy), a unit the caller
// reached through Reachable.
func (r Units) EffectivePolicy(ctx context.Context, u models.Unit) (scheme.Policy, error) {
	return EffectivePolicy(ctx, r.DB, u.Path)
}
