package proxy_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestRouteMetricsBound: the series bound to a route at config load count
// what the per-request label lookups counted: requests by code (aborted
// and unseen codes included), bytes, redactions by rule, rejections by
// reason, the histograms, the "none" route; and they keep counting on
// the same series across a reload.
func TestRouteMetricsBound(t *testing.T) {
	up := newSink(t, nil)
	cfg := oneRoute(up.URL, "generic")
	f := start(t, cfg)
	body := []byte(`{"msg":"login","token":"` + canary + `"}`)
	for range 3 {
		resp, b := post(t, f.url+"/ingest", "application/json", body)
		wantStatus(t, resp, b, http.StatusOK)
	}
	resp, b := post(t, f.url+"/ingest", "application/json", []byte(`{"msg":`))
	wantStatus(t, resp, b, http.StatusUnprocessableEntity)
	req, _ := http.NewRequest(http.MethodTrace, f.url+"/", nil)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}
	if err := f.srv.Reload(cfg); err != nil {
		t.Fatal(err)
	}
	resp, b = post(t, f.url+"/ingest", "application/json", body)
	wantStatus(t, resp, b, http.StatusOK)
	in := 4*len(body) + len(`{"msg":`)
	_, m := adminGet(t, f.srv.AdminHandler(), "/metrics")
	for _, want := range []string{
		`flowmask_proxy_requests_total{code="200",route="default"} 4`,
		`flowmask_proxy_requests_total{code="422",route="default"} 1`,
		`flowmask_proxy_requests_total{code="405",route="none"} 1`,
		`flowmask_proxy_rejections_total{reason="invalid_json",route="default"} 1`,
		`flowmask_proxy_rejections_total{reason="method_not_allowed",route="none"} 1`,
		`flowmask_redactor_redactions_total{route="default",rule="token"} 4`,
		`flowmask_proxy_bytes_total{direction="in",route="default"} ` + strconv.Itoa(in),
		`flowmask_proxy_request_duration_seconds_count{route="default"} 5`,
		`flowmask_proxy_upstream_duration_seconds_count{route="default"} 4`,
		`flowmask_proxy_request_duration_seconds_count{route="none"} 1`,
	} {
		if !strings.Contains(m, want+"\n") {
			t.Errorf("missing %s", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", m)
	}
}
