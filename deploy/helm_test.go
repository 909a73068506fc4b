package deploy

import (
	"path"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/deploy/internal/kcheck"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
)

const chartDir = "helm/flowmask"

func loadChart(t *testing.T) *chart.Chart {
	t.Helper()
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatalf("load chart: %v", err)
	}
	if err := ch.Validate(); err != nil {
		t.Fatalf("chart: %v", err)
	}
	return ch
}

// render renders the chart as `helm template` would for an install of
// release "flowmask" in namespace "logging", with vals over values.yaml.
func render(t *testing.T, ch *chart.Chart, vals map[string]any) (map[string]string, error) {
	t.Helper()
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: "v1.31.0", Major: "1", Minor: "31"}
	rv, err := chartutil.ToRenderValues(ch, vals, chartutil.ReleaseOptions{Name: "flowmask", Namespace: "logging", Revision: 1, IsInstall: true}, caps)
	if err != nil {
		return nil, err
	}
	return engine.Render(ch, rv)
}

// decodeRendered decodes every rendered manifest strictly, in file order.
func decodeRendered(t *testing.T, out map[string]string) []kcheck.Object {
	t.Helper()
	names := make([]string, 0, len(out))
	for name := range out {
		names = append(names, name)
	}
	sort.Strings(names)
	var objs []kcheck.Object
	for _, name := range names {
		if path.Ext(name) != ".yaml" || strings.HasPrefix(path.Base(name), "_") {
			continue
		}
		o, err := kcheck.Decode(name, []byte(out[name]))
		if err != nil {
			t.Fatalf("%v\n%s", err, out[name])
		}
		objs = append(objs, o...)
	}
	return objs
}

func valuesFile(t *testing.T, name string) map[string]any {
	t.Helper()
	v, err := chartutil.ReadValuesFile(path.Join(chartDir, "ci", name))
	if err != nil {
		t.Fatal(err)
	}
	return v.AsMap()
}

func TestHelmChart(t *testing.T) {
	ch := loadChart(t)
	fleet := []string{"ConfigMap", "Deployment", "HorizontalPodAutoscaler", "NetworkPolicy", "PodDisruptionBudget", "Service", "ServiceAccount"}
	tests := []struct {
		name      string
		give      map[string]any
		wantKinds []string
		wantNotes string
		check     func(t *testing.T, ps []*kcheck.Proxy)
	}{
		{
			name:      "defaults",
			give:      nil,
			wantKinds: fleet,
			wantNotes: "Proxy-Authorization: Bearer <token>",
			check: func(t *testing.T, ps []*kcheck.Proxy) {
				if len(ps) != 1 || ps[0].ListenPort != 8080 || ps[0].AdminPort != 9090 || !ps[0].Config.Auth.Enabled() {
					t.Errorf("default proxy: %+v", ps[0])
				}
			},
		},
		{
			name:      "full",
			give:      valuesFile(t, "full-values.yaml"),
			wantKinds: fleet,
			wantNotes: "Key Vault: the ServiceAccount flowmask-kv",
			check: func(t *testing.T, ps []*kcheck.Proxy) {
				c := ps[0].Config
				if ps[0].ListenPort != 8443 || ps[0].AdminPort != 9091 || len(c.Routes) != 3 || len(c.Secrets.KeyVaults) != 2 ||
					c.Limits.ShutdownTimeout.Seconds() != 40 || c.Limits.MaxConcurrent != 512 || c.LogLevel != "warn" ||
					len(c.Secrets.Dirs) != 1 || c.Routes[1].OnInvalidJSON != "text" {
					t.Errorf("full proxy config not rendered as given: ports %d/%d, %+v", ps[0].ListenPort, ps[0].AdminPort, c)
				}
			},
		},
		{
			name:      "sidecar",
			give:      valuesFile(t, "sidecar-values.yaml"),
			wantKinds: []string{"ConfigMap", "DaemonSet", "NetworkPolicy", "ServiceAccount"},
			wantNotes: "sends to flowmask on http://127.0.0.1:8080",
			check: func(t *testing.T, ps []*kcheck.Proxy) {
				if len(ps) != 1 || !ps[0].Native || ps[0].Config.Listen != "127.0.0.1:8080" || ps[0].Config.Auth.Enabled() {
					t.Errorf("sidecar proxy: %+v", ps[0])
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := render(t, ch, tt.give)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			objs := decodeRendered(t, out)
			ps, err := kcheck.Check(objs)
			if err != nil {
				t.Fatal(err)
			}
			if got := kindsOf(objs); !reflect.DeepEqual(got, tt.wantKinds) {
				t.Errorf("kinds %v; want %v", got, tt.wantKinds)
			}
			if notes := out["flowmask/templates/NOTES.txt"]; !strings.Contains(notes, tt.wantNotes) {
				t.Errorf("NOTES.txt lacks %q:\n%s", tt.wantNotes, notes)
			}
			tt.check(t, ps)
		})
	}
}

// TestHelmChartMatchesManifests: the chart's defaults and the plain
// manifests describe the same fleet objects.
func TestHelmChartMatchesManifests(t *testing.T) {
	out, err := render(t, loadChart(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	chartKinds := kindsOf(decodeRendered(t, out))
	objs, err := readManifests(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	manifestKinds := map[string]bool{}
	for _, k := range kindsOf(objs) {
		manifestKinds[k] = true
	}
	for _, k := range chartKinds {
		if !manifestKinds[k] {
			t.Errorf("the chart renders a %s that deploy/kubernetes lacks", k)
		}
	}
}

// TestHelmChartRefuses: values that would break an invariant fail to
// render, or fail the check.
func TestHelmChartRefuses(t *testing.T) {
	ch := loadChart(t)
	tests := []struct {
		name string
		give map[string]any
		want string
	}{
		{"latest tag", map[string]any{"image": map[string]any{"tag": "latest"}}, "pin a version"},
		{"no token secret", map[string]any{"auth": map[string]any{"existingSecret": ""}}, "auth.existingSecret is required"},
		{"unknown mode", map[string]any{"mode": "daemon"}, "mode"},
		{"no routes", map[string]any{"routes": nil}, "at least one route"},
		{"identity without client id", map[string]any{"workloadIdentity": map[string]any{"enabled": true}}, "workloadIdentity.clientId is required"},
		{"bad route", map[string]any{"routes": []any{map[string]any{"upstream": "ftp://x"}}}, "routes[0].upstream"},
		{"key vault without identity", map[string]any{"secrets": map[string]any{"keyvaults": []any{map[string]any{"url": "https://kv.vault.azure.net"}}}}, "lacks the label azure.workload.identity/use"},
		{"shutdown in limits", map[string]any{"limits": map[string]any{"shutdown_timeout": "90s"}}, "set shutdownTimeoutSeconds instead"},
		{"misspelt value", map[string]any{"autoscalling": map[string]any{"enabled": false}}, "autoscalling"},
		{"bad port", map[string]any{"ports": map[string]any{"admin": 0}}, "admin"},
		{"no network policy", map[string]any{"networkPolicy": map[string]any{"enabled": false}}, "no NetworkPolicy restricts ingress"},
		{"misspelt monitoring value", map[string]any{"serviceMonitor": map[string]any{"enabeld": true}}, "enabeld"},
		{"bad scrape interval", map[string]any{"serviceMonitor": map[string]any{"enabled": true, "interval": "often"}}, "interval"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := render(t, ch, tt.give)
			if err == nil {
				_, err = kcheck.Check(decodeRendered(t, out))
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %v; want one containing %q", err, tt.want)
			}
		})
	}
}
