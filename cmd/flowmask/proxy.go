package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/flowmask/flowmask/internal/yamlconf"
	"github.com/flowmask/flowmask/proxy"
	"github.com/flowmask/flowmask/proxy/forward"
	"github.com/flowmask/flowmask/redactor/secrets"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

type proxyFlags struct {
	config       string
	listen       string
	admin        string
	upstream     string
	profile      string
	mode         string
	workspaceKey string
	secrets      secretFlags
}

func newProxyCmd() *cobra.Command {
	var f proxyFlags
	cmd := &cobra.Command{
		Use:   "proxy [--config FILE | --upstream URL [flags]]",
		Short: "Run the redacting reverse proxy in front of a log or SIEM ingestion endpoint",
		Long: `proxy is a reverse proxy (or sidecar) that redacts request bodies on their
way to a log or SIEM ingestion endpoint: Azure Monitor Logs Ingestion, the Log
Analytics Data Collector API, Splunk HEC, Elasticsearch/OpenSearch _bulk, Loki,
OTLP/HTTP JSON or any JSON webhook.

With no arguments it listens on 127.0.0.1:8080 and prints each redacted body as
one JSON line to stdout (audit records go to stderr), so you can try it with
  curl -d '{"password":"hunter2-hunter2"}' -H 'Content-Type: application/json' localhost:8080/

--upstream URL forwards to one upstream; --config FILE configures several
routes, limits, TLS, auth and the known-secret sources (secrets:), which are
refreshed on their interval and when their files change. SIGHUP, or
POST /-/reload on the admin listener (200 once reloaded, 500 if refused),
reloads the config and rules, refreshes every secrets source and reopens the
audit file (changes to the secrets: section itself need a restart); SIGTERM drains
in-flight requests and exits. A forward: section in the same file also runs
the forward proxy (see flowmask forward) in this process.`,
		Example: `  flowmask proxy
  flowmask proxy --upstream https://splunk.example.com:8088 --profile splunk-hec --secret-env DB_PASSWORD
  flowmask proxy --upstream https://WS.ods.opinsights.azure.com --profile azure-data-collector --workspace-key-file la.key
  flowmask proxy --config proxy.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runProxy(cmd.Context(), cmd, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "YAML config `FILE` (routes, limits, TLS, auth, audit)")
	fl.StringVar(&f.listen, "listen", "", "listen `ADDR` (default "+proxy.DefaultListen+")")
	fl.StringVar(&f.admin, "admin", "", "admin `ADDR` for /healthz, /readyz, /metrics and POST /-/reload, or off (default "+proxy.DefaultAdmin+")")
	fl.StringVar(&f.upstream, "upstream", "", "forward to this base `URL` (default: the built-in stdout sink)")
	fl.StringVar(&f.profile, "profile", "", "sink profile: generic, splunk-hec, elastic-bulk, azure-logs-ingestion, azure-data-collector, loki-json or otlp-json (default generic)")
	fl.StringVar(&f.mode, "mode", "", "redact, or report (forward unchanged, count findings)")
	fl.StringVar(&f.workspaceKey, "workspace-key-file", "", "`FILE` holding the Log Analytics workspace key (azure-data-collector re-signs with it)")
	f.secrets.register(cmd)
	return cmd
}

// proxyConfig builds the config the flags describe, and the forward proxy's
// config when the config file has a forward: section (nil otherwise).
func (f *proxyFlags) proxyConfig() (*proxy.Config, *forward.ForwardConfig, error) {
	if err := refuseStdinConfig(f.config, &f.secrets); err != nil {
		return nil, nil, err
	}
	var cfg *proxy.Config
	var fwd *forward.ForwardConfig
	if f.config != "" {
		if f.upstream != "" || f.profile != "" || f.workspaceKey != "" || f.mode != "" {
			return nil, nil, errors.New("--upstream, --profile, --mode and --workspace-key-file describe a single route; put them in the --config file instead")
		}
		var err error
		if cfg, fwd, err = loadProxyFile(f.config); err != nil {
			return nil, nil, err
		}
	} else {
		cfg = proxy.DefaultConfig()
		rt := &cfg.Routes[0]
		rt.Upstream, rt.Profile, rt.Mode, rt.WorkspaceKeyFile = f.upstream, f.profile, f.mode, f.workspaceKey
	}
	if f.listen != "" {
		cfg.Listen = f.listen
	}
	if f.admin != "" {
		cfg.Admin = f.admin
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, nil, err
	}
	return cfg, fwd, nil
}

// loadProxyFile reads a config file once and decodes it for flowmask proxy:
// the proxy's keys and routes and, when there is one, the forward: section.
// Every problem of both is returned, sorted by line.
func loadProxyFile(name string) (*proxy.Config, *forward.ForwardConfig, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, nil, fmt.Errorf("config: %w", err)
	}
	doc, err := yamlconf.Parse(name, data)
	if err != nil {
		return nil, nil, err
	}
	cfg, errs := proxy.DecodeConfig(doc)
	var fwd *forward.ForwardConfig
	if doc.Has("forward") {
		var ferrs yamlconf.Errors
		fwd, ferrs = forward.DecodeForwardSection(doc)
		errs = append(errs, ferrs...)
	}
	if err := errs.Err(); err != nil {
		return nil, nil, err
	}
	return cfg, fwd, nil
}

func runProxy(ctx context.Context, cmd *cobra.Command, f *proxyFlags) error {
	cfg, fwdCfg, err := f.proxyConfig()
	if err != nil {
		return &exitError{exitUsage, err}
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := notifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	// Known secrets come from the config's secrets: section and the flags,
	// through one manager that keeps them fresh; /readyz follows it.
	var mgr atomic.Pointer[secrets.Manager]
	ready := func() error {
		if m := mgr.Load(); m != nil {
			return m.Ready()
		}
		return nil
	}
	// SIGHUP and POST /-/reload on the admin listener run the same reload,
	// one at a time.
	var reload func(context.Context) error
	var reloadMu sync.Mutex
	reloadOnce := func(ctx context.Context) error {
		reloadMu.Lock()
		defer reloadMu.Unlock()
		return reload(ctx)
	}
	srv, err := proxy.New(cfg, proxy.Options{ConfigFile: f.config, Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), LogOutput: streamsFrom(ctx).logOutput(), LookupEnv: streamsFrom(ctx).lookupEnv, Ready: ready, Reload: reloadOnce})
	if err != nil {
		return &exitError{exitUsage, err}
	}
	defer srv.Audit().Close()
	m, err := f.secrets.manager(cfg.Secrets, srv.Logger(), srv.Registry(), nil)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	if err := m.Load(ctx); err != nil {
		return &exitError{exitUsage, err}
	}
	mgr.Store(m)
	m.Subscribe(srv.SetLiterals)
	// A forward: section in the same file runs the forward proxy in this
	// process, with the same known secrets (metrics on its own admin).
	var fw *forward.Forward
	if fwdCfg != nil {
		if fw, err = forward.NewForward(fwdCfg, forward.ForwardOptions{Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), LogOutput: streamsFrom(ctx).logOutput(), Ready: ready}); err != nil {
			return &exitError{exitUsage, fmt.Errorf("forward: %w", err)}
		}
		defer fw.Close()
		m.Subscribe(fw.SetLiterals)
	}
	go m.Run(ctx) //nolint:errcheck // returns nil when ctx is done
	// Reload reopens the audit files, refreshes the known secrets and
	// re-reads the config file (or, from flags, recompiles the same config,
	// re-reading its rule files); the first failure is returned, after all
	// steps ran.
	reload = func(rctx context.Context) error {
		log := srv.Logger()
		var errs []error
		if err := srv.Audit().Reopen(); err != nil {
			log.Error("audit reopen failed", zap.Error(err))
			errs = append(errs, fmt.Errorf("audit reopen: %w", err))
		}
		if fw != nil {
			if err := fw.Reopen(); err != nil {
				log.Error("forward audit reopen failed", zap.Error(err))
				errs = append(errs, fmt.Errorf("forward audit reopen: %w", err))
			}
		}
		if err := m.Refresh(rctx); err != nil {
			log.Error("secrets refresh failed; the last good values stay masked", zap.Error(err))
			errs = append(errs, fmt.Errorf("secrets refresh: %w", err))
		}
		if err := srv.ReloadFile(); err != nil { // logged; the old config keeps serving
			errs = append(errs, err)
		}
		return errors.Join(errs...)
	}
	onHangup(ctx, func() { reloadOnce(ctx) }) //nolint:errcheck // logged
	if fw == nil {
		if err := srv.ListenAndServe(ctx); err != nil {
			return &exitError{exitUsage, fmt.Errorf("proxy: %w", err)}
		}
		return nil
	}
	// Both serve until ctx is done; either failing stops the other.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, 2)
	go func() { errs <- wrapErr("proxy", srv.ListenAndServe(ctx)); cancel() }()
	go func() { errs <- wrapErr("forward", fw.ListenAndServe(ctx)); cancel() }()
	var first error
	for range 2 {
		if err := <-errs; err != nil && first == nil && !errors.Is(err, context.Canceled) {
			first = err
		}
	}
	if first != nil {
		return &exitError{exitUsage, first}
	}
	return nil
}

func wrapErr(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// onHangup calls fn on every SIGHUP (from the streams in ctx) until ctx is
// done.
func onHangup(ctx context.Context, fn func()) {
	s := streamsFrom(ctx)
	if s.Notify == nil {
		return
	}
	hup := make(chan os.Signal, 1)
	s.Notify(hup, syscall.SIGHUP)
	go func() {
		if s.Stop != nil {
			defer s.Stop(hup)
		}
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				fn()
			}
		}
	}()
}
