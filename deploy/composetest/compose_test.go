package composetest

import (
	"bytes"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.temporal.io/server/common/dynamicconfig"
	temporalschema "go.temporal.io/server/schema"
	"go.yaml.in/yaml/v3"

	"redress/config"
)

// Service names docker-compose.yml must define.
const (
	svcPostgres  = "postgresql"
	svcSchema    = "temporal-schema"
	svcTemporal  = "temporal"
	svcNamespace = "temporal-namespace"
	svcUI        = "temporal-ui"
	svcMigrate   = "redress-migrate"
	svcAPI       = "redress-api"
	svcWorker    = "redress-worker"
)

// redressCommands maps each redress service to its subcommand.
var redressCommands = map[string]string{svcMigrate: "migrate", svcAPI: "api", svcWorker: "worker"}

// secretVars must come from the environment (${NAME:?…}), never from a literal or a default:
// the database passwords and every required redress setting except DATABASE_URL (whose
// password part is checked on its own).
func secretVars() []string {
	out := []string{"POSTGRES_PASSWORD", "TEMPORAL_DB_PASSWORD", "REDRESS_DB_PASSWORD"}
	for _, v := range config.Vars() {
		if v.Required && v.Name != "DATABASE_URL" {
			out = append(out, v.Name)
		}
	}
	return out
}

// repoRoot is the module root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	return root
}

type inputs struct {
	root       string // where deploy/… files referenced by the compose file are read from
	compose    []byte
	dockerfile []byte
	gomod      []byte
}

func readInputs(t *testing.T) inputs {
	t.Helper()
	root := repoRoot(t)
	in := inputs{root: root}
	for _, f := range []struct {
		name string
		dst  *[]byte
	}{{"docker-compose.yml", &in.compose}, {"Dockerfile", &in.dockerfile}, {"go.mod", &in.gomod}} {
		b, err := os.ReadFile(filepath.Join(root, f.name))
		if err != nil {
			t.Fatal(err)
		}
		*f.dst = b
	}
	return in
}

// TestComposeStack checks the real files.
func TestComposeStack(t *testing.T) {
	in := readInputs(t)
	errs := check(in)
	for _, err := range errs {
		t.Error(err)
	}
	if len(errs) == 0 {
		t.Logf("docker-compose.yml, Dockerfile and deploy/ are consistent with go.mod and config.Vars")
	}
}

// TestChecksCatchMistakes breaks the real files in typical ways and expects check to notice each.
func TestChecksCatchMistakes(t *testing.T) {
	in := readInputs(t)
	if errs := check(in); len(errs) != 0 {
		t.Skip("the real files already fail TestComposeStack")
	}
	type mutation struct {
		name, file, old, new, want string
	}
	cases := []mutation{
		{"missing service", "compose", "\n  temporal-ui:\n", "\n  temporal-web:\n", "service temporal-ui"},
		{"env var typo", "compose", "  TEMPORAL_NAMESPACE: redress\n", "  TEMPORAL_NAMESPAC: redress\n", "TEMPORAL_NAMESPAC"},
		{"required var missing", "compose", "  REDRESS_PII_KEYS: ${REDRESS_PII_KEYS:?set REDRESS_PII_KEYS (see deploy/env.example)}\n", "", "REDRESS_PII_KEYS"},
		{"hard-coded secret", "compose", "REDRESS_JWT_KEY: ${REDRESS_JWT_KEY:?set REDRESS_JWT_KEY (see deploy/env.example)}", "REDRESS_JWT_KEY: not-so-secret-key-not-so-secret-key", "REDRESS_JWT_KEY"},
		{"wrong temporal host", "compose", "  TEMPORAL_ADDRESS: temporal:7233\n  TEMPORAL_NAMESPACE", "  TEMPORAL_ADDRESS: localhost:7233\n  TEMPORAL_NAMESPACE", "TEMPORAL_ADDRESS"},
		{"wrong temporal port", "compose", "  TEMPORAL_ADDRESS: temporal:7233\n  TEMPORAL_NAMESPACE", "  TEMPORAL_ADDRESS: temporal:7234\n  TEMPORAL_NAMESPACE", "port"},
		{"wrong database host", "compose", "@postgresql:5432/redress", "@db:5432/redress", "DATABASE_URL"},
		{"database not created", "compose", "@postgresql:5432/redress?", "@postgresql:5432/redress_prod?", "redress_prod"},
		{"temporal seeds", "compose", "POSTGRES_SEEDS: postgresql", "POSTGRES_SEEDS: postgres", "POSTGRES_SEEDS"},
		{"temporal plugin", "compose", "  DB: postgres12\n", "  DB: postgresql\n", "DB"},
		{"latest tag", "compose", "image: postgres:16", "image: postgres:latest", "latest"},
		{"untagged image", "compose", "image: postgres:16", "image: postgres", "tag"},
		{"server tag", "compose", "temporalio/server:1.32.1", "temporalio/server:1.31.0", "go.temporal.io/server"},
		{"admin-tools tag", "compose", "image: temporalio/admin-tools:1.32.1\n    restart: \"no\"\n    depends_on:\n      postgresql", "image: temporalio/admin-tools:1.30.0\n    restart: \"no\"\n    depends_on:\n      postgresql", "admin-tools"},
		{"ui tag", "compose", "temporalio/ui:2.55.0", "temporalio/ui:2.54.1", "ui-server"},
		{"go.mod moves on", "gomod", "go.temporal.io/server v1.32.1", "go.temporal.io/server v1.33.0", "go.temporal.io/server"},
		{"api before migrate", "compose", "      redress-migrate:\n        condition: service_completed_successfully\n      temporal:\n        condition: service_healthy\n      temporal-namespace:\n        condition: service_completed_successfully\n    environment:\n      <<: *redress-env\n      REDRESS_HTTP_ADDR", "      redress-migrate:\n        condition: service_started\n      temporal:\n        condition: service_healthy\n      temporal-namespace:\n        condition: service_completed_successfully\n    environment:\n      <<: *redress-env\n      REDRESS_HTTP_ADDR", "redress-api"},
		{"worker not after temporal", "compose", "      temporal:\n        condition: service_healthy\n      temporal-namespace:\n        condition: service_completed_successfully\n    environment:\n      <<: *redress-env\n\nvolumes", "      temporal-namespace:\n        condition: service_completed_successfully\n    environment:\n      <<: *redress-env\n\nvolumes", "redress-worker"},
		{"wrong command", "compose", "command: [\"worker\"]", "command: [\"api\"]", "redress-worker"},
		{"own image", "compose", "  image: redress:local\n  build:\n    context: .\n", "  image: redress:local\n  build:\n    context: ./cmd\n", "build"},
		{"loopback api", "compose", "REDRESS_HTTP_ADDR: 0.0.0.0:8080", "REDRESS_HTTP_ADDR: 127.0.0.1:8080", "REDRESS_HTTP_ADDR"},
		{"ui port", "compose", "\"127.0.0.1:8233:8080\"", "\"127.0.0.1:8088:8080\"", "8233"},
		{"namespace mismatch", "compose", "NAMESPACE: redress\n      RETENTION", "NAMESPACE: default\n      RETENTION", "namespace"},
		{"healthcheck missing", "compose", "      test: [\"CMD\", \"nc\", \"-z\", \"127.0.0.1\", \"7233\"]\n", "      disable: true\n", "healthcheck"},
		{"dockerfile go version", "dockerfile", "FROM golang:1.27.3 AS build", "FROM golang:1.26 AS build", "go directive"},
		{"dockerfile old patch", "dockerfile", "FROM golang:1.27.3 AS build", "FROM golang:1.27.1 AS build", "go directive"},
		{"dockerfile cgo", "dockerfile", "ENV CGO_ENABLED=0 ", "ENV ", "CGO_ENABLED"},
		{"dockerfile package", "dockerfile", "./cmd/redress", "./cmd/other", "./cmd/redress"},
		{"dockerfile entrypoint", "dockerfile", "ENTRYPOINT [\"/redress\"]", "ENTRYPOINT [\"/bin/redress\"]", "ENTRYPOINT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := in
			var target *[]byte
			switch c.file {
			case "compose":
				m.compose = bytes.Clone(in.compose)
				target = &m.compose
			case "dockerfile":
				m.dockerfile = bytes.Clone(in.dockerfile)
				target = &m.dockerfile
			case "gomod":
				m.gomod = bytes.Clone(in.gomod)
				target = &m.gomod
			}
			if !bytes.Contains(*target, []byte(c.old)) {
				t.Fatalf("mutation no longer applies: %q not in %s", c.old, c.file)
			}
			*target = bytes.Replace(*target, []byte(c.old), []byte(c.new), 1)
			errs := check(m)
			if len(errs) == 0 {
				t.Fatalf("check accepted the broken %s", c.file)
			}
			var all []string
			for _, e := range errs {
				all = append(all, e.Error())
			}
			t.Logf("caught:\n%s", strings.Join(all, "\n"))
			if !strings.Contains(strings.Join(all, "\n"), c.want) {
				t.Fatalf("no error mentions %q; got:\n%s", c.want, strings.Join(all, "\n"))
			}
		})
	}
}

// TestDockerComposeConfig asks a real Compose implementation to validate the file (no engine
// is needed for `config`): the docker client's compose plugin when installed, else Debian's
// docker-compose (1.29, which .ci/run installs). CI sets REDRESS_REQUIRE_COMPOSE=1, so there a
// missing implementation fails instead of skipping.
func TestDockerComposeConfig(t *testing.T) {
	root := repoRoot(t)
	in := readInputs(t)
	file := filepath.Join(root, "docker-compose.yml")
	var cmd *exec.Cmd
	if docker, err := exec.LookPath("docker"); err == nil && exec.Command(docker, "compose", "version").Run() == nil {
		cmd = exec.Command(docker, "compose", "-f", file, "config", "-q")
	} else if dc, err := exec.LookPath("docker-compose"); err == nil {
		// Compose 1.29 predates the top-level `name:` of the Compose Specification (it
		// names the project with -p instead) and refuses the key; everything else is its to
		// judge, so it reads the file without that one line, and the project name by -p.
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		name := regexp.MustCompile(`(?m)^name:\s*(\S+)\s*\n`)
		m := name.FindSubmatch(b)
		if m == nil {
			t.Fatal("docker-compose.yml has no top-level name")
		}
		v1 := filepath.Join(root, ".docker-compose.v1-check.yml") // beside it: relative paths resolve alike
		if err := os.WriteFile(v1, name.ReplaceAll(b, nil), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := os.Remove(v1); err != nil {
				t.Errorf("remove %s: %v", v1, err)
			}
		})
		cmd = exec.Command(dc, "-p", string(m[1]), "-f", v1, "config", "-q")
	} else {
		if os.Getenv("REDRESS_REQUIRE_COMPOSE") == "1" {
			t.Fatal("no Compose implementation (docker compose plugin or docker-compose) installed, and REDRESS_REQUIRE_COMPOSE=1")
		}
		t.Skip("no Compose implementation (docker compose plugin or docker-compose) installed")
	}
	cmd.Dir = root
	cmd.Env = os.Environ()
	for k, v := range testEnv(in.compose) {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out)
	} else {
		t.Logf("%s: valid", strings.Join(cmd.Args, " "))
	}
}

// ---- the checks -------------------------------------------------------------------------

type composeFile struct {
	Services map[string]*service `yaml:"services"`
	Volumes  map[string]any      `yaml:"volumes"`
}

type service struct {
	Image       string       `yaml:"image"`
	Build       any          `yaml:"build"`
	Command     any          `yaml:"command"`
	Entrypoint  any          `yaml:"entrypoint"`
	Environment any          `yaml:"environment"`
	DependsOn   any          `yaml:"depends_on"`
	Ports       []any        `yaml:"ports"`
	Volumes     []any        `yaml:"volumes"`
	Healthcheck *healthcheck `yaml:"healthcheck"`
	Restart     string       `yaml:"restart"`

	env map[string]string
}

type healthcheck struct {
	Test    any  `yaml:"test"`
	Disable bool `yaml:"disable"`
}

// collector gathers failures; every check appends instead of stopping.
type collector struct{ errs []error }

func (c *collector) add(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf(format, args...))
}

func check(in inputs) []error {
	c := &collector{}
	mod := parseGoMod(c, in.gomod)

	var raw any
	if err := yaml.Unmarshal(in.compose, &raw); err != nil {
		return []error{fmt.Errorf("docker-compose.yml: %w", err)}
	}
	checkSecretsFromEnvironment(c, raw)
	env := testEnv(in.compose)
	raw = interpolate(c, raw, env)
	b, err := yaml.Marshal(raw)
	if err != nil {
		return append(c.errs, err)
	}
	var cf composeFile
	if err := yaml.Unmarshal(b, &cf); err != nil {
		return append(c.errs, fmt.Errorf("docker-compose.yml: %w", err))
	}
	for name, s := range cf.Services {
		if s == nil {
			c.add("service %s is empty", name)
			cf.Services[name] = &service{}
			continue
		}
		s.env = envMap(c, name, s.Environment)
	}

	for _, name := range []string{svcPostgres, svcSchema, svcTemporal, svcNamespace, svcUI, svcMigrate, svcAPI, svcWorker} {
		if cf.Services[name] == nil {
			c.add("service %s is missing from docker-compose.yml", name)
			cf.Services[name] = &service{env: map[string]string{}}
		}
	}

	checkEnvExample(c, in.root, in.compose)
	checkImages(c, cf, mod)
	checkDependencies(c, cf)
	checkRedressServices(c, in.root, cf)
	checkPostgres(c, in.root, cf)
	checkTemporal(c, in.root, cf)
	checkDockerfile(c, in.dockerfile, mod)
	return c.errs
}

// ---- go.mod -----------------------------------------------------------------------------

type goMod struct {
	goVersion string            // the go directive, e.g. 1.26.8
	requires  map[string]string // module path → version, e.g. v1.32.1
}

func parseGoMod(c *collector, b []byte) goMod {
	m := goMod{requires: map[string]string{}}
	inRequire := false
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(strings.SplitN(line, "//", 2)[0])
		f := strings.Fields(line)
		switch {
		case len(f) == 0:
		case f[0] == "go" && len(f) == 2:
			m.goVersion = f[1]
		case f[0] == "require" && len(f) == 2 && f[1] == "(":
			inRequire = true
		case f[0] == "require" && len(f) == 3:
			m.requires[f[1]] = f[2]
		case inRequire && f[0] == ")":
			inRequire = false
		case inRequire && len(f) == 2:
			m.requires[f[0]] = f[1]
		}
	}
	if m.goVersion == "" {
		c.add("go.mod: no go directive")
	}
	return m
}

// ---- interpolation ----------------------------------------------------------------------

var varRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// testEnv gives every variable that docker-compose.yml requires (${NAME:?…}) a made-up value,
// the way a filled-in .env would.
func testEnv(compose []byte) map[string]string {
	env := map[string]string{}
	for _, m := range varRef.FindAllSubmatch(compose, -1) {
		if name := string(m[1]); name != "" && strings.HasSuffix(string(m[2]), "?") {
			env[name] = "test-" + strings.ToLower(strings.ReplaceAll(name, "_", "-"))
		}
	}
	return env
}

// interpolate substitutes variables in every string the way docker compose does.
func interpolate(c *collector, v any, env map[string]string) any {
	switch x := v.(type) {
	case string:
		return varRef.ReplaceAllStringFunc(x, func(ref string) string {
			if ref == "$$" {
				return "$"
			}
			m := varRef.FindStringSubmatch(ref)
			name, op, arg := m[1], m[2], m[3]
			if name == "" {
				name = m[4]
			}
			val, set := env[name]
			switch op {
			case ":-":
				if val == "" {
					return arg
				}
			case "-":
				if !set {
					return arg
				}
			case ":?", "?":
				if !set || (op == ":?" && val == "") {
					c.add("variable %s is required: %s", name, arg)
				}
			default:
				if !set {
					c.add("variable %s is used without a default and is not required with ${%s:?…}; compose would substitute an empty string", name, name)
				}
			}
			return val
		})
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = interpolate(c, e, env)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = interpolate(c, e, env)
		}
		return out
	default:
		return v
	}
}

// checkSecretsFromEnvironment insists that secrets are never literal and never defaulted:
// wherever one of secretVars is set in an environment block, its value must be
// ${NAME:?…}, or (for URLs) contain it.
func checkSecretsFromEnvironment(c *collector, raw any) {
	top, _ := raw.(map[string]any)
	services, _ := top["services"].(map[string]any)
	names := make([]string, 0, len(services))
	for n := range services {
		names = append(names, n)
	}
	sort.Strings(names)
	secretRef := regexp.MustCompile(`^\$\{([A-Z_]+):\?[^}]*\}$`)
	secrets := secretVars()
	for _, n := range names {
		s, _ := services[n].(map[string]any)
		env, _ := s["environment"].(map[string]any)
		for k, v := range env {
			str := fmt.Sprint(v)
			if slices.Contains(secrets, k) {
				if m := secretRef.FindStringSubmatch(str); m == nil || m[1] != k {
					c.add("service %s: %s must be ${%s:?…} (a secret from the environment, no default), not %q", n, k, k, str)
				}
			}
			if k == "DATABASE_URL" && !strings.Contains(str, "${REDRESS_DB_PASSWORD:?") {
				c.add("service %s: DATABASE_URL must take its password from ${REDRESS_DB_PASSWORD:?…}", n)
			}
		}
	}
}

// checkEnvExample: every variable the stack requires is documented in deploy/env.example.
func checkEnvExample(c *collector, root string, compose []byte) {
	b, err := os.ReadFile(filepath.Join(root, "deploy", "env.example"))
	if err != nil {
		c.add("deploy/env.example: %v", err)
		return
	}
	documented := map[string]bool{}
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if k, _, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			documented[k] = true
		}
	}
	for name := range testEnv(compose) {
		if !documented[name] {
			c.add("docker-compose.yml requires %s but deploy/env.example does not list it", name)
		}
	}
}

// ---- service helpers --------------------------------------------------------------------

func envMap(c *collector, svc string, v any) map[string]string {
	out := map[string]string{}
	switch x := v.(type) {
	case nil:
	case map[string]any:
		for k, e := range x {
			if e == nil {
				out[k] = ""
			} else {
				out[k] = fmt.Sprint(e)
			}
		}
	case []any:
		for _, e := range x {
			k, val, _ := strings.Cut(fmt.Sprint(e), "=")
			out[k] = val
		}
	default:
		c.add("service %s: environment has an unexpected form %T", svc, v)
	}
	return out
}

func stringList(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return strings.Fields(x)
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = fmt.Sprint(e)
		}
		return out
	}
	return []string{fmt.Sprint(v)}
}

// dependsOn returns dependency → condition (short syntax means service_started).
func dependsOn(s *service) map[string]string {
	out := map[string]string{}
	switch x := s.DependsOn.(type) {
	case []any:
		for _, e := range x {
			out[fmt.Sprint(e)] = "service_started"
		}
	case map[string]any:
		for k, e := range x {
			cond := "service_started"
			if m, ok := e.(map[string]any); ok && m["condition"] != nil {
				cond = fmt.Sprint(m["condition"])
			}
			out[k] = cond
		}
	}
	return out
}

type mount struct{ source, target string }

func mounts(s *service) []mount {
	var out []mount
	for _, v := range s.Volumes {
		switch x := v.(type) {
		case string:
			parts := strings.Split(x, ":")
			if len(parts) >= 2 {
				out = append(out, mount{parts[0], parts[1]})
			}
		case map[string]any:
			out = append(out, mount{fmt.Sprint(x["source"]), fmt.Sprint(x["target"])})
		}
	}
	return out
}

// hostPath maps a path inside the service's container to the bind-mounted file or directory in
// the repository ("" when no bind mount covers it).
func hostPath(root string, s *service, inside string) string {
	best, bestLen := "", -1
	for _, m := range mounts(s) {
		if !strings.HasPrefix(m.source, ".") && !strings.HasPrefix(m.source, "/") {
			continue // named volume
		}
		if inside == m.target || strings.HasPrefix(inside, strings.TrimSuffix(m.target, "/")+"/") {
			if len(m.target) > bestLen {
				rel := strings.TrimPrefix(inside, m.target)
				best, bestLen = filepath.Join(root, filepath.FromSlash(m.source), filepath.FromSlash(rel)), len(m.target)
			}
		}
	}
	return best
}

type portMap struct{ host, container string }

func ports(s *service) []portMap {
	var out []portMap
	for _, p := range s.Ports {
		switch x := p.(type) {
		case map[string]any:
			out = append(out, portMap{fmt.Sprint(x["published"]), fmt.Sprint(x["target"])})
		default:
			parts := strings.Split(strings.TrimSuffix(fmt.Sprint(x), "/tcp"), ":")
			switch len(parts) {
			case 1:
				out = append(out, portMap{"", parts[0]})
			case 2:
				out = append(out, portMap{parts[0], parts[1]})
			default:
				out = append(out, portMap{parts[len(parts)-2], parts[len(parts)-1]})
			}
		}
	}
	return out
}

func splitImage(image string) (repo, tag string) {
	image, _, _ = strings.Cut(image, "@")
	slash := strings.LastIndex(image, "/")
	if colon := strings.LastIndex(image, ":"); colon > slash {
		return image[:colon], image[colon+1:]
	}
	return image, ""
}

// ---- images -----------------------------------------------------------------------------

func checkImages(c *collector, cf composeFile, mod goMod) {
	names := make([]string, 0, len(cf.Services))
	for n := range cf.Services {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := cf.Services[n]
		if s.Image == "" {
			if s.Build == nil {
				c.add("service %s has neither image nor build", n)
			}
			continue
		}
		_, tag := splitImage(s.Image)
		if s.Build != nil {
			continue // built here; the tag only names the local build
		}
		switch {
		case tag == "":
			c.add("service %s: image %s has no tag; pin one", n, s.Image)
		case tag == "latest" || strings.Contains(tag, "latest"):
			c.add("service %s: image %s uses latest; pin a version", n, s.Image)
		}
	}

	serverVersion := strings.TrimPrefix(mod.requires["go.temporal.io/server"], "v")
	uiVersion := strings.TrimPrefix(mod.requires["github.com/temporalio/ui-server/v2"], "v")
	if serverVersion == "" {
		c.add("go.mod does not require go.temporal.io/server")
	}
	if uiVersion == "" {
		c.add("go.mod does not require github.com/temporalio/ui-server/v2")
	}
	wantRepo := map[string]string{
		svcTemporal:  "temporalio/server",
		svcSchema:    "temporalio/admin-tools",
		svcNamespace: "temporalio/admin-tools",
		svcUI:        "temporalio/ui",
		svcPostgres:  "postgres",
	}
	for svc, want := range wantRepo {
		repo, tag := splitImage(cf.Services[svc].Image)
		repo = strings.TrimPrefix(strings.TrimPrefix(repo, "docker.io/"), "library/")
		if repo != want {
			c.add("service %s: image %q, want %s", svc, cf.Services[svc].Image, want)
			continue
		}
		switch want {
		case "temporalio/server", "temporalio/admin-tools":
			if tag != serverVersion {
				c.add("service %s: %s:%s does not match go.temporal.io/server v%s in go.mod", svc, repo, tag, serverVersion)
			}
		case "temporalio/ui":
			if tag != uiVersion {
				c.add("service %s: %s:%s does not match github.com/temporalio/ui-server/v2 v%s in go.mod", svc, repo, tag, uiVersion)
			}
		case "postgres":
			// The postgres12 plugin needs PostgreSQL 12 or newer.
			major, _, _ := strings.Cut(tag, ".")
			major, _, _ = strings.Cut(major, "-")
			if v, err := strconv.Atoi(major); err != nil || v < 12 {
				c.add("service %s: postgres:%s; want a numbered major version ≥ 12", svc, tag)
			}
		}
	}
}

// ---- start order ------------------------------------------------------------------------

func checkDependencies(c *collector, cf composeFile) {
	want := []struct{ svc, dep, cond string }{
		{svcSchema, svcPostgres, "service_healthy"},
		{svcTemporal, svcSchema, "service_completed_successfully"},
		{svcNamespace, svcTemporal, "service_healthy"},
		{svcUI, svcTemporal, "service_healthy"},
		{svcMigrate, svcPostgres, "service_healthy"},
		{svcAPI, svcMigrate, "service_completed_successfully"},
		{svcAPI, svcTemporal, "service_healthy"},
		{svcAPI, svcNamespace, "service_completed_successfully"},
		{svcWorker, svcMigrate, "service_completed_successfully"},
		{svcWorker, svcTemporal, "service_healthy"},
		{svcWorker, svcNamespace, "service_completed_successfully"},
	}
	for _, w := range want {
		if got := dependsOn(cf.Services[w.svc])[w.dep]; got != w.cond {
			c.add("service %s must depend on %s with condition %s (got %q)", w.svc, w.dep, w.cond, got)
		}
	}
	// Generic rules: a service_healthy target has a healthcheck, a completed target is a
	// one-shot, every target exists, and there is no cycle.
	for name, s := range cf.Services {
		for dep, cond := range dependsOn(s) {
			d := cf.Services[dep]
			if d == nil {
				c.add("service %s depends on undefined service %s", name, dep)
				continue
			}
			switch cond {
			case "service_healthy":
				if d.Healthcheck == nil || d.Healthcheck.Disable || len(stringList(d.Healthcheck.Test)) == 0 {
					c.add("service %s waits for %s to be healthy, but %s has no healthcheck", name, dep, dep)
				}
			case "service_completed_successfully":
				if d.Restart != "" && d.Restart != "no" {
					c.add("service %s waits for %s to complete, but %s restarts (%s)", name, dep, dep, d.Restart)
				}
			}
		}
	}
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(string, []string)
	visit = func(n string, trail []string) {
		switch state[n] {
		case 1:
			c.add("depends_on cycle: %s", strings.Join(append(trail, n), " → "))
			return
		case 2:
			return
		}
		state[n] = 1
		if s := cf.Services[n]; s != nil {
			for dep := range dependsOn(s) {
				visit(dep, append(trail, n))
			}
		}
		state[n] = 2
	}
	for n := range cf.Services {
		visit(n, nil)
	}
}

// ---- redress ----------------------------------------------------------------------------

func checkRedressServices(c *collector, root string, cf composeFile) {
	known := map[string]config.Var{}
	for _, v := range config.Vars() {
		known[v.Name] = v
	}
	if len(known) == 0 {
		c.add("config.Vars() is empty")
	}
	image := ""
	for _, name := range []string{svcMigrate, svcAPI, svcWorker} {
		s := cf.Services[name]
		// Same image, built from ./Dockerfile at the repository root.
		if image == "" {
			image = s.Image
		} else if s.Image != image {
			c.add("service %s: image %q differs from the other redress services (%q)", name, s.Image, image)
		}
		ctx, dockerfile := "", "Dockerfile"
		switch b := s.Build.(type) {
		case string:
			ctx = b
		case map[string]any:
			ctx = fmt.Sprint(b["context"])
			if b["dockerfile"] != nil {
				dockerfile = fmt.Sprint(b["dockerfile"])
			}
		default:
			c.add("service %s: no build section (want build: {context: ., dockerfile: Dockerfile})", name)
		}
		if s.Build != nil {
			if filepath.Clean(filepath.Join(root, ctx)) != filepath.Clean(root) || dockerfile != "Dockerfile" {
				c.add("service %s: build context %q / dockerfile %q; want the repository root and its Dockerfile", name, ctx, dockerfile)
			}
		}
		if ep := stringList(s.Entrypoint); len(ep) != 0 && !slices.Equal(ep, []string{"/redress"}) {
			c.add("service %s: entrypoint %v overrides the image's /redress", name, ep)
		}
		if cmd := stringList(s.Command); !slices.Equal(cmd, []string{redressCommands[name]}) {
			c.add("service %s: command %v, want [%s]", name, cmd, redressCommands[name])
		}

		// Environment: only variables redress reads; those without a default are set.
		for k := range s.env {
			if _, ok := known[k]; !ok {
				c.add("service %s: environment variable %s is not one config.Vars() knows (typo?)", name, k)
			}
		}
		if name != svcMigrate {
			for _, v := range config.Vars() {
				if v.Required && strings.TrimSpace(s.env[v.Name]) == "" {
					c.add("service %s: %s is required and not set", name, v.Name)
				}
			}
		} else if s.env["DATABASE_URL"] == "" {
			c.add("service %s: DATABASE_URL is not set", name)
		}
		if addr, ok := s.env["TEMPORAL_ADDRESS"]; ok || name != svcMigrate {
			checkTemporalAddress(c, cf, name, addr)
		}
		if name != svcMigrate {
			ns := s.env["TEMPORAL_NAMESPACE"]
			if ns == "" {
				ns = known["TEMPORAL_NAMESPACE"].Default
			}
			if created := cf.Services[svcNamespace].env["NAMESPACE"]; created != ns {
				c.add("service %s uses Temporal namespace %q but %s creates namespace %q", name, ns, svcNamespace, created)
			}
		}
	}

	// The api listens on all interfaces, on the published port, and is health-checked there.
	api := cf.Services[svcAPI]
	host, port, err := net.SplitHostPort(api.env["REDRESS_HTTP_ADDR"])
	if err != nil || (host != "0.0.0.0" && host != "" && host != "::") {
		c.add("service %s: REDRESS_HTTP_ADDR=%q must bind all interfaces (0.0.0.0:8080) inside the container", svcAPI, api.env["REDRESS_HTTP_ADDR"])
	}
	if !slices.ContainsFunc(ports(api), func(p portMap) bool { return p.container == port && p.host != "" }) {
		c.add("service %s: container port %q of REDRESS_HTTP_ADDR is not published", svcAPI, port)
	}
	if api.Healthcheck == nil || !strings.Contains(strings.Join(stringList(api.Healthcheck.Test), " "), ":"+port+"/") {
		c.add("service %s: healthcheck must probe /healthz or /readyz on port %s", svcAPI, port)
	} else if test := strings.Join(stringList(api.Healthcheck.Test), " "); !strings.Contains(test, "/readyz") && !strings.Contains(test, "/healthz") {
		c.add("service %s: healthcheck %q probes neither /healthz nor /readyz", svcAPI, test)
	}

	// DATABASE_URL: the postgresql service, a database and role its init scripts create, and
	// the password they give that role.
	for _, name := range []string{svcMigrate, svcAPI, svcWorker} {
		checkDatabaseURL(c, root, cf, name)
	}
}

func checkTemporalAddress(c *collector, cf composeFile, svc, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		c.add("service %s: TEMPORAL_ADDRESS=%q is not host:port", svc, addr)
		return
	}
	if host != svcTemporal {
		c.add("service %s: TEMPORAL_ADDRESS host %q is not the %s service", svc, host, svcTemporal)
	}
	want := cf.Services[svcTemporal].env["FRONTEND_GRPC_PORT"]
	if want == "" {
		want = "7233"
	}
	if port != want {
		c.add("service %s: TEMPORAL_ADDRESS port %s is not the Temporal frontend port %s", svc, port, want)
	}
}

func checkDatabaseURL(c *collector, root string, cf composeFile, svc string) {
	raw := cf.Services[svc].env["DATABASE_URL"]
	u, err := url.Parse(raw)
	if err != nil {
		c.add("service %s: DATABASE_URL: %v", svc, err)
		return
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		c.add("service %s: DATABASE_URL scheme %q, want postgres", svc, u.Scheme)
	}
	if u.Hostname() != svcPostgres || (u.Port() != "" && u.Port() != "5432") {
		c.add("service %s: DATABASE_URL host %q is not the %s service on 5432", svc, u.Host, svcPostgres)
	}
	db := strings.TrimPrefix(u.Path, "/")
	user := u.User.Username()
	pass, _ := u.User.Password()
	init := initScripts(c, root, cf)
	if !regexp.MustCompile(`(?i)CREATE\s+DATABASE\s+"?` + regexp.QuoteMeta(db) + `"?[\s;]`).MatchString(init) {
		c.add("service %s: DATABASE_URL names database %q, which the postgresql init scripts do not create", svc, db)
	}
	if !regexp.MustCompile(`(?i)CREATE\s+(ROLE|USER)\s+"?` + regexp.QuoteMeta(user) + `"?\s`).MatchString(init) {
		c.add("service %s: DATABASE_URL user %q is not a role the postgresql init scripts create", svc, user)
	}
	checkPasswordReachesInit(c, cf, init, svc, "DATABASE_URL", pass)
}

// checkPasswordReachesInit: the password a client uses is the value of some variable of the
// postgresql service that the init scripts read.
func checkPasswordReachesInit(c *collector, cf composeFile, init, svc, what, pass string) {
	for k, v := range cf.Services[svcPostgres].env {
		if v == pass && pass != "" && strings.Contains(init, "$"+k) {
			return
		}
	}
	c.add("service %s: the password in %s is not one the postgresql init scripts give a role", svc, what)
}

// initScripts concatenates the files mounted into /docker-entrypoint-initdb.d.
func initScripts(c *collector, root string, cf composeFile) string {
	dir := hostPath(root, cf.Services[svcPostgres], "/docker-entrypoint-initdb.d")
	if dir == "" {
		c.add("service %s: nothing is mounted at /docker-entrypoint-initdb.d", svcPostgres)
		return ""
	}
	var sb strings.Builder
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		sb.Write(b)
		sb.WriteByte('\n')
		return err
	})
	if err != nil {
		c.add("postgresql init scripts: %v", err)
	}
	return sb.String()
}

// ---- postgres ---------------------------------------------------------------------------

func checkPostgres(c *collector, root string, cf composeFile) {
	pg := cf.Services[svcPostgres]
	if !slices.ContainsFunc(mounts(pg), func(m mount) bool {
		return m.target == "/var/lib/postgresql/data" && !strings.HasPrefix(m.source, ".") && !strings.HasPrefix(m.source, "/")
	}) {
		c.add("service %s: keep the data in a named volume at /var/lib/postgresql/data", svcPostgres)
	}
	if pg.Healthcheck == nil || !strings.Contains(strings.Join(stringList(pg.Healthcheck.Test), " "), "pg_isready") {
		c.add("service %s: healthcheck should run pg_isready", svcPostgres)
	}
	if strings.TrimSpace(initScripts(c, root, cf)) == "" {
		c.add("service %s: the init scripts are empty", svcPostgres)
	}
}

// ---- temporal ---------------------------------------------------------------------------

func checkTemporal(c *collector, root string, cf composeFile) {
	srv := cf.Services[svcTemporal]
	e := srv.env
	if e["DB"] != "postgres12" && e["DB"] != "postgres12_pgx" {
		c.add("service %s: DB=%q, want postgres12 (the PostgreSQL ≥ 12 plugin)", svcTemporal, e["DB"])
	}
	if e["POSTGRES_SEEDS"] != svcPostgres {
		c.add("service %s: POSTGRES_SEEDS=%q is not the %s service", svcTemporal, e["POSTGRES_SEEDS"], svcPostgres)
	}
	if p := e["DB_PORT"]; p != "" && p != "5432" {
		c.add("service %s: DB_PORT=%s, PostgreSQL listens on 5432", svcTemporal, p)
	}
	if e["BIND_ON_IP"] != "0.0.0.0" {
		c.add("service %s: BIND_ON_IP=%q; 0.0.0.0 lets the healthcheck and other containers reach it", svcTemporal, e["BIND_ON_IP"])
	}
	init := initScripts(c, root, cf)
	if user := e["POSTGRES_USER"]; !regexp.MustCompile(`(?i)CREATE\s+(ROLE|USER)\s+"?` + regexp.QuoteMeta(user) + `"?\s[^;]*CREATEDB`).MatchString(init) {
		c.add("service %s: POSTGRES_USER=%q is not a role with CREATEDB that the postgresql init scripts create", svcTemporal, user)
	}
	checkPasswordReachesInit(c, cf, init, svcTemporal, "POSTGRES_PWD", e["POSTGRES_PWD"])
	dbname := valueOr(e["DBNAME"], "temporal")
	visname := valueOr(e["VISIBILITY_DBNAME"], "temporal_visibility")

	// Dynamic config: mounted where the server reads it, and valid for this server version.
	dcPath := valueOr(e["DYNAMIC_CONFIG_FILE_PATH"], "/etc/temporal/config/dynamicconfig/docker.yaml")
	if !path.IsAbs(dcPath) {
		dcPath = path.Join("/etc/temporal", dcPath)
	}
	if hp := hostPath(root, srv, dcPath); hp == "" {
		c.add("service %s: no bind mount provides the dynamic config file %s (the server refuses to start without it)", svcTemporal, dcPath)
	} else if b, err := os.ReadFile(hp); err != nil {
		c.add("service %s: dynamic config: %v", svcTemporal, err)
	} else {
		lr := dynamicconfig.LoadYamlFile(b)
		for _, err := range append(lr.Errors, lr.Warnings...) {
			c.add("dynamic config %s: %v", hp, err)
		}
	}
	if srv.Healthcheck == nil || !strings.Contains(strings.Join(stringList(srv.Healthcheck.Test), " "), "7233") {
		c.add("service %s: healthcheck must probe the frontend port 7233", svcTemporal)
	}

	// Schema job: same database, user and password as the server; sets up both databases
	// with the schema directories that ship with this server version.
	sch := cf.Services[svcSchema]
	for _, p := range []struct{ job, want, what string }{
		{"SQL_PLUGIN", e["DB"], "DB"},
		{"SQL_HOST", e["POSTGRES_SEEDS"], "POSTGRES_SEEDS"},
		{"SQL_PORT", valueOr(e["DB_PORT"], "5432"), "DB_PORT"},
		{"SQL_USER", e["POSTGRES_USER"], "POSTGRES_USER"},
		{"SQL_PASSWORD", e["POSTGRES_PWD"], "POSTGRES_PWD"},
		{"TEMPORAL_DBNAME", dbname, "DBNAME"},
		{"VISIBILITY_DBNAME", visname, "VISIBILITY_DBNAME"},
	} {
		if sch.env[p.job] != p.want {
			c.add("service %s: %s=%q differs from the server's %s=%q", svcSchema, p.job, sch.env[p.job], p.what, p.want)
		}
	}
	script := mountedScript(c, root, svcSchema, sch)
	for _, step := range []string{"temporal-sql-tool", "create", "setup-schema", "update-schema", "$TEMPORAL_DBNAME", "$VISIBILITY_DBNAME"} {
		if !strings.Contains(script, step) {
			c.add("service %s: its script does not contain %q", svcSchema, step)
		}
	}
	assets := temporalschema.Assets()
	schemaDirs := regexp.MustCompile(`/etc/temporal/schema/([A-Za-z0-9_./-]+)`).FindAllStringSubmatch(script, -1)
	var seen []string
	for _, m := range schemaDirs {
		dir := strings.TrimSuffix(m[1], "/")
		seen = append(seen, dir)
		if fi, err := fs.Stat(assets, dir); err != nil || !fi.IsDir() {
			c.add("service %s: schema directory %s does not exist in go.temporal.io/server's schema", svcSchema, dir)
		}
	}
	for _, want := range []string{"postgresql/v12/temporal/versioned", "postgresql/v12/visibility/versioned"} {
		if !slices.Contains(seen, want) {
			c.add("service %s: its script does not update %s", svcSchema, want)
		}
	}

	// Namespace job and UI: point at the server; the UI is on host port 8233.
	ns := cf.Services[svcNamespace]
	checkTemporalAddress(c, cf, svcNamespace, ns.env["TEMPORAL_ADDRESS"])
	if ns.env["NAMESPACE"] == "" {
		c.add("service %s: NAMESPACE is not set", svcNamespace)
	}
	nsScript := mountedScript(c, root, svcNamespace, ns)
	if !strings.Contains(nsScript, "namespace create") || !strings.Contains(nsScript, "$NAMESPACE") {
		c.add("service %s: its script does not create $NAMESPACE", svcNamespace)
	}
	ui := cf.Services[svcUI]
	checkTemporalAddress(c, cf, svcUI, ui.env["TEMPORAL_ADDRESS"])
	uiPort := valueOr(ui.env["TEMPORAL_UI_PORT"], "8080")
	if !slices.Contains(ports(ui), portMap{"8233", uiPort}) {
		c.add("service %s: host port 8233 must map to the UI's port %s (got %v)", svcUI, uiPort, ports(ui))
	}
	if d := ui.env["TEMPORAL_DEFAULT_NAMESPACE"]; d != "" && d != ns.env["NAMESPACE"] {
		c.add("service %s: default namespace %q is not the namespace %s creates (%q)", svcUI, d, svcNamespace, ns.env["NAMESPACE"])
	}
}

// mountedScript reads the script a one-shot service runs (its command's first path that a bind
// mount provides).
func mountedScript(c *collector, root, name string, s *service) string {
	for _, arg := range append(stringList(s.Entrypoint), stringList(s.Command)...) {
		if !strings.HasPrefix(arg, "/") {
			continue
		}
		if hp := hostPath(root, s, arg); hp != "" {
			b, err := os.ReadFile(hp)
			if err != nil {
				c.add("service %s: %v", name, err)
				return ""
			}
			return string(b)
		}
	}
	c.add("service %s: runs no script mounted from the repository", name)
	return ""
}

func valueOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// ---- Dockerfile -------------------------------------------------------------------------

type instruction struct{ cmd, args string }

func parseDockerfile(b []byte) []instruction {
	var out []instruction
	var cur strings.Builder
	for _, line := range strings.Split(string(b), "\n") {
		t := strings.TrimSpace(line)
		if cur.Len() == 0 && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if strings.HasSuffix(t, "\\") {
			cur.WriteString(strings.TrimSuffix(t, "\\") + " ")
			continue
		}
		cur.WriteString(t)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, instruction{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	return out
}

func checkDockerfile(c *collector, b []byte, mod goMod) {
	ins := parseDockerfile(b)
	var stages [][]instruction
	var froms []string
	for _, in := range ins {
		if in.cmd == "FROM" {
			stages = append(stages, nil)
			froms = append(froms, in.args)
			continue
		}
		if len(stages) > 0 {
			stages[len(stages)-1] = append(stages[len(stages)-1], in)
		}
	}
	if len(stages) < 2 {
		c.add("Dockerfile: want a multi-stage build (build, then a small runtime), got %d stage(s)", len(stages))
		return
	}

	// Build stage: golang image whose version satisfies go.mod's go directive.
	buildIdx := -1
	for i, f := range froms {
		if strings.HasPrefix(strings.Fields(f)[0], "golang:") {
			buildIdx = i
			break
		}
	}
	if buildIdx < 0 {
		c.add("Dockerfile: no golang build stage")
		return
	}
	_, tag := splitImage(strings.Fields(froms[buildIdx])[0])
	imgVer, _, _ := strings.Cut(tag, "-")
	iv, gv := strings.Split(imgVer, "."), strings.Split(mod.goVersion, ".")
	switch {
	case len(iv) < 2 || len(gv) < 2 || iv[0] != gv[0] || iv[1] != gv[1]:
		c.add("Dockerfile: golang:%s does not match go.mod's go directive %s (major.minor)", tag, mod.goVersion)
	case len(iv) >= 3 && len(gv) >= 3:
		ip, err1 := strconv.Atoi(iv[2])
		gp, err2 := strconv.Atoi(gv[2])
		if err1 != nil || err2 != nil || ip < gp {
			c.add("Dockerfile: golang:%s is older than go.mod's go directive %s (GOTOOLCHAIN=local cannot build it)", tag, mod.goVersion)
		}
	}
	var buildText strings.Builder
	var goBuild string
	for _, in := range stages[buildIdx] {
		buildText.WriteString(in.cmd + " " + in.args + "\n")
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			goBuild = in.args
		}
	}
	bt := buildText.String()
	if !regexp.MustCompile(`(?m)^(ENV|ARG)\b.*\bCGO_ENABLED=0\b`).MatchString(bt) && !strings.Contains(goBuild, "CGO_ENABLED=0") {
		c.add("Dockerfile: the build stage does not set CGO_ENABLED=0")
	}
	if !regexp.MustCompile(`(?m)^(ENV|ARG)\b.*\bGOTOOLCHAIN=local\b`).MatchString(bt) && !strings.Contains(goBuild, "GOTOOLCHAIN=local") {
		c.add("Dockerfile: the build stage does not set GOTOOLCHAIN=local")
	}
	if !regexp.MustCompile(`\s\./cmd/redress(\s|$)`).MatchString(goBuild) {
		c.add("Dockerfile: no `go build … ./cmd/redress` in the build stage (got %q)", goBuild)
	}
	if !strings.Contains(goBuild, "--mount=type=cache") {
		c.add("Dockerfile: go build should use a BuildKit cache mount")
	}

	// Runtime stage: the binary at /redress, run by ENTRYPOINT ["/redress"].
	final := stages[len(stages)-1]
	var entry string
	copied := false
	for _, in := range final {
		switch in.cmd {
		case "ENTRYPOINT":
			entry = in.args
		case "COPY":
			if strings.Contains(in.args, "--from=") && strings.HasSuffix(in.args, " /redress") {
				copied = true
			}
		}
	}
	if entry != `["/redress"]` {
		c.add("Dockerfile: final ENTRYPOINT is %q, want [\"/redress\"]", entry)
	}
	if !copied {
		c.add("Dockerfile: the final stage does not copy the built binary to /redress")
	}
	if f := strings.Fields(froms[len(froms)-1])[0]; strings.HasPrefix(f, "golang:") {
		c.add("Dockerfile: the runtime stage is the Go toolchain image %s", f)
	} else if _, tag := splitImage(f); tag == "" || tag == "latest" {
		c.add("Dockerfile: runtime image %s is not pinned", f)
	}
}
