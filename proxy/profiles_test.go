package proxy_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/proxy"
	profile "github.com/flowmask/flowmask/proxy/sink"
)

func TestSplunkHECEvents(t *testing.T) {
	up := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/ack") {
			w.Write([]byte(`{"acks":{"0":true,"1":false}}`))
			return
		}
		w.Write([]byte(`{"text":"Success","code":0,"ackId":0}`))
	})
	f := start(t, oneRoute(up.URL, profile.SplunkHEC))
	give := `{"event":"Hello, world!","sourcetype":"manual"}{"event":{"password":"hunter2-hunter2"},"time":1700000000.123}` + "\n" +
		`{"event":"token ` + canary + `","fields":{"severity":"INFO"}}`
	want := `{"event":"Hello, world!","sourcetype":"manual"}{"event":{"password":"` + maskPassword + `"},"time":1700000000.123}` + "\n" +
		`{"event":"token ` + maskKnown + `","fields":{"severity":"INFO"}}`
	channel := "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	hdr := []string{"Authorization", "Splunk 11111111-2222-3333-4444-555555555555", "X-Splunk-Request-Channel", channel}
	resp, body := post(t, f.url+"/services/collector/event", "application/json", []byte(give), hdr...)
	wantStatus(t, resp, body, 200)
	if string(body) != `{"text":"Success","code":0,"ackId":0}` {
		t.Errorf("event response changed: %s", body)
	}
	ack := `{"acks":[0,1]}`
	resp, body = post(t, f.url+"/services/collector/ack?channel="+channel, "application/json", []byte(ack), hdr...)
	wantStatus(t, resp, body, 200)
	if string(body) != `{"acks":{"0":true,"1":false}}` {
		t.Errorf("ack response changed: %s", body)
	}
	raw := "raw line password=hunter2-hunter2 and " + canary + "\n"
	resp, body = post(t, f.url+"/services/collector/raw?channel="+channel+"&sourcetype=x", "text/plain", []byte(raw), hdr...)
	wantStatus(t, resp, body, 200)

	reqs := up.requests()
	if len(reqs) != 3 {
		t.Fatalf("upstream got %d requests; want 3", len(reqs))
	}
	if string(reqs[0].body) != want {
		t.Errorf("events:\ngot  %s\nwant %s", reqs[0].body, want)
	}
	if string(reqs[1].body) != ack || reqs[1].query != "channel="+channel {
		t.Errorf("ack request changed: %s ?%s", reqs[1].body, reqs[1].query)
	}
	if bytes.Contains(reqs[2].body, []byte("hunter2")) || bytes.Contains(reqs[2].body, []byte(canary)) {
		t.Errorf("raw: secret forwarded: %s", reqs[2].body)
	}
	for _, g := range reqs {
		if g.header.Get("X-Splunk-Request-Channel") != channel || g.header.Get("Authorization") != hdr[1] {
			t.Errorf("headers changed: %v", g.header)
		}
	}
	// A broken event stream is refused, never forwarded.
	resp, body = post(t, f.url+"/services/collector/event", "application/json", []byte(`{"event":"a"}{"event":`), hdr...)
	wantStatus(t, resp, body, 422)
}

func TestElasticBulkKeepsActions(t *testing.T) {
	up := newSink(t, nil)
	f := start(t, oneRoute(up.URL, profile.ElasticBulk))
	// Action lines keep their framing, but are scanned like every line: the
	// canary in an _id is masked.
	give := `{"index":{"_index":"test","_id":"` + canary + `"}}` + "\n" +
		`{"field1":"value1","password":"hunter2-hunter2"}` + "\n" +
		`{"delete":{"_index":"test","_id":"2"}}` + "\r\n" +
		`{"update":{"_id":"1","_index":"test"}}` + "\n" +
		`{"doc":{"note":"` + canary + `"}}` + "\n"
	want := `{"index":{"_index":"test","_id":"` + maskKnown + `"}}` + "\n" +
		`{"field1":"value1","password":"` + maskPassword + `"}` + "\n" +
		`{"delete":{"_index":"test","_id":"2"}}` + "\r\n" +
		`{"update":{"_id":"1","_index":"test"}}` + "\n" +
		`{"doc":{"note":"` + maskKnown + `"}}` + "\n"
	resp, body := post(t, f.url+"/_bulk", "application/x-ndjson", []byte(give))
	wantStatus(t, resp, body, 200)
	if g := up.only(t); string(g.body) != want {
		t.Errorf("got\n%s\nwant\n%s", g.body, want)
	}
}

func TestLogsIngestionLimits(t *testing.T) {
	up := newSink(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	f := start(t, oneRoute(up.URL, profile.LogsIngestion))
	path := "/dataCollectionRules/dcr-0001/streams/Custom-T?api-version=2023-01-01"
	resp, body := post(t, f.url+path, "application/json", []byte(`{"Computer":"a"}`))
	wantStatus(t, resp, body, 422)
	// The docs' own sample: invalid JSON.
	resp, body = post(t, f.url+path, "application/json", []byte(`[{"Time":"2023-11-14 15:10:02","Computer":"Value01","AdditionalContext":"Value02"
 }]x`))
	wantStatus(t, resp, body, 422)
	// Over 1 MiB after redaction (masks are longer than the secret).
	var b strings.Builder
	b.WriteString("[")
	for b.Len() < profile.LogsIngestionMaxBytes-200 {
		b.WriteString(`{"password":"hunter2-hunter2"},`)
	}
	b.WriteString(`{}]`)
	resp, body = post(t, f.url+path, "application/json", []byte(b.String()))
	wantStatus(t, resp, body, 413)
	if !strings.Contains(string(body), "1 MiB") {
		t.Errorf("413 body: %s", body)
	}
	if n := len(up.requests()); n != 0 {
		t.Errorf("upstream got %d requests; want none", n)
	}
	resp, body = post(t, f.url+path, "application/json", gz([]byte(`[{"password":"hunter2-hunter2"}]`)), "Content-Encoding", "gzip")
	wantStatus(t, resp, body, 204)
	plain, err := gunzip(up.only(t).body)
	if err != nil || string(plain) != `[{"password":"`+maskPassword+`"}]` {
		t.Errorf("got %s (%v)", plain, err)
	}
}

// Test vectors from formats.md §3.2, computed independently here.
const (
	dcKey  = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	dcDate = "Mon, 04 Apr 2016 08:00:00 GMT"
)

func signIndependently(t *testing.T, n int, date string) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(dcKey)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte("POST\n" + itoa(n) + "\napplication/json\nx-ms-date:" + date + "\n/api/logs"))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func TestDataCollectorVectors(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString(dcKey)
	for _, tt := range []struct {
		n    int64
		want string
	}{
		{1024, "rMoVf9OAAVQU+RTRgO9GQOxWZzlOmtlVQV6VV5+bUg0="},
		{19, "xYkuTOfpjTWitTk493y2nEGjniXXbA2ihX65aC5vk6Y="},
	} {
		if got := profile.SignDataCollector(key, tt.n, dcDate); got != tt.want {
			t.Errorf("profile.SignDataCollector(%d) = %s; want %s", tt.n, got, tt.want)
		}
		if got := signIndependently(t, int(tt.n), dcDate); got != tt.want {
			t.Errorf("independent signature(%d) = %s; want %s", tt.n, got, tt.want)
		}
	}
}

func TestDataCollectorResigns(t *testing.T) {
	up := newSink(t, nil)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "ws.key")
	os.WriteFile(keyFile, []byte(dcKey+"\n"), 0o600)
	cfg := oneRoute(up.URL, profile.DataCollector)
	cfg.Routes[0].WorkspaceKeyFile = keyFile
	f := start(t, cfg)
	give := `[{"Secret":"p@ss","password":"hunter2-hunter2"}]`
	sig := signIndependently(t, len(give), dcDate)
	hdr := []string{"Log-Type", "MyRecordType", "x-ms-date", dcDate, "Authorization", "SharedKey ws-id:" + sig}
	resp, body := post(t, f.url+"/api/logs?api-version=2016-04-01", "application/json", []byte(give), hdr...)
	wantStatus(t, resp, body, 200)
	g := up.only(t)
	want := `[{"Secret":"[REDACTED:client-secret]","password":"` + maskPassword + `"}]`
	if string(g.body) != want {
		t.Fatalf("got %s; want %s", g.body, want)
	}
	if got, w := g.header.Get("Authorization"), "SharedKey ws-id:"+signIndependently(t, len(want), dcDate); got != w {
		t.Errorf("Authorization: got %s; want %s", got, w)
	}
	if g.header.Get("Log-Type") != "MyRecordType" || g.header.Get("x-ms-date") != dcDate {
		t.Errorf("headers changed: %v", g.header)
	}
	// A client without the key gets no signature from the proxy.
	hdr[5] = "SharedKey ws-id:" + signIndependently(t, len(give)+1, dcDate)
	resp, body = post(t, f.url+"/api/logs", "application/json", []byte(give), hdr...)
	wantStatus(t, resp, body, 403)
	if strings.Contains(f.audit.String(), dcKey) || strings.Contains(f.logs.String(), dcKey) {
		t.Error("the workspace key leaked into logs")
	}
	// The workspace key is itself masked as a known secret.
	give2 := `[{"leak":"` + dcKey + `"}]`
	hdr[5] = "SharedKey ws-id:" + signIndependently(t, len(give2), dcDate)
	resp, body = post(t, f.url+"/api/logs", "application/json", []byte(give2), hdr...)
	wantStatus(t, resp, body, 200)
	if g := up.requests()[1]; bytes.Contains(g.body, []byte(dcKey)) {
		t.Errorf("workspace key forwarded: %s", g.body)
	}
}

func TestDataCollectorNeedsKey(t *testing.T) {
	cfg := oneRoute("https://x.ods.opinsights.azure.com", profile.DataCollector)
	cfg.SetDefaults()
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "workspace key") {
		t.Errorf("Validate: got %v; want a workspace key error", err)
	}
	cfg.Routes[0].WorkspaceKeyEnv = "NOT_SET_ANYWHERE"
	_, err := proxy.New(cfg, proxy.Options{LookupEnv: func(string) (string, bool) { return "", false }})
	if err == nil || !strings.Contains(err.Error(), "routes[0]: workspace key") {
		t.Errorf("New: got %v; want a workspace key error", err)
	}
}

func TestLokiKeepsTimestamps(t *testing.T) {
	up := newSink(t, nil)
	f := start(t, oneRoute(up.URL, profile.LokiJSON))
	give := `{"streams":[{"stream":{"app":"x"},"values":[["1570818238000000000","password=hunter2-hunter2"],["1570818238000000001","ok ` + canary + `",{"trace_id":"0242ac120002"}]]}]}`
	want := `{"streams":[{"stream":{"app":"x"},"values":[["1570818238000000000","password=` + maskPassword + `"],["1570818238000000001","ok ` + maskKnown + `",{"trace_id":"0242ac120002"}]]}]}`
	resp, body := post(t, f.url+"/loki/api/v1/push", "application/json", []byte(give), "X-Scope-OrgID", "tenant1")
	wantStatus(t, resp, body, 200)
	if g := up.only(t); string(g.body) != want {
		t.Errorf("got\n%s\nwant\n%s", g.body, want)
	}
	resp, body = post(t, f.url+"/loki/api/v1/push", "application/x-protobuf", []byte{1, 2, 3})
	wantStatus(t, resp, body, 415)
	if !strings.Contains(string(body), "application/json") {
		t.Errorf("415 does not name the JSON alternative: %s", body)
	}
}

func TestOTLPKeepsIDs(t *testing.T) {
	up := newSink(t, nil)
	f := start(t, oneRoute(up.URL, profile.OTLPJSON))
	// The traceId is a hex string that a key-name rule would not touch, but
	// an allowlist keeps ids safe even from literals and entropy rules.
	give := `{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"svc"}}]},"scopeLogs":[{"scope":{},"logRecords":[{"timeUnixNano":"1544712660300000000","severityNumber":10,"severityText":"Information","traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","body":{"stringValue":"login with ` + canary + `"},"attributes":[{"key":"password","value":{"stringValue":"hunter2-hunter2"}},{"key":"n","value":{"intValue":"3"}}]}]}]}]}`
	resp, body := post(t, f.url+"/v1/logs", "application/json", []byte(give))
	wantStatus(t, resp, body, 200)
	g := up.only(t)
	if bytes.Contains(g.body, []byte(canary)) {
		t.Errorf("body secret forwarded: %s", g.body)
	}
	for _, keep := range []string{`"traceId":"5b8efff798038103d269b633813fc60c"`, `"spanId":"eee19b7ec3c1b174"`, `"severityNumber":10`, `"timeUnixNano":"1544712660300000000"`, `"intValue":"3"`} {
		if !bytes.Contains(g.body, []byte(keep)) {
			t.Errorf("%s changed: %s", keep, g.body)
		}
	}
	want := strings.Replace(strings.Replace(give, canary, maskKnown, 1), `"stringValue":"hunter2-hunter2"`, `"stringValue":"`+maskPassword+`"`, 1)
	if string(g.body) != want {
		t.Errorf("got\n%s\nwant\n%s", g.body, want)
	}
	resp, body = post(t, f.url+"/v1/logs", "application/x-protobuf", []byte{1})
	wantStatus(t, resp, body, 415)
	if !strings.Contains(string(body), "http/json") {
		t.Errorf("415 does not name the JSON alternative: %s", body)
	}
}
