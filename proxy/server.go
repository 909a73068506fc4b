package proxy

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"github.com/flowmask/flowmask/proxy/httpbody"
	"github.com/flowmask/flowmask/proxy/internal/admin"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/flowmask/flowmask/proxy/audit"
	"github.com/flowmask/flowmask/redactor"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Options are what the caller provides besides the config. The zero value
// is usable.
type Options struct {
	// ConfigFile is re-read by ReloadFile; empty means Reload only.
	ConfigFile string
	// Literals are known secrets from the command line (--secrets-file,
	// --secret-env); flowmask's own secrets are always added.
	Literals []redactor.Literal
	// Registry receives the metrics; nil means a new registry with the Go
	// and process collectors.
	Registry *prometheus.Registry
	// LogOutput receives the proxy's own logs, redacted; nil means stderr.
	LogOutput zapcore.WriteSyncer
	// Stdout is the built-in sink's output; nil means os.Stdout.
	Stdout io.Writer
	// Stderr is the audit output "stderr"; nil means os.Stderr.
	Stderr io.Writer
	// LookupEnv reads environment variables; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Ready is an extra readiness check, such as the secrets manager's:
	// while it returns an error, /readyz answers 503 with it. Nil means
	// none.
	Ready func() error
	// Reload, when set, is served as POST /-/reload on the admin listener
	// (the HTTP equivalent of SIGHUP): it answers 200 once Reload returned
	// nil, 500 when it failed. Nil means no such endpoint.
	Reload func(context.Context) error
}

// Server is the redacting reverse proxy. It is an http.Handler; Serve runs
// its listeners. Configuration and known secrets are swapped atomically
// (Reload, SetLiterals) while requests are in flight.
type Server struct {
	opts   Options
	state  atomic.Pointer[state]
	mu     sync.Mutex // serialises Reload and SetLiterals
	extra  []redactor.Literal
	logger *zap.Logger
	level  zap.AtomicLevel
	logRed atomic.Pointer[redactor.Redactor]
	// defaultRed holds the embedded rules with label masks, compiled once.
	defaultRed *redactor.Redactor
	registry   *prometheus.Registry
	metrics    *Metrics
	audit      *audit.Logger
	stdout     io.Writer
	sinkMu     sync.Mutex
	sem        chan struct{}
	bodies     *httpbody.Budget // decoded bodies in flight (requests and responses)
	ready      atomic.Bool
}

// state is one compiled configuration.
type state struct {
	cfg     *Config
	routes  []*route
	tokens  [][]byte
	ownLits []redactor.Literal
}

// New compiles cfg into a Server; zero fields take their defaults (cfg
// itself is not modified). Errors name the setting at fault.
func New(cfg *Config, opts Options) (*Server, error) {
	cfg, err := completed(cfg)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, stdout: opts.Stdout, registry: opts.Registry}
	if s.stdout == nil {
		s.stdout = os.Stdout
	}
	if s.opts.Stderr == nil {
		s.opts.Stderr = os.Stderr
	}
	if s.registry == nil {
		s.registry = NewRegistry()
	}
	s.extra = append([]redactor.Literal(nil), opts.Literals...)
	// The embedded rules, compiled once: they guard the logs and serve every
	// route that adds no rules of its own, across reloads.
	boot, err := redactor.New(redactor.Config{Literals: s.extra, MaxDocument: DefaultMaxDocument})
	if err != nil {
		return nil, err
	}
	s.defaultRed = boot
	s.logRed.Store(boot)
	out := opts.LogOutput
	if out == nil {
		out = zapcore.Lock(os.Stderr)
	}
	s.level = zap.NewAtomicLevelAt(zap.InfoLevel)
	s.setLevel(cfg.LogLevel)
	encCfg := zap.NewProductionEncoderConfig()
	encCfg.TimeKey = "time"
	encCfg.EncodeTime = zapcore.RFC3339NanoTimeEncoder
	s.logger = zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(encCfg), s.redacting(out), s.level))
	s.metrics = NewMetrics(s.registry)
	st, err := s.build(cfg)
	if err != nil {
		return nil, err
	}
	s.state.Store(st)
	if s.audit, err = audit.NewLogger(cfg.Audit.Output, s.stdout, s.opts.Stderr, nil); err != nil {
		return nil, err
	}
	s.audit.OnUndelivered(s.metrics.AuditUndelivered.Inc)
	s.initMetrics(st)
	n := cfg.Limits.MaxConcurrent
	if n == 0 {
		n = 512
	}
	s.sem = make(chan struct{}, n)
	s.bodies = httpbody.NewBudget(2*n, int64(cfg.Limits.MaxInflightDecoded))
	s.warnReport(st)
	return s, nil
}

// completed returns a copy of cfg with defaults filled in, validated.
func completed(cfg *Config) (*Config, error) {
	c := *cfg
	c.Routes = append([]RouteConfig(nil), cfg.Routes...)
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

func (s *Server) redacting(ws zapcore.WriteSyncer) zapcore.WriteSyncer {
	return audit.NewRedactingSyncer(ws, s.logRed.Load)
}

func (s *Server) setLevel(l string) {
	var lvl zapcore.Level
	if err := lvl.UnmarshalText([]byte(strings.ToLower(l))); err == nil && l != "" {
		s.level.SetLevel(lvl)
	}
}

// Logger returns the proxy's own (redacting) logger.
func (s *Server) Logger() *zap.Logger { return s.logger }

// Registry returns the registry holding the metrics.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// Audit returns the audit logger (reopen it on SIGHUP).
func (s *Server) Audit() *audit.Logger { return s.audit }

// Config returns the configuration in use.
func (s *Server) Config() *Config { return s.state.Load().cfg }

func (s *Server) cfg() *Config { return s.state.Load().cfg }

func (s *Server) cfgHashEnv() string {
	if st := s.state.Load(); st != nil {
		return st.cfg.HashKeyEnv
	}
	return "FLOWMASK_HASH_KEY"
}

func (s *Server) lookupEnv(name string) (string, bool) {
	if s.opts.LookupEnv != nil {
		return s.opts.LookupEnv(name)
	}
	return os.LookupEnv(name)
}

// build compiles a configuration: tokens, keys, routes.
func (s *Server) build(cfg *Config) (*state, error) {
	st := &state{cfg: cfg}
	var errs []error
	if cfg.Auth.Enabled() {
		toks, lits, err := s.loadTokens(cfg.Auth)
		if err != nil {
			errs = append(errs, fmt.Errorf("auth: %w", err))
		}
		st.tokens, st.ownLits = toks, append(st.ownLits, lits...)
	}
	var hashKey []byte
	env := cfg.HashKeyEnv
	if env == "" {
		env = "FLOWMASK_HASH_KEY"
	}
	if v, ok := s.lookupEnv(env); ok && v != "" {
		hashKey = []byte(v)
		st.ownLits = append(st.ownLits, redactor.Literal{Source: "env:" + env, Value: v})
	}
	lits := append(append([]redactor.Literal(nil), s.extra...), st.ownLits...)
	var all []redactor.Literal
	cache := map[string]*redactor.Redactor{
		fmt.Sprintf("%q|%q|%v|%d|%d", []string(nil), []string(nil), []redactor.Allow(nil), redactor.MaskLabel, DefaultMaxDocument): s.defaultRed,
	}
	for i, rc := range cfg.Routes {
		rt, err := s.compileRoute(i, rc, lits, hashKey, cache)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		st.routes = append(st.routes, rt)
		all = append(all, rt.ownLits...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	// Every route masks every own secret (a workspace key may leak into
	// another route's traffic).
	st.ownLits = append(st.ownLits, all...)
	if len(all) > 0 {
		s.applyLiterals(st)
	}
	s.logRed.Store(s.defaultRed.WithLiterals(append(append([]redactor.Literal(nil), s.extra...), st.ownLits...)))
	return st, nil
}

func (s *Server) applyLiterals(st *state) {
	lits := append(append([]redactor.Literal(nil), s.extra...), st.ownLits...)
	for _, rt := range st.routes {
		rt.red.Store(rt.base.WithLiterals(lits))
	}
}

// SetLiterals replaces the known secrets that came from outside the config
// (the secrets manager, --secrets-file, --secret-env). flowmask's own
// secrets stay masked. Requests in flight finish with the old set.
func (s *Server) SetLiterals(lits []redactor.Literal) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.extra = append([]redactor.Literal(nil), lits...)
	st := s.state.Load()
	s.applyLiterals(st)
	s.logRed.Store(s.defaultRed.WithLiterals(append(append([]redactor.Literal(nil), s.extra...), st.ownLits...)))
}

// Reload compiles cfg and swaps it in atomically. On error the old
// configuration keeps serving. Listener addresses, listener TLS files and
// limits.max_concurrent need a restart.
func (s *Server) Reload(cfg *Config) error {
	cfg, err := completed(cfg)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.state.Load()
	st, err := s.build(cfg)
	if err != nil {
		s.metrics.Reloads.WithLabelValues("error").Inc()
		return err
	}
	if cfg.Listen != old.cfg.Listen || cfg.Admin != old.cfg.Admin || cfg.TLS != old.cfg.TLS || cfg.Limits.MaxConcurrent != old.cfg.Limits.MaxConcurrent {
		s.logger.Warn("listen, admin, tls and limits.max_concurrent changes need a restart; keeping the old ones")
	}
	s.setLevel(cfg.LogLevel)
	s.initMetrics(st)
	s.state.Store(st)
	s.metrics.Reloads.WithLabelValues("ok").Inc()
	s.warnReport(st)
	for _, rt := range old.routes {
		if ci, ok := rt.transport.(interface{ CloseIdleConnections() }); ok {
			ci.CloseIdleConnections()
		}
	}
	return nil
}

// ReloadFile re-reads Options.ConfigFile and reloads it; a bad file is
// logged and ignored.
func (s *Server) ReloadFile() error {
	if s.opts.ConfigFile == "" {
		return s.Reload(s.cfg())
	}
	cfg, err := LoadConfig(s.opts.ConfigFile)
	if err == nil {
		err = s.Reload(cfg)
	} else {
		s.metrics.Reloads.WithLabelValues("error").Inc()
	}
	if err != nil {
		s.logger.Error("config reload refused; the old config keeps serving", zap.Error(err))
		return err
	}
	s.logger.Info("config reloaded", zap.Int("routes", len(s.cfg().Routes)))
	return nil
}

// initMetrics creates every route's series whose labels are known.
func (s *Server) initMetrics(st *state) {
	for _, rt := range st.routes {
		rt.metrics = s.metrics.initRoute(rt.cfg.Name, append(rt.base.Rules(), redactor.LiteralRuleID))
	}
}

func (s *Server) warnReport(st *state) {
	for _, rt := range st.routes {
		if rt.report {
			s.logger.Warn("REPORT-ONLY MODE: bodies on this route are forwarded UNREDACTED; findings are only counted and audited", zap.String("route", rt.cfg.Name))
		}
	}
}

func (s *Server) loadTokens(a AuthConfig) ([][]byte, []redactor.Literal, error) {
	var toks [][]byte
	var lits []redactor.Literal
	if a.TokensFile != "" {
		f, err := os.Open(a.TokensFile)
		if err != nil {
			return nil, nil, err
		}
		defer f.Close()
		sc := bufio.NewScanner(f)
		for n := 1; sc.Scan(); n++ {
			if t := strings.TrimSpace(sc.Text()); t != "" && !strings.HasPrefix(t, "#") {
				toks = append(toks, []byte(t))
				lits = append(lits, redactor.Literal{Source: fmt.Sprintf("%s:%d", a.TokensFile, n), Value: t})
			}
		}
		if err := sc.Err(); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", a.TokensFile, err)
		}
	}
	if a.TokensEnv != "" {
		v, ok := s.lookupEnv(a.TokensEnv)
		if !ok {
			return nil, nil, fmt.Errorf("$%s is not set", a.TokensEnv)
		}
		for _, t := range strings.Split(v, ",") {
			if t = strings.TrimSpace(t); t != "" {
				toks = append(toks, []byte(t))
				lits = append(lits, redactor.Literal{Source: "env:" + a.TokensEnv, Value: t})
			}
		}
	}
	if len(toks) == 0 {
		return nil, nil, errors.New("no tokens")
	}
	return toks, lits, nil
}

// authorized checks the inbound bearer token in constant time.
func (st *state) authorized(r *http.Request) bool {
	if len(st.tokens) == 0 {
		return true
	}
	h := r.Header.Get(st.cfg.Auth.Header)
	tok, ok := strings.CutPrefix(h, "Bearer ")
	if !ok {
		return false
	}
	good := 0
	for _, t := range st.tokens {
		good |= subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), t)
	}
	return good == 1
}

// Serve runs the proxy on ln and the admin endpoints on adminLn (nil: none)
// until ctx is done, then shuts down gracefully: in-flight requests finish
// within limits.shutdown_timeout.
func (s *Server) Serve(ctx context.Context, ln, adminLn net.Listener) error {
	cfg := s.cfg()
	if cfg.TLS.CertFile != "" {
		tc, err := s.listenerTLS(cfg.TLS)
		if err != nil {
			return err
		}
		ln = tlsListener(ln, tc)
	}
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: cfg.Limits.ReadHeaderTimeout,
		IdleTimeout:       cfg.Limits.IdleTimeout,
		MaxHeaderBytes:    int(cfg.Limits.MaxHeaderBytes),
		ErrorLog:          mustStdLog(s.logger),
	}
	return admin.Serve(ctx, admin.Serving{
		Server: srv, Listener: ln,
		Admin: s.AdminHandler(), AdminListener: adminLn,
		Ready:           &s.ready,
		Logger:          s.logger,
		Fields:          []zap.Field{zap.Bool("tls", cfg.TLS.CertFile != "")},
		ShutdownTimeout: cfg.Limits.ShutdownTimeout,
	})
}

// ListenAndServe listens on the configured addresses and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context) error {
	cfg := s.cfg()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	var adminLn net.Listener
	if cfg.Admin != "off" {
		if adminLn, err = net.Listen("tcp", cfg.Admin); err != nil {
			ln.Close()
			return fmt.Errorf("admin: %w", err)
		}
	}
	return s.Serve(ctx, ln, adminLn)
}
