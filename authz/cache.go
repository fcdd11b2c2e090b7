package authz

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/casbin/casbin/v2"
)

// Cached answers Enforce from the decisions already taken under the policy it holds. Every
// request asks up to three questions of the same few (role, unit, route, method) tuples, and
// evaluating the model's matcher cost 12 % of the CPU of intake (BENCHMARKS.md, point 1).
//
// Decisions live in a map that is replaced, never cleared, after each reload: a decision
// taken under the old policy can only land in the old map, so no stale answer survives a
// reload (casbin's own cached enforcer clears before it loads, which leaves that window).
type Cached struct {
	enf       *casbin.SyncedEnforcer
	decisions atomic.Pointer[sync.Map]
}

// NewCached wraps enf; call Reset after every change of enf's policy.
func NewCached(enf *casbin.SyncedEnforcer) *Cached {
	c := &Cached{enf: enf}
	c.Reset()
	return c
}

// Reset forgets every decision (after the policy was reloaded).
func (c *Cached) Reset() { c.decisions.Store(&sync.Map{}) }

// Enforce is casbin's Enforce for string requests, remembered per policy.
func (c *Cached) Enforce(rvals ...any) (bool, error) {
	parts := make([]string, len(rvals))
	for i, v := range rvals {
		s, ok := v.(string)
		if !ok || strings.IndexByte(s, 0) >= 0 {
			return c.enf.Enforce(rvals...)
		}
		parts[i] = s
	}
	key := strings.Join(parts, "\x00")
	m := c.decisions.Load() // before deciding: see the type's comment
	if ok, hit := m.Load(key); hit {
		return ok.(bool), nil
	}
	ok, err := c.enf.Enforce(rvals...)
	if err != nil {
		return false, err
	}
	m.Store(key, ok)
	return ok, nil
}
