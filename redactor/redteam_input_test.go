package redactor_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/charset"
)

const redteamPlain = "2026-12-02T10:00:00Z login user=svc-orders password=Hq3vZt9wLm2xRp7k\n" +
	`{"apiKey":"Jd8sKq2nVb5xTw3m"}` + "\n"

var redteamSecrets = []string{"Hq3vZt9wLm2xRp7k", "Jd8sKq2nVb5xTw3m"} // generated, fake

// Red-team: UTF-16 and UTF-32 files (PowerShell and Windows tools write
// them) went through redact and scan untouched: every secret leaked and scan
// said "no secrets found".
func TestRedteamWideCharsetInput(t *testing.T) {
	r := def(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		enc  charset.Encoding
		bom  bool
	}{
		{"utf-16le-bom", charset.UTF16LE, true},
		{"utf-16be-bom", charset.UTF16BE, true},
		{"utf-16le-nobom", charset.UTF16LE, false},
		{"utf-16be-nobom", charset.UTF16BE, false},
		{"utf-32le-bom", charset.UTF32LE, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, err := tc.enc.Encode([]byte(redteamPlain))
			if err != nil {
				t.Fatal(err)
			}
			if tc.bom {
				body = append(tc.enc.BOM(), body...)
			}
			for _, workers := range []int{1, 4} {
				var out bytes.Buffer
				if _, err := r.StreamParallel(ctx, &out, bytes.NewReader(body), redactor.FormatAuto, redactor.FormatAuto, workers); err != nil {
					t.Fatalf("StreamParallel: %v", err)
				}
				got := out.Bytes()
				if tc.bom {
					if !bytes.HasPrefix(got, tc.enc.BOM()) {
						t.Errorf("workers=%d: BOM not kept", workers)
					}
					got = got[len(tc.enc.BOM()):]
				}
				dec, err := tc.enc.Decode(got)
				if err != nil {
					t.Fatalf("output is not %s: %v", tc.enc, err)
				}
				for _, s := range redteamSecrets {
					if strings.Contains(string(dec), s) {
						t.Errorf("workers=%d: secret leaked: %q", workers, dec)
					}
				}
				if !strings.Contains(string(dec), "[REDACTED:password]") {
					t.Errorf("workers=%d: output not redacted in its encoding: %q", workers, dec)
				}
			}
			n := 0
			if _, err := r.Scan(ctx, bytes.NewReader(body), redactor.FormatAuto, redactor.FormatAuto, func(redactor.Finding) { n++ }); err != nil {
				t.Fatalf("Scan: %v", err)
			}
			if n < 2 {
				t.Errorf("Scan found %d secrets, want 2", n)
			}
		})
	}
}

// Red-team: gzip input was written out byte for byte: the secrets inside
// were never scanned and came out again on decompression. It is refused.
func TestRedteamCompressedInputRefused(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(redteamPlain))
	zw.Close()
	inputs := map[string][]byte{
		"gzip": gz.Bytes(),
		"zstd": append([]byte{0x28, 0xb5, 0x2f, 0xfd}, "compressed"...),
		"zip":  append([]byte("PK\x03\x04"), "archive"...),
	}
	r := def(t)
	ctx := context.Background()
	for name, in := range inputs {
		var out bytes.Buffer
		_, err := r.StreamParallel(ctx, &out, bytes.NewReader(in), redactor.FormatAuto, redactor.FormatAuto, 1)
		if !errors.Is(err, redactor.ErrCompressed) {
			t.Errorf("%s: StreamParallel error = %v, want ErrCompressed", name, err)
		}
		if out.Len() > 0 {
			t.Errorf("%s: %d bytes written for refused input", name, out.Len())
		}
		_, err = r.Scan(ctx, bytes.NewReader(in), redactor.FormatAuto, redactor.FormatAuto, func(redactor.Finding) {})
		if !errors.Is(err, redactor.ErrCompressed) {
			t.Errorf("%s: Scan error = %v, want ErrCompressed", name, err)
		}
	}
	// Text that merely starts with the same letters is not refused.
	var out bytes.Buffer
	if _, err := r.Stream(ctx, &out, strings.NewReader("BZh is a word here\n"), redactor.FormatAuto, redactor.FormatAuto); err != nil {
		t.Errorf("plain text refused: %v", err)
	}
}
