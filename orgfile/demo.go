package orgfile

import (
	"bytes"
	_ "embed"
)

//go:embed demo.json
var demoJSON []byte

// Demo returns the embedded demonstration organisation (demo.json) that `redress dev` seeds on
// first start: the Guangdong province administration (gd), the Shenzhen city administration
// (sz) with its platform (sz-platform), the Futian (sz-ft) and Nanshan (sz-ns) district
// administrations with their departments (sz-ft-tax, sz-ft-amr, sz-ft-hrss, sz-ft-hukou,
// sz-ft-realty, sz-ft-hall, and the same under sz-ns), staff S0001…S0034, one user of every
// role (ft-officer, ft-leader, ns-officer, sz-admin, sz-supervisor, sz-auditor, gd-admin,
// channel, sysadmin) and policies on gd (the national defaults) and sz (API.md's example).
// Each call returns a fresh copy that the caller may change.
func Demo() *File {
	f, err := Parse(bytes.NewReader(demoJSON))
	if err != nil {
		panic("orgfile: embedded demo.json is invalid: " + err.Error())
	}
	return f
}

// DemoJSON returns the embedded demo.json as written.
func DemoJSON() []byte { return bytes.Clone(demoJSON) }
