// Package devserver runs a real Temporal server inside the redress process for `redress dev`
// and the integration tests: the server module's own services (frontend, history, matching,
// worker) over an SQLite file, the namespace registered on first start, and optionally the
// Temporal web UI — the way the Temporal CLI's `server start-dev` wires it.
package devserver

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	uiserver "github.com/temporalio/ui-server/v2/server"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	uiserveroptions "github.com/temporalio/ui-server/v2/server/server_options"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	tlog "go.temporal.io/server/common/log"
	"go.temporal.io/server/common/membership/static"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	"go.temporal.io/server/common/primitives"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"google.golang.org/protobuf/types/known/durationpb"
)

const host = "127.0.0.1"

// Options configures the embedded server.
type Options struct {
	// DatabaseFile is the SQLite file of the server's persistence; it is created with its
	// schema when missing. Empty means in memory (tests that need no restart).
	DatabaseFile string
	// FrontendPort is the gRPC port clients dial; 0 picks a free one.
	FrontendPort int
	// UIPort serves the Temporal web UI when non-zero.
	UIPort int
	// Namespace is registered idempotently at every start.
	Namespace string
	// Retention keeps closed workflow histories this long (default 30 days).
	Retention time.Duration
	// CodecEndpoint is the remote payload codec the web UI decodes payloads with (redress's
	// /api/v1/system/temporal-codec): workflow payloads are encrypted (issue 16 finding 6).
	CodecEndpoint string
}

// CodecErrorMessage is what the web UI shows where it could not decode payloads: who may see
// them and how (the UI shows it as is; the people who read it are redress's operators).
func CodecErrorMessage(endpoint string) string {
	return "工单的流程数据已用 redress 的密钥加密，只有系统管理员可以查看明文：请在同一浏览器中以系统管理员身份登录 redress（" +
		strings.TrimSuffix(endpoint, "/api/v1/system/temporal-codec") + "，与本页同一主机名），再刷新本页；或用命令行：temporal workflow show --codec-endpoint " +
		endpoint + " --codec-auth \"Bearer <令牌>\"。 Payloads are encrypted: sign in to redress as a sysadmin in this browser, or use the CLI with --codec-endpoint."
}

// Server is a running embedded Temporal server.
type Server struct {
	server       temporal.Server
	ui           *uiserver.Server
	FrontendAddr string
	UIAddr       string
}

// startAttempts bounds Start's tries. The server's internal ports (history, matching, worker,
// the frontend's HTTP port) are picked free and released before the server binds them, so
// another process may take one in between; a restart on the same SQLite file may also meet
// the previous run's connections still closing. Both pass on a second try, and a CI run once
// failed on exactly this in the Temporal-outage scenario of bench/reliability.go.
const startAttempts = 4

// Start builds and starts the server; it returns once the frontend accepts connections.
func Start(o Options) (*Server, error) {
	if o.Namespace == "" {
		return nil, errors.New("devserver: namespace required")
	}
	var errs []error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		s, err := start(o)
		if err == nil {
			return s, nil
		}
		errs = append(errs, fmt.Errorf("attempt %d: %w", attempt, err))
		if !errors.Is(err, errRetryable) {
			break
		}
		time.Sleep(time.Duration(attempt) * 500 * time.Millisecond)
	}
	return nil, errors.Join(errs...)
}

// errRetryable marks a failure of the server itself to come up, as opposed to bad options.
var errRetryable = errors.New("temporal server did not start")

func start(o Options) (*Server, error) {
	if o.Retention == 0 {
		o.Retention = 30 * 24 * time.Hour
	}
	var err error
	if o.FrontendPort == 0 {
		if o.FrontendPort, err = freePort(); err != nil {
			return nil, err
		}
	}
	frontendHTTP, err := freePort()
	if err != nil {
		return nil, err
	}
	sqlConf, err := sqlConfig(o)
	if err != nil {
		return nil, err
	}
	conf, err := serverConfig(o, frontendHTTP, sqlConf)
	if err != nil {
		return nil, err
	}
	zl, err := zapLogger()
	if err != nil {
		return nil, err
	}
	hosts := map[primitives.ServiceName]static.Hosts{}
	for name, svc := range conf.Services {
		hosts[primitives.ServiceName(name)] = static.SingleLocalHost(net.JoinHostPort(host, strconv.Itoa(svc.RPC.GRPCPort)))
	}
	dyn := dynamicconfig.StaticClient{
		// Running workflows' mutable states kept in memory (an hour each at most): every open
		// work order's costs tens of kB, and at 8 096 the 10-minute soak saw the heap double
		// (BENCHMARKS.md, point 5). An evicted one is read back from SQLite at its next event.
		dynamicconfig.HistoryCacheHostLevelMaxSize.Key():                 512,
		dynamicconfig.FrontendMaxNamespaceVisibilityRPSPerInstance.Key(): 100,
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithStaticHosts(hosts),
		temporal.WithLogger(tlog.NewZapLogger(zl)),
		temporal.WithDynamicConfigClient(dyn),
	)
	if err != nil {
		return nil, fmt.Errorf("devserver: new server: %w: %w", errRetryable, err)
	}
	if err := srv.Start(); err != nil {
		// What did start must not hold the ports or the file for the next try.
		return nil, fmt.Errorf("devserver: start: %w: %w", errRetryable, errors.Join(err, srv.Stop()))
	}
	s := &Server{server: srv, FrontendAddr: net.JoinHostPort(host, strconv.Itoa(o.FrontendPort))}
	if o.UIPort != 0 {
		s.UIAddr = net.JoinHostPort(host, strconv.Itoa(o.UIPort))
		s.ui = uiserver.NewServer(uiserveroptions.WithConfigProvider(&uiconfig.Config{
			Host:                host,
			Port:                o.UIPort,
			TemporalGRPCAddress: s.FrontendAddr,
			EnableUI:            true,
			CORS:                uiconfig.CORS{CookieInsecure: true},
			HideLogs:            true,
			DisableNewsFetch:    true, // no network beyond this machine
			Codec: uiconfig.Codec{
				Endpoint: o.CodecEndpoint,
				// The browser calls the endpoint with its cookies: a sysadmin signed in to
				// redress in the same browser (the API on the same host, another port: the
				// same site, so the SameSite=Strict session cookie goes along) sees the
				// payloads decoded. The API grants CORS with credentials to this UI's origin
				// only (api/temporal_codec.go). Anyone else is refused and reads the message.
				IncludeCredentials:  true,
				DefaultErrorMessage: CodecErrorMessage(o.CodecEndpoint),
			},
		}))
		ln, err := net.Listen("tcp", s.UIAddr)
		if err != nil {
			return nil, fmt.Errorf("devserver: web UI port %d: %w", o.UIPort, errors.Join(err, srv.Stop()))
		}
		if err := ln.Close(); err != nil {
			return nil, fmt.Errorf("devserver: web UI port %d: %w", o.UIPort, errors.Join(err, srv.Stop()))
		}
		go func() {
			// Start blocks until Stop; an error here means the port was taken meanwhile.
			if err := s.ui.Start(); err != nil {
				zl.Error("temporal web UI stopped", zap.Error(err))
			}
		}()
	}
	return s, nil
}

// Stop shuts the UI and the server down. A server that fails to stop cleanly is logged: the
// callers stop it on their way out (deferred), where there is nobody left to tell.
func (s *Server) Stop() {
	if s.ui != nil {
		s.ui.Stop()
	}
	if err := s.server.Stop(); err != nil {
		slog.Warn("devserver: the Temporal server did not stop cleanly", "err", err)
	}
}

func sqlConfig(o Options) (*config.SQL, error) {
	c := &config.SQL{PluginName: sqliteplugin.PluginName}
	if o.DatabaseFile == "" {
		c.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
		c.DatabaseName = fmt.Sprintf("redress-%d-%d", os.Getpid(), time.Now().UnixNano())
	} else {
		// Bare keys: the plugin ignores a leading underscore.
		c.ConnectAttributes = map[string]string{"mode": "rwc", "journal_mode": "wal", "synchronous": "2"}
		c.DatabaseName = o.DatabaseFile
		if _, err := os.Stat(o.DatabaseFile); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(filepath.Dir(o.DatabaseFile), 0o700); err != nil {
				return nil, fmt.Errorf("devserver: data directory: %w", err)
			}
			if err := sqliteschema.SetupSchema(c); err != nil {
				return nil, fmt.Errorf("devserver: set up schema: %w", err)
			}
		}
	}
	// In memory, the SQLite plugin sets the schema up itself when it opens the (pooled, never
	// closed) connection; setting it up again fails with "table namespaces already exists".
	ns, err := sqliteschema.NewNamespaceConfig("active", o.Namespace, false, nil)
	if err != nil {
		return nil, fmt.Errorf("devserver: namespace config: %w", err)
	}
	ns.Detail.Config.Retention = durationpb.New(o.Retention)
	if err := sqliteschema.CreateNamespaces(c, ns); err != nil {
		return nil, fmt.Errorf("devserver: create namespace: %w", err)
	}
	return c, nil
}

func serverConfig(o Options, frontendHTTP int, sqlConf *config.SQL) (*config.Config, error) {
	var c config.Config
	c.Global.Membership.MaxJoinDuration = 30 * time.Second
	c.Global.Membership.BroadcastAddress = host
	c.Persistence.DefaultStore = "sqlite-default"
	c.Persistence.VisibilityStore = "sqlite-default"
	c.Persistence.NumHistoryShards = 1
	c.Persistence.DataStores = map[string]config.DataStore{"sqlite-default": {SQL: sqlConf}}
	frontend := net.JoinHostPort(host, strconv.Itoa(o.FrontendPort))
	c.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        "active",
		CurrentClusterName:       "active",
		ClusterInformation: map[string]cluster.ClusterInformation{
			"active": {
				Enabled:                true,
				InitialFailoverVersion: 1,
				RPCAddress:             frontend,
				HTTPAddress:            net.JoinHostPort(host, strconv.Itoa(frontendHTTP)),
				ClusterID:              "redress-dev",
			},
		},
	}
	c.DCRedirectionPolicy.Policy = "noop"
	c.Services = map[string]config.Service{}
	for _, name := range []string{"frontend", "history", "matching", "worker"} {
		var svc config.Service
		svc.RPC.BindOnIP = host
		if name == "frontend" {
			svc.RPC.GRPCPort = o.FrontendPort
			svc.RPC.HTTPPort = frontendHTTP
		} else {
			p, err := freePort()
			if err != nil {
				return nil, err
			}
			svc.RPC.GRPCPort = p
		}
		c.Services[name] = svc
	}
	c.Archival.History.State = "disabled"
	c.Archival.Visibility.State = "disabled"
	c.NamespaceDefaults.Archival.History.State = "disabled"
	c.NamespaceDefaults.Archival.Visibility.State = "disabled"
	c.PublicClient.HostPort = frontend
	return &c, nil
}

// zapLogger logs the server's errors only: at info level its output drowns everything else.
func zapLogger() (*zap.Logger, error) {
	zc := zap.NewProductionConfig()
	zc.Level = zap.NewAtomicLevelAt(zapcore.ErrorLevel)
	zc.Sampling = nil
	zc.OutputPaths = []string{"stderr"}
	zc.ErrorOutputPaths = []string{"stderr"}
	return zc.Build()
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", host+":0")
	if err != nil {
		return 0, fmt.Errorf("devserver: free port: %w", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil {
		return 0, fmt.Errorf("devserver: free port: %w", err)
	}
	return port, nil
}
