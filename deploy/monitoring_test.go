package deploy

import (
	"bytes"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/deploy/internal/kcheck"
	"sigs.k8s.io/yaml"
)

const rulesFile = "prometheus/flowmask-rules.yaml"

// readRuleFile decodes the alert rules strictly.
func readRuleFile(t *testing.T, name string) kcheck.RuleFile {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var rf kcheck.RuleFile
	if err := yaml.UnmarshalStrict(data, &rf); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return rf
}

// TestAlertRules: the rule file is valid, every alert says how bad it is
// and what to do, the alerts the operators need are there, and the chart's
// copy is the same file.
func TestAlertRules(t *testing.T) {
	rf := readRuleFile(t, rulesFile)
	var alerts []string
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			alerts = append(alerts, r.Alert)
			if r.Alert == "" || strings.TrimSpace(r.Expr) == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" || r.Annotations["description"] == "" {
				t.Errorf("rule %q: want alert, expr, a severity label, summary and description", r.Alert)
			}
		}
	}
	for _, want := range []string{"FlowmaskRefusalSpike", "FlowmaskUpstreamErrors", "FlowmaskSecretsSourceStale", "FlowmaskSecretsNotReady", "FlowmaskConfigReloadFailed"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no alert %s in %s", want, rulesFile)
		}
	}
	a, _ := os.ReadFile(rulesFile)
	b, err := os.ReadFile(chartDir + "/files/flowmask-rules.yaml")
	if err != nil || !bytes.Equal(a, b) {
		t.Errorf("%s/files/flowmask-rules.yaml differs from %s (copy it): %v", chartDir, rulesFile, err)
	}
}

// TestHelmMonitoring: with serviceMonitor and prometheusRule enabled, the
// fleet renders a ServiceMonitor that scrapes the Service's admin port, the
// sidecar a PodMonitor on the DaemonSet's pods, and both the PrometheusRule
// with the rule file's groups; off by default (TestHelmChart's kinds).
func TestHelmMonitoring(t *testing.T) {
	ch := loadChart(t)
	on := map[string]any{
		"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "kube-prometheus-stack"}},
		"prometheusRule": map[string]any{"enabled": true},
	}
	want := readRuleFile(t, rulesFile)
	for _, tt := range []struct {
		name    string
		give    map[string]any
		monitor string
	}{
		{"fleet", on, "ServiceMonitor"},
		{"sidecar", merge(valuesFile(t, "sidecar-values.yaml"), on), "PodMonitor"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out, err := render(t, ch, tt.give)
			if err != nil {
				t.Fatal(err)
			}
			objs := decodeRendered(t, out)
			if _, err := kcheck.Check(objs); err != nil {
				t.Fatal(err)
			}
			kinds := kindsOf(objs)
			if !slices.Contains(kinds, tt.monitor) || !slices.Contains(kinds, "PrometheusRule") {
				t.Fatalf("kinds %v; want %s and PrometheusRule", kinds, tt.monitor)
			}
			for _, o := range objs {
				switch v := o.Obj.(type) {
				case *kcheck.PrometheusRule:
					if !reflect.DeepEqual(v.Spec, want) {
						t.Errorf("PrometheusRule groups differ from %s", rulesFile)
					}
				case *kcheck.ServiceMonitor:
					if v.Labels["release"] != "kube-prometheus-stack" || len(v.Spec.Endpoints) != 1 || v.Spec.Endpoints[0].Path != "/metrics" {
						t.Errorf("ServiceMonitor: %+v", v)
					}
				}
			}
			// The check can fail: without the admin port nothing is scraped.
			for name, text := range out {
				out[name] = strings.ReplaceAll(text, "port: admin", "port: adminx")
			}
			if _, err := kcheck.Check(decodeRendered(t, out)); err == nil || !strings.Contains(err.Error(), `port named "adminx"`) {
				t.Errorf("a monitor scraping a port that does not exist passed the check: %v", err)
			}
		})
	}
}

// merge returns a copy of a with b's top-level keys set over it.
func merge(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}
