package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStdinFromFileKeepsItsSize: standard input redirected from a regular
// file (`flowmask redact < big.ndjson`) is opened as a reader that still
// answers Stat with the file's size, so the file front end buffers a file
// that is one long record once, at its size, as it does for a named file
// (issue 17.9; it was wrapped in io.NopCloser, which hid the file).
func TestStdinFromFileKeepsItsSize(t *testing.T) {
	t.Parallel()
	name := filepath.Join(t.TempDir(), "in.ndjson")
	body := strings.Repeat(`{"msg":"hello"}`+"\n", 100)
	if err := os.WriteFile(name, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := openInput(withStdin(context.Background(), f), stdinName)
	if err != nil {
		t.Fatal(err)
	}
	st, ok := r.(interface{ Stat() (os.FileInfo, error) })
	if !ok {
		t.Fatalf("standard input from a file is a %T, which hides the file", r)
	}
	fi, err := st.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != int64(len(body)) {
		t.Fatalf("Stat = %v, %v; want a regular file of %d bytes", fi, err, len(body))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Stat(); err != nil {
		t.Fatalf("closing the input closed standard input: %v", err)
	}

	// A pipe is no file: no size, no error from reading it.
	pr, err := openInput(withStdin(context.Background(), strings.NewReader(body)), stdinName)
	if err != nil {
		t.Fatal(err)
	}
	if st, ok := pr.(interface{ Stat() (os.FileInfo, error) }); ok {
		if _, err := st.Stat(); err == nil {
			t.Fatal("a reader that is no file has a FileInfo")
		}
	}
}
