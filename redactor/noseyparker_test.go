package redactor_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// npVectors is the layout of Nosey Parker's examples curated for a redactor
// (shared/fixtures/noseyparker/vectors.json; see its NOTICE.md).
type npVectors struct {
	Positives []struct {
		Rule    string   `json:"rule"`
		Name    string   `json:"name"`
		Text    string   `json:"text"`
		Secrets []string `json:"secrets"`
	} `json:"positives"`
	Negatives []struct {
		Rule string `json:"rule"`
		Text string `json:"text"`
	} `json:"negatives"`
	MayChange []struct {
		Rule string `json:"rule"`
		Text string `json:"text"`
	} `json:"may_change"`
}

// Floors the fixture figures must not fall below (percent). They ratchet
// up as detection improves; the targets are 95 and 95.
const (
	npMinRedacted  = 95.9
	npMinUnchanged = 100.0
)

// findNoseyParker looks for the fixture in FLOWMASK_NOSEYPARKER, else in a
// shared/fixtures directory beside one of the working tree's ancestors.
func findNoseyParker() string {
	if p := os.Getenv("FLOWMASK_NOSEYPARKER"); p != "" {
		return p
	}
	dir, err := filepath.Abs(".")
	if err != nil {
		return ""
	}
	for {
		p := filepath.Join(dir, "shared", "fixtures", "noseyparker", "vectors.json")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// TestNoseyParkerVectors redacts every example of the fixture as text
// through the public API and reports the share of positives whose secrets
// are all gone and the share of negatives left byte for byte unchanged.
// Run with -v to list the failures:
//
//	go test ./redactor/ -run TestNoseyParkerVectors -count=1 -v
func TestNoseyParkerVectors(t *testing.T) {
	path := findNoseyParker()
	if path == "" {
		t.Skip("shared/fixtures/noseyparker/vectors.json not found (set FLOWMASK_NOSEYPARKER)")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v npVectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	r, err := redactor.New(redactor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	redact := func(s string) string {
		out, _ := r.Append(nil, []byte(s), redactor.FormatText)
		return string(out)
	}

	caught := 0
	for _, p := range v.Positives {
		out := redact(p.Text)
		ok := out != p.Text
		for _, s := range p.Secrets {
			if strings.Contains(out, s) {
				ok = false
			}
		}
		if ok {
			caught++
		} else {
			t.Logf("MISS %s (%s): %q -> %q", p.Rule, p.Name, clipText(p.Text), clipText(out))
		}
	}
	kept := 0
	for _, n := range v.Negatives {
		out := redact(n.Text)
		if out == n.Text {
			kept++
		} else {
			t.Logf("CHANGED %s: %q -> %q", n.Rule, clipText(n.Text), clipText(out))
		}
	}
	changed := 0
	for _, m := range v.MayChange {
		if redact(m.Text) != m.Text {
			changed++
		}
	}
	redacted := 100 * float64(caught) / float64(len(v.Positives))
	unchanged := 100 * float64(kept) / float64(len(v.Negatives))
	t.Logf("positives redacted: %d/%d = %.1f%%", caught, len(v.Positives), redacted)
	t.Logf("negatives unchanged: %d/%d = %.1f%%", kept, len(v.Negatives), unchanged)
	t.Logf("may_change changed: %d/%d", changed, len(v.MayChange))
	if !testing.Verbose() {
		// Print the figures even without -v.
		println("noseyparker: positives redacted", caught, "/", len(v.Positives), "negatives unchanged", kept, "/", len(v.Negatives))
	}
	if redacted < npMinRedacted-0.05 {
		t.Errorf("positives redacted %.1f%% < floor %.1f%%", redacted, npMinRedacted)
	}
	if unchanged < npMinUnchanged-0.05 {
		t.Errorf("negatives unchanged %.1f%% < floor %.1f%%", unchanged, npMinUnchanged)
	}
}

func clipText(s string) string {
	if len(s) > 300 {
		return s[:300] + "..."
	}
	return s
}
