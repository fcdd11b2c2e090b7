// Package policies holds who-may-call-what: the Casbin model (model.conf) and the default
// route permissions (default.csv), both readable on their own, and the enforcer built from them.
// The HTTP middleware asks the enforcer before any handler runs; row-level scoping to the
// caller's units happens in package store.
package policies

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strings"

	"github.com/casbin/casbin/v2"
	"github.com/casbin/casbin/v2/model"
	"github.com/casbin/casbin/v2/util"
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
		return nil, fmt.Errorf("policies: model: %w", err)
	}
	e, err := casbin.NewSyncedEnforcer(m)
	if err != nil {
		return nil, fmt.Errorf("policies: enforcer: %w", err)
	}
	e.AddNamedDomainMatchingFunc("g", "keyMatch", util.KeyMatch)
	rules, err := DefaultRules()
	if err != nil {
		return nil, err
	}
	if _, err := e.AddPolicies(rules); err != nil {
		return nil, fmt.Errorf("policies: load default: %w", err)
	}
	return e, nil
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
			return nil, fmt.Errorf("policies: default.csv line %d: want p, sub, dom, obj, act", n)
		}
		out = append(out, f[1:])
	}
	return out, sc.Err()
}
