package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/ingestion/azlogs"
	"github.com/cenkalti/backoff/v5"
	"github.com/flowmask/flowmask/proxy/sink"
	"go.uber.org/zap"
)

// PosterConfig says where a [Poster] sends records and how. Its secrets
// (Token, WorkspaceKey) are used in request headers only, never in a log
// line or an error.
type PosterConfig struct {
	// URL is the sink's ingestion endpoint, http or https. For
	// azure-logs-ingestion it is
	// https://<dce>/dataCollectionRules/<dcr-id>/streams/<stream> (any
	// api-version query is ignored: the azlogs client sets its own).
	URL string
	// Profile is the sink profile that frames the posts (sink.Generic,
	// sink.SplunkHEC, sink.ElasticBulk, sink.LogsIngestion,
	// sink.LokiJSON, sink.DataCollector); "" means generic NDJSON.
	Profile string
	// Token is the sink's static token: the HEC token, the Elasticsearch
	// API key or a bearer token.
	Token string
	// WorkspaceID and WorkspaceKey (decoded) sign azure-data-collector
	// posts; LogType is their Log-Type.
	WorkspaceID  string
	WorkspaceKey []byte
	LogType      string
	// Credential gets Logs Ingestion tokens when Token is empty; nil means
	// the default Azure credential chain.
	Credential azcore.TokenCredential
	// Client sends the posts (and Azure's token requests when Credential
	// is nil); nil means a client of the poster's own that never goes
	// through HTTP(S)_PROXY, which may point at the process posting.
	Client *http.Client
	// Logger gets delivery failures: counts, sizes and statuses, never a
	// record or a sink's reply. Nil means no logging.
	Logger *zap.Logger
	// OnUndelivered is called once for each batch of records that was
	// dropped or could not be delivered.
	OnUndelivered func()
	// Retry bounds the attempts of one post; zero fields take defaults.
	Retry RetryPolicy
	// Interval is the longest a record waits before a post; default 1s.
	Interval time.Duration
}

// RetryPolicy bounds the attempts of one post. A failed attempt
// (connection error, timeout, 5xx, 408, 429) is retried after an
// exponentially growing wait with ±50% jitter, or after what a 429 or
// 503's Retry-After says; other statuses are not retried.
type RetryPolicy struct {
	// MaxTries counts every attempt, the first included. Default 5.
	MaxTries uint
	// InitialInterval is the first wait before jitter. Default 500ms.
	InitialInterval time.Duration
	// MaxInterval caps one computed wait. Default 60s. For the Logs
	// Ingestion API it is also azcore's MaxRetryDelay: a longer
	// Retry-After is not waited for.
	MaxInterval time.Duration
	// MaxElapsed is how long one post may take in all: a wait that
	// would end later is not started. Default 2m.
	MaxElapsed time.Duration
	// AttemptTimeout bounds one attempt. Default 30s.
	AttemptTimeout time.Duration
}

// defaultRetry is the policy of a zero RetryPolicy (the numbers documented
// on its fields).
var defaultRetry = RetryPolicy{MaxTries: 5, InitialInterval: 500 * time.Millisecond, MaxInterval: 60 * time.Second, MaxElapsed: 2 * time.Minute, AttemptTimeout: 30 * time.Second}

func (r RetryPolicy) withDefaults() RetryPolicy {
	d := defaultRetry
	if r.MaxTries == 0 {
		r.MaxTries = d.MaxTries
	}
	if r.InitialInterval <= 0 {
		r.InitialInterval = d.InitialInterval
	}
	if r.MaxInterval <= 0 {
		r.MaxInterval = d.MaxInterval
	}
	if r.MaxElapsed <= 0 {
		r.MaxElapsed = d.MaxElapsed
	}
	if r.AttemptTimeout <= 0 {
		r.AttemptTimeout = d.AttemptTimeout
	}
	return r
}

// Poster sends record lines to an HTTP sink in batches: at least once an
// Interval, or sooner when 1 MiB is waiting, framed for the sink profile.
// Beyond 16 MiB waiting, new records are dropped and counted. Nothing is
// buffered on disk, and neither records nor the sink's replies are
// logged. The Logs Ingestion API is reached through the azlogs client,
// whose pipeline gets the tokens and does the retries; every other
// profile is posted here, with retries as [RetryPolicy] says.
type Poster struct {
	url      string
	framer   framer
	token    string
	wsID     string
	wsKey    []byte
	logType  string
	client   *http.Client
	azure    *azlogs.Client // azure-logs-ingestion only
	ruleID   string
	stream   string
	retry    RetryPolicy
	logger   *zap.Logger
	onUndel  func()
	interval time.Duration

	mu      sync.Mutex
	buf     bytes.Buffer
	dropped int
	closed  bool

	kick   chan struct{}
	stop   chan struct{}
	done   chan struct{}
	ctx    context.Context // cancelled when Close gives up
	cancel context.CancelFunc
}

// NewPoster starts posting as cfg says; Close stops it.
func NewPoster(cfg PosterConfig) (*Poster, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("audit: the sink URL is not an http(s) URL")
	}
	profile := cfg.Profile
	if profile == "" {
		profile = sink.Generic
	}
	p := &Poster{
		url: cfg.URL, framer: framer{profile}, token: cfg.Token,
		wsID: cfg.WorkspaceID, wsKey: cfg.WorkspaceKey, logType: cfg.LogType,
		client: cfg.Client, retry: cfg.Retry.withDefaults(), logger: cfg.Logger,
		onUndel: cfg.OnUndelivered, interval: cfg.Interval,
		kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
	}
	if p.logger == nil {
		p.logger = zap.NewNop()
	}
	if p.interval <= 0 {
		p.interval = time.Second
	}
	if p.client == nil {
		p.client = &http.Client{Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2, TLSHandshakeTimeout: 10 * time.Second}}
	}
	if profile == sink.LogsIngestion {
		if err := p.newAzureClient(cfg); err != nil {
			return nil, err
		}
	}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	go p.loop()
	return p, nil
}

// ParseLogsIngestionURL splits a Logs Ingestion API URL,
// https://<dce>/dataCollectionRules/<dcr-id>/streams/<stream>, into the
// endpoint, the data collection rule's immutable ID and the stream name.
func ParseLogsIngestionURL(raw string) (endpoint, ruleID, stream string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", "", "", errors.New("want an https URL")
	}
	prefix, rest, ok := strings.Cut(u.Path, "/dataCollectionRules/")
	parts := strings.Split(rest, "/")
	if !ok || len(parts) != 3 || parts[0] == "" || parts[1] != "streams" || parts[2] == "" {
		return "", "", "", errors.New("want https://<endpoint>/dataCollectionRules/<dcr-id>/streams/<stream>")
	}
	return u.Scheme + "://" + u.Host + prefix, parts[0], parts[2], nil
}

// newAzureClient builds the azlogs client of a Logs Ingestion sink: the
// static token if one is given, else cfg.Credential or the default Azure
// credential chain; azcore's pipeline retries 408, 429, 500, 502, 503 and
// 504, honouring Retry-After, so the poster does not retry on top.
func (p *Poster) newAzureClient(cfg PosterConfig) error {
	endpoint, ruleID, stream, err := ParseLogsIngestionURL(cfg.URL)
	if err != nil {
		return fmt.Errorf("audit: azure-logs-ingestion: %w", err)
	}
	p.ruleID, p.stream = ruleID, stream
	cred := cfg.Credential
	switch {
	case cfg.Token != "":
		cred = staticToken(cfg.Token)
	case cred == nil:
		c, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions: policy.ClientOptions{Transport: p.client},
		})
		if err != nil {
			return fmt.Errorf("audit: azure-logs-ingestion without a token: default Azure credential: %w", err)
		}
		cred = c
	}
	retries := int32(p.retry.MaxTries) - 1
	if retries == 0 {
		retries = -1 // azcore: 0 means its default, -1 none
	}
	opts := &azlogs.ClientOptions{ClientOptions: azcore.ClientOptions{
		Cloud:     cloudOf(endpoint),
		Transport: p.client,
		Retry: policy.RetryOptions{
			MaxRetries:    retries,
			TryTimeout:    p.retry.AttemptTimeout,
			RetryDelay:    p.retry.InitialInterval,
			MaxRetryDelay: p.retry.MaxInterval,
		},
	}}
	c, err := azlogs.NewClient(endpoint, cred, opts)
	if err != nil {
		return fmt.Errorf("audit: azure-logs-ingestion: %w", err)
	}
	p.azure = c
	return nil
}

// cloudOf picks the cloud, and so the token audience, from the data
// collection endpoint's host.
func cloudOf(endpoint string) cloud.Configuration {
	switch {
	case strings.Contains(endpoint, ".azure.us"):
		return cloud.AzureGovernment
	case strings.Contains(endpoint, ".azure.cn"):
		return cloud.AzureChina
	}
	return cloud.AzurePublic
}

// staticToken is a configured bearer token for the Logs Ingestion API.
type staticToken string

func (t staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(t), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// Add queues one record line (ending in a newline); the line is copied.
// Beyond 16 MiB waiting, or after Close, the line is dropped and counted.
func (p *Poster) Add(line []byte) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		p.undelivered()
		return
	}
	if p.buf.Len()+len(line) > postMaxBytes {
		p.dropped++
		p.mu.Unlock()
		return
	}
	p.buf.Write(line)
	full := p.buf.Len() >= postBatchBytes
	p.mu.Unlock()
	if full {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
}

// Close sends what is waiting and stops. When ctx is done first, the
// attempt or retry wait in progress is cancelled, the records not yet
// delivered are counted and logged as undelivered, and Close returns an
// error.
func (p *Poster) Close(ctx context.Context) error {
	p.mu.Lock()
	already := p.closed
	p.closed = true
	p.mu.Unlock()
	if !already {
		close(p.stop)
	}
	select {
	case <-p.done:
		p.cancel()
		return nil
	case <-ctx.Done():
		p.cancel()
		<-p.done
		return fmt.Errorf("audit: stopped before every record was delivered: %w", context.Cause(ctx))
	}
}

func (p *Poster) loop() {
	defer close(p.done)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-p.kick:
		case <-p.stop:
			p.flush(p.ctx)
			return
		}
		p.flush(p.ctx)
	}
}

func (p *Poster) undelivered() {
	if p.onUndel != nil {
		p.onUndel()
	}
}

// flush sends what is waiting, one framed batch after another.
func (p *Poster) flush(ctx context.Context) {
	p.mu.Lock()
	if p.buf.Len() == 0 && p.dropped == 0 {
		p.mu.Unlock()
		return
	}
	lines := bytes.Clone(p.buf.Bytes())
	p.buf.Reset()
	dropped := p.dropped
	p.dropped = 0
	p.mu.Unlock()
	profile := p.framer.profile
	if dropped > 0 {
		p.logger.Error("audit endpoint too slow: records dropped", zap.Int("dropped", dropped), zap.String("profile", profile))
		p.undelivered()
	}
	batches, tooBig := p.framer.frame(lines)
	if tooBig > 0 {
		p.logger.Error("audit records larger than the sink's 1 MB limit dropped", zap.Int("dropped", tooBig), zap.String("profile", profile))
		p.undelivered()
	}
	for i, b := range batches {
		if ctx.Err() != nil {
			n := 0
			for _, r := range batches[i:] {
				n += r.records
				p.undelivered()
			}
			p.logger.Error("audit records not delivered: stopped", zap.Int("records", n), zap.Int("batches", len(batches)-i), zap.String("profile", profile))
			return
		}
		if err := p.send(ctx, b.body); err != nil {
			p.logger.Error("audit records not delivered", zap.Int("records", b.records), zap.Int("bytes", len(b.body)), zap.String("profile", profile), zap.Error(err))
			p.undelivered()
		}
	}
}

// send delivers one framed body, retrying as p.retry says; it gives up
// when ctx is done.
func (p *Poster) send(ctx context.Context, body []byte) error {
	if p.azure != nil {
		return p.upload(ctx, body)
	}
	r := p.retry
	b := &backoff.ExponentialBackOff{InitialInterval: r.InitialInterval, RandomizationFactor: 0.5, Multiplier: 2, MaxInterval: r.MaxInterval}
	_, err := backoff.Retry(ctx, func() (struct{}, error) { return struct{}{}, p.post(ctx, body) },
		backoff.WithBackOff(b), backoff.WithMaxTries(r.MaxTries), backoff.WithMaxElapsedTime(r.MaxElapsed))
	if err != nil && ctx.Err() != nil {
		return errors.New("post records: stopped while retrying")
	}
	return err
}

// upload sends one JSON array with the azlogs client, which retries.
func (p *Poster) upload(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, p.retry.MaxElapsed)
	defer cancel()
	_, err := p.azure.Upload(ctx, p.ruleID, p.stream, body, nil)
	if err == nil {
		return nil
	}
	// A ResponseError quotes the reply, which can echo records; an
	// authentication error quotes the token endpoint's reply.
	var re *azcore.ResponseError
	var af *azidentity.AuthenticationFailedError
	switch {
	case errors.As(err, &re):
		return fmt.Errorf("upload records: status %d", re.StatusCode)
	case errors.As(err, &af):
		if af.RawResponse != nil {
			return fmt.Errorf("upload records: azure credential: authentication failed: status %d", af.RawResponse.StatusCode)
		}
		return errors.New("upload records: azure credential: authentication failed")
	case ctx.Err() != nil:
		return errors.New("upload records: stopped while retrying")
	}
	return fmt.Errorf("upload records: %w", transportError(err))
}

// transportError keeps the cause of a failed request, without the URL.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return errors.New("timeout")
	}
	return err
}

// retryAfterError is a 429 or 503 whose Retry-After says when to retry.
type retryAfterError struct {
	err  error
	wait time.Duration
}

func (e *retryAfterError) Error() string {
	return fmt.Sprintf("%v (retry after %s)", e.err, e.wait)
}

// Unwrap lets backoff.Retry find the wait.
func (e *retryAfterError) Unwrap() []error {
	return []error{e.err, &backoff.RetryAfterError{Duration: e.wait}}
}

// maxRetryAfter caps a parsed Retry-After; any wait past MaxElapsed is
// refused anyway.
const maxRetryAfter = 24 * time.Hour

// parseRetryAfter reads a Retry-After value: delay seconds or an
// HTTP-date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		if n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(t.Sub(now), 0), maxRetryAfter), true
}

// post makes one attempt. Errors for which no retry helps are
// backoff.Permanent.
func (p *Poster) post(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, p.retry.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return backoff.Permanent(errors.New("post records: cannot build the request"))
	}
	req.Header.Set("Content-Type", p.framer.contentType())
	switch p.framer.profile {
	case sink.SplunkHEC:
		req.Header.Set("Authorization", "Splunk "+p.token)
	case sink.ElasticBulk:
		if p.token != "" {
			req.Header.Set("Authorization", "ApiKey "+p.token)
		}
	case sink.LokiJSON:
		if p.token != "" {
			req.Header.Set("Authorization", "Bearer "+p.token)
		}
	case sink.DataCollector:
		date := time.Now().UTC().Format(http.TimeFormat) // signed for each attempt
		req.Header.Set("Log-Type", p.logType)
		req.Header.Set("x-ms-date", date)
		req.Header.Set("time-generated-field", "time")
		req.Header.Set("Authorization", "SharedKey "+p.wsID+":"+sink.SignDataCollector(p.wsKey, int64(len(body)), date))
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("post records: %w", transportError(err))
	}
	defer resp.Body.Close()
	code := resp.StatusCode
	if code/100 != 2 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // the reply may echo records: never logged
		err := fmt.Errorf("post records: status %d", code)
		switch {
		case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
			if d, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
				return &retryAfterError{err: err, wait: d}
			}
			return err
		case code >= 500 || code == http.StatusRequestTimeout:
			return err
		}
		return backoff.Permanent(err) // 3xx left after redirects, 4xx: no retry fixes them
	}
	if p.framer.profile == sink.ElasticBulk {
		// _bulk answers 200 and reports failed items inside; count them,
		// never log their reasons (they can quote the record).
		var r struct {
			Errors bool                              `json:"errors"`
			Items  []map[string]struct{ Status int } `json:"items"`
		}
		if json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&r) == nil && r.Errors {
			failed := 0
			for _, it := range r.Items {
				for _, v := range it {
					if v.Status/100 != 2 {
						failed++
					}
				}
			}
			p.logger.Error("audit records refused by the bulk API", zap.Int("failed", failed), zap.Int("items", len(r.Items)))
			if failed > 0 {
				p.undelivered()
			}
		}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // drain for keep-alive
	return nil
}
