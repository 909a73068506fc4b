// Package leakcheck is for the proxies' tests: it tells whether a secret
// can be read out of bytes that left flowmask (an upstream's body, a
// record, a log), however they are encoded.
package leakcheck

import (
	"bytes"
	"io"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"

	"github.com/flowmask/flowmask/redactor/charset"
)

// SecretInAnyDecoding reports whether secret appears in b read any way an
// attacker or a sink might read it: as is, or after undoing up to three
// layers of gzip, zlib, raw deflate, zstd or brotli, each in UTF-8,
// UTF-16 or UTF-32 of either byte order.
func SecretInAnyDecoding(b []byte, secret string) bool {
	forms := [][]byte{[]byte(secret)}
	for _, e := range []charset.Encoding{charset.UTF16LE, charset.UTF16BE, charset.UTF32LE, charset.UTF32BE} {
		f, _ := e.Encode([]byte(secret))
		forms = append(forms, f)
	}
	var walk func(b []byte, depth int) bool
	walk = func(b []byte, depth int) bool {
		for _, f := range forms {
			if bytes.Contains(b, f) {
				return true
			}
		}
		if depth == 0 || len(b) == 0 {
			return false
		}
		for _, open := range decompressors {
			r, err := open(bytes.NewReader(b))
			if err != nil {
				continue
			}
			d, _ := io.ReadAll(io.LimitReader(r, 64<<20))
			if len(d) > 0 && walk(d, depth-1) {
				return true
			}
		}
		return false
	}
	return walk(b, 3)
}

var decompressors = []func(io.Reader) (io.Reader, error){
	func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
	func(r io.Reader) (io.Reader, error) { return zlib.NewReader(r) },
	func(r io.Reader) (io.Reader, error) { return flate.NewReader(r), nil },
	func(r io.Reader) (io.Reader, error) { return zstd.NewReader(r, zstd.WithDecoderConcurrency(1)) },
	func(r io.Reader) (io.Reader, error) { return brotli.NewReader(r), nil },
}

// Compress applies one content coding to b, as a client might send it:
// k 0 is gzip, 1 deflate (zlib), 2 zstd, anything else brotli.
func Compress(k int, b []byte) []byte {
	var o bytes.Buffer
	var w io.WriteCloser
	switch k {
	case 0:
		w = gzip.NewWriter(&o)
	case 1:
		w = zlib.NewWriter(&o)
	case 2:
		w, _ = zstd.NewWriter(&o, zstd.WithEncoderConcurrency(1))
	default:
		w = brotli.NewWriter(&o)
	}
	w.Write(b) //nolint:errcheck // a buffer
	w.Close()
	return o.Bytes()
}
