package secrets

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/security/keyvault/azsecrets"
	"github.com/flowmask/flowmask/redactor"
	"github.com/prometheus/client_golang/prometheus"
	"go.uber.org/zap"
	"golang.org/x/sync/errgroup"
)

// MinLen is the shortest value loaded. Shorter values would mask ordinary
// words and numbers; they are skipped with a warning naming the source and
// the secret, never the value.
const MinLen = 8

// DefaultTimeout caps one load of one source.
const DefaultTimeout = 2 * time.Minute

// loadConcurrency is how many sources are loaded at once. A Key Vault
// source fetches up to getConcurrency values at a time on top of this.
const loadConcurrency = 8

// Options are a Manager's dependencies. The zero value is usable.
type Options struct {
	// Logger receives warnings (short values skipped), refresh failures and
	// reloads. It never receives a value. Nil means no logs.
	Logger *zap.Logger
	// Registry receives the metrics. Nil means no metrics.
	Registry prometheus.Registerer
	// Static are values the front end holds itself (inbound tokens,
	// workspace keys, the hash key, the CA key's passphrase): always in the
	// set, never rotated out. Values shorter than MinLen are ignored.
	Static []redactor.Literal
	// Credential authenticates Key Vault requests. Nil means the token in
	// FLOWMASK_KEYVAULT_TOKEN if set, else azidentity's
	// DefaultAzureCredential (managed identity, workload identity, service
	// principal from AZURE_* variables, Azure CLI), built on first use.
	Credential azcore.TokenCredential
	// ClientOptions are passed to azsecrets.NewClient (transport, retries).
	// Nil means the SDK's defaults, whose transport trusts the system roots
	// and SSL_CERT_FILE.
	ClientOptions *azsecrets.ClientOptions
	// Timeout caps one load of one source. Zero means DefaultTimeout.
	Timeout time.Duration
	// Now returns the current time; nil means time.Now. Grace periods and
	// Key Vault expiry use it.
	Now func() time.Time
	// LookupEnv and Environ read the environment (env and env_prefix
	// sources, FLOWMASK_KEYVAULT_TOKEN); nil means os.LookupEnv and
	// os.Environ.
	LookupEnv func(string) (string, bool)
	Environ   func() []string
}

// Manager loads known secret values and keeps them fresh. Build one with
// New, call Load once, then Run in its own goroutine. Safe for concurrent
// use.
type Manager struct {
	cfg     Config
	opts    Options
	logger  *zap.Logger
	now     func() time.Time
	srcs    []*source
	metrics *metrics

	credMu      sync.Mutex
	defaultCred azcore.TokenCredential

	loadMu sync.Mutex // serializes loads and publishing

	mu      sync.Mutex // guards the fields below; held briefly
	state   []srcState
	active  map[string]redactor.Literal // value -> literal, from sources now
	retired map[string]retiredValue     // value -> rotated-out literal
	warned  map[string]bool             // literal sources warned about as short
	loaded  bool
	pub     []redactor.Literal // the published set, sorted

	cur   atomic.Pointer[[]redactor.Literal]
	subMu sync.Mutex // held while publishing and subscribing
	subs  []func([]redactor.Literal)
}

type srcState struct {
	lits        []redactor.Literal
	skipped     int
	loaded      bool
	failures    int
	lastErr     error
	lastSuccess time.Time
}

type retiredValue struct {
	lit   redactor.Literal
	until time.Time
}

// New validates cfg and builds a Manager. It reads nothing yet: call Load.
func New(cfg Config, opts Options) (*Manager, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Manager{
		cfg:     cfg.withDefaults(),
		opts:    opts,
		logger:  opts.Logger,
		now:     opts.Now,
		active:  map[string]redactor.Literal{},
		retired: map[string]retiredValue{},
		warned:  map[string]bool{},
	}
	if m.logger == nil {
		m.logger = zap.NewNop()
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.opts.Timeout <= 0 {
		m.opts.Timeout = DefaultTimeout
	}
	var err error
	if m.metrics, err = newMetrics(opts.Registry); err != nil {
		return nil, fmt.Errorf("secrets metrics: %w", err)
	}
	m.srcs = m.sources(m.cfg)
	m.state = make([]srcState, len(m.srcs))
	m.mu.Lock()
	set := m.rebuild(m.now())
	m.mu.Unlock()
	m.publish(set)
	return m, nil
}

// Load reads every source once. It fails, naming each source at fault, when a
// source that is not optional cannot be read; an optional source's failure
// is logged and the source keeps no values until a refresh succeeds. Either
// way every source that could be read is in the set afterwards.
func (m *Manager) Load(ctx context.Context) error {
	return m.refresh(ctx, func(*source) bool { return true }, true)
}

// Refresh re-reads every source now. A source that fails keeps its last good
// values; the failure is logged, counted, and returned (joined with the
// others).
func (m *Manager) Refresh(ctx context.Context) error {
	return m.refresh(ctx, func(*source) bool { return true }, false)
}

// refreshFiles re-reads the sources backed by files.
func (m *Manager) refreshFiles(ctx context.Context) error {
	return m.refresh(ctx, func(s *source) bool { return len(s.watch) > 0 }, false)
}

func (m *Manager) refresh(ctx context.Context, want func(*source) bool, initial bool) error {
	m.loadMu.Lock()
	defer m.loadMu.Unlock()

	type result struct {
		lits []redactor.Literal
		err  error
		done bool
	}
	// Load the sources, loadConcurrency at a time. Each source's outcome is
	// kept in res: one source's failure is its own (it keeps its last good
	// values) and neither cancels nor hides another's, so no goroutine
	// returns an error to the group.
	res := make([]result, len(m.srcs))
	var g errgroup.Group
	g.SetLimit(loadConcurrency)
	for i, s := range m.srcs {
		if !want(s) {
			continue
		}
		g.Go(func() error {
			lctx, cancel := context.WithTimeout(ctx, m.opts.Timeout)
			defer cancel()
			lits, err := s.load(lctx)
			res[i] = result{lits: lits, err: err, done: true}
			return nil
		})
	}
	_ = g.Wait() // always nil: errors are in res

	now := m.now()
	var errs []error
	allOK := true
	for _, r := range res {
		allOK = allOK && r.done // a partial refresh (files only) does not count
	}
	m.mu.Lock()
	for i, s := range m.srcs {
		r := res[i]
		if !r.done {
			continue
		}
		st := &m.state[i]
		if r.err != nil && ctx.Err() != nil {
			// Shutting down (or the caller gave up): not the source's fault.
			allOK = false
			errs = append(errs, fmt.Errorf("%s: %w", s.name, ctx.Err()))
			continue
		}
		if r.err != nil {
			allOK = false
			st.failures++
			st.lastErr = r.err
			m.metrics.failures.WithLabelValues(s.name).Inc()
			err := fmt.Errorf("%s: %w", s.name, r.err)
			if !initial || s.optional {
				lvl := m.logger.Error
				if s.optional {
					lvl = m.logger.Warn
				}
				lvl("secrets source load failed; keeping its last good values",
					zap.String("source", s.name), zap.Int("failures_in_a_row", st.failures), zap.Error(r.err))
			}
			if !initial || !s.optional {
				errs = append(errs, err)
			}
			continue
		}
		kept := r.lits[:0:0]
		skipped := 0
		for _, l := range r.lits {
			if len(l.Value) < MinLen {
				skipped++
				if !m.warned[l.Source] {
					m.warned[l.Source] = true
					m.logger.Warn("known secret shorter than 8 bytes skipped", zap.String("source", l.Source), zap.Int("length", len(l.Value)))
				}
				continue
			}
			delete(m.warned, l.Source)
			kept = append(kept, l)
		}
		if !initial && st.failures > 0 {
			m.logger.Info("secrets source loaded again", zap.String("source", s.name), zap.Int("after_failures", st.failures))
		}
		*st = srcState{lits: kept, skipped: skipped, loaded: true, lastSuccess: now}
		m.metrics.values.WithLabelValues(s.name).Set(float64(len(kept)))
		m.metrics.lastSuccess.WithLabelValues(s.name).Set(float64(now.UnixNano()) / 1e9)
	}
	m.loaded = true
	if allOK {
		m.metrics.lastRefresh.Set(float64(now.UnixNano()) / 1e9)
	}
	set := m.rebuild(now)
	ready := m.readyLocked() == nil
	m.mu.Unlock()
	if ready {
		m.metrics.ready.Set(1)
	} else {
		m.metrics.ready.Set(0)
	}
	m.publish(set)
	if len(errs) > 0 {
		return fmt.Errorf("secrets: %w", errors.Join(errs...))
	}
	return nil
}

// rebuild recomputes the set from the sources' values, the static values and
// the rotated-out values still in grace. It returns nil when the set did not
// change. m.mu must be held.
func (m *Manager) rebuild(now time.Time) []redactor.Literal {
	active := make(map[string]redactor.Literal, len(m.active))
	for _, l := range m.opts.Static {
		if len(l.Value) >= MinLen {
			if _, dup := active[l.Value]; !dup {
				active[l.Value] = l
			}
		}
	}
	for i := range m.state {
		for _, l := range m.state[i].lits {
			if _, dup := active[l.Value]; !dup {
				active[l.Value] = l
			}
		}
	}
	for v, l := range m.active {
		if _, still := active[v]; !still && m.cfg.Grace > 0 {
			m.retired[v] = retiredValue{lit: l, until: now.Add(m.cfg.Grace)}
		}
	}
	for v, r := range m.retired {
		if _, back := active[v]; back || !now.Before(r.until) {
			delete(m.retired, v)
		}
	}
	m.active = active
	set := make([]redactor.Literal, 0, len(active)+len(m.retired))
	for _, l := range active {
		set = append(set, l)
	}
	for _, r := range m.retired {
		set = append(set, r.lit)
	}
	sort.Slice(set, func(i, j int) bool {
		if set[i].Source != set[j].Source {
			return set[i].Source < set[j].Source
		}
		return set[i].Value < set[j].Value
	})
	m.metrics.literals.Set(float64(len(set)))
	m.metrics.grace.Set(float64(len(m.retired)))
	if m.pub != nil && equalLiterals(set, m.pub) {
		return nil
	}
	m.pub = set
	return set
}

func equalLiterals(a, b []redactor.Literal) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// publish swaps in set (nil: unchanged) and tells the subscribers.
func (m *Manager) publish(set []redactor.Literal) {
	if set == nil {
		return
	}
	m.subMu.Lock()
	defer m.subMu.Unlock()
	m.cur.Store(&set)
	for _, fn := range m.subs {
		fn(set)
	}
	m.logger.Debug("known secret set swapped", zap.Int("literals", len(set)))
}

// Literals returns the current set: every source's values, the static
// values and rotated-out values still in their grace period, sorted by
// source. The slice is shared and must not be modified.
func (m *Manager) Literals() []redactor.Literal {
	if p := m.cur.Load(); p != nil {
		return *p
	}
	return nil
}

// Subscribe calls fn with the current set at once and again after every
// change, from the goroutine that made it. Calls never overlap, and fn must
// not modify the slice. fn runs while the set is being swapped, so it should
// be quick (building a Redactor with WithLiterals is fine) and must not call
// Subscribe.
func (m *Manager) Subscribe(fn func([]redactor.Literal)) {
	m.subMu.Lock()
	defer m.subMu.Unlock()
	m.subs = append(m.subs, fn)
	fn(m.Literals())
}

// Live holds the current Redactor of a Manager's set. See Manager.Track.
type Live struct {
	p atomic.Pointer[redactor.Redactor]
}

// Load returns the Redactor for the current set. Take it once per request
// or stream: it stays valid (and masks the set it was built with) for as
// long as it is used.
func (l *Live) Load() *redactor.Redactor { return l.p.Load() }

// Track returns a Live that always holds base.WithLiterals(current set):
// base's compiled rules with the Manager's literals (base's own literals are
// replaced; pass values the front end holds itself as Options.Static).
func (m *Manager) Track(base *redactor.Redactor) *Live {
	l := &Live{}
	m.Subscribe(func(lits []redactor.Literal) { l.p.Store(base.WithLiterals(lits)) })
	return l
}

// Ready returns nil unless a source that is not optional has failed
// MaxFailures loads in a row (or Load has not run yet); the error names the
// sources and their last errors, never a value. Serve it on /readyz.
func (m *Manager) Ready() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.readyLocked()
}

func (m *Manager) readyLocked() error {
	if !m.loaded {
		return errors.New("secrets: not loaded yet")
	}
	var errs []error
	for i, s := range m.srcs {
		st := &m.state[i]
		if s.optional || st.failures < m.cfg.MaxFailures {
			continue
		}
		errs = append(errs, fmt.Errorf("%s: %d loads in a row failed, last: %w", s.name, st.failures, st.lastErr))
	}
	if len(errs) > 0 {
		return fmt.Errorf("secrets: %w", errors.Join(errs...))
	}
	return nil
}

// SourceStatus describes one configured source, never its values.
type SourceStatus struct {
	// Name is kind:location, as in logs and metrics (keyvault:https://v.vault.azure.net).
	Name string
	// Kind is env, env_prefix, file, dotenv, dir, solution or keyvault.
	Kind string
	// Optional reports the source's optional setting.
	Optional bool
	// Loaded reports whether a load ever succeeded.
	Loaded bool
	// Values counts the values of the last successful load.
	Values int
	// Skipped counts the values of that load shorter than MinLen.
	Skipped int
	// LastSuccess is the time of the last successful load.
	LastSuccess time.Time
	// Failures counts failed loads since the last success.
	Failures int
	// Err is the last load's error, nil if it succeeded.
	Err error
}

// Sources reports every configured source, in config order.
func (m *Manager) Sources() []SourceStatus {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]SourceStatus, len(m.srcs))
	for i, s := range m.srcs {
		st := &m.state[i]
		out[i] = SourceStatus{Name: s.name, Kind: s.kind, Optional: s.optional, Loaded: st.loaded,
			Values: len(st.lits), Skipped: st.skipped, LastSuccess: st.lastSuccess, Failures: st.failures}
		if st.failures > 0 {
			out[i].Err = st.lastErr
		}
	}
	return out
}

// Run keeps the set fresh until ctx is done (call Load first): every source is re-read every
// Refresh (±10% jitter), and file-backed sources as soon as their files
// change (fsnotify, with the interval as a fallback). Failures are logged
// and counted; they never stop Run. Run returns nil when ctx is done.
func (m *Manager) Run(ctx context.Context) error {
	w := m.watch()
	var events <-chan struct{}
	if w != nil {
		defer w.close()
		events = w.changed
	}
	timer := time.NewTimer(jitter(m.cfg.Refresh))
	defer timer.Stop()
	var debounce <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
			_ = m.Refresh(ctx) // logged and counted inside
			timer.Reset(jitter(m.cfg.Refresh))
		case <-events:
			if debounce == nil {
				debounce = time.After(fileSettle)
			}
		case <-debounce:
			debounce = nil
			_ = m.refreshFiles(ctx) // logged and counted inside
		}
	}
}

// fileSettle lets a burst of file events (an editor's save, kubelet's
// symlink swap) finish before the files are re-read.
const fileSettle = 200 * time.Millisecond

// jitter returns d ±10%.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.9 + 0.2*rand.Float64()))
}
