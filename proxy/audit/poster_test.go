package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowmask/flowmask/proxy/sink"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Credentials the sink tests plant; none may appear in a body or a log.
const (
	sinkToken = "hec-T0ken-5f1d2c3b-9a8e-4f70-b6d5-c4b3a2918070"
	sinkWSID  = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	// The record bodies carry this marker, which must not reach a log.
	sinkMarker = "record-content-marker-77"
)

var sinkWSKey = []byte("workspace-shared-key-bytes-0123456789abcdef")

// testRecord has the shape of the forward proxy's records: "time" first.
type testRecord struct {
	Time       time.Time      `json:"time"`
	Kind       string         `json:"kind"`
	Client     string         `json:"client"`
	Method     string         `json:"method"`
	URL        string         `json:"url"`
	Host       string         `json:"host"`
	Status     int            `json:"status"`
	Request    *testBody      `json:"request,omitempty"`
	Redactions int            `json:"redactions"`
	Rules      map[string]int `json:"rules,omitempty"`
}

type testBody struct {
	Body  string `json:"body,omitempty"`
	Bytes int64  `json:"bytes"`
}

// fakeSink is an httptest sink on 127.0.0.1 that keeps every request.
type fakeSink struct {
	srv    *httptest.Server
	mu     sync.Mutex
	posts  []sinkPost
	status int
}

type sinkPost struct {
	header http.Header
	path   string
	body   []byte
	at     time.Time // when the request arrived
}

// dcrPath is the Logs Ingestion API path of the tests' data collection
// rule and stream.
const dcrPath = "/dataCollectionRules/dcr-00112233445566778899aabbccddeeff/streams/Custom-FlowmaskForward"

func newFakeSink(t *testing.T, tlsOn bool, status int) *fakeSink {
	t.Helper()
	s := &fakeSink{status: status}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.posts = append(s.posts, sinkPost{r.Header.Clone(), r.URL.Path, b, time.Now()})
		s.mu.Unlock()
		w.WriteHeader(s.status)
		io.WriteString(w, `{"echo":"`+sinkMarker+`"}`)
	})
	if tlsOn {
		s.srv = httptest.NewTLSServer(h)
	} else {
		s.srv = httptest.NewServer(h)
	}
	t.Cleanup(s.srv.Close)
	return s
}

func (s *fakeSink) got() []sinkPost {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sinkPost(nil), s.posts...)
}

// client is a poster's own client, trusting only the sink's certificate.
func (s *fakeSink) client() *http.Client {
	tr := &http.Transport{Proxy: nil}
	if s.srv.TLS != nil {
		pool := x509.NewCertPool()
		pool.AddCert(s.srv.Certificate())
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// sinkRecords are n records, each with a distinct URL and a body of
// about size bytes, times in nanoseconds.
func sinkRecords(t testing.TB, n, size int) ([]testRecord, [][]byte) {
	t.Helper()
	t0 := time.Date(2026, 11, 27, 10, 0, 0, 123456789, time.UTC)
	recs := make([]testRecord, n)
	lines := make([][]byte, n)
	for i := range recs {
		recs[i] = testRecord{
			Time: t0.Add(time.Duration(i) * time.Millisecond), Kind: "http", Client: "127.0.0.1:1", Method: "POST",
			URL: "http://api.example/r/" + strconv.Itoa(i), Host: "api.example:80", Status: 200,
			Request:    &testBody{Body: sinkMarker + strings.Repeat("x", size) + ` "quoted" <tag> é`, Bytes: int64(size)},
			Redactions: 1, Rules: map[string]int{"password": 1},
		}
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(&recs[i]); err != nil {
			t.Fatal(err)
		}
		lines[i] = b.Bytes()
	}
	return recs, lines
}

// postAll sends lines through a poster and closes it (which flushes).
func postAll(t *testing.T, s *fakeSink, cfg PosterConfig, lines [][]byte) string {
	t.Helper()
	logs, logger := testLogger()
	path := cfg.URL // a test may give the path
	if path == "" {
		path = "/ingest"
	}
	cfg.URL = s.srv.URL + path
	cfg.Client = s.client()
	cfg.Logger = logger
	cfg.Retry = fastRetry(cfg.Retry)
	p, err := NewPoster(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		p.Add(l)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Errorf("close: %v", err)
	}
	out := logs.String()
	if strings.Contains(out, sinkMarker) {
		t.Errorf("logs hold record or reply content: %s", out)
	}
	for _, post := range s.got() {
		for _, secret := range []string{sinkToken, base64.StdEncoding.EncodeToString(sinkWSKey), string(sinkWSKey)} {
			if bytes.Contains(post.body, []byte(secret)) {
				t.Errorf("a body holds a credential (%d bytes)", len(secret))
			}
		}
	}
	return out
}

// fastRetry fills a test's retry policy with short waits: tests never
// wait the production defaults.
func fastRetry(r RetryPolicy) RetryPolicy {
	if r.MaxTries == 0 {
		r.MaxTries = 3
	}
	if r.InitialInterval == 0 {
		r.InitialInterval = 5 * time.Millisecond
	}
	if r.MaxInterval == 0 {
		r.MaxInterval = 20 * time.Millisecond
	}
	return r
}

// syncBuffer is a log destination safe for the poster's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func testLogger() (*syncBuffer, *zap.Logger) {
	var logs syncBuffer
	return &logs, zap.New(zapcore.NewCore(zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(&logs), zap.DebugLevel))
}

// checkArrived compares what a sink decoded with what was sent.
func checkArrived(t *testing.T, got []testRecord, want []testRecord) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("sink decoded %d records, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i].URL != want[i].URL || !got[i].Time.Equal(want[i].Time) || got[i].Request.Body != want[i].Request.Body {
			t.Fatalf("record %d: got %s %v, want %s %v", i, got[i].URL, got[i].Time, want[i].URL, want[i].Time)
		}
	}
}

func TestAuditSinkSplunkHEC(t *testing.T) {
	s := newFakeSink(t, true, 200)
	recs, lines := sinkRecords(t, 40, 100)
	postAll(t, s, PosterConfig{Profile: sink.SplunkHEC, Token: sinkToken}, lines)
	var got []testRecord
	for _, p := range s.got() {
		if a := p.header.Get("Authorization"); a != "Splunk "+sinkToken {
			t.Errorf("Authorization %q", a)
		}
		// HEC reads a body as JSON objects one after another.
		dec := json.NewDecoder(bytes.NewReader(p.body))
		for {
			var ev struct {
				Event      *testRecord `json:"event"`
				SourceType string      `json:"sourcetype"`
				Time       *float64    `json:"time"`
			}
			err := dec.Decode(&ev)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil || ev.Event == nil || ev.SourceType != "flowmask:forward" || ev.Time == nil {
				t.Fatalf("HEC event: %v %+v", err, ev)
			}
			if want := float64(ev.Event.Time.UnixMilli()) / 1000; *ev.Time != want {
				t.Errorf("time %v, want %v", *ev.Time, want)
			}
			got = append(got, *ev.Event)
		}
	}
	checkArrived(t, got, recs)
}

func TestAuditSinkElasticBulk(t *testing.T) {
	s := newFakeSink(t, false, 200)
	recs, lines := sinkRecords(t, 30, 100)
	postAll(t, s, PosterConfig{Profile: sink.ElasticBulk, Token: sinkToken}, lines)
	var got []testRecord
	for _, p := range s.got() {
		if a := p.header.Get("Authorization"); a != "ApiKey "+sinkToken {
			t.Errorf("Authorization %q", a)
		}
		if ct := p.header.Get("Content-Type"); ct != "application/x-ndjson" {
			t.Errorf("Content-Type %q", ct)
		}
		// _bulk: action and source lines in pairs, the last one ended by
		// a newline.
		if !bytes.HasSuffix(p.body, []byte("\n")) {
			t.Fatal("bulk body without a trailing newline")
		}
		ls := strings.Split(strings.TrimSuffix(string(p.body), "\n"), "\n")
		if len(ls)%2 != 0 {
			t.Fatalf("%d bulk lines, want pairs", len(ls))
		}
		for i := 0; i < len(ls); i += 2 {
			var action map[string]map[string]any
			var rec testRecord
			if err := json.Unmarshal([]byte(ls[i]), &action); err != nil || len(action) != 1 || action["index"] == nil {
				t.Fatalf("action line %q: %v", ls[i], err)
			}
			if err := json.Unmarshal([]byte(ls[i+1]), &rec); err != nil {
				t.Fatalf("source line: %v", err)
			}
			got = append(got, rec)
		}
	}
	checkArrived(t, got, recs)

	// Without a token there is no Authorization header.
	s2 := newFakeSink(t, false, 200)
	postAll(t, s2, PosterConfig{Profile: sink.ElasticBulk}, lines[:1])
	if p := s2.got(); len(p) != 1 || p[0].header.Get("Authorization") != "" {
		t.Errorf("tokenless bulk posts: %d", len(p))
	}
}

// TestAuditSinkLogsIngestion: JSON arrays of at most 1 MB each (a batch
// is split; a single record over the limit is dropped and logged) with
// the bearer token, over TLS.
func TestAuditSinkLogsIngestion(t *testing.T) {
	s := newFakeSink(t, true, 204)
	recs, lines := sinkRecords(t, 300, 8<<10) // ~2.5 MB
	_, huge := sinkRecords(t, 1, 1000*1000)
	logs := postAll(t, s, PosterConfig{URL: dcrPath, Profile: sink.LogsIngestion, Token: sinkToken}, append(lines, huge[0]))
	var got []testRecord
	posts := s.got()
	if len(posts) < 3 {
		t.Errorf("%d posts for ~2.5 MB; want the batch split", len(posts))
	}
	for _, p := range posts {
		if a := p.header.Get("Authorization"); a != "Bearer "+sinkToken {
			t.Errorf("Authorization %q", a)
		}
		if p.path != dcrPath {
			t.Errorf("path %q, want %q", p.path, dcrPath)
		}
		if len(p.body) > 1000*1000 {
			t.Errorf("a post of %d bytes; the API takes at most 1 MB", len(p.body))
		}
		var arr []testRecord
		if err := json.Unmarshal(p.body, &arr); err != nil {
			t.Fatalf("not a JSON array: %v", err)
		}
		got = append(got, arr...)
	}
	checkArrived(t, got, recs)
	if !strings.Contains(logs, "larger than the sink's 1 MB limit") {
		t.Errorf("the oversized record was not reported: %s", logs)
	}
}

func TestAuditSinkLoki(t *testing.T) {
	s := newFakeSink(t, false, 204)
	recs, lines := sinkRecords(t, 25, 100)
	postAll(t, s, PosterConfig{Profile: sink.LokiJSON}, lines)
	var got []testRecord
	for _, p := range s.got() {
		if a := p.header.Get("Authorization"); a != "" {
			t.Errorf("Authorization %q without a token", a)
		}
		var push struct {
			Streams []struct {
				Stream map[string]string `json:"stream"`
				Values [][]string        `json:"values"` // strings only, as Loki wants
			} `json:"streams"`
		}
		if err := json.Unmarshal(p.body, &push); err != nil || len(push.Streams) != 1 {
			t.Fatalf("push body: %v", err)
		}
		st := push.Streams[0]
		if st.Stream["job"] != "flowmask-forward" {
			t.Errorf("stream labels %v", st.Stream)
		}
		for _, v := range st.Values {
			if len(v) != 2 {
				t.Fatalf("value %v", v)
			}
			var rec testRecord
			if err := json.Unmarshal([]byte(v[1]), &rec); err != nil {
				t.Fatal(err)
			}
			if ns, err := strconv.ParseInt(v[0], 10, 64); err != nil || ns != rec.Time.UnixNano() {
				t.Errorf("timestamp %q, want %d", v[0], rec.Time.UnixNano())
			}
			got = append(got, rec)
		}
	}
	checkArrived(t, got, recs)
	s2 := newFakeSink(t, false, 204)
	postAll(t, s2, PosterConfig{Profile: sink.LokiJSON, Token: sinkToken}, lines[:1])
	if p := s2.got(); len(p) != 1 || p[0].header.Get("Authorization") != "Bearer "+sinkToken {
		t.Error("loki with a token: no bearer header")
	}
}

// TestAuditSinkDataCollector: the SharedKey signature is recomputed here
// from the documented string-to-sign (formats.md §3.2), not with
// sink.SignDataCollector.
func TestAuditSinkDataCollector(t *testing.T) {
	s := newFakeSink(t, true, 200)
	recs, lines := sinkRecords(t, 20, 100)
	postAll(t, s, PosterConfig{Profile: sink.DataCollector, WorkspaceID: sinkWSID, WorkspaceKey: sinkWSKey, LogType: "FlowmaskForward"}, lines)
	var got []testRecord
	for _, p := range s.got() {
		date := p.header.Get("x-ms-date")
		if _, err := time.Parse(http.TimeFormat, date); err != nil {
			t.Errorf("x-ms-date %q: %v", date, err)
		}
		if p.header.Get("Log-Type") != "FlowmaskForward" || p.header.Get("Content-Type") != "application/json" {
			t.Errorf("headers %v", p.header)
		}
		m := hmac.New(sha256.New, sinkWSKey)
		io.WriteString(m, "POST\n"+strconv.Itoa(len(p.body))+"\napplication/json\nx-ms-date:"+date+"\n/api/logs")
		want := "SharedKey " + sinkWSID + ":" + base64.StdEncoding.EncodeToString(m.Sum(nil))
		if a := p.header.Get("Authorization"); a != want {
			t.Errorf("Authorization %q, want %q", a, want)
		}
		var arr []testRecord
		if err := json.Unmarshal(p.body, &arr); err != nil {
			t.Fatal(err)
		}
		got = append(got, arr...)
	}
	checkArrived(t, got, recs)
}

// TestAuditSinkGeneric: the default is NDJSON without credentials.
func TestAuditSinkGeneric(t *testing.T) {
	s := newFakeSink(t, false, 200)
	recs, lines := sinkRecords(t, 10, 100)
	postAll(t, s, PosterConfig{Profile: sink.Generic}, lines)
	var got []testRecord
	for _, p := range s.got() {
		if p.header.Get("Authorization") != "" || p.header.Get("Content-Type") != "application/x-ndjson" {
			t.Errorf("headers %v", p.header)
		}
		sc := bufio.NewScanner(bytes.NewReader(p.body))
		for sc.Scan() {
			var r testRecord
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
		}
	}
	checkArrived(t, got, recs)
}

// TestAuditSinkBulkItemErrors: _bulk answers 200 with failed items; they
// are counted in the logs, their reasons (which can quote records) not.
func TestAuditSinkBulkItemErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, `{"errors":true,"items":[{"index":{"status":201}},{"index":{"status":400,"error":{"reason":"`+sinkMarker+`"}}}]}`)
	}))
	defer srv.Close()
	s := &fakeSink{srv: srv}
	_, lines := sinkRecords(t, 2, 10)
	logs := postAll(t, s, PosterConfig{Profile: sink.ElasticBulk}, lines)
	if !strings.Contains(logs, `"failed":1`) {
		t.Errorf("bulk item failure not counted: %s", logs)
	}
}

// BenchmarkAuditSinkFrame measures framing a 1 MiB batch of ~1 KiB
// records for each profile.
func BenchmarkAuditSinkFrame(b *testing.B) {
	_, lines := sinkRecords(b, 1000, 800)
	batch := bytes.Join(lines, nil)
	for _, prof := range []string{sink.Generic, sink.SplunkHEC, sink.ElasticBulk, sink.LogsIngestion, sink.LokiJSON, sink.DataCollector} {
		b.Run(prof, func(b *testing.B) {
			f := framer{prof}
			b.SetBytes(int64(len(batch)))
			for b.Loop() {
				f.frame(batch)
			}
		})
	}
}
