package redactor_test

import (
	"bytes"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

var update = flag.Bool("update", false, "rewrite golden files")

// planted lists the secrets written into the run-history fixtures; none may
// survive redaction.
var planted = []string{
	"Xk2m9PqR7sT1uV3wY5zA8bC0dE2fG4hJ6kL8mN0pQ2r",  // sig
	"aBcD1234efGH5678ijKL9012mnOP3456qrST7890uvWX", // code
	"VK_mbQPTHTa3ezhsrI8IctckwjlL3GdJmroQH_baYj4",
	"IxEQ_ygZf6WNEQCbjV0Vs6p6Y4DyNEJVAa86U5B4xhk",
	"Zy9xW8vU7tS6rQ5pO4nM3lK2jI1hG0fE9dC8bA7zY6x",
	"dGhpcyBpcyBub3QgYSByZWFsIHNpZw",
	"ak_live_7d2c9e1f4b8a6053",
	"Q8x~Z3kP7mN2vB6tR9yW1qE4uI0oA5sD8fG2hJ",
	"c3ZjLW9yZGVyczpTdXBlclNlY3JldDEyMw==",
	"9f8e7d6c5b4a39281706f5e4d3c2b1a0",
	"0123456789abcdef0123456789abcdef",
	"Tr0ub4dor&3x",
	"Winter2024!",
	"tS38Q~mno.PQRstu-VWXyz0123456789abcdEF",
	"tok_4e8c1d9b7a2f6e3c",
}

func TestRunHistoryGolden(t *testing.T) {
	r := def(t)
	files, err := filepath.Glob("testdata/runhistory/*")
	if err != nil || len(files) == 0 {
		t.Fatal("no fixtures")
	}
	for _, in := range files {
		if strings.HasSuffix(in, ".golden") {
			continue
		}
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			w := r.NewWriter(&out, redactor.FormatAuto)
			w.SetHint(redactor.FormatHint(in))
			w.Write(src)
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			got := out.Bytes()
			for _, s := range planted {
				if bytes.Contains(got, []byte(s)) {
					t.Errorf("planted secret %q survived", s)
				}
				// Nor in the decoded base64 bodies.
				if strings.HasSuffix(in, ".json") && strings.Contains(decodeAllBase64(t, got), s) {
					t.Errorf("planted secret %q survived inside base64", s)
				}
			}
			if strings.HasSuffix(in, ".json") && !json.Valid(got) {
				t.Errorf("output is not valid JSON")
			}
			golden := in + ".golden"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (go test -run RunHistoryGolden -update rewrites it):\n%s", golden, got)
			}
		})
	}
}

// decodeAllBase64 returns the decoded text of every "$content" and
// "inlinedContent" value in a JSON document.
func decodeAllBase64(t *testing.T, doc []byte) string {
	var sb strings.Builder
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if s, ok := c.(string); ok && (k == "$content" || k == "inlinedContent") {
					d, _ := base64.StdEncoding.DecodeString(s)
					sb.Write(d)
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	var v any
	if err := json.Unmarshal(doc, &v); err == nil {
		walk(v)
	}
	return sb.String()
}

// TestInlinedContentFixup recomputes size and md5 of every inlined content
// link after redaction, and checks that a link without secrets is untouched.
func TestInlinedContentFixup(t *testing.T) {
	r := def(t)
	src, err := os.ReadFile("testdata/runhistory/standard-run-inlined.json")
	if err != nil {
		t.Fatal(err)
	}
	out, _ := r.Append(nil, src, redactor.FormatJSON)
	type link struct {
		ContentVersion string `json:"contentVersion"`
		ContentSize    int    `json:"contentSize"`
		ContentHash    struct {
			Algorithm string `json:"algorithm"`
			Value     string `json:"value"`
		} `json:"contentHash"`
		InlinedContent string `json:"inlinedContent"`
	}
	var before, after struct {
		Properties struct {
			Actions map[string]struct {
				InputsLink  link `json:"inputsLink"`
				OutputsLink link `json:"outputsLink"`
			} `json:"actions"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(src, &before); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(out, &after); err != nil {
		t.Fatal(err)
	}
	in, outL := after.Properties.Actions["Call_ERP"].InputsLink, after.Properties.Actions["Call_ERP"].OutputsLink
	if in.InlinedContent == before.Properties.Actions["Call_ERP"].InputsLink.InlinedContent {
		t.Fatal("inputs with secrets were not redacted")
	}
	for name, l := range map[string]link{"inputs": in, "outputs": outL} {
		plain, err := base64.StdEncoding.DecodeString(l.InlinedContent)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		sum := md5.Sum(plain)
		if l.ContentSize != len(plain) || l.ContentHash.Value != base64.StdEncoding.EncodeToString(sum[:]) || l.ContentVersion != l.ContentHash.Value {
			t.Errorf("%s: size %d hash %s version %s do not match content (%d bytes)", name, l.ContentSize, l.ContentHash.Value, l.ContentVersion, len(plain))
		}
		if !json.Valid(plain) {
			t.Errorf("%s: decoded content is not valid JSON: %s", name, plain)
		}
	}
	if outL != before.Properties.Actions["Call_ERP"].OutputsLink {
		t.Errorf("clean outputs link changed: %+v", outL)
	}
}
