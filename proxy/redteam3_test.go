package proxy_test

// Round 3 of the red team (docs/redteam.md), reverse proxy.

import (
	"encoding/json"
	"strings"
	"testing"

	profile "github.com/flowmask/flowmask/proxy/sink"
)

// TestRedteam3HECExemptEndpointBodyScanned: the exact Splunk HEC ack and
// health endpoints passed their bodies unscanned, so anything POSTed there
// (a misrouted event, a probe) reached the upstream with its secrets. Their
// bodies are scanned now; an ack poll holds no secret and passes unchanged.
func TestRedteam3HECExemptEndpointBodyScanned(t *testing.T) {
	up := newCapture(t, nil)
	f := start(t, oneRoute(up.URL, profile.SplunkHEC))
	for _, p := range []string{"/services/collector/ack", "/services/collector/health", "/services/collector/health/1.0", "/services/collector/ack?channel=FE0ECFAD-13D5-401B-847D-77833BD77131"} {
		for _, ctype := range []string{"application/json", "text/plain"} {
			secret := freshGitHubToken()
			resp, body := post(t, f.url+p, ctype, []byte(`{"event":"deploy with token `+secret+`"}`), "Authorization", "Splunk 00000000-0000-0000-0000-000000000000")
			if resp.StatusCode/100 == 2 && strings.Contains(up.all(), secret) {
				t.Errorf("%s (%s): status %d and the body reached the upstream unscanned", p, ctype, resp.StatusCode)
			}
			_ = body
		}
	}
	ack := `{"acks":[0,1,2]}`
	resp, body := post(t, f.url+"/services/collector/ack", "application/json", []byte(ack))
	wantStatus(t, resp, body, 200)
	if !strings.HasSuffix(strings.TrimSpace(up.all()), ack) {
		t.Errorf("ack body changed:\n%s", up.all())
	}
}

// TestRedteam3OTLPNonStringValueUnderSensitiveKey: an OTLP attribute under
// a credential key whose value is not a stringValue (intValue, which OTLP
// JSON writes as a string; doubleValue; arrayValue; kvlistValue) or whose
// key or value member is given twice reached the upstream unmasked.
func TestRedteam3OTLPNonStringValueUnderSensitiveKey(t *testing.T) {
	up := newCapture(t, nil)
	f := start(t, oneRoute(up.URL, profile.OTLPJSON))
	wrap := func(attr string) string {
		return `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"login"},"attributes":[` + attr + `]}]}]}]}`
	}
	for _, tc := range []struct{ name, attr, secret string }{
		{"intValue", `{"key":"db.password","value":{"intValue":"%s"}}`, "73829104756392"},
		{"intValue number", `{"key":"pin_password","value":{"intValue":%s}}`, "73829104756392"},
		{"doubleValue", `{"key":"password","value":{"doubleValue":%s}}`, "7382910475.6392"},
		{"arrayValue", `{"key":"db.password","value":{"arrayValue":{"values":[{"stringValue":"%s"}]}}}`, fresh(24)},
		{"kvlistValue", `{"key":"password","value":{"kvlistValue":{"values":[{"key":"primary","value":{"stringValue":"%s"}}]}}}`, fresh(24)},
		{"duplicate key, sensitive first", `{"key":"password","key":"note","value":{"stringValue":"%s"}}`, fresh(24)},
		{"duplicate key, sensitive last", `{"key":"note","key":"password","value":{"stringValue":"%s"}}`, fresh(24)},
		{"duplicate value", `{"key":"password","value":{"stringValue":"%s"},"value":{"stringValue":"x"}}`, fresh(24)},
	} {
		body := wrap(strings.Replace(tc.attr, "%s", tc.secret, 1))
		resp, rb := post(t, f.url+"/v1/logs", "application/json", []byte(body))
		if resp.StatusCode/100 == 2 && strings.Contains(up.all(), tc.secret) {
			t.Errorf("%s: status %d and the secret reached the upstream", tc.name, resp.StatusCode)
		}
		_ = rb
	}
	// Values that are not secret keep their type.
	clean := wrap(`{"key":"http.status_code","value":{"intValue":"200"}},{"key":"password_set","value":{"boolValue":true}}`)
	resp, rb := post(t, f.url+"/v1/logs", "application/json", []byte(clean))
	wantStatus(t, resp, rb, 200)
	if !strings.HasSuffix(strings.TrimSpace(up.all()), clean) {
		t.Errorf("a clean OTLP body changed:\n%s", up.all())
	}
}

// TestRedteam3NumberInEmbeddedJSONKeepsBodyValid: a number under a
// credential key inside a JSON document held in a JSON string (a Loki
// line, a HEC event) was masked as "[REDACTED:...]" with raw quotes, which
// ended the enclosing string: the upstream got invalid JSON and rejected
// the whole batch (clean records lost).
func TestRedteam3NumberInEmbeddedJSONKeepsBodyValid(t *testing.T) {
	for _, tc := range []struct{ profile, path, body string }{
		{profile.LokiJSON, "/loki/api/v1/push", `{"streams":[{"stream":{"job":"app"},"values":[["1700000000000000000","{\"level\":\"info\",\"password\":%s}"]]}]}`},
		{profile.LokiJSON, "/loki/api/v1/push", `{"streams":[{"stream":{"job":"app"},"values":[["1700000000000000000","{\"name\":\"DB_PASSWORD\",\"value\":%s}"]]}]}`},
		{profile.SplunkHEC, "/services/collector/event", `{"event":"{\"msg\":\"{\\\"pin_password\\\":%s}\"}"}`},
	} {
		up := newCapture(t, nil)
		f := start(t, oneRoute(up.URL, tc.profile))
		secret := "73829104756392"
		resp, rb := post(t, f.url+tc.path, "application/json", []byte(strings.Replace(tc.body, "%s", secret, 1)))
		wantStatus(t, resp, rb, 200)
		got := up.all()
		if strings.Contains(got, secret) {
			t.Errorf("%s: the secret reached the upstream", tc.profile)
		}
		body := got[strings.Index(got, "{"):]
		if !json.Valid([]byte(strings.TrimSpace(body))) {
			t.Errorf("%s: the upstream got invalid JSON: %s", tc.profile, body)
		}
	}
}

// TestRedteam3RefusalBodyQuotesContentType: the reverse proxy's 415 quoted
// the charset or media type it refused, token included; shippers log the
// error bodies they get.
func TestRedteam3RefusalBodyQuotesContentType(t *testing.T) {
	up := newCapture(t, nil)
	f := start(t, oneRoute(up.URL, profile.Generic))
	for _, ct := range []string{"text/plain; charset=%s", `text/plain; charset="%s"`, "application/%s"} {
		tok := "xoxb-123456789012-1234567890123-" + strings.ToLower(fresh(24))
		resp, body := post(t, f.url+"/ingest", strings.Replace(ct, "%s", tok, 1), []byte("hello"))
		if resp.StatusCode/100 == 2 {
			t.Fatalf("%s: status %d", ct, resp.StatusCode)
		}
		if strings.Contains(string(body), tok) {
			t.Errorf("%s: the error body quotes the token: %s", ct, body)
		}
	}
}
