package proxy

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/flowmask/flowmask/proxy/sink"
	"github.com/flowmask/flowmask/redactor"
	"go.uber.org/zap"
)

// recordPoster sends records to an HTTP endpoint in batches: at least
// once a second, or sooner when 1 MiB is waiting, framed for the sink
// profile (see [auditSink]). A failed post is retried twice, except on a
// 4xx other than 408 and 429, which no retry would fix; beyond 16 MiB
// waiting, new records are dropped and counted in the logs. Nothing is
// buffered on disk, and neither records nor the sink's replies are logged.
type recordPoster struct {
	url     string
	sink    *auditSink
	client  *http.Client
	logger  *zap.Logger
	mu      sync.Mutex
	buf     bytes.Buffer
	dropped int
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

const (
	postBatchBytes = 1 << 20
	postMaxBytes   = 16 << 20
)

// DefaultAuditLogType is the Log-Type of azure-data-collector audit posts.
const DefaultAuditLogType = "FlowmaskForward"

// auditSourceType is the Splunk sourcetype of HEC events.
const auditSourceType = "flowmask:forward"

// auditLokiJob is the job label of the Loki stream.
const auditLokiJob = "flowmask-forward"

// azureAuditMaxBytes caps an azure-logs-ingestion or azure-data-collector
// post: the Logs Ingestion API takes "1 MB" per call, read as 10^6 bytes to
// be safe.
const azureAuditMaxBytes = 1000 * 1000

// logsIngestionScope is the token scope of the Logs Ingestion API.
const logsIngestionScope = "https://monitor.azure.com//.default"

func isAuditURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// auditProfiles are the sink profiles of an audit URL.
var auditProfiles = []string{sink.Generic, sink.SplunkHEC, sink.ElasticBulk, sink.LogsIngestion, sink.LokiJSON, sink.DataCollector}

// validateAuditSink checks the audit_* keys of c.
func (c *ForwardConfig) validateAuditSink() []error {
	var errs []error
	known := false
	for _, p := range auditProfiles {
		known = known || c.AuditProfile == p
	}
	if !known {
		return append(errs, ferr("forward.audit_profile", "unknown profile %q (want %s)", c.AuditProfile, strings.Join(auditProfiles, ", ")))
	}
	prof := c.AuditProfile
	isURL := isAuditURL(c.Audit)
	if prof != sink.Generic && !isURL {
		errs = append(errs, ferr("forward.audit_profile", "%s needs an http(s) URL in forward.audit, not %q", prof, c.Audit))
	}
	hasToken := c.AuditTokenFile != "" || c.AuditTokenEnv != ""
	if c.AuditTokenFile != "" && c.AuditTokenEnv != "" {
		errs = append(errs, ferr("forward.audit_token_env", "set audit_token_file or audit_token_env, not both"))
	}
	switch {
	case hasToken && (prof == sink.Generic || prof == sink.DataCollector):
		errs = append(errs, ferr("forward.audit_token_file", "%s takes no token", prof))
	case !hasToken && prof == sink.SplunkHEC:
		errs = append(errs, ferr("forward.audit_token_file", "splunk-hec needs the HEC token (audit_token_file or audit_token_env)"))
	}
	if prof == sink.LogsIngestion && isURL && !strings.HasPrefix(c.Audit, "https://") {
		errs = append(errs, ferr("forward.audit", "azure-logs-ingestion sends a bearer token and needs an https URL"))
	}
	hasKey := c.AuditWorkspaceKeyFile != "" || c.AuditWorkspaceKeyEnv != ""
	if c.AuditWorkspaceKeyFile != "" && c.AuditWorkspaceKeyEnv != "" {
		errs = append(errs, ferr("forward.audit_workspace_key_env", "set audit_workspace_key_file or audit_workspace_key_env, not both"))
	}
	if prof == sink.DataCollector {
		if !hasKey {
			errs = append(errs, ferr("forward.audit_workspace_key_file", "azure-data-collector signs each post and needs the workspace key (audit_workspace_key_file or audit_workspace_key_env)"))
		}
		if c.AuditWorkspaceID == "" {
			errs = append(errs, ferr("forward.audit_workspace_id", "azure-data-collector needs the workspace ID"))
		}
		if !validLogType(c.AuditLogType) {
			errs = append(errs, ferr("forward.audit_log_type", "%q: want letters, digits and _, at most 100", c.AuditLogType))
		}
	} else if hasKey || c.AuditWorkspaceID != "" {
		errs = append(errs, ferr("forward.audit_workspace_id", "the workspace ID and key are for audit_profile azure-data-collector"))
	}
	return errs
}

func validLogType(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// auditSink is how batches reach a sink: the profile's framing and its
// credentials, read once at start.
type auditSink struct {
	profile      string
	token        string // static token (file or env)
	workspaceID  string
	workspaceKey []byte
	logType      string
	// cred gets Logs Ingestion tokens when no static token is given.
	cred    azcore.TokenCredential
	credMu  sync.Mutex
	credTok azcore.AccessToken
	// client, when set, replaces the poster's HTTP client (tests).
	client *http.Client
}

// loadAuditSink reads the sink credentials of cfg (validated) and returns
// them with the literals to mask. Nil for a generic sink or a non-URL
// audit destination.
func loadAuditSink(cfg *ForwardConfig) (*auditSink, []redactor.Literal, error) {
	if !isAuditURL(cfg.Audit) || cfg.AuditProfile == sink.Generic || cfg.AuditProfile == "" {
		return nil, nil, nil
	}
	s := &auditSink{profile: cfg.AuditProfile, workspaceID: cfg.AuditWorkspaceID, logType: cfg.AuditLogType}
	var lits []redactor.Literal
	if cfg.AuditTokenFile != "" || cfg.AuditTokenEnv != "" {
		v, src, err := readAuditSecret(cfg.AuditTokenFile, cfg.AuditTokenEnv)
		if err != nil {
			return nil, nil, fmt.Errorf("forward.audit_token_file: %w", err)
		}
		s.token = v
		lits = append(lits, redactor.Literal{Source: src, Value: v})
	}
	if s.profile == sink.DataCollector {
		v, src, err := readAuditSecret(cfg.AuditWorkspaceKeyFile, cfg.AuditWorkspaceKeyEnv)
		if err != nil {
			return nil, nil, fmt.Errorf("forward.audit_workspace_key_file: %w", err)
		}
		key, err := base64.StdEncoding.DecodeString(v)
		if err != nil || len(key) == 0 {
			return nil, nil, fmt.Errorf("forward.audit_workspace_key_file: the key from %s is not base64", src)
		}
		s.workspaceKey = key
		lits = append(lits, redactor.Literal{Source: src, Value: v})
	}
	if s.profile == sink.LogsIngestion && s.token == "" {
		// Never through a proxy: HTTPS_PROXY may point at this very process.
		cred, err := azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			ClientOptions: policy.ClientOptions{Transport: &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 30 * time.Second}},
		})
		if err != nil {
			return nil, nil, fmt.Errorf("forward.audit_profile: azure-logs-ingestion without a token: default Azure credential: %w", err)
		}
		s.cred = cred
	}
	return s, lits, nil
}

// readAuditSecret reads a secret from a file (trimmed) or an environment
// variable; src names where it came from, never the value.
func readAuditSecret(file, env string) (val, src string, err error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", "", err
		}
		if v := strings.TrimSpace(string(b)); v != "" {
			return v, "file:" + file, nil
		}
		return "", "", fmt.Errorf("%s is empty", file)
	}
	v, ok := os.LookupEnv(env)
	if !ok || strings.TrimSpace(v) == "" {
		return "", "", fmt.Errorf("$%s is not set", env)
	}
	return strings.TrimSpace(v), "env:" + env, nil
}

// authorization returns the Authorization header for a post of body.
func (s *auditSink) authorization(ctx context.Context, body []byte, date string) (string, error) {
	switch s.profile {
	case sink.SplunkHEC:
		return "Splunk " + s.token, nil
	case sink.ElasticBulk:
		if s.token != "" {
			return "ApiKey " + s.token, nil
		}
	case sink.LokiJSON:
		if s.token != "" {
			return "Bearer " + s.token, nil
		}
	case sink.LogsIngestion:
		if s.token != "" {
			return "Bearer " + s.token, nil
		}
		tok, err := s.azureToken(ctx)
		if err != nil {
			return "", err
		}
		return "Bearer " + tok, nil
	case sink.DataCollector:
		return "SharedKey " + s.workspaceID + ":" + sink.SignDataCollector(s.workspaceKey, int64(len(body)), date), nil
	}
	return "", nil
}

// azureToken returns a cached Logs Ingestion token, renewed five minutes
// before it expires.
func (s *auditSink) azureToken(ctx context.Context) (string, error) {
	s.credMu.Lock()
	defer s.credMu.Unlock()
	if s.credTok.Token != "" && time.Until(s.credTok.ExpiresOn) > 5*time.Minute {
		return s.credTok.Token, nil
	}
	tok, err := s.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{logsIngestionScope}})
	if err != nil {
		return "", fmt.Errorf("azure token: %w", err)
	}
	s.credTok = tok
	return tok.Token, nil
}

// contentType is the Content-Type of the profile's posts.
func (s *auditSink) contentType() string {
	switch s.profile {
	case sink.LogsIngestion, sink.DataCollector, sink.LokiJSON, sink.SplunkHEC:
		return "application/json"
	}
	return "application/x-ndjson"
}

// frame turns NDJSON lines into the bodies to post, each at most
// postBatchBytes unless a single record is larger: such a record goes
// alone, or, for the Azure profiles (at most azureAuditMaxBytes a post),
// is dropped and counted in tooBig.
func (s *auditSink) frame(ndjson []byte) (bodies [][]byte, tooBig int) {
	var cur []byte
	n := 0
	open := func() {
		switch s.profile {
		case sink.LogsIngestion, sink.DataCollector:
			cur = append(cur, '[')
		case sink.LokiJSON:
			cur = append(cur, `{"streams":[{"stream":{"job":"`+auditLokiJob+`"},"values":[`...)
		}
	}
	closing := func() string {
		switch s.profile {
		case sink.LogsIngestion, sink.DataCollector:
			return "]"
		case sink.LokiJSON:
			return "]}]}"
		}
		return ""
	}
	done := func() {
		if n > 0 {
			bodies = append(bodies, append(cur, closing()...))
		}
		cur, n = nil, 0
	}
	limited := s.profile == sink.LogsIngestion || s.profile == sink.DataCollector
	limit := postBatchBytes
	if limited {
		limit = azureAuditMaxBytes
	}
	var item []byte
	for line := range bytes.Lines(ndjson) {
		line = bytes.TrimSuffix(line, []byte("\n"))
		if len(line) == 0 {
			continue
		}
		item = s.item(item[:0], line)
		sep := 0
		if n > 0 && (limited || s.profile == sink.LokiJSON) {
			sep = 1 // the comma
		}
		if n > 0 && len(cur)+sep+len(item)+len(closing()) > limit {
			done()
			sep = 0
		}
		if n == 0 {
			open()
			if limited && len(cur)+len(item)+len(closing()) > limit {
				cur = nil
				tooBig++
				continue
			}
		}
		if sep == 1 {
			cur = append(cur, ',')
		}
		cur = append(cur, item...)
		n++
	}
	done()
	return bodies, tooBig
}

// item frames one record line (without its newline) for the profile.
func (s *auditSink) item(dst, line []byte) []byte {
	switch s.profile {
	case sink.SplunkHEC:
		dst = append(dst, `{"event":`...)
		dst = append(dst, line...)
		dst = append(dst, `,"sourcetype":"`+auditSourceType+`"`...)
		if t, ok := recordTime(line); ok {
			dst = append(dst, `,"time":`...)
			dst = strconv.AppendFloat(dst, float64(t.UnixMilli())/1000, 'f', 3, 64)
		}
		return append(dst, '}')
	case sink.ElasticBulk:
		dst = append(dst, "{\"index\":{}}\n"...)
		dst = append(dst, line...)
		return append(dst, '\n')
	case sink.LokiJSON:
		t, ok := recordTime(line)
		if !ok {
			t = time.Now()
		}
		dst = append(dst, `["`...)
		dst = strconv.AppendInt(dst, t.UnixNano(), 10)
		dst = append(dst, `",`...)
		q, _ := json.Marshal(string(line)) // a string always marshals
		dst = append(dst, q...)
		return append(dst, ']')
	case sink.LogsIngestion, sink.DataCollector:
		return append(dst, line...)
	}
	dst = append(dst, line...)
	return append(dst, '\n')
}

// recordTime reads the time of a record line: encoding/json writes the
// first field of ForwardRecord, "time", first.
func recordTime(line []byte) (time.Time, bool) {
	rest, ok := bytes.CutPrefix(line, []byte(`{"time":"`))
	if !ok {
		return time.Time{}, false
	}
	v, _, ok := bytes.Cut(rest, []byte(`"`))
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(v))
	return t, err == nil
}

// newRecordPoster starts posting to u; sink nil means generic NDJSON.
func newRecordPoster(u string, as *auditSink, logger *zap.Logger) *recordPoster {
	if as == nil {
		as = &auditSink{profile: sink.Generic}
	}
	client := as.client
	if client == nil {
		// Never through a proxy: HTTP_PROXY may point at this very process.
		client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 2}}
	}
	p := &recordPoster{
		url: u, sink: as, logger: logger, client: client,
		kick: make(chan struct{}, 1),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go p.loop()
	return p
}

func (p *recordPoster) add(line []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.buf.Len()+len(line) > postMaxBytes {
		p.dropped++
		return
	}
	p.buf.Write(line)
	if p.buf.Len() >= postBatchBytes {
		select {
		case p.kick <- struct{}{}:
		default:
		}
	}
}

func (p *recordPoster) loop() {
	defer close(p.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-t.C:
		case <-p.kick:
		case <-p.stop:
			p.flush()
			return
		}
		p.flush()
	}
}

// flush sends what is waiting.
func (p *recordPoster) flush() {
	p.mu.Lock()
	if p.buf.Len() == 0 && p.dropped == 0 {
		p.mu.Unlock()
		return
	}
	batch := bytes.Clone(p.buf.Bytes())
	p.buf.Reset()
	dropped := p.dropped
	p.dropped = 0
	p.mu.Unlock()
	if dropped > 0 {
		p.logger.Error("audit endpoint too slow: records dropped", zap.Int("dropped", dropped))
	}
	bodies, tooBig := p.sink.frame(batch)
	if tooBig > 0 {
		p.logger.Error("audit records larger than the sink's 1 MB limit dropped", zap.Int("dropped", tooBig), zap.String("profile", p.sink.profile))
	}
	for _, body := range bodies {
		var err error
		for attempt := range 3 {
			if attempt > 0 {
				time.Sleep(time.Duration(attempt) * 250 * time.Millisecond)
			}
			if err = p.post(body); err == nil || errors.Is(err, errPermanent) {
				break
			}
		}
		if err != nil {
			p.logger.Error("audit records not delivered", zap.Int("bytes", len(body)), zap.String("profile", p.sink.profile), zap.Error(err))
		}
	}
}

// errPermanent marks a refusal that no retry would fix.
var errPermanent = errors.New("not retried")

func (p *recordPoster) post(body []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", p.sink.contentType())
	date := time.Now().UTC().Format(http.TimeFormat)
	if p.sink.profile == sink.DataCollector {
		req.Header.Set("Log-Type", p.sink.logType)
		req.Header.Set("x-ms-date", date)
		req.Header.Set("time-generated-field", "time")
	}
	auth, err := p.sink.authorization(ctx, body, date)
	if err != nil {
		return fmt.Errorf("post records: %w", err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is in the config; keep the cause
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fmt.Errorf("post records: timeout")
		}
		return fmt.Errorf("post records: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // the reply may echo records: never logged
		if resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
			return fmt.Errorf("post records: status %d: %w", resp.StatusCode, errPermanent)
		}
		return fmt.Errorf("post records: status %d", resp.StatusCode)
	}
	if p.sink.profile == sink.ElasticBulk {
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
		}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) //nolint:errcheck // drain for keep-alive
	return nil
}

// close sends what is waiting and stops.
func (p *recordPoster) close() {
	close(p.stop)
	<-p.done
}
