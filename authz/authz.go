// Package authz holds who-may-call-what: the Casbin model (model.conf) and the default
// route permissions (default.csv), both readable on their own, and the enforcer built from them.
// The HTTP middleware asks the enforcer before any handler runs; row-level scoping to the
// caller's units happens in package store.
package authz

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"

	"redress/scheme"
)

//go:embed model.conf
var modelText string

//go:embed default.csv
var defaultPolicy []byte

// Subjects that are not roles of API.md.
const (
	Anonymous = "anonymous"
	SignedIn  = "signed_in"
)

// NewEnforcer builds an enforcer with the default policy.
func NewEnforcer() (*casbin.SyncedEnforcer, error) {
	m, err := model.NewModelFromString(modelText)
	if err != nil {
		return nil, fmt.Errorf("authz: model: %w", err)
	}
	e, err := casbin.NewSyncedEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("authz: enforcer: %w", err)
	}
	matchDomains(e)
	rules, err := DefaultRules()
	if err != nil {
		return nil, err
	}
	if _, err := e.AddPolicies(rules); err != nil {
		return nil, fmt.Errorf("authz: load default: %w", err)
	}
	return e, nil
}

// domainMatcher is the name under which model.conf calls scheme.DomainCovers.
const domainMatcher = "domainCovers"

// matchDomains makes the enforcer match a request's domain (the unit a role is held on)
// against a rule's domain pattern by the scheme's rule of jurisdiction, both in the matcher
// and in role links, so that route permissions and the data layer's scopes cannot drift.
func matchDomains(e *casbin.SyncedEnforcer) {
	e.AddNamedDomainMatchingFunc("g", domainMatcher, scheme.DomainCovers)
	e.AddFunction(domainMatcher, func(args ...any) (any, error) {
		if len(args) != 2 {
			return false, fmt.Errorf("authz: %s takes 2 arguments, got %d", domainMatcher, len(args))
		}
		path, ok1 := args[0].(string)
		domain, ok2 := args[1].(string)
		if !ok1 || !ok2 {
			return false, fmt.Errorf("authz: %s takes two strings", domainMatcher)
		}
		return scheme.DomainCovers(path, domain), nil
	})
}

// DefaultRules parses default.csv into p rules.
func DefaultRules() ([][]string, error) {
	var out [][]string
	sc := bufio.NewScanner(bytes.NewReader(defaultPolicy))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, ",")
		for i := range f {
			f[i] = strings.TrimSpace(f[i])
		}
		if len(f) != 5 || f[0] != "p" {
			return nil, fmt.Errorf("authz: default.csv line %d: want p, sub, dom, obj, act", n)
		}
		out = append(out, f[1:])
	}
	return out, sc.Err()
}
