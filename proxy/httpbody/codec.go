package httpbody

import (
	"bufio"
	"io"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
	"github.com/klauspost/compress/zstd"
)

// Coding is a Content-Encoding flowmask decodes and encodes.
type Coding string

// The codings flowmask reads. x-gzip is read as gzip.
const (
	Gzip    Coding = "gzip"
	Deflate Coding = "deflate"
	Zstd    Coding = "zstd"
	Brotli  Coding = "br"
)

// Decodable lists the codings flowmask can decode, in its order of
// preference for responses it asks upstreams for.
var Decodable = []Coding{Gzip, Zstd, Brotli, Deflate}

func codingByName(name string) (Coding, bool) {
	switch name {
	case "gzip", "x-gzip":
		return Gzip, true
	case "deflate":
		return Deflate, true
	case "zstd":
		return Zstd, true
	case "br":
		return Brotli, true
	}
	return "", false
}

// poolSize bounds each codec pool: at most this many idle readers or
// writers of one kind are kept; the rest are left to the GC.
const poolSize = 32

// pool is a bounded free list.
type pool[T any] struct{ c chan T }

func newPool[T any]() *pool[T] { return &pool[T]{c: make(chan T, poolSize)} }

func (p *pool[T]) get() (T, bool) {
	select {
	case v := <-p.c:
		return v, true
	default:
		var zero T
		return zero, false
	}
}

func (p *pool[T]) put(v T) {
	select {
	case p.c <- v:
	default:
	}
}

// zstdMaxWindow bounds a zstd decoder's window (memory per body).
const zstdMaxWindow = 8 << 20

var (
	gzipReaders   = newPool[*gzip.Reader]()
	gzipWriters   = newPool[*gzip.Writer]()
	zlibReaders   = newPool[io.ReadCloser]()
	flateReaders  = newPool[io.ReadCloser]()
	zlibWriters   = newPool[*zlib.Writer]()
	zstdReaders   = newPool[*zstd.Decoder]()
	zstdWriters   = newPool[*zstd.Encoder]()
	brReaders     = newPool[*brotli.Reader]()
	brWriters     = newPool[*brotli.Writer]()
	deflatePeeker = newPool[*bufio.Reader]()
)

// decoder is one decoding layer; release returns its state to the pool.
type decoder struct {
	io.Reader
	release func()
}

// newDecoder returns a reader of r with coding k undone.
func newDecoder(k Coding, r io.Reader) (decoder, error) {
	switch k {
	case Gzip:
		zr, ok := gzipReaders.get()
		var err error
		if ok {
			err = zr.Reset(r)
		} else {
			zr, err = gzip.NewReader(r)
		}
		if err != nil {
			return decoder{}, err
		}
		zr.Multistream(true)
		return decoder{zr, func() { gzipReaders.put(zr) }}, nil
	case Deflate:
		// HTTP deflate is zlib-wrapped, but some clients send raw deflate.
		br, ok := deflatePeeker.get()
		if ok {
			br.Reset(r)
		} else {
			br = bufio.NewReaderSize(r, 512)
		}
		h, err := br.Peek(2)
		if err == nil && h[0]&0x0f == 8 && (uint16(h[0])<<8|uint16(h[1]))%31 == 0 {
			zr, ok := zlibReaders.get()
			if ok {
				err = zr.(zlib.Resetter).Reset(br, nil)
			} else {
				zr, err = zlib.NewReader(br)
			}
			if err != nil {
				return decoder{}, err
			}
			return decoder{zr, func() { zlibReaders.put(zr); br.Reset(nil); deflatePeeker.put(br) }}, nil
		}
		fr, ok := flateReaders.get()
		if ok {
			fr.(flate.Resetter).Reset(br, nil) //nolint:errcheck // never fails
		} else {
			fr = flate.NewReader(br)
		}
		return decoder{fr, func() { flateReaders.put(fr); br.Reset(nil); deflatePeeker.put(br) }}, nil
	case Zstd:
		d, ok := zstdReaders.get()
		var err error
		if ok {
			err = d.Reset(r)
		} else {
			d, err = zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow), zstd.WithDecoderLowmem(true))
		}
		if err != nil {
			return decoder{}, err
		}
		return decoder{d, func() { d.Reset(nil); zstdReaders.put(d) }}, nil //nolint:errcheck // Reset(nil) only frees
	case Brotli:
		br, ok := brReaders.get()
		if ok {
			if err := br.Reset(r); err != nil {
				return decoder{}, err
			}
		} else {
			br = brotli.NewReader(r)
		}
		return decoder{br, func() { brReaders.put(br) }}, nil
	}
	panic("httpbody: unknown coding " + string(k))
}

// encoder is one encoding layer: Close flushes it (not its destination)
// and returns it to the pool.
type encoder struct {
	w     io.WriteCloser
	after func()
}

// newEncoder returns a writer that applies coding k and writes to w.
func newEncoder(k Coding, w io.Writer) encoder {
	switch k {
	case Gzip:
		zw, ok := gzipWriters.get()
		if ok {
			zw.Reset(w)
		} else {
			zw, _ = gzip.NewWriterLevel(w, gzip.BestSpeed)
		}
		return encoder{zw, func() { zw.Reset(io.Discard); gzipWriters.put(zw) }}
	case Deflate:
		zw, ok := zlibWriters.get()
		if ok {
			zw.Reset(w)
		} else {
			zw, _ = zlib.NewWriterLevel(w, zlib.BestSpeed)
		}
		return encoder{zw, func() { zw.Reset(io.Discard); zlibWriters.put(zw) }}
	case Zstd:
		zw, ok := zstdWriters.get()
		if ok {
			zw.Reset(w)
		} else {
			zw, _ = zstd.NewWriter(w, zstd.WithEncoderConcurrency(1), zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithWindowSize(1<<20))
		}
		return encoder{zw, func() { zw.Reset(io.Discard); zstdWriters.put(zw) }}
	case Brotli:
		bw, ok := brWriters.get()
		if ok {
			bw.Reset(w)
		} else {
			bw = brotli.NewWriterLevel(w, 4)
		}
		return encoder{bw, func() { bw.Reset(io.Discard); brWriters.put(bw) }}
	}
	panic("httpbody: unknown coding " + string(k))
}
