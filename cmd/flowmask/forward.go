package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/flowmask/flowmask/proxy"
	"github.com/flowmask/flowmask/proxy/forward"
	"github.com/flowmask/flowmask/redactor/secrets"
	"github.com/spf13/cobra"
	"go.uber.org/zap"
)

type forwardFlags struct {
	config          string
	listen          string
	admin           string
	caDir           string
	intercept       []string
	allow           []string
	allowWebSocket  []string
	redactResponses []string
	redactRequests  []string
	audit           string
	auditProfile    string
	auditTokenFile  string
	auditTokenEnv   string
	auditWSID       string
	auditWSKeyFile  string
	auditWSKeyEnv   string
	auditLogType    string
	authFile        string
	upstreamCA      string
	recordLimit     string
	secrets         secretFlags

	allowNetworks     []string
	maxHeaderBytes    string
	readHeaderTimeout time.Duration
	readTimeout       time.Duration
	idleTimeout       time.Duration
	exchangeTimeout   time.Duration
	connectionTimeout time.Duration
	maxExchanges      int
	queueTimeout      time.Duration
}

func newForwardCmd() *cobra.Command {
	var f forwardFlags
	cmd := &cobra.Command{
		Use:   "forward [--config FILE] [flags]",
		Short: "Run an audited, redacting forward proxy (HTTP_PROXY / HTTPS_PROXY) for connector traffic",
		Long: `forward is an HTTP forward proxy for outbound connector calls. Every
exchange gets a run-history record (JSON lines) with secrets removed from the
URL, headers and bodies. Hosts listed with --redact-responses or
--redact-requests also have those bodies redacted in the traffic itself.

HTTPS: CONNECT to a host listed with --intercept is terminated with a
certificate of the CA in --ca-dir (make one with "flowmask ca init") and
re-originated with verification; other CONNECTs are tunnelled blind and
recorded as tunnels (host, bytes, duration).

Destinations: every address a destination resolves to is checked, allowed names
included, and checked again as the socket connects: loopback, private,
link-local and metadata addresses are refused unless --allow-network holds them
or --allow names that IP literal and port; with any --allow, only the allowed
destinations are served. A listener other than loopback requires --auth-file.

Bounds (listener and intercepted tunnels alike): --max-header-bytes (431 and
the connection closed), --read-header-timeout, --read-timeout, --idle-timeout,
--exchange-timeout, --connection-timeout (life of an intercepted tunnel) and
--max-concurrent-exchanges with --queue-timeout (then 503). See
docs/forward-security.md.

Records go to --audit: stderr (default), stdout, a file, or an http(s) URL
that gets batches each second framed by --audit-profile (generic NDJSON,
splunk-hec, elastic-bulk, azure-logs-ingestion, loki-json,
azure-data-collector), authenticated with --audit-token-file/-env or, for the
Data Collector API, --audit-workspace-id and --audit-workspace-key-file/-env.
Those credentials are always masked as known secrets.

--config FILE reads the file's forward: section (and its secrets: section);
flags override it. SIGHUP reopens the audit file and reloads the secrets
sources; SIGTERM drains in-flight requests and exits.`,
		Example: `  flowmask ca init --out /etc/flowmask/ca
  flowmask forward --ca-dir /etc/flowmask/ca --intercept api.example.com:443 \
      --redact-responses api.example.com:443 --audit /var/log/flowmask/forward.jsonl
  HTTPS_PROXY=http://127.0.0.1:3128 SSL_CERT_FILE=/etc/flowmask/ca/ca.crt my-connector`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runForward(cmd, &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "flowmask config `FILE`; its forward: and secrets: sections are read")
	fl.StringVar(&f.listen, "listen", "", "listen `ADDR` (default "+forward.DefaultForwardListen+")")
	fl.StringVar(&f.admin, "admin", "", "admin `ADDR` for /healthz, /readyz, /metrics, or off (default off)")
	fl.StringVar(&f.caDir, "ca-dir", "", "`DIR` holding ca.crt and ca.key, the CA that signs certificates of intercepted hosts")
	fl.StringArrayVar(&f.intercept, "intercept", nil, "intercept (TLS-terminate and inspect) CONNECTs to `HOST:PORT` (repeatable)")
	fl.StringArrayVar(&f.allow, "allow", nil, "serve only these destinations; also the only way to reach a private, loopback or metadata address: `HOST:PORT` (repeatable)")
	fl.StringArrayVar(&f.allowWebSocket, "allow-websocket", nil, "let WebSocket upgrades through (unredacted) on this inspected `HOST:PORT` (repeatable)")
	fl.StringArrayVar(&f.redactResponses, "redact-responses", nil, "redact response bodies from `HOST:PORT` before they reach the client (HTTPS hosts must be intercepted; repeatable)")
	fl.StringArrayVar(&f.redactRequests, "redact-requests", nil, "redact request bodies to `HOST:PORT` before they leave (HTTPS hosts must be intercepted; repeatable)")
	fl.StringVar(&f.audit, "audit", "", "run-history records to stderr (default), stdout, off, this `FILE` (reopened on SIGHUP) or an http(s) URL (batches each second, framed by --audit-profile)")
	fl.StringVar(&f.auditProfile, "audit-profile", "", "framing and auth of an --audit URL: generic (NDJSON, default), splunk-hec, elastic-bulk, azure-logs-ingestion, loki-json or azure-data-collector")
	fl.StringVar(&f.auditTokenFile, "audit-token-file", "", "`FILE` holding the audit sink's token (HEC token, Elasticsearch API key, bearer token)")
	fl.StringVar(&f.auditTokenEnv, "audit-token-env", "", "environment variable `NAME` holding the audit sink's token")
	fl.StringVar(&f.auditWSID, "audit-workspace-id", "", "Log Analytics workspace `ID` (azure-data-collector)")
	fl.StringVar(&f.auditWSKeyFile, "audit-workspace-key-file", "", "`FILE` holding the workspace shared key, base64 (azure-data-collector)")
	fl.StringVar(&f.auditWSKeyEnv, "audit-workspace-key-env", "", "environment variable `NAME` holding the workspace shared key (azure-data-collector)")
	fl.StringVar(&f.auditLogType, "audit-log-type", "", "Log-Type of azure-data-collector posts, the table <TYPE>_CL (default "+forward.DefaultAuditLogType+")")
	fl.StringVar(&f.authFile, "auth-file", "", "proxy credentials `FILE`: user:<bcrypt hash> lines (Basic) or bearer tokens; required unless listening on loopback")
	fl.StringVar(&f.upstreamCA, "upstream-ca", "", "PEM `FILE` of extra CAs trusted for destinations (besides the system roots / SSL_CERT_FILE)")
	fl.StringVar(&f.recordLimit, "record-body-limit", "", "cut recorded bodies at this `SIZE` (default 64KiB)")
	fl.StringArrayVar(&f.allowNetworks, "allow-network", nil, "let destinations resolve to this private, loopback or metadata `CIDR` or IP (repeatable)")
	fl.StringVar(&f.maxHeaderBytes, "max-header-bytes", "", "largest request header read, on the listener and in intercepted tunnels: `SIZE` (default 64KiB); beyond: 431")
	fl.DurationVar(&f.readHeaderTimeout, "read-header-timeout", 0, "time a client may take to send a request header or TLS handshake (default 10s)")
	fl.DurationVar(&f.readTimeout, "read-timeout", 0, "time a client may take to send one whole request (default 5m)")
	fl.DurationVar(&f.idleTimeout, "idle-timeout", 0, "close keep-alive connections and intercepted tunnels idle this long (default 2m)")
	fl.DurationVar(&f.exchangeTimeout, "exchange-timeout", 0, "abort an exchange not finished after this long (default 10m)")
	fl.DurationVar(&f.connectionTimeout, "connection-timeout", 0, "close an intercepted tunnel after this long, however busy (default 1h)")
	fl.IntVar(&f.maxExchanges, "max-concurrent-exchanges", 0, "exchanges in flight at once (default 512)")
	fl.DurationVar(&f.queueTimeout, "queue-timeout", 0, "time an exchange waits for a free slot before 503 (default 5s)")
	f.secrets.register(cmd)
	return cmd
}

// forwardConfig builds the config the file and flags describe.
func (f *forwardFlags) forwardConfig() (*forward.ForwardConfig, secrets.Config, error) {
	if err := refuseStdinConfig(f.config, &f.secrets); err != nil {
		return nil, secrets.Config{}, err
	}
	cfg := forward.DefaultForwardConfig()
	var sec secrets.Config
	if f.config != "" {
		var err error
		if cfg, err = forward.LoadForwardConfig(f.config); err != nil {
			return nil, sec, err
		}
		if sec, err = loadSecretsConfig(f.config); err != nil {
			return nil, sec, err
		}
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&cfg.Listen, f.listen)
	set(&cfg.Admin, f.admin)
	set(&cfg.CADir, f.caDir)
	set(&cfg.Audit, f.audit)
	set(&cfg.AuditProfile, f.auditProfile)
	set(&cfg.AuditTokenFile, f.auditTokenFile)
	set(&cfg.AuditTokenEnv, f.auditTokenEnv)
	set(&cfg.AuditWorkspaceID, f.auditWSID)
	set(&cfg.AuditWorkspaceKeyFile, f.auditWSKeyFile)
	set(&cfg.AuditWorkspaceKeyEnv, f.auditWSKeyEnv)
	set(&cfg.AuditLogType, f.auditLogType)
	// A flag replaces the file's source of the same secret.
	if f.auditTokenFile != "" || f.auditTokenEnv != "" {
		cfg.AuditTokenFile, cfg.AuditTokenEnv = f.auditTokenFile, f.auditTokenEnv
	}
	if f.auditWSKeyFile != "" || f.auditWSKeyEnv != "" {
		cfg.AuditWorkspaceKeyFile, cfg.AuditWorkspaceKeyEnv = f.auditWSKeyFile, f.auditWSKeyEnv
	}
	set(&cfg.AuthFile, f.authFile)
	set(&cfg.UpstreamCA, f.upstreamCA)
	cfg.Intercept = append(cfg.Intercept, f.intercept...)
	cfg.Allow = append(cfg.Allow, f.allow...)
	cfg.AllowWebSocket = append(cfg.AllowWebSocket, f.allowWebSocket...)
	cfg.RedactResponses = append(cfg.RedactResponses, f.redactResponses...)
	cfg.RedactRequests = append(cfg.RedactRequests, f.redactRequests...)
	if f.recordLimit != "" {
		n, err := proxy.ParseByteSize(f.recordLimit)
		if err != nil {
			return nil, sec, fmt.Errorf("--record-body-limit: %w", err)
		}
		cfg.RecordBodyLimit = n
	}
	cfg.AllowNetworks = append(cfg.AllowNetworks, f.allowNetworks...)
	if f.maxHeaderBytes != "" {
		n, err := proxy.ParseByteSize(f.maxHeaderBytes)
		if err != nil {
			return nil, sec, fmt.Errorf("--max-header-bytes: %w", err)
		}
		cfg.MaxHeaderBytes = n
	}
	for _, d := range []struct {
		dst *time.Duration
		v   time.Duration
	}{
		{&cfg.ReadHeaderTimeout, f.readHeaderTimeout}, {&cfg.ReadTimeout, f.readTimeout},
		{&cfg.IdleTimeout, f.idleTimeout}, {&cfg.ExchangeTimeout, f.exchangeTimeout},
		{&cfg.ConnectionTimeout, f.connectionTimeout}, {&cfg.QueueTimeout, f.queueTimeout},
	} {
		if d.v != 0 {
			*d.dst = d.v
		}
	}
	if f.maxExchanges != 0 {
		cfg.MaxConcurrentExchanges = f.maxExchanges
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, sec, err
	}
	return cfg, sec, nil
}

func runForward(cmd *cobra.Command, f *forwardFlags) error {
	cfg, secCfg, err := f.forwardConfig()
	if err != nil {
		return &exitError{exitUsage, err}
	}
	logger := newLogger(cmd.ErrOrStderr())
	reg := proxy.NewRegistry()
	m, err := f.secrets.manager(secCfg, logger, reg, nil)
	if err != nil {
		return &exitError{exitUsage, err}
	}
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if !f.secrets.merge(secCfg).Empty() {
		if err := m.Load(ctx); err != nil {
			return &exitError{exitUsage, fmt.Errorf("secrets: %w", err)}
		}
	}
	var ready func() error
	if !f.secrets.merge(secCfg).Empty() {
		ready = m.Ready // /readyz follows the known-secret sources
	}
	fw, err := forward.NewForward(cfg, forward.ForwardOptions{Stdout: cmd.OutOrStdout(), Stderr: cmd.ErrOrStderr(), LogOutput: streamsFrom(ctx).logOutput(), Registry: reg, Ready: ready})
	if err != nil {
		return &exitError{exitUsage, err}
	}
	defer fw.Close()
	m.Subscribe(fw.SetLiterals)
	ctx, stop := notifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	hasSecrets := !f.secrets.merge(secCfg).Empty()
	if hasSecrets {
		go m.Run(ctx) //nolint:errcheck // returns nil when ctx is done
	}
	onHangup(ctx, func() {
		if err := fw.Reopen(); err != nil {
			fw.Logger().Error("audit reopen failed", zap.Error(err))
		}
		if hasSecrets {
			// A failing source keeps its last good values.
			m.Refresh(ctx) //nolint:errcheck // logged by the manager
		}
	})
	if err := fw.ListenAndServe(ctx); err != nil {
		if errors.Is(err, context.Canceled) {
			return nil
		}
		return &exitError{exitUsage, fmt.Errorf("forward: %w", err)}
	}
	return nil
}
