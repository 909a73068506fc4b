package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/flowmask/flowmask/redactor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/oauth"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	"go.uber.org/zap"
)

// Options wire a Pipeline into its process.
type Options struct {
	// Redactor returns the Redactor to use for the next batch; a refresh of
	// known secrets swaps it (secrets.Manager.Track). Required.
	Redactor func() *redactor.Redactor
	// Logger gets structured logs that never hold record content; nil
	// discards them.
	Logger *zap.Logger
	// Registry gets the pipeline's metrics; nil makes a private one.
	Registry *prometheus.Registry
	// Ready is an extra readiness check (the secrets manager's); nil passes.
	Ready func() error
	// ClientOpts are appended to the kgo client options (tests, tuning).
	ClientOpts []kgo.Opt
}

// Pipeline redacts one input topic into one output topic as a member of a
// consumer group. Run it once.
type Pipeline struct {
	cfg     Config
	opts    Options
	format  redactor.Format
	log     *zap.Logger
	metrics *metrics
	kopts   []kgo.Opt

	joined  atomic.Bool
	healthy atomic.Bool // the last poll had no broker error
	lagMu   sync.Mutex
}

// New checks cfg (defaults applied) and builds a Pipeline. It does not
// connect: Run does.
func New(cfg Config, opts Options) (*Pipeline, error) {
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Redactor == nil {
		return nil, errors.New("kafka: Options.Redactor is required")
	}
	if opts.Logger == nil {
		opts.Logger = zap.NewNop()
	}
	if opts.Registry == nil {
		opts.Registry = prometheus.NewRegistry()
	}
	format, _ := redactor.ParseFormat(cfg.Format) // validated
	p := &Pipeline{cfg: cfg, opts: opts, format: format, log: opts.Logger, metrics: newMetrics(opts.Registry)}
	kopts, err := p.clientOpts()
	if err != nil {
		return nil, err
	}
	p.kopts = kopts
	return p, nil
}

// Registry returns the registry holding the pipeline's metrics.
func (p *Pipeline) Registry() *prometheus.Registry { return p.opts.Registry }

// Ready reports nil once the pipeline has joined its group and its last
// poll reached the brokers (and Options.Ready passes).
func (p *Pipeline) Ready() error {
	if !p.joined.Load() {
		return errors.New("not yet joined the consumer group")
	}
	if !p.healthy.Load() {
		return errors.New("brokers unreachable")
	}
	if p.opts.Ready != nil {
		return p.opts.Ready()
	}
	return nil
}

func (p *Pipeline) clientOpts() ([]kgo.Opt, error) {
	c := &p.cfg
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ConsumerGroup(c.Group),
		kgo.ConsumeTopics(c.In),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.Balancers(kgo.CooperativeStickyBalancer()),
		kgo.SessionTimeout(c.SessionTimeout),
		kgo.DisableAutoCommit(),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchMaxBytes(int32(max(c.MaxRecord+c.MaxRecord/4+64<<10, 1<<20))),
		kgo.WithLogger(kgoLogger{p.log}),
		kgo.OnPartitionsAssigned(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			p.joined.Store(true)
			p.log.Info("partitions assigned", zap.Any("partitions", m))
		}),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			p.forgetLag(m)
			p.log.Info("partitions revoked", zap.Any("partitions", m))
		}),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, m map[string][]int32) {
			p.forgetLag(m)
			p.joined.Store(false)
			p.log.Warn("partitions lost", zap.Any("partitions", m))
		}),
	}
	if c.ExactlyOnce {
		opts = append(opts,
			kgo.TransactionalID(c.TransactionalID),
			kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		)
	} else {
		opts = append(opts, kgo.BlockRebalanceOnPoll())
	}
	if c.UseTLS() {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: c.TLS.ServerName}
		if c.TLS.CA != "" {
			pem, err := os.ReadFile(c.TLS.CA)
			if err != nil {
				return nil, fmt.Errorf("kafka.tls.ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("kafka.tls.ca: %s holds no PEM certificate", c.TLS.CA)
			}
			tc.RootCAs = pool
		}
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	if m, err := p.saslMechanism(); err != nil {
		return nil, err
	} else if m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return append(opts, p.opts.ClientOpts...), nil
}

func (p *Pipeline) saslMechanism() (sasl.Mechanism, error) {
	s := &p.cfg.SASL
	switch s.Mechanism {
	case "":
		return nil, nil
	case "oauth":
		cred, err := azidentity.NewDefaultAzureCredential(nil)
		if err != nil {
			return nil, fmt.Errorf("kafka.sasl: oauth: %w", err)
		}
		scope := s.Scope
		if scope == "" {
			host, _, _ := net.SplitHostPort(p.cfg.Brokers[0])
			scope = "https://" + host + "/.default"
		}
		return oauth.Oauth(func(ctx context.Context) (oauth.Auth, error) {
			tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
			if err != nil {
				return oauth.Auth{}, fmt.Errorf("entra id token for %s: %w", scope, err)
			}
			return oauth.Auth{Token: tok.Token}, nil
		}), nil
	}
	pass, err := s.password()
	if err != nil {
		return nil, err
	}
	switch s.Mechanism {
	case "plain":
		return plain.Auth{User: s.Username, Pass: pass}.AsMechanism(), nil
	case "scram-sha-256":
		return scram.Auth{User: s.Username, Pass: pass}.AsSha256Mechanism(), nil
	default: // scram-sha-512, validated
		return scram.Auth{User: s.Username, Pass: pass}.AsSha512Mechanism(), nil
	}
}

// Run consumes, redacts and produces until ctx is done, then finishes the
// batch in hand (within DrainTimeout), commits it and leaves the group. It
// returns nil after a clean stop, and an error when a record cannot be
// delivered safely (a poison record without a dead-letter topic, a produce
// or transaction failure); nothing of the failing batch is committed then,
// so a restart reprocesses it.
func (p *Pipeline) Run(ctx context.Context) error {
	// work outlives ctx by DrainTimeout, so the batch in hand is finished.
	work, cancelWork := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelWork()
	stop := context.AfterFunc(ctx, func() {
		t := time.AfterFunc(p.cfg.DrainTimeout, cancelWork)
		context.AfterFunc(work, func() { t.Stop() })
	})
	defer stop()
	p.log.Info("kafka pipeline starting", zap.String("in", p.cfg.In), zap.String("out", p.cfg.Out),
		zap.String("group", p.cfg.Group), zap.Bool("exactly_once", p.cfg.ExactlyOnce))
	if p.cfg.ExactlyOnce {
		return p.runTransactional(ctx, work)
	}
	return p.runAtLeastOnce(ctx, work)
}

func (p *Pipeline) runAtLeastOnce(ctx, work context.Context) error {
	cl, err := kgo.NewClient(p.kopts...)
	if err != nil {
		return fmt.Errorf("kafka client: %w", err)
	}
	defer p.close(work, cl.Close)
	for {
		fetches := cl.PollRecords(ctx, DefaultMaxPoll)
		if fetches.IsClientClosed() || ctx.Err() != nil && fetches.Empty() {
			cl.AllowRebalance()
			return nil
		}
		p.noteFetchErrors(fetches)
		recs := fetches.Records()
		if len(recs) == 0 {
			cl.AllowRebalance()
			continue
		}
		out, err := p.process(recs)
		if err == nil {
			err = p.produce(work, cl.ProduceSync, out)
		}
		if err != nil {
			cl.AllowRebalance()
			return err
		}
		start := time.Now()
		if err := cl.CommitRecords(work, recs...); err != nil {
			// The output is in; the input will be read again: a duplicate,
			// never a loss.
			p.log.Warn("offset commit failed; the batch will be redelivered", zap.Error(err))
			p.metrics.commitErrors.Inc()
		} else {
			p.metrics.commitSeconds.Observe(time.Since(start).Seconds())
		}
		p.observeLag(fetches)
		cl.AllowRebalance()
	}
}

func (p *Pipeline) runTransactional(ctx, work context.Context) error {
	sess, err := kgo.NewGroupTransactSession(p.kopts...)
	if err != nil {
		return fmt.Errorf("kafka transactional client: %w", err)
	}
	defer p.close(work, sess.Close)
	for {
		fetches := sess.PollRecords(ctx, DefaultMaxPoll)
		if fetches.IsClientClosed() || ctx.Err() != nil && fetches.Empty() {
			return nil
		}
		p.noteFetchErrors(fetches)
		recs := fetches.Records()
		if len(recs) == 0 {
			continue
		}
		if err := sess.Begin(); err != nil {
			return fmt.Errorf("kafka: begin transaction: %w", err)
		}
		out, perr := p.process(recs)
		if perr == nil {
			perr = p.produce(work, sess.ProduceSync, out)
		}
		how := kgo.TryCommit
		if perr != nil {
			how = kgo.TryAbort
		}
		start := time.Now()
		committed, err := sess.End(work, how)
		switch {
		case perr != nil:
			return perr
		case err != nil:
			return fmt.Errorf("kafka: end transaction: %w", err)
		case committed:
			p.metrics.commitSeconds.Observe(time.Since(start).Seconds())
			p.observeLag(fetches)
		default:
			// A rebalance aborted the transaction: the batch is read again
			// by whichever member owns the partitions now.
			p.metrics.commitErrors.Inc()
			p.log.Info("transaction aborted by a rebalance; the batch will be redelivered")
		}
	}
}

// close leaves the group and closes the client, bounded by the drain
// deadline of work.
func (p *Pipeline) close(work context.Context, closeFn func()) {
	done := make(chan struct{})
	go func() { closeFn(); close(done) }()
	select {
	case <-done:
	case <-work.Done():
		p.log.Warn("drain deadline passed before the client closed")
	}
	p.joined.Store(false)
}

// process redacts a batch on up to GOMAXPROCS goroutines, keeping order.
// A poison record becomes a dead letter, or the batch's error without one.
func (p *Pipeline) process(recs []*kgo.Record) ([]*kgo.Record, error) {
	red := p.opts.Redactor()
	out := make([]*kgo.Record, len(recs))
	errs := make([]error, len(recs))
	stats := make([]redactor.Stats, len(recs))
	workers := min(runtime.GOMAXPROCS(0), len(recs))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= len(recs) {
					return
				}
				out[i], stats[i], errs[i] = p.transform(red, recs[i])
			}
		})
	}
	wg.Wait()
	for i, in := range recs {
		p.metrics.recordsIn.Inc()
		p.metrics.bytesIn.Add(float64(len(in.Value) + len(in.Key)))
		var bad *poison
		if errors.As(errs[i], &bad) {
			if p.cfg.DeadLetter == "" {
				return nil, fmt.Errorf("record %s/%d/%d cannot be redacted safely: %s (set a dead-letter topic to divert such records)", in.Topic, in.Partition, in.Offset, bad.reason)
			}
			p.log.Warn("record dead-lettered", zap.String("topic", in.Topic), zap.Int32("partition", in.Partition),
				zap.Int64("offset", in.Offset), zap.String("reason", bad.reason))
			out[i] = p.deadLetter(in, bad.reason)
			continue
		}
		for rule, n := range stats[i].ByRule {
			p.metrics.redactions.WithLabelValues(rule).Add(float64(n))
		}
	}
	return out, nil
}

// produce sends a batch and waits until every record is acknowledged.
func (p *Pipeline) produce(ctx context.Context, send func(context.Context, ...*kgo.Record) kgo.ProduceResults, out []*kgo.Record) error {
	res := send(ctx, out...)
	for _, r := range res {
		if r.Err != nil {
			return fmt.Errorf("kafka: produce to %s: %w", r.Record.Topic, r.Err)
		}
		if r.Record.Topic == p.cfg.DeadLetter {
			p.metrics.deadLettered.Inc()
		} else {
			p.metrics.recordsOut.Inc()
			p.metrics.bytesOut.Add(float64(len(r.Record.Value) + len(r.Record.Key)))
		}
	}
	return nil
}

func (p *Pipeline) noteFetchErrors(f kgo.Fetches) {
	healthy := true
	f.EachError(func(topic string, part int32, err error) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return
		}
		healthy = false
		p.log.Warn("fetch error", zap.String("topic", topic), zap.Int32("partition", part), zap.Error(err))
	})
	p.healthy.Store(healthy)
}

// observeLag sets the lag gauge of each fetched partition: high watermark
// minus the next offset to process.
func (p *Pipeline) observeLag(f kgo.Fetches) {
	p.lagMu.Lock()
	defer p.lagMu.Unlock()
	f.EachPartition(func(fp kgo.FetchTopicPartition) {
		if len(fp.Records) == 0 {
			return
		}
		next := fp.Records[len(fp.Records)-1].Offset + 1
		p.metrics.lag.WithLabelValues(fp.Topic, itoa(fp.Partition)).Set(float64(max(fp.HighWatermark-next, 0)))
	})
}

func (p *Pipeline) forgetLag(m map[string][]int32) {
	p.lagMu.Lock()
	defer p.lagMu.Unlock()
	for topic, parts := range m {
		for _, part := range parts {
			p.metrics.lag.DeleteLabelValues(topic, itoa(part))
		}
	}
}

func itoa(i int32) string { return fmt.Sprint(i) }

// kgoLogger sends franz-go's warnings and errors to zap. Its messages carry
// broker addresses and errors, never record content.
type kgoLogger struct{ l *zap.Logger }

func (k kgoLogger) Level() kgo.LogLevel { return kgo.LogLevelWarn }

func (k kgoLogger) Log(level kgo.LogLevel, msg string, keyvals ...any) {
	fields := make([]zap.Field, 0, len(keyvals)/2)
	for i := 0; i+1 < len(keyvals); i += 2 {
		fields = append(fields, zap.Any(strings.TrimSpace(fmt.Sprint(keyvals[i])), keyvals[i+1]))
	}
	if level == kgo.LogLevelError {
		k.l.Error(msg, fields...)
		return
	}
	k.l.Warn(msg, fields...)
}
