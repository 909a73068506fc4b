package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/flowmask/flowmask/proxy"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

func init() { extraCommands = append(extraCommands, newProxyCmd) }

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
routes, limits, TLS and auth. SIGHUP reloads the config, rules and secrets
files and reopens the audit file; SIGTERM drains in-flight requests and exits.`,
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
	fl.StringVar(&f.admin, "admin", "", "admin `ADDR` for /healthz, /readyz, /metrics, or off (default "+proxy.DefaultAdmin+")")
	fl.StringVar(&f.upstream, "upstream", "", "forward to this base `URL` (default: the built-in stdout sink)")
	fl.StringVar(&f.profile, "profile", "", "sink profile: generic, splunk-hec, elastic-bulk, azure-logs-ingestion, azure-data-collector, loki-json or otlp-json (default generic)")
	fl.StringVar(&f.mode, "mode", "", "redact, or report (forward unchanged, count findings)")
	fl.StringVar(&f.workspaceKey, "workspace-key-file", "", "`FILE` holding the Log Analytics workspace key (azure-data-collector re-signs with it)")
	f.secrets.register(cmd)
	return cmd
}

// proxyConfig builds the config the flags describe.
func (f *proxyFlags) proxyConfig() (*proxy.Config, error) {
	var cfg *proxy.Config
	if f.config != "" {
		if f.upstream != "" || f.profile != "" || f.workspaceKey != "" || f.mode != "" {
			return nil, errors.New("--upstream, --profile, --mode and --workspace-key-file describe a single route; put them in the --config file instead")
		}
		var err error
		if cfg, err = proxy.LoadConfig(f.config); err != nil {
			return nil, err
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
		return nil, err
	}
	return cfg, nil
}

func runProxy(ctx context.Context, cmd *cobra.Command, f *proxyFlags) error {
	cfg, err := f.proxyConfig()
	if err != nil {
		return &exitError{exitUsage, err}
	}
	lits, err := f.secrets.literals(newLogger())
	if err != nil {
		return &exitError{exitUsage, err}
	}
	srv, err := proxy.New(cfg, proxy.Options{ConfigFile: f.config, Literals: lits, Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr()})
	if err != nil {
		return &exitError{exitUsage, err}
	}
	defer srv.Audit().Close()
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				log := srv.Logger()
				if err := srv.Audit().Reopen(); err != nil {
					log.Error("audit reopen failed", zap.Error(err))
				}
				if lits, err := f.secrets.literals(newLogger()); err != nil {
					log.Error("secrets reload refused; the old secrets stay masked", zap.Error(err))
				} else {
					srv.SetLiterals(lits)
				}
				srv.ReloadFile() //nolint:errcheck // logged; the old config keeps serving
			}
		}
	}()
	if err := srv.ListenAndServe(ctx); err != nil {
		return &exitError{exitUsage, fmt.Errorf("proxy: %w", err)}
	}
	return nil
}
