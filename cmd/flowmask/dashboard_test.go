package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/kafka"
	"go.yaml.in/yaml/v3"
)

var metricName = regexp.MustCompile(`\bflowmask_[a-zA-Z0-9_]+`)

// exportedMetrics starts the real binary with a config that has a route and
// known-secret sources, sends a redacted request and a refused one, removes
// a source and reloads (a failed refresh), and returns every sample name /metrics serves. It asks the server
// rather than a list in the code, so the check holds whatever registers the
// metrics.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) //nolint:errcheck
		w.WriteHeader(204)
	}))
	t.Cleanup(up.Close)
	dir := t.TempDir()
	known := filepath.Join(dir, "known.txt")
	gone := filepath.Join(dir, "gone.txt") // removed before the reload: a failed refresh
	cfg := filepath.Join(dir, "proxy.yaml")
	for _, f := range []string{known, gone} {
		if err := os.WriteFile(f, []byte("Rt6-dashboard-known-value\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	conf := fmt.Sprintf("listen: 127.0.0.1:0\nadmin: 127.0.0.1:0\nsecrets:\n  files: [%s, %s]\nroutes:\n  - name: logs\n    upstream: %s\n", known, gone, up.URL)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, nil, "--config", cfg)
	defer p.stop(t)
	for _, ct := range []string{"application/json", "application/x-protobuf"} {
		resp, err := http.Post("http://"+p.addr+"/ingest", ct, strings.NewReader(`{"password":"Vq8-hunter-22-x"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if err := os.Remove(gone); err != nil {
		t.Fatal(err)
	}
	if resp, err := http.Post("http://"+p.admin+"/-/reload", "", nil); err == nil {
		resp.Body.Close()
	}
	resp, err := http.Get("http://" + p.admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	names := map[string]bool{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.IndexAny(line, "{ "); i > 0 {
			names[line[:i]] = true
		}
	}
	if len(names) == 0 {
		t.Fatal("no metrics from /metrics")
	}
	return names
}

// queriedMetrics returns the flowmask metric names in every PromQL string of
// a Grafana dashboard (panel targets and template variables, at any depth).
func queriedMetrics(v any, out map[string]bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			if s, ok := c.(string); ok && (k == "expr" || k == "query" || k == "definition") {
				for _, m := range metricName.FindAllString(s, -1) {
					out[m] = true
				}
			}
			queriedMetrics(c, out)
		}
	case []any:
		for _, c := range x {
			queriedMetrics(c, out)
		}
	}
}

// TestDashboardAndAlertsQueryExportedMetrics parses the Grafana dashboard
// and the Prometheus alert rules in deploy/ and checks that every metric they
// query is one the running server exports, and that the dashboard covers
// what operators watch.
func TestDashboardAndAlertsQueryExportedMetrics(t *testing.T) {
	t.Parallel()
	exported := exportedMetrics(t)
	// flowmask kafka's families are served by that command (kafka.MetricNames,
	// kept in step with its registry by the kafka package's tests).
	for _, m := range kafka.MetricNames() {
		exported[m] = true
		for _, suffix := range []string{"_bucket", "_sum", "_count"} { // histograms' samples
			exported[m+suffix] = true
		}
	}
	deploy := filepath.Join("..", "..", "deploy")

	data, err := os.ReadFile(filepath.Join(deploy, "grafana", "flowmask-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash map[string]any
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	inDash := map[string]bool{}
	queriedMetrics(dash, inDash)
	ids := map[float64]bool{}
	for _, p := range dash["panels"].([]any) {
		id := p.(map[string]any)["id"].(float64)
		if ids[id] {
			t.Errorf("dashboard: panel id %v twice", id)
		}
		ids[id] = true
	}
	for _, want := range []string{
		"flowmask_proxy_requests_total", "flowmask_proxy_bytes_total", "flowmask_redactor_redactions_total",
		"flowmask_proxy_rejections_total", "flowmask_proxy_upstream_duration_seconds_bucket",
		"flowmask_secrets_last_success_timestamp_seconds", "flowmask_secrets_ready",
	} {
		if !inDash[want] {
			t.Errorf("the dashboard has no panel on %s", want)
		}
	}

	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	rdata, err := os.ReadFile(filepath.Join(deploy, "prometheus", "flowmask-rules.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(rdata, &rules); err != nil {
		t.Fatalf("alert rules: %v", err)
	}
	inRules := map[string]bool{}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			ms := metricName.FindAllString(r.Expr, -1)
			if len(ms) == 0 {
				t.Errorf("alert %s queries no flowmask metric", r.Alert)
			}
			for _, m := range ms {
				inRules[m] = true
			}
		}
	}
	for what, set := range map[string]map[string]bool{"dashboard": inDash, "alert rules": inRules} {
		var missing []string
		for m := range set {
			if !exported[m] {
				missing = append(missing, m)
			}
		}
		slices.Sort(missing)
		if len(missing) > 0 {
			t.Errorf("the %s query metrics flowmask does not export: %v", what, missing)
		}
	}
}
