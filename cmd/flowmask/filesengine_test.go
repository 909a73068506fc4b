package main

import (
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
