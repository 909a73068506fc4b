package deploy

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chartutil"
)

// documentedCommands returns every line of the repository's Markdown (README
// and docs/) that starts, after blanks, with prefix, as "file:line: text".
func documentedCommands(t *testing.T, prefix string) []string {
	t.Helper()
	files, err := filepath.Glob("../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	files = append(files, "../README.md")
	var out []string
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if strings.HasPrefix(line, prefix) {
				out = append(out, fmt.Sprintf("%s:%d: %s", f, n, line))
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// flagValue returns the value of --name or --name=value among fields.
func flagValue(fields []string, name string) (string, bool) {
	for i, f := range fields {
		if f == name && i+1 < len(fields) {
			return fields[i+1], true
		}
		if v, ok := strings.CutPrefix(f, name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// TestDocumentedCommands checks the deployment commands the documentation
// gives: every `helm template` passes a --kube-version the chart accepts (the
// chart has a kubeVersion constraint, which helm template checks against
// the version compiled into helm, 1.20 in the SDK), and every
// `kubectl apply -f` names a file or one of the directories that hold a
// single deployment, never deploy/kubernetes/ itself.
func TestDocumentedCommands(t *testing.T) {
	ch := loadChart(t)
	constraint := ch.Metadata.KubeVersion
	if constraint == "" {
		t.Fatal("Chart.yaml has no kubeVersion; drop --kube-version from the docs and this check")
	}
	if chartutil.IsCompatibleRange(constraint, chartutil.DefaultCapabilities.KubeVersion.String()) {
		t.Logf("helm's default Kubernetes version %s satisfies %s", chartutil.DefaultCapabilities.KubeVersion, constraint)
	}
	helm := documentedCommands(t, "helm template")
	if len(helm) == 0 {
		t.Fatal("no helm template command documented")
	}
	for _, c := range helm {
		v, ok := flagValue(strings.Fields(c), "--kube-version")
		if !ok {
			t.Errorf("%s: no --kube-version (the chart requires %s)", c, constraint)
			continue
		}
		if !strings.HasPrefix(v, "v") {
			v = "v" + v
		}
		if !chartutil.IsCompatibleRange(constraint, v) {
			t.Errorf("%s: --kube-version %s does not satisfy the chart's %s", c, v, constraint)
		}
	}
	kubectl := documentedCommands(t, "kubectl apply")
	if len(kubectl) == 0 {
		t.Fatal("no kubectl apply command documented")
	}
	for _, c := range kubectl {
		fields := strings.Fields(c)
		target, ok := flagValue(fields, "-f")
		if !ok || !strings.HasPrefix(target, "deploy/") {
			continue
		}
		fi, err := os.Stat(filepath.Join("..", target))
		if err != nil {
			t.Errorf("%s: %v", c, err)
			continue
		}
		if !fi.IsDir() {
			continue
		}
		if clean := filepath.Clean(target); clean != "deploy/kubernetes/fleet" && clean != "deploy/kubernetes/sidecar" && clean != "deploy/kubernetes/kafka" {
			t.Errorf("%s: applies %s, which is not one deployment (use deploy/kubernetes/fleet/, deploy/kubernetes/sidecar/ or deploy/kubernetes/kafka/)", c, target)
		}
		for _, f := range fields {
			if f == "-R" || f == "--recursive" || f == "-k" {
				t.Errorf("%s: %s", c, f)
			}
		}
	}
}
