package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRedactCSVExports: spreadsheet exports as they come (a stray quote in
// an unquoted cell, a tab-separated .tsv, a two-line CSV on stdin without a
// final newline) keep every value of a credential column masked and every
// other cell (issue 17.2).
func TestRedactCSVExports(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stray := "name,password,height\nbob,Qm4vTz81LpWe,5\" 11\nann,Hy62KsPq0dXr,6\"\njoe,Zc93NbVu7tGa,5\"\n"
	tsv := "Id\tClient Secret\tNote\n1\tQm4vTz81LpWe\ta, b\n2\tHy62KsPq0dXr\tc\n"
	for name, in := range map[string]string{"stray.csv": stray, "export.tsv": tsv} {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(in), 0o600); err != nil {
			t.Fatal(err)
		}
		res := runBin(t, "", nil, "redact", p)
		checkCLIMasked(t, name, res, in)
		// scan reports each credential cell, and never its value.
		res = runBin(t, "", nil, "scan", "--report", "json", p)
		var found []struct {
			Line int `json:"line"`
		}
		if err := json.Unmarshal([]byte(res.stdout), &found); err != nil || res.code != 1 || len(found) < strings.Count(in, "\n")-1 {
			t.Errorf("scan %s: exit %d, %d findings (%v); want 1 and one per data row:\n%s", name, res.code, len(found), err, res.stdout)
		}
		if strings.Contains(res.stdout, "Qm4vTz81LpWe") || strings.Contains(res.stdout, "Hy62KsPq0dXr") {
			t.Errorf("scan %s: the report shows a secret", name)
		}
	}
	in := "api_key,owner\nQm4vTz81LpWe,ops"
	res := runBin(t, in, nil, "redact")
	checkCLIMasked(t, "stdin", res, in)
}

func checkCLIMasked(t *testing.T, name string, res result, in string) {
	t.Helper()
	if res.code != 0 {
		t.Fatalf("%s: exit %d: %s", name, res.code, res.stderr)
	}
	for _, s := range []string{"Qm4vTz81LpWe", "Hy62KsPq0dXr", "Zc93NbVu7tGa"} {
		if strings.Contains(res.stdout, s) {
			t.Errorf("%s: %s survived:\n%s", name, s, res.stdout)
		}
	}
	inRows, outRows := strings.Split(in, "\n"), strings.Split(res.stdout, "\n")
	if len(inRows) != len(outRows) {
		t.Fatalf("%s: %d lines in, %d out:\n%s", name, len(inRows), len(outRows), res.stdout)
	}
	for i := range inRows {
		if strings.Count(inRows[i], "\t")+strings.Count(inRows[i], ",") != strings.Count(outRows[i], "\t")+strings.Count(outRows[i], ",") {
			t.Errorf("%s line %d: cells changed: %q -> %q", name, i+1, inRows[i], outRows[i])
		}
	}
}

// TestMaxDocumentRefuses: one byte over --max-document, a run-history
// document is refused with an error and a non-zero exit, never redacted
// with text rules that miss its name/value pairs and sig values (issue
// 17.3); the same document under the limit is redacted structurally.
func TestMaxDocumentRefuses(t *testing.T) {
	t.Parallel()
	head := `{"properties":{"inputs":{"variables":[{"name":"DB_PASSWORD","type":"string","value":"Vq8tLr42mXpz"}]},` +
		`"outputs":{"headers":{"Location":"https://prod-07.westeurope.logic.azure.com/workflows/abc/runs?api-version=2016-10-01&sp=%2Fruns&sv=1.0&sig=Nk2sQw9PzY4mT7vR1bXcLd0"}},"pad":"`
	tail := `"}}`
	const limit = 300000
	doc := head + strings.Repeat("x", limit+1-len(head)-len(tail)) + tail
	p := filepath.Join(t.TempDir(), "run.json")
	if err := os.WriteFile(p, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	// redact fails (2); scan reports the file as not scanned (3, see
	// docs/files.md): neither says "clean".
	for cmd, code := range map[string]int{"redact": 2, "scan": 3} {
		res := runBin(t, "", nil, cmd, "--max-document", "300000", p)
		if res.code != code || !strings.Contains(res.stderr, "maximum document size") {
			t.Errorf("%s: exit %d, stderr %q; want %d and a max-document error", cmd, res.code, res.stderr, code)
		}
		for _, s := range []string{"Vq8tLr42mXpz", "Nk2sQw9PzY4mT7vR1bXcLd0"} {
			if strings.Contains(res.stdout+res.stderr, s) {
				t.Errorf("%s: %s leaked", cmd, s)
			}
		}
	}
	res := runBin(t, "", nil, "redact", "--max-document", "400000", p)
	if res.code != 0 || strings.Contains(res.stdout, "Vq8tLr42mXpz") || strings.Contains(res.stdout, "Nk2sQw9PzY4mT7vR1bXcLd0") {
		t.Errorf("under the limit: exit %d, stderr %q, a secret survived: %v", res.code, res.stderr, res.code == 0)
	}
}

// TestRedactLongKey: a private key whose body is far longer than a rule's
// match window, spanning several read chunks, is masked from BEGIN to END
// by `redact` and reported once by `scan` (issue 17.6).
func TestRedactLongKey(t *testing.T) {
	t.Parallel()
	var body strings.Builder
	x := uint32(2463534242)
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < 9000; i++ { // 9000 lines of 64: 585 KB
		for j := 0; j < 64; j++ {
			x ^= x << 13
			x ^= x >> 17
			x ^= x << 5
			body.WriteByte(b64[x%64])
		}
		body.WriteByte('\n')
	}
	in := "start\n-----BEGIN OPENSSH PRIVATE KEY-----\n" + body.String() + "-----END OPENSSH PRIVATE KEY-----\nend\n"
	p := filepath.Join(t.TempDir(), "deploy.log")
	if err := os.WriteFile(p, []byte(in), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runBin(t, "", nil, "redact", p)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for i, l := range strings.Split(body.String(), "\n") {
		if l != "" && strings.Contains(res.stdout, l) {
			t.Fatalf("body line %d survived", i+1)
		}
	}
	if !strings.HasSuffix(res.stdout, "\n-----END OPENSSH PRIVATE KEY-----\nend\n") || strings.Count(res.stdout, "\n") != strings.Count(in, "\n") {
		t.Errorf("END line, the text after it or the line count changed")
	}
	res = runBin(t, "", nil, "scan", "--report", "json", p)
	if res.code != 1 || strings.Count(res.stdout, `"rule": "private-key-pem"`) != 1 {
		t.Errorf("scan: exit %d, want 1 and one finding:\n%s", res.code, res.stdout)
	}
}
