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
	DatabaseURL string `env:"DATABASE_URL" required:"true" doc:"PostgreSQL URL (postgres://user:pass@host:5432/db?sslmode=disable) or sqlite:PATH; required by api, worker and migrate; dev defaults to an SQLite file in the data directory"`
	// DataDir is where `redress dev` keeps its state.
	DataDir string `env:"REDRESS_DATA" envDefault:"./redress-data" doc:"state directory of redress dev (SQLite files, signing key)"`
	// HTTPAddr is the API and web UI listen address.
	HTTPAddr string `env:"REDRESS_HTTP_ADDR" envDefault:"127.0.0.1:8080" doc:"listen address of the API and web UI"`

	TemporalAddress   string `env:"TEMPORAL_ADDRESS" envDefault:"127.0.0.1:7233" doc:"Temporal frontend host:port (dev: where the embedded frontend listens)"`
	TemporalNamespace string `env:"TEMPORAL_NAMESPACE" envDefault:"default" doc:"Temporal namespace"`
	TemporalTaskQueue string `env:"TEMPORAL_TASK_QUEUE" envDefault:"redress" doc:"task queue of the redress workers"`
	TemporalUIPort    int    `env:"TEMPORAL_UI_PORT" envDefault:"8233" doc:"dev only: port of the embedded Temporal web UI (0 disables it)"`
	// TemporalUIOrigins may call the payload codec endpoint from a browser (CORS).
	TemporalUIOrigins string `env:"REDRESS_TEMPORAL_UI_ORIGINS" doc:"comma-separated origins (https://temporal-ui.example) of Temporal web UIs allowed to call the payload codec endpoint /api/v1/system/temporal-codec from the browser; dev: the embedded UI"`

	// JWTKey signs bearer tokens (HMAC-SHA256). Dev generates one into the data directory.
	JWTKey      string        `env:"REDRESS_JWT_KEY" required:"true" doc:"secret that signs bearer tokens (at least 32 bytes); required outside dev"`
	JWTIssuer   string        `env:"REDRESS_JWT_ISSUER" envDefault:"redress" doc:"issuer written into and required of tokens"`
	JWTAudience string        `env:"REDRESS_JWT_AUDIENCE" envDefault:"redress-api" doc:"audience written into and required of tokens"`
	TokenTTL    time.Duration `env:"REDRESS_TOKEN_TTL" envDefault:"8h" doc:"lifetime of tokens issued at sign-in"`

	// PIIKeys encrypt personal data at rest: "id:base64key,id:base64key"; the first encrypts,
	// all decrypt (rotation). Dev generates one into the data directory.
	PIIKeys string `env:"REDRESS_PII_KEYS" required:"true" doc:"keys that encrypt personal data, kid:base64(32 bytes AES) or kid:sm4:base64(16 bytes) comma-separated, first one encrypts; required outside dev"`

	// PIIHashKey keys the hashes that find one person's records without decrypting; unlike the
	// encryption keys it cannot rotate without re-hashing, so it is separate.
	PIIHashKey string `env:"REDRESS_PII_HASH_KEY" required:"true" doc:"base64 key (32 bytes) of the keyed hashes used to search personal data; required outside dev"`

	// Crypto picks the cryptographic suite (issue 21): "aes" (AES-256-GCM, HMAC-SHA-256, ECDSA
	// P-256) or "gm" (国密: SM4-GCM, HMAC-SM3, SM2) for personal data at rest, search hashes and
	// signatures on publications and upstream pushes.
	Crypto string `env:"REDRESS_CRYPTO" envDefault:"aes" doc:"cryptographic suite: aes, or gm for SM4-GCM / HMAC-SM3 / SM2 (国密); under gm the first REDRESS_PII_KEYS key must be kid:sm4:base64(16 bytes)"`
	// SigningKey signs publications and upstream pushes; its public key is served at
	// /api/v1/public/signing-key. Dev generates one into the data directory.
	SigningKey string `env:"REDRESS_SIGNING_KEY" doc:"PKCS #8 PEM private key (SM2 under REDRESS_CRYPTO=gm, else ECDSA P-256) that signs publications and upstream pushes; empty: nothing is signed"`

	// TrustedProxies are the reverse proxies whose X-Forwarded-For is believed; without them
	// the address a request came from is the connection's, which a client cannot forge.
	TrustedProxies string `env:"REDRESS_TRUSTED_PROXIES" doc:"CIDRs of reverse proxies whose X-Forwarded-For names the client (comma-separated); empty uses the connection's address"`
	BodyLimit      string `env:"REDRESS_BODY_LIMIT" envDefault:"1M" doc:"largest request body accepted (413 beyond)"`
	// Rate limits and /metrics (issue 17).
	AnonymousRate float64 `env:"REDRESS_ANON_RATE" envDefault:"20" doc:"requests per second one address may send without a token (rating page, tracking link, public results…); bursts of three times as many; beyond it 429"`
	SignInRate    float64 `env:"REDRESS_SIGNIN_RATE" envDefault:"1" doc:"sign-in attempts per second from one address and for one login (bursts of 20); 5 failures of one login lock it for 1 minute, doubling up to 30 minutes"`
	MetricsToken  string  `env:"REDRESS_METRICS_TOKEN" doc:"bearer token that GET /metrics requires on the API address; empty leaves /metrics open there (keep it internal, or set REDRESS_METRICS_ADDR)"`
	MetricsAddr   string  `env:"REDRESS_METRICS_ADDR" doc:"separate listen address of /metrics (e.g. 127.0.0.1:9090); when set the API address serves no /metrics"`
	PublicURL     string  `env:"REDRESS_PUBLIC_URL" envDefault:"http://127.0.0.1:8080" doc:"external base URL, used in tracking links sent to evaluators"`
	LogLevel      string  `env:"REDRESS_LOG_LEVEL" envDefault:"info" doc:"debug, info, warn or error"`
	// ReconcileEvery is how often the worker looks for bad evaluations whose work-order
	// workflow has not started (a crash between storing and starting).
	// WorkflowCache bounds the running work orders a worker keeps in memory between events.
	WorkflowCache  int           `env:"REDRESS_WORKFLOW_CACHE" envDefault:"1000" doc:"running work orders a worker keeps in memory between their events (Temporal's sticky cache); beyond it the least recently used is evicted and replays its history at its next event. Memory and goroutines grow with it until it is full"`
	ReconcileEvery time.Duration `env:"REDRESS_RECONCILE_EVERY" envDefault:"10s" doc:"period of the reconciler that starts work orders lost between database and Temporal"`

	// OIDC* configure sign-in through an OpenID Connect provider (production); with no issuer
	// the UI's "unified identity" button answers that OIDC is not configured.
	OIDCIssuer       string        `env:"REDRESS_OIDC_ISSUER" doc:"issuer URL of the OpenID Connect provider (discovery at ISSUER/.well-known/openid-configuration); empty disables OIDC sign-in"`
	OIDCClientID     string        `env:"REDRESS_OIDC_CLIENT_ID" doc:"OIDC client id registered at the provider"`
	OIDCClientSecret string        `env:"REDRESS_OIDC_CLIENT_SECRET" doc:"OIDC client secret (empty for a public client; PKCE is always used)"`
	OIDCRedirectURL  string        `env:"REDRESS_OIDC_REDIRECT_URL" doc:"callback URL registered at the provider; empty means REDRESS_PUBLIC_URL + /api/v1/auth/oidc/callback"`
	OIDCScopes       string        `env:"REDRESS_OIDC_SCOPES" envDefault:"openid,profile" doc:"scopes requested, comma-separated (openid is always added)"`
	OIDCLoginClaim   string        `env:"REDRESS_OIDC_LOGIN_CLAIM" envDefault:"preferred_username" doc:"ID-token claim holding the redress login; the user must exist and be enabled"`
	OIDCRolesClaim   string        `env:"REDRESS_OIDC_ROLES_CLAIM" doc:"optional ID-token claim listing roles as role@unit-code; when set, each sign-in replaces the user's roles with the valid ones listed"`
	PolicyRefresh    time.Duration `env:"REDRESS_POLICY_REFRESH" envDefault:"3s" doc:"how often an api process checks the database for authorization policy edits made by other processes"`

	// SMS* name the gateway adapter that sends evaluators' SMS (callback notice, outcome with
	// tracking link); without one the SMS are kept in the local inbox (the dev default).
	SMSWebhookURL    string `env:"REDRESS_SMS_WEBHOOK_URL" doc:"URL the worker POSTs each evaluator SMS to (JSON, Idempotency-Key header); empty keeps SMS in the local inbox (redress dev)"`
	SMSWebhookSecret string `env:"REDRESS_SMS_WEBHOOK_SECRET" doc:"shared secret of the SMS webhook: X-Redress-Signature is t=UNIX,v1=hex(HMAC-SHA256(secret, \"UNIX.BODY\")), as every outgoing webhook (docs/webhooks.md)"`
	// Notify* tune the notifications outbox dispatcher of the worker.
	NotifyMaxAttempts int           `env:"REDRESS_NOTIFY_MAX_ATTEMPTS" envDefault:"8" doc:"delivery attempts of a notification before it is dead (an administrator can send it again)"`
	NotifyPoll        time.Duration `env:"REDRESS_NOTIFY_POLL" envDefault:"1s" doc:"how often the worker looks for due notifications in the outbox"`

	// Results (issue 8): the upstream push, 12345, the statistics jobs and the suppression alarm.
	UpstreamURL         string `env:"REDRESS_UPSTREAM_URL" doc:"provincial/national platform endpoint that receives every rating and order outcome (JSON in national codes, Idempotency-Key header); empty queues them until it is set"`
	UpstreamSecret      string `env:"REDRESS_UPSTREAM_SECRET" doc:"shared secret of the upstream push: X-Redress-Signature is t=UNIX,v1=hex(HMAC-SHA256(secret, \"UNIX.BODY\"))"`
	UpstreamMaxAttempts int    `env:"REDRESS_UPSTREAM_MAX_ATTEMPTS" envDefault:"60" doc:"delivery attempts (back-off 2s doubling to 10m, about nine hours) before an upstream or 12345 message is dead"`
	UpstreamProfile     string `env:"REDRESS_UPSTREAM_PROFILE" envDefault:"gb39046" doc:"shape of the upstream push: gb39046 (GB/T 39046-2020 表9/表11 records in Redress's message), zhejiang (the provincial 办件评价 record as the whole body), or the name of the profile in REDRESS_UPSTREAM_PROFILE_FILE"`
	UpstreamProfileFile string `env:"REDRESS_UPSTREAM_PROFILE_FILE" doc:"a further province's push profile (JSON: field map and code tables, as profiles/zhejiang.json); loaded at start, so that REDRESS_UPSTREAM_PROFILE can name it and channel systems can post ratings in it"`
	HotlineURL          string `env:"REDRESS_HOTLINE_URL" doc:"12345 platform endpoint that receives forwarded work orders; empty queues them until it is set"`
	HotlineSecret       string `env:"REDRESS_HOTLINE_SECRET" doc:"shared secret that signs forwarded orders and authenticates the 12345 platform's results (POST /api/v1/hotline/results); empty refuses the results"`
	// Retention is how long evaluators' personal data is kept after the order closed (or the
	// rating arrived, without an order) before the worker erases it (PIPL; issue 21).
	Retention       time.Duration `env:"REDRESS_RETENTION" envDefault:"4320h" doc:"how long evaluators' name, phone and ID number are kept after the work order closed (the last of them for a split theme rating; never less than its 30-day reopen window) or after a rating without an order arrived, and applicants' after the case's rating window closed and all its ratings are due; then the worker erases them (ratings, orders and statistics stay); at least 720h"`
	ResultsEvery    time.Duration `env:"REDRESS_RESULTS_EVERY" envDefault:"1m" doc:"period of the statistics rollup job (the upstream feed runs at least every 10s)"`
	AlarmDays       int           `env:"REDRESS_ALARM_DAYS" envDefault:"90" doc:"window of the suppressed-ratings alarm (0 disables it)"`
	AlarmMinRatings int           `env:"REDRESS_ALARM_MIN_RATINGS" envDefault:"20000" doc:"active ratings in the window above which a unit with no bad review at all is flagged"`
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
	// Required: the production processes refuse to start without it (dev generates or
	// derives it); every other setting without a default is optional.
	Required bool
}

// Vars lists every environment variable Config reads, in field order.
func Vars() []Var {
	t := reflect.TypeOf(Config{})
	out := make([]Var, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if name := f.Tag.Get("env"); name != "" {
			out = append(out, Var{Name: name, Default: f.Tag.Get("envDefault"), Doc: f.Tag.Get("doc"), Required: f.Tag.Get("required") == "true"})
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
		if v.Required {
			def = "required"
		}
		if v.Default != "" {
			def = "`" + v.Default + "`"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s |\n", v.Name, def, strings.ReplaceAll(v.Doc, "|", `\|`))
	}
	return b.String()
}
