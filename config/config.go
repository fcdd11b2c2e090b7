// Package config holds the deployment settings of every redress process. Each setting comes from
// one environment variable (the README's configuration table is generated from the same struct
// tags and checked by a test), and command-line flags of `redress dev` override a few of them.
package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/caarlos0/env/v11"
)

// Config is the whole configuration of an api, worker or dev process.
type Config struct {
	// DatabaseURL names the relational database: postgres://… for PostgreSQL, sqlite:PATH for
	// an SQLite file. Empty under `redress dev` means the SQLite file in the data directory.
	DatabaseURL string `env:"DATABASE_URL" doc:"PostgreSQL URL (postgres://user:pass@host:5432/db?sslmode=disable) or sqlite:PATH; required by api, worker and migrate; dev defaults to an SQLite file in the data directory"`
	// DataDir is where `redress dev` keeps its state.
	DataDir string `env:"REDRESS_DATA" envDefault:"./redress-data" doc:"state directory of redress dev (SQLite files, signing key)"`
	// HTTPAddr is the API and web UI listen address.
	HTTPAddr string `env:"REDRESS_HTTP_ADDR" envDefault:"127.0.0.1:8080" doc:"listen address of the API and web UI"`

	TemporalAddress   string `env:"TEMPORAL_ADDRESS" envDefault:"127.0.0.1:7233" doc:"Temporal frontend host:port (dev: where the embedded frontend listens)"`
	TemporalNamespace string `env:"TEMPORAL_NAMESPACE" envDefault:"default" doc:"Temporal namespace"`
	TemporalTaskQueue string `env:"TEMPORAL_TASK_QUEUE" envDefault:"redress" doc:"task queue of the redress workers"`
	TemporalUIPort    int    `env:"TEMPORAL_UI_PORT" envDefault:"8233" doc:"dev only: port of the embedded Temporal web UI (0 disables it)"`

	// JWTKey signs bearer tokens (HMAC-SHA256). Dev generates one into the data directory.
	JWTKey      string        `env:"REDRESS_JWT_KEY" doc:"secret that signs bearer tokens (at least 32 bytes); required outside dev"`
	JWTIssuer   string        `env:"REDRESS_JWT_ISSUER" envDefault:"redress" doc:"issuer written into and required of tokens"`
	JWTAudience string        `env:"REDRESS_JWT_AUDIENCE" envDefault:"redress-api" doc:"audience written into and required of tokens"`
	TokenTTL    time.Duration `env:"REDRESS_TOKEN_TTL" envDefault:"8h" doc:"lifetime of tokens issued at sign-in"`

	// PIIKeys encrypt personal data at rest: "id:base64key,id:base64key"; the first encrypts,
	// all decrypt (rotation). Dev generates one into the data directory.
	PIIKeys string `env:"REDRESS_PII_KEYS" doc:"keys that encrypt personal data, kid:base64(32 bytes) comma-separated, first one encrypts; required outside dev"`

	// PIIHashKey keys the hashes that find one person's records without decrypting; unlike the
	// encryption keys it cannot rotate without re-hashing, so it is separate.
	PIIHashKey string `env:"REDRESS_PII_HASH_KEY" doc:"base64 key (32 bytes) of the keyed hashes used to search personal data; required outside dev"`

	BodyLimit string `env:"REDRESS_BODY_LIMIT" envDefault:"1M" doc:"largest request body accepted (413 beyond)"`
	PublicURL string `env:"REDRESS_PUBLIC_URL" envDefault:"http://127.0.0.1:8080" doc:"external base URL, used in tracking links sent to evaluators"`
	LogLevel  string `env:"REDRESS_LOG_LEVEL" envDefault:"info" doc:"debug, info, warn or error"`
	// ReconcileEvery is how often the worker looks for bad evaluations whose work-order
	// workflow has not started (a crash between storing and starting).
	ReconcileEvery time.Duration `env:"REDRESS_RECONCILE_EVERY" envDefault:"10s" doc:"period of the reconciler that starts work orders lost between database and Temporal"`
}

// Load reads the configuration from the environment.
func Load() (Config, error) {
	var c Config
	if err := env.Parse(&c); err != nil {
		return c, fmt.Errorf("configuration: %w", err)
	}
	return c, nil
}

// Var describes one environment variable of Config, for the README table and the compose test.
type Var struct {
	Name, Default, Doc string
}

// Vars lists every environment variable Config reads, in field order.
func Vars() []Var {
	t := reflect.TypeOf(Config{})
	out := make([]Var, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name := f.Tag.Get("env"); name != "" {
			out = append(out, Var{Name: name, Default: f.Tag.Get("envDefault"), Doc: f.Tag.Get("doc")})
		}
	}
	return out
}

// MarkdownTable renders Vars as the README's configuration table (columns variable, default,
// meaning), one row per variable in field order. The README holds it between the markers
// <!-- config-table:start --> and <!-- config-table:end -->, and a test keeps the two equal.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| variable | default | meaning |\n|---|---|---|\n")
	for _, v := range Vars() {
		def := "—"
		if v.Default != "" {
			def = "`" + v.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", v.Name, def, strings.ReplaceAll(v.Doc, "|", `\|`))
	}
	return b.String()
}
