// Package scheme holds the rules of the 好差评 scheme (DOMAIN.md) that are neither storage nor
// transport, written once and used alike by the workflows, the activities, the HTTP API and
// the data layer:
//
//   - the scheme policy: the nearest policy on a unit's path wins, stage by stage, over the
//     national defaults (ResolvePolicy, DefaultBudgets): policy.go;
//   - the stages of a work order and the budget each gets by default: stages.go;
//   - jurisdiction: how far a role held on a unit reaches (RoleReach, Span, GrantCovers), the
//     one rule behind the data layer's scopes (store.ScopeFor), the work-order action checks
//     and the Casbin model's domain matching (package authz): reach.go;
//   - who may act on what: the actions table of API.md (who, from which states, with which
//     fields, to where) and the role check over it (MayAct, AllowedActions): actions.go;
//   - the indicator catalogue (the default 评价指标, their kinds, a jurisdiction's own, the
//     nearest catalogue on a path wins) lives in package indicators, beside this one: it
//     also reads and caches the catalogues of the units table, which this package never does.
//
// Nothing here reads a database, a clock or a network: reading the policies of a path is
// store.EffectivePolicy's job, deadline arithmetic on the working-day calendar is package
// calendar's, and the work order's state machine is package workflows'.
package scheme
