package proxy_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	profile "github.com/flowmask/flowmask/proxy/sink"
)

// Leak 4: only the exact ack and health paths pass unscanned; every other
// spelling of them (;params, percent-encoding, a trailing slash, a prefix)
// is scanned as an event path.
func TestSplunkHECExemptOnlyExactPaths(t *testing.T) {
	up := newCapture(t, nil)
	f := start(t, oneRoute(up.URL, profile.SplunkHEC))
	for _, p := range []string{
		"/services/collector/event;/ack",
		"/services/collector/event%2Fack",
		"/services/collector/event/ack",
		"/services/collector/%61ck",
		"/services/collector/ack;jsessionid=1",
		"/services/collector/ack/",
		"/services/collector/health/",
		"/services/collector/health%2F1.0",
		"/x/services/collector/ack",
		"/services/collector//ack",
	} {
		secret := freshGitHubToken()
		resp, body := post(t, f.url+p, "application/json", []byte(`{"event":"deploy with token `+secret+`"}`), "Authorization", "Splunk 00000000-0000-0000-0000-000000000000")
		if resp.StatusCode != 200 && resp.StatusCode < 400 {
			t.Errorf("%s: status %d", p, resp.StatusCode)
		}
		_ = body
		if strings.Contains(up.all(), secret) {
			t.Errorf("%s: the event reached the upstream unscanned:\n%s", p, up.all())
		}
	}
	// The exact endpoints still pass untouched.
	ack := `{"acks":[0,1,2]}`
	resp, body := post(t, f.url+"/services/collector/ack", "application/json", []byte(ack))
	wantStatus(t, resp, body, 200)
	if !strings.HasSuffix(strings.TrimSpace(up.all()), ack) {
		t.Errorf("ack body changed:\n%s", up.all())
	}
}

// Leak 5: _bulk action lines are scanned, and a line that is not a valid
// action is scanned as a document.
func TestElasticBulkScansEveryLine(t *testing.T) {
	up := newCapture(t, nil)
	f := start(t, oneRoute(up.URL, profile.ElasticBulk))
	pw, idTok, idxTok, loose := fresh(24), freshGitHubToken(), freshGitHubToken(), freshGitHubToken()
	give := `{"password":"` + pw + `"}` + "\n" +
		`{"index":{"_index":"logs"}}` + "\n" +
		`{"msg":"ok"}` + "\n" +
		`{"create":{"_index":"logs","_id":"` + idTok + `"}}` + "\n" +
		`{"msg":"ok"}` + "\n" +
		`{"index":"` + idxTok + `"}` + "\n" +
		`{"delete":{"_index":"logs","_id":"1"}}` + "\n" +
		`{"update":{"_index":"logs","_id":"2","routing":"` + loose + `"}}` + "\n" +
		`{"doc":{"a":1}}` + "\n"
	resp, body := post(t, f.url+"/_bulk", "application/x-ndjson", []byte(give))
	wantStatus(t, resp, body, 200)
	got := up.all()
	for _, s := range []string{pw, idTok, idxTok, loose} {
		if strings.Contains(got, s) {
			t.Errorf("a secret reached the upstream: %s\n%s", s, got)
		}
	}
	if strings.Count(got, "\n{") < 8 || !strings.Contains(got, `{"delete":{"_index":"logs","_id":"1"}}`) {
		t.Errorf("framing changed:\n%s", got)
	}
}

// Leak 6: OTLP fields formerly exempt by name are scanned, and bytesValue
// attributes are decoded and masked (whole under a credential key).
func TestOTLPScansEveryFieldAndBytes(t *testing.T) {
	up := newCapture(t, nil)
	f := start(t, oneRoute(up.URL, profile.OTLPJSON))
	sev, schema, state, pw, note := freshGitHubToken(), freshGitHubToken(), freshGitHubToken(), fresh(24), freshGitHubToken()
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	give := `{"resourceLogs":[{"resource":{"attributes":[]},"schemaUrl":"https://example.com/schema?token=` + schema + `","scopeLogs":[{"scope":{},"logRecords":[{"timeUnixNano":"1544712660300000000","severityText":"` + sev + `","traceId":"5b8efff798038103d269b633813fc60c","body":{"bytesValue":"` + b64("login "+note) + `"},"attributes":[{"key":"password","value":{"bytesValue":"` + b64(pw) + `"}},{"key":"trace.state","value":{"stringValue":"` + state + `"}},{"key":"note","value":{"bytesValue":"` + b64("token "+note) + `"}}]}]}]}]}`
	resp, body := post(t, f.url+"/v1/logs", "application/json", []byte(give))
	wantStatus(t, resp, body, 200)
	got := up.all()
	for _, s := range []string{sev, schema, state, pw, b64(pw), note, b64("login " + note), b64("token " + note)} {
		if strings.Contains(got, s) {
			t.Errorf("a secret reached the upstream: %s\n%s", s, got)
		}
	}
	if !strings.Contains(got, `"traceId":"5b8efff798038103d269b633813fc60c"`) || !strings.Contains(got, `"timeUnixNano":"1544712660300000000"`) {
		t.Errorf("ids or timestamps changed:\n%s", got)
	}
	if !strings.Contains(got, `{"key":"password","value":{"bytesValue":"`+b64(maskPassword)+`"}}`) {
		t.Errorf("bytesValue under a credential key not masked whole:\n%s", got)
	}
}

// Leak 6: Loki timestamps are no longer exempt.
func TestLokiScansTimestamps(t *testing.T) {
	up := newCapture(t, nil)
	f := start(t, oneRoute(up.URL, profile.LokiJSON))
	secret := freshGitHubToken()
	give := `{"streams":[{"stream":{"app":"x"},"values":[["` + secret + `","line"]]}]}`
	resp, body := post(t, f.url+"/loki/api/v1/push", "application/json", []byte(give))
	if resp.StatusCode == http.StatusOK && strings.Contains(up.all(), secret) {
		t.Errorf("timestamp field forwarded unscanned:\n%s", up.all())
	}
	_ = body
}
