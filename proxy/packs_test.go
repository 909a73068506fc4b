package proxy_test

import (
	"strings"
	"testing"

	"github.com/flowmask/flowmask/proxy"
)

// TestRoutePacks: a route's packs key turns on an opt-in rule pack for that
// route only; an unknown pack fails at startup with the route's path.
func TestRoutePacks(t *testing.T) {
	body := []byte(`{"msg":"refund for jane.doe@example.com"}`)
	up := newSink(t, nil)
	plain := start(t, oneRoute(up.URL, "generic"))
	resp, rb := post(t, plain.url+"/x", "application/json", body)
	wantStatus(t, resp, rb, 200)
	if g := up.only(t); string(g.body) != string(body) {
		t.Errorf("without packs: upstream got %s", g.body)
	}

	up2 := newSink(t, nil)
	cfg := oneRoute(up2.URL, "generic")
	cfg.Routes[0].Packs = []string{"pii"}
	f := start(t, cfg)
	resp, rb = post(t, f.url+"/x", "application/json", body)
	wantStatus(t, resp, rb, 200)
	if g := up2.only(t); string(g.body) != `{"msg":"refund for [REDACTED:pii-email]"}` {
		t.Errorf("with packs [pii]: upstream got %s", g.body)
	}

	bad := oneRoute(up2.URL, "generic")
	bad.Routes[0].Packs = []string{"phi"}
	bad.SetDefaults()
	err := bad.Validate()
	if err == nil {
		_, err = proxy.New(bad, proxy.Options{})
	}
	if err == nil || !strings.Contains(err.Error(), "packs") || !strings.Contains(err.Error(), `"phi"`) {
		t.Errorf("unknown pack: %v", err)
	}
}
