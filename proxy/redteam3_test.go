package proxy_test

// Round 3 of the red team (docs/redteam.md), reverse proxy.

import (
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
