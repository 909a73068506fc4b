package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/klauspost/compress/zstd"
)

// cli runs flowmask in process (runBin: cobra's Execute with args and
// buffers). With FLOWMASK_CLI_BINARY=1 the same tests run the built binary
// instead (how they were checked against the code before the fixes).
func cli(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	return cliEnv(t, stdin, nil, args...)
}

// cliEnv is cli with env (NAME=value entries) as the command's environment.
func cliEnv(t *testing.T, stdin string, env []string, args ...string) result {
	t.Helper()
	if os.Getenv("FLOWMASK_CLI_BINARY") != "" {
		return runBinary(t, stdin, env, args...)
	}
	return runBin(t, stdin, env, args...)
}

// Fresh, realistic secrets for these tests.
const (
	ghToken   = "ghp_R8mZq2VxT4nLw9KpB6cYd3HsJ7fGa1Ue5QoX"
	ghToken2  = "ghp_Lk3Wm8QzP1xRn6TyV4bHc9JsD2fEa7GuN5oI"
	sasSig    = "q7Yx2R%2BvLmN9pQ4sT6wZ1aB3cD5eF8gH0jK2lM4nO6s%3D"
	knownLit  = "Tr0ub4dor-and-3-horses-2026"
	sasURL    = "https://contosoexports.blob.core.windows.net/runs/a.json?sv=2022-11-02&ss=b&srt=o&sp=r&se=2026-12-31T00:00:00Z&sig=" + sasSig
	password1 = "Wint3r!sComing-42"
)

// TestScanReportsMaskEveryField: a secret planted in every string a scan
// report echoes (the file name, a directory name, JSON keys holding a
// token, a SAS URL and a known secret, the value) appears in no report
// format, nor on stderr (issue 17.1).
func TestScanReportsMaskEveryField(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "export-"+ghToken2)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	doc := `{"` + ghToken + `": {"password": "` + password1 + `"},
 "` + sasURL + `": {"client_secret": "` + password1 + `"},
 "` + knownLit + `": {"api_key": "` + password1 + `"}}`
	name := filepath.Join(dir, ghToken+".json")
	os.WriteFile(name, []byte(doc), 0o644)
	for _, report := range []string{"text", "json", "sarif"} {
		res := cliEnv(t, "", []string{"FM_TEST_KNOWN=" + knownLit}, "scan", "--secret-env", "FM_TEST_KNOWN", "--report", report, name)
		if res.code != exitFindings {
			t.Fatalf("%s: code %d err %q", report, res.code, res.stderr)
		}
		for _, s := range []string{ghToken, ghToken2, sasSig, knownLit, password1} {
			if strings.Contains(res.stdout, s) || strings.Contains(res.stderr, s) {
				t.Errorf("%s report leaks %q:\n%s\n%s", report, s, res.stdout, res.stderr)
			}
		}
		if !strings.Contains(res.stdout, "password") {
			t.Errorf("%s report lost the findings: %s", report, res.stdout)
		}
	}
	// Errors naming the file are masked too.
	bad := filepath.Join(dir, "broken-"+ghToken+".json.gz")
	os.WriteFile(bad, []byte("\x1f\x8b\x08\x00garbage"), 0o644)
	res := cli(t, "", "scan", bad)
	if res.code == exitOK || strings.Contains(res.stderr, ghToken) || strings.Contains(res.stderr, ghToken2) {
		t.Errorf("unreadable file: code %d err %q", res.code, res.stderr)
	}
}

func gzipBytes(t *testing.T, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// TestCompressedInput: gzip, zstd, xz, bzip2 and zip input is decoded,
// redacted and written back in the same compression (plain with
// --decompress; bzip2 only plain); corrupt input is an error, never
// "clean" (issue 17.4).
func TestCompressedInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	plain := []byte("2026-12-02 INFO connecting\npassword=" + password1 + "\nauthorization: Bearer " + ghToken + "\n")
	gz := filepath.Join(dir, "app.log.gz")
	os.WriteFile(gz, gzipBytes(t, plain), 0o644)
	zenc, _ := zstd.NewWriter(nil)
	zst := filepath.Join(dir, "app.log.zst")
	os.WriteFile(zst, zenc.EncodeAll(plain, nil), 0o644)
	for _, name := range []string{gz, zst} {
		res := cli(t, "", "redact", name)
		if res.code != 0 {
			t.Fatalf("%s: code %d err %q", name, res.code, res.stderr)
		}
		var text []byte
		if name == gz {
			zr, err := gzip.NewReader(strings.NewReader(res.stdout))
			if err != nil {
				t.Fatalf("%s: output is not gzip: %v", name, err)
			}
			text, _ = io.ReadAll(zr)
		} else {
			zd, _ := zstd.NewReader(nil)
			var err error
			if text, err = zd.DecodeAll([]byte(res.stdout), nil); err != nil {
				t.Fatalf("%s: output is not zstd: %v", name, err)
			}
		}
		if bytes.Contains(text, []byte(password1)) || bytes.Contains(text, []byte(ghToken)) || !bytes.Contains(text, []byte("[REDACTED:")) || !bytes.HasPrefix(text, []byte("2026-12-02 INFO")) {
			t.Errorf("%s: redacted text %q", name, text)
		}
		if res := cli(t, "", "scan", name); res.code != exitFindings {
			t.Errorf("scan %s: code %d out %q", name, res.code, res.stdout)
		}
	}
	// --decompress writes plain text, named without .gz below --out-dir.
	out := filepath.Join(dir, "out")
	if res := cli(t, "", "redact", "--decompress", "--out-dir", out, gz); res.code != 0 {
		t.Fatalf("--decompress: code %d err %q", res.code, res.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "app.log")); !bytes.HasPrefix(b, []byte("2026-12-02 INFO")) || bytes.Contains(b, []byte(password1)) {
		t.Errorf("--decompress: %q", b)
	}
	// On stdin too.
	if res := cli(t, string(gzipBytes(t, plain)), "scan"); res.code != exitFindings {
		t.Errorf("scan gzip stdin: code %d", res.code)
	}
	// A directory's .gz is scanned, not skipped.
	sub := filepath.Join(dir, "logs")
	os.Mkdir(sub, 0o755)
	os.WriteFile(filepath.Join(sub, "old.log.gz"), gzipBytes(t, plain), 0o644)
	if res := cli(t, "", "scan", sub); res.code != exitFindings || !strings.Contains(res.stdout, "old.log.gz:2:") {
		t.Errorf("scan dir: code %d out %q", res.code, res.stdout)
	}
	// bzip2 is read; it cannot be written back, so redact needs --decompress.
	if bz, err := exec.LookPath("bzip2"); err == nil {
		name := filepath.Join(dir, "app.log")
		os.WriteFile(name, plain, 0o644)
		if out, err := exec.Command(bz, "-k", name).CombinedOutput(); err != nil {
			t.Fatalf("bzip2: %v %s", err, out)
		}
		if res := cli(t, "", "scan", name+".bz2"); res.code != exitFindings {
			t.Errorf("scan bz2: code %d err %q", res.code, res.stderr)
		}
		if res := cli(t, "", "redact", name+".bz2"); res.code != exitUsage || !strings.Contains(res.stderr, "--decompress") || res.stdout != "" {
			t.Errorf("redact bz2: code %d out %q err %q", res.code, res.stdout, res.stderr)
		}
		if res := cli(t, "", "redact", "--decompress", name+".bz2"); res.code != 0 || strings.Contains(res.stdout, password1) || !strings.Contains(res.stdout, "[REDACTED:") {
			t.Errorf("redact --decompress bz2: code %d out %q", res.code, res.stdout)
		}
	}
	// xz is read and written back as xz; corrupt xz is an error, never clean.
	if xzBin, err := exec.LookPath("xz"); err == nil {
		name := filepath.Join(dir, "xz-app.log")
		os.WriteFile(name, plain, 0o644)
		if out, err := exec.Command(xzBin, "-k", name).CombinedOutput(); err != nil {
			t.Fatalf("xz: %v %s", err, out)
		}
		if res := cli(t, "", "scan", name+".xz"); res.code != exitFindings {
			t.Errorf("scan xz: code %d err %q", res.code, res.stderr)
		}
		res := cli(t, "", "redact", name+".xz")
		dec := exec.Command(xzBin, "-dc")
		dec.Stdin = strings.NewReader(res.stdout)
		text, err := dec.Output()
		if res.code != 0 || err != nil || bytes.Contains(text, []byte(password1)) || !bytes.HasPrefix(text, []byte("2026-12-02 INFO")) {
			t.Errorf("redact xz: code %d %v %q", res.code, err, text)
		}
	}
	xzName := filepath.Join(dir, "corrupt.log.xz")
	os.WriteFile(xzName, []byte("\xfd7zXZ\x00\x00\x04\xe6\xd6\xb4\x46"), 0o644)
	if res := cli(t, "", "scan", xzName); res.code != exitIncomplete || !strings.Contains(res.stderr, "xz") || strings.Contains(res.stdout, "no secrets found\n") {
		t.Errorf("scan corrupt xz: code %d out %q err %q", res.code, res.stdout, res.stderr)
	}
	if res := cli(t, "", "redact", xzName); res.code == exitOK {
		t.Errorf("redact corrupt xz: code %d", res.code)
	}
	// A corrupt gzip is an error, not clean.
	bad := filepath.Join(dir, "bad.log.gz")
	os.WriteFile(bad, append(gzipBytes(t, plain)[:30], "truncated"...), 0o644)
	if res := cli(t, "", "scan", bad); res.code == exitOK || res.code == exitFindings && !strings.Contains(res.stderr, "bad.log.gz") {
		t.Errorf("scan corrupt gzip: code %d err %q", res.code, res.stderr)
	}
	// Zip members (exports) are redacted one by one, in a zip.
	zname := filepath.Join(dir, "export.zip")
	var zb bytes.Buffer
	zw := zip.NewWriter(&zb)
	w, _ := zw.Create("runs/run1.json")
	w.Write([]byte(`{"inputs":{"headers":{"Authorization":"Bearer ` + ghToken + `"}}}`))
	w, _ = zw.Create("notes.txt")
	w.Write([]byte("nothing here\n"))
	zw.Close()
	os.WriteFile(zname, zb.Bytes(), 0o644)
	res := cli(t, "", "scan", "--report", "json", zname)
	if res.code != exitFindings || !strings.Contains(res.stdout, "export.zip!runs/run1.json") {
		t.Errorf("scan zip: code %d out %q err %q", res.code, res.stdout, res.stderr)
	}
	res = cli(t, "", "redact", zname)
	zr, err := zip.NewReader(strings.NewReader(res.stdout), int64(len(res.stdout)))
	if res.code != 0 || err != nil || len(zr.File) != 2 {
		t.Fatalf("redact zip: code %d err %v %q", res.code, err, res.stderr)
	}
	rc, _ := zr.File[0].Open()
	got, _ := io.ReadAll(rc)
	if zr.File[0].Name != "runs/run1.json" || strings.Contains(string(got), ghToken) || !strings.Contains(string(got), `"Authorization":"Bearer [REDACTED:`) {
		t.Errorf("zip member: %s %s", zr.File[0].Name, got)
	}
}

func utf16Bytes(s string, order binary.AppendByteOrder, bom bool) []byte {
	var b []byte
	if bom {
		b = order.AppendUint16(b, 0xFEFF)
	}
	for _, u := range utf16.Encode([]rune(s)) {
		b = order.AppendUint16(b, u)
	}
	return b
}

func fromUTF16(t *testing.T, b []byte, order binary.ByteOrder) string {
	t.Helper()
	if len(b)%2 != 0 {
		t.Fatalf("odd length %d", len(b))
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = order.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

// TestUTF16Input: UTF-16LE with a BOM (PowerShell 5.1's Out-File), UTF-16BE
// JSON and BOM-less UTF-16LE are decoded, redacted and written back in
// their encoding with their BOM (issue 17.5).
func TestUTF16Input(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	text := "PS C:\\> $env:APP_PASSWORD\r\npassword=" + password1 + "\r\ntoken " + ghToken + " – done\r\n"
	cases := []struct {
		name  string
		order interface {
			binary.ByteOrder
			binary.AppendByteOrder
		}
		bom  bool
		body string
	}{
		{"ps51.txt", binary.LittleEndian, true, text},
		{"export.json", binary.BigEndian, true, `{"user":"bob","password":"` + password1 + `","note":"café"}`},
		{"nobom.log", binary.LittleEndian, false, text},
	}
	for _, c := range cases {
		name := filepath.Join(dir, c.name)
		os.WriteFile(name, utf16Bytes(c.body, c.order, c.bom), 0o644)
		res := cli(t, "", "redact", name)
		if res.code != 0 {
			t.Fatalf("%s: code %d err %q", c.name, res.code, res.stderr)
		}
		out := []byte(res.stdout)
		if c.bom && !bytes.Equal(out[:2], utf16Bytes("", c.order, true)) {
			t.Errorf("%s: BOM lost: % x", c.name, out[:4])
		}
		if !c.bom {
			out = append(utf16Bytes("", c.order, true)[:0], out...)
		} else {
			out = out[2:]
		}
		got := fromUTF16(t, out, c.order)
		if strings.Contains(got, password1) || strings.Contains(got, ghToken) || !strings.Contains(got, "[REDACTED:") {
			t.Errorf("%s: %q", c.name, got)
		}
		if c.name == "export.json" && got != `{"user":"bob","password":"[REDACTED:password]","note":"café"}` {
			t.Errorf("%s: %q", c.name, got)
		}
		if res := cli(t, "", "scan", name); res.code != exitFindings {
			t.Errorf("scan %s: code %d out %q", c.name, res.code, res.stdout)
		}
	}
	// UTF-16 on stdin.
	res := cli(t, string(utf16Bytes(text, binary.LittleEndian, true)), "redact")
	if res.code != 0 || strings.Contains(fromUTF16(t, []byte(res.stdout)[2:], binary.LittleEndian), password1) {
		t.Errorf("stdin: code %d", res.code)
	}
}

// TestFindingColumnsPastChunk: a finding on a line longer than one read
// chunk reports its true column and offset, in every format, and lines stay
// right around it (issue 17.10, and the running position of 17.8).
func TestFindingColumnsPastChunk(t *testing.T) {
	t.Parallel()
	pad := strings.Repeat("x", 700<<10)
	in := "first line password=" + password1 + "\n" + pad + " password=" + password1 + " and token " + ghToken + "\nlast password=" + password1 + "\n"
	res := cli(t, in, "scan", "--format", "text", "--report", "json")
	var fs []struct {
		Rule   string `json:"rule"`
		Line   int    `json:"line"`
		Column int    `json:"column"`
		Offset int64  `json:"offset"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &fs); err != nil || len(fs) != 4 {
		t.Fatalf("report: %v code %d %s", err, res.code, res.stdout)
	}
	for _, f := range fs {
		lineStart := strings.LastIndexByte(in[:f.Offset], '\n') + 1
		wantLine := strings.Count(in[:f.Offset], "\n") + 1
		if f.Column != int(f.Offset)-lineStart+1 || f.Line != wantLine {
			t.Errorf("%s at offset %d: line %d column %d, want line %d column %d", f.Rule, f.Offset, f.Line, f.Column, wantLine, int(f.Offset)-lineStart+1)
		}
	}
	if fs[1].Column < 700<<10 {
		t.Errorf("column %d is relative to a chunk", fs[1].Column)
	}
	res = cli(t, in, "scan", "--format", "text")
	if !strings.Contains(res.stdout, "-:2:716811:") {
		t.Errorf("text report: %q", res.stdout)
	}
}

// TestRedactLiveNDJSON: with --format auto, a stream whose first line is a
// JSON object is NDJSON and each line is written as it comes, while the
// writer keeps the stream open (issue 17.11). In process, on pipes.
func TestRedactLiveNDJSON(t *testing.T) {
	t.Parallel()
	stdinR, stdin := io.Pipe()
	stdout, stdoutW := io.Pipe()
	done := make(chan int, 1)
	go func() {
		code := run(t.Context(), []string{"redact"}, testStreams(stdinR, stdoutW, io.Discard, nil))
		stdoutW.Close()
		done <- code
	}()
	defer func() {
		stdin.Close()
		go io.Copy(io.Discard, stdout)
		<-done // the cut-off last line makes it an error: not what this test is about
	}()
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		got <- line
	}()
	// A complete line followed by the start of the next one: the complete
	// line must not wait for the rest.
	go io.WriteString(stdin, `{"level":"info","password":"`+password1+`"}`+"\n"+`{"level":"debug","tok`)
	select {
	case line := <-got:
		if line != `{"level":"info","password":"[REDACTED:password]"}`+"\n" {
			t.Errorf("first line: %q", line)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no output while the stream stays open: the first line was held back")
	}
}

// TestRedactOutDirKeepsPaths: same base names from different folders are
// kept apart, a directory keeps its tree, nothing existing is overwritten
// without --force, and --include/--exclude/--hidden choose what is read
// (issue 16.3).
func TestRedactOutDirKeepsPaths(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, p := range []string{"a/app.log", "b/app.log", "tree/x/one.log", "tree/y/two.json", "tree/.cache/h.log", "tree/.env", "tree/skip.tmp"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte("password="+password1+" from "+p+"\n"), 0o644)
	}
	out := filepath.Join(dir, "out")
	res := cli(t, "", "redact", "--out-dir", out, filepath.Join(dir, "a", "app.log"), filepath.Join(dir, "b", "app.log"))
	if res.code != 0 {
		t.Fatalf("code %d err %q", res.code, res.stderr)
	}
	for _, p := range []string{"a/app.log", "b/app.log"} {
		b, err := os.ReadFile(filepath.Join(out, p))
		if err != nil || !strings.Contains(string(b), "from "+p) || strings.Contains(string(b), password1) {
			t.Errorf("%s: %q %v", p, b, err)
		}
	}
	// Existing outputs are not overwritten without --force, and nothing is
	// written when one would be.
	os.Remove(filepath.Join(out, "b", "app.log"))
	res = cli(t, "", "redact", "--out-dir", out, filepath.Join(dir, "a", "app.log"), filepath.Join(dir, "b", "app.log"))
	if res.code != exitUsage || !strings.Contains(res.stderr, "--force") {
		t.Errorf("existing output: code %d err %q", res.code, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "b", "app.log")); err == nil {
		t.Error("wrote one output although another was refused")
	}
	if res := cli(t, "", "redact", "--force", "--out-dir", out, filepath.Join(dir, "a", "app.log"), filepath.Join(dir, "b", "app.log")); res.code != 0 {
		t.Errorf("--force: code %d err %q", res.code, res.stderr)
	}
	// A directory keeps its tree; hidden files and excluded ones are named.
	tout := filepath.Join(dir, "tout")
	res = cli(t, "", "redact", "--out-dir", tout, "--exclude", "*.tmp", filepath.Join(dir, "tree"))
	if res.code != 0 {
		t.Fatalf("tree: code %d err %q", res.code, res.stderr)
	}
	for _, p := range []string{"x/one.log", "y/two.json"} {
		if _, err := os.Stat(filepath.Join(tout, p)); err != nil {
			t.Errorf("tree: %v", err)
		}
	}
	for _, p := range []string{".env", ".cache/h.log", "skip.tmp"} {
		if _, err := os.Stat(filepath.Join(tout, p)); err == nil {
			t.Errorf("tree: %s written", p)
		}
		if !strings.Contains(res.stderr, filepath.Base(filepath.Dir(filepath.Join("tree", p)))) {
			t.Errorf("skip of %s not named: %q", p, res.stderr)
		}
	}
	res = cli(t, "", "redact", "--out-dir", filepath.Join(dir, "hout"), "--hidden", "--include", "*.log", filepath.Join(dir, "tree"))
	if _, err := os.Stat(filepath.Join(dir, "hout", ".cache", "h.log")); err != nil || res.code != 0 {
		t.Errorf("--hidden: code %d %v %q", res.code, err, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "hout", "y", "two.json")); err == nil {
		t.Error("--include '*.log' wrote a .json")
	}
	// A hidden file named explicitly is read.
	if res := cli(t, "", "redact", filepath.Join(dir, "tree", ".env")); res.code != 0 || !strings.Contains(res.stdout, "[REDACTED:") {
		t.Errorf("named hidden file: code %d out %q", res.code, res.stdout)
	}
}

// TestScanReportsReadableFiles: one unreadable input does not drop the
// report of the others; it is named on stderr and the exit code says the
// report is incomplete (issue 16.4).
func TestScanReportsReadableFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.log")
	os.WriteFile(good, []byte("password="+password1+"\n"), 0o644)
	bad := filepath.Join(dir, "bad.log.gz")
	os.WriteFile(bad, []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03not deflate at all"), 0o644)
	clean := filepath.Join(dir, "clean.log")
	os.WriteFile(clean, []byte("all good\n"), 0o644)
	res := cli(t, "", "scan", "--report", "json", bad, good, clean)
	if res.code != exitIncomplete {
		t.Errorf("code %d, want %d: %q", res.code, exitIncomplete, res.stderr)
	}
	if !strings.Contains(res.stdout, "good.log") || !strings.Contains(res.stderr, "bad.log.gz") {
		t.Errorf("out %q err %q", res.stdout, res.stderr)
	}
	// A missing input is named too; the others are still reported.
	res = cli(t, "", "scan", filepath.Join(dir, "gone.log"), good)
	if res.code != exitIncomplete || !strings.Contains(res.stdout, "good.log:1:") || !strings.Contains(res.stderr, "gone.log") {
		t.Errorf("missing input: code %d out %q err %q", res.code, res.stdout, res.stderr)
	}
	res = cli(t, "", "scan", bad, clean)
	if res.code != exitIncomplete || strings.Contains(res.stdout, "no secrets found\n") {
		t.Errorf("clean+bad: code %d out %q", res.code, res.stdout)
	}
}

// TestAuditNamedNonFlowIsError: a file named explicitly that is not a flow
// definition or solution is an error, not a silent pass (issue 16.4).
func TestAuditNamedNonFlowIsError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	name := filepath.Join(dir, "app-settings.json")
	os.WriteFile(name, []byte(`{"logging":{"level":"info"},"retries":3}`), 0o644)
	res := cli(t, "", "audit", name)
	if res.code == exitOK || !strings.Contains(res.stderr, "app-settings.json") {
		t.Errorf("code %d out %q err %q", res.code, res.stdout, res.stderr)
	}
	// In a walked directory it is still skipped (with a note on stderr).
	if res := cli(t, "", "audit", dir); res.code != exitOK {
		t.Errorf("dir: code %d err %q", res.code, res.stderr)
	}
}
