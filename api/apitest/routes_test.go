package apitest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"go.yaml.in/yaml/v3"

	"redress/api"
	"redress/authz"
	"redress/web"
)

// allRoutes builds a server with every optional part on (dev sign-in, web UI) and returns
// its routes.
func allRoutes(t *testing.T) []*echo.Route {
	t.Helper()
	enf, err := authz.NewEnforcer()
	if err != nil {
		t.Fatal(err)
	}
	srv := api.New(api.Deps{Enforcer: enf, Registry: prometheus.NewRegistry(), Web: web.FS, Dev: true})
	return srv.Echo().Routes()
}

// openAPIOps reads api/openapi.yaml: for each documented operation "METHOD echo-path", its
// x-roles. The Echo path is the OpenAPI path with {param} as :param, unless the operation
// says x-echo-path.
func openAPIOps(t *testing.T) map[string][]string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	b, err := os.ReadFile(filepath.Join(filepath.Dir(file), "..", "openapi.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Roles    []string `yaml:"x-roles"`
			EchoPath string   `yaml:"x-echo-path"`
		} `yaml:"paths"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	param := regexp.MustCompile(`\{([^}]+)\}`)
	out := map[string][]string{}
	for p, ops := range doc.Paths {
		for method, op := range ops {
			switch method {
			case "get", "post", "put", "patch", "delete", "head", "options":
			default:
				continue // parameters, summary …
			}
			ep := op.EchoPath
			if ep == "" {
				ep = param.ReplaceAllString(p, ":$1")
			}
			roles := op.Roles
			if roles == nil {
				roles = []string{} // documented without x-roles: differs from any policy
			}
			out[strings.ToUpper(method)+" "+ep] = roles
		}
	}
	return out
}

// policySubjects maps "METHOD route" to the subjects default.csv admits.
func policySubjects(t *testing.T) map[string][]string {
	t.Helper()
	rules, err := authz.DefaultRules()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, r := range rules { // sub, dom, obj, act
		k := r[3] + " " + r[2]
		if !slices.Contains(out[k], r[0]) {
			out[k] = append(out[k], r[0])
		}
	}
	return out
}

// routeProblems lists every registered route that lacks a policy line or whose OpenAPI
// operation is missing or names other roles, and every documented operation that is not
// registered.
func routeProblems(routes []*echo.Route, policy, doc map[string][]string) []string {
	var out []string
	registered := map[string]bool{}
	for _, r := range routes {
		k := r.Method + " " + r.Path
		if registered[k] {
			continue
		}
		registered[k] = true
		subs, guarded := policy[k]
		if !guarded {
			out = append(out, k+": no line in authz/default.csv (the route would refuse everyone)")
		}
		roles, documented := doc[k]
		if !documented {
			out = append(out, k+": not documented in api/openapi.yaml")
		}
		if !guarded || !documented {
			continue
		}
		a, b := slices.Clone(subs), slices.Clone(roles)
		sort.Strings(a)
		sort.Strings(b)
		if !slices.Equal(a, b) {
			out = append(out, fmt.Sprintf("%s: x-roles %v, default.csv %v", k, b, a))
		}
	}
	for k := range doc {
		if !registered[k] {
			out = append(out, k+": documented in api/openapi.yaml but not registered")
		}
	}
	sort.Strings(out)
	return out
}

// TestRoutePolicyCompleteness: every route the server registers has a Casbin policy line and
// an OpenAPI operation whose x-roles are exactly the policy's subjects.
func TestRoutePolicyCompleteness(t *testing.T) {
	routes := allRoutes(t)
	if len(routes) < 10 {
		t.Fatalf("only %d routes registered", len(routes))
	}
	policy, doc := policySubjects(t), openAPIOps(t)
	for _, p := range routeProblems(routes, policy, doc) {
		t.Error(p)
	}

	// The check itself: a route added without a policy or a document is caught.
	t.Run("an unguarded route fails", func(t *testing.T) {
		e := echo.New()
		e.GET("/api/v1/me", func(echo.Context) error { return nil })
		e.DELETE("/api/v1/work-orders/:id", func(echo.Context) error { return nil })
		probs := routeProblems(e.Routes(), policy, map[string][]string{"GET /api/v1/me": {"signed_in"}})
		want := []string{
			"DELETE /api/v1/work-orders/:id: no line in authz/default.csv (the route would refuse everyone)",
			"DELETE /api/v1/work-orders/:id: not documented in api/openapi.yaml",
		}
		if !slices.Equal(probs, want) {
			t.Errorf("problems %q, want %q", probs, want)
		}
		probs = routeProblems(e.Routes()[:0:0], policy, map[string][]string{"GET /api/v1/me": {"officer"}})
		if len(probs) != 1 || !strings.Contains(probs[0], "not registered") {
			t.Errorf("problems %q", probs)
		}
		e2 := echo.New()
		e2.GET("/api/v1/me", func(echo.Context) error { return nil })
		probs = routeProblems(e2.Routes(), policy, map[string][]string{"GET /api/v1/me": {"officer"}})
		if len(probs) != 1 || !strings.Contains(probs[0], "x-roles [officer], default.csv [signed_in]") {
			t.Errorf("problems %q", probs)
		}
	})
}
