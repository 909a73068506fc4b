package files

import (
	"bytes"
	"encoding/hex"
	"io"
	"testing"

	"github.com/flowmask/flowmask/redactor/charset"
)

// encodeLayout writes text in layout l.
func encodeLayout(t testing.TB, text string, l Layout) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc, err := newEncoder(&buf, l, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(enc, text); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestLayoutRoundTrip: what newEncoder writes, decode reads back as the
// same text and the same layout.
func TestLayoutRoundTrip(t *testing.T) {
	text := "2026-12-02 password=[REDACTED:password] café ✓ 𝄞\r\nnext line\n"
	layouts := []Layout{
		{},
		{BOM: []byte{0xEF, 0xBB, 0xBF}, Charset: charset.UTF8},
		{Charset: charset.UTF16LE, BOM: charset.UTF16LE.BOM()},
		{Charset: charset.UTF16BE, BOM: charset.UTF16BE.BOM()},
		{Charset: charset.UTF16LE},
		{Charset: charset.UTF32LE, BOM: charset.UTF32LE.BOM()},
		{Compression: Gzip},
		{Compression: Zstd, Charset: charset.UTF16LE, BOM: charset.UTF16LE.BOM()},
		{Compression: Xz},
	}
	for _, l := range layouts {
		b := encodeLayout(t, text, l)
		d, err := decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%+v: %v", l, err)
		}
		got, err := io.ReadAll(d)
		d.close()
		if err != nil || string(got) != text {
			t.Errorf("%+v: %q %v", l, got, err)
		}
		if d.Compression != l.Compression || d.Charset.String() != l.Charset.String() || !bytes.Equal(d.BOM, l.BOM) {
			t.Errorf("layout %+v read as %+v", l, d.Layout)
		}
	}
}

// TestDecodeRefuses: corrupt xz, bzip2 output, nested compression and
// truncated gzip are errors.
func TestDecodeRefuses(t *testing.T) {
	if _, err := decode(bytes.NewReader([]byte("\xfd7zXZ\x00rest"))); err == nil {
		t.Error("corrupt xz accepted")
	}
	if _, err := newEncoder(io.Discard, Layout{Compression: Bzip2}, false); err == nil {
		t.Error("bzip2 output accepted")
	}
	inner := encodeLayout(t, "password=hunter22\n", Layout{Compression: Gzip})
	outer := encodeLayout(t, string(inner), Layout{Compression: Gzip})
	if _, err := decode(bytes.NewReader(outer)); err == nil {
		t.Error("gzip in gzip accepted")
	}
	// An xz stream cut before its first block or at any later point is an
	// error (the decoder alone reads the first case as a clean end).
	xzb := encodeLayout(t, "password=hunter22\n", Layout{Compression: Xz})
	for _, n := range []int{12, 16, 24, len(xzb) / 2, len(xzb) - 1} {
		d, err := decode(bytes.NewReader(xzb[:n]))
		if err == nil {
			_, err = io.ReadAll(d)
		}
		if err == nil {
			t.Errorf("xz cut at %d of %d bytes read as clean", n, len(xzb))
		}
	}
	// Every cut of a gzip, zstd or bzip2 stream that keeps the magic bytes
	// is an error too (shorter, it is scanned as the text it is).
	bz2, _ := hex.DecodeString(bzip2Hex)
	for _, full := range [][]byte{
		encodeLayout(t, "password=hunter22\n", Layout{Compression: Gzip}),
		encodeLayout(t, "password=hunter22\n", Layout{Compression: Zstd}),
		bz2,
	} {
		for n := 4; n < len(full); n++ {
			d, err := decode(bytes.NewReader(full[:n]))
			if err == nil {
				_, err = io.ReadAll(d)
				d.close()
			}
			if err == nil {
				t.Errorf("% x cut at %d of %d bytes read as clean", full[:4], n, len(full))
			}
		}
	}
	trunc := encodeLayout(t, "password=hunter22\n", Layout{Compression: Gzip})
	d, err := decode(bytes.NewReader(trunc[:len(trunc)-6]))
	if err == nil {
		_, err = io.ReadAll(d)
	}
	if err == nil {
		t.Error("truncated gzip read as clean")
	}
}

// FuzzDecode: decode never panics, and input it reads as plain UTF-8 comes
// out unchanged.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("password=hunter22\n"))
	f.Add([]byte("\xff\xfep\x00a\x00"))
	f.Add([]byte("\x1f\x8b\x08\x00"))
	f.Add([]byte("\x28\xb5\x2f\xfd\x00"))
	f.Add([]byte("BZh9"))
	f.Add([]byte("PK\x03\x04"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decode(bytes.NewReader(b))
		if err != nil {
			return
		}
		defer d.close()
		got, err := io.ReadAll(io.LimitReader(d, 1<<20))
		if err == nil && d.plainText() && !bytes.Equal(got, b) {
			t.Fatalf("plain input changed: %q -> %q", b, got)
		}
	})
}

// bzip2Hex is "password=hunter22\n" compressed by bzip2 1.0.8.
const bzip2Hex = "425a68393141592653599190efb80000054980001010022641de802000314c00014c9899a8da268385fc59917e24ae0bb9229c284848c877dc00"
