package httpbody

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/flowmask/flowmask/redactor/charset"
)

// sniffLen is how much decoded text is looked at for a BOM or the NUL
// pattern of UTF-16/32.
const sniffLen = 256

// Reader reads a body's plain UTF-8 text: its Content-Encoding chain and
// charset undone, its size and time bounded. Close returns its codecs to
// their pools and its share of the Budget.
type Reader struct {
	class   *Class
	raw     rawReader
	layers  []decoder
	counted countReader
	// Charset is what the text was really in (a BOM or the UTF-16/32 NUL
	// pattern wins over the declared label); BOM is the mark it started
	// with, written back by the Writer.
	Charset charset.Encoding
	BOM     []byte
	src     io.Reader
	peek    [sniffLen]byte
	pi, pn  int
	lease   *lease
	closed  bool
}

// rawReader remembers the wire's own error so a decoder's report of it is
// not mistaken for a corrupt coding.
type rawReader struct {
	r   io.Reader
	err error
}

func (r *rawReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		r.err = err
	}
	return n, err
}

// countReader bounds the decoded size, the time, and charges the budget.
type countReader struct {
	r        io.Reader
	n        int64
	lim      Limits
	lease    *lease
	rd       *Reader
	charged  int64
	coding   string
	rawError func() error
}

func (c *countReader) Read(p []byte) (int, error) {
	if !c.lim.Deadline.IsZero() && time.Now().After(c.lim.Deadline) {
		return 0, ErrTimeout
	}
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.lim.MaxDecoded > 0 && c.n > c.lim.MaxDecoded {
		return n, ErrDecodedTooLarge
	}
	if c.lease != nil {
		want := c.n
		if c.lim.Hold > 0 && want > c.lim.Hold {
			want = c.lim.Hold
		}
		if c.lim.Weight > 1 {
			want *= c.lim.Weight
		}
		if want > c.charged {
			d := want - c.charged
			c.charged = want
			if e := c.lease.charge(d); e != nil {
				return n, e
			}
		}
	}
	if err != nil && err != io.EOF && c.coding != "" {
		if raw := c.rawError(); raw != nil {
			return n, raw
		}
		if AsError(err) == nil {
			err = BadEncoding(c.coding, err)
		}
	}
	if err == io.ErrUnexpectedEOF && c.coding != "" {
		err = BadEncoding(c.coding, err)
	}
	return n, err
}

// NewReader starts decoding raw as c says. It takes a slot of lim.Budget
// (ErrBusy when none is free) and fails with an *Error when the first
// bytes of a coding are corrupt.
func (c *Class) NewReader(raw io.Reader, lim Limits) (*Reader, error) {
	l, err := lim.Budget.acquire()
	if err != nil {
		return nil, err
	}
	rd := &Reader{class: c, lease: l, Charset: c.Charset}
	rd.raw.r = raw
	var cur io.Reader = &rd.raw
	for i := len(c.Codings) - 1; i >= 0; i-- {
		d, err := newDecoder(c.Codings[i], cur)
		if err != nil {
			rd.Close()
			if rd.raw.err != nil {
				return nil, rd.raw.err
			}
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, BadEncoding(string(c.Codings[i]), err)
		}
		rd.layers = append(rd.layers, d)
		cur = d
	}
	rd.counted = countReader{r: cur, lim: lim, lease: l, rd: rd, rawError: func() error { return rd.raw.err }}
	if len(c.Codings) > 0 {
		rd.counted.coding = c.CodingNames()
	}
	if err := rd.sniff(); err != nil {
		rd.Close()
		return nil, err
	}
	return rd, nil
}

// sniff reads the first bytes of the text and settles the charset: a BOM
// wins over the label; a body labelled UTF-8 (or not at all) whose bytes
// show the NUL pattern of UTF-16/32 is read as that.
func (rd *Reader) sniff() error {
	n, err := io.ReadFull(&rd.counted, rd.peek[:])
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return err
	}
	rd.pn = n
	if m := compressedMagic(rd.peek[:n]); m != "" {
		// The coding chain is undone: what is left must be text, not a
		// compressed stream someone left out of Content-Encoding.
		return unsupported("unsupported_media_type", "the body is "+m+" data not declared in Content-Encoding; declare the coding")
	}
	enc, bom, ok := charset.Sniff(rd.peek[:n])
	switch {
	case ok && bom > 0:
		rd.Charset = enc
		rd.BOM = append([]byte(nil), rd.peek[:bom]...)
		rd.pi = bom
	case ok && (rd.Charset.IsUTF8() || wide(rd.Charset)):
		// BOM-less UTF-16/32 under a UTF-8 label, no label, or a UTF-16/32
		// label of the other byte order: the bytes say which.
		rd.Charset = enc
	case wide(rd.Charset) && n >= 16:
		// Labelled UTF-16/32 without a BOM, but the bytes do not show the
		// zero bytes every such text with ASCII in it has (JSON, logs):
		// most likely something else under a false label.
		return unsupported("unsupported_media_type", "the body is labelled charset "+rd.Charset.String()+" but its bytes are not "+rd.Charset.String()+" text; send a BOM or label it correctly")
	}
	if w := rd.peek[rd.pi:rd.pn]; !rd.Charset.IsUTF8() && len(rd.BOM) == 0 && printable(w) {
		// Plain ASCII text under a label that reads it as something else
		// (utf-16, an EBCDIC code page): the engine would scan noise while
		// any reader taking the bytes as ASCII sees the text. Refuse.
		if d, err := rd.Charset.Decode(w); err != nil || !bytes.Equal(d, w) {
			return unsupported("unsupported_media_type", "the body is labelled charset "+rd.Charset.String()+" but reads as ASCII text; label it correctly")
		}
	}
	if !rd.Charset.IsUTF8() {
		if d, err := rd.Charset.Decode(rd.peek[rd.pi:rd.pn]); err == nil && binary(d) {
			return unsupported("unsupported_media_type", "the body is binary data, not "+rd.Charset.String()+" text; declare its Content-Encoding or send text")
		}
	}
	if rd.Charset.IsUTF8() && binary(rd.peek[rd.pi:rd.pn]) {
		// Compressed or binary data the headers do not declare (zlib and
		// brotli have no reliable magic): the engine would scan noise.
		return unsupported("unsupported_media_type", "the body is binary data, not text; declare its Content-Encoding or send text")
	}
	rd.src = rd.Charset.NewDecoder(readerFunc(rd.readRaw))
	return nil
}

// wide reports UTF-16 and UTF-32, whose ASCII has zero bytes.
func wide(e charset.Encoding) bool {
	return strings.HasPrefix(e.Name, "utf-16") || strings.HasPrefix(e.Name, "utf-32")
}

// printable reports a window of at least 4 bytes that is all printable
// ASCII and white space.
func printable(b []byte) bool {
	if len(b) < 4 {
		return false
	}
	for _, c := range b {
		if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c > 0x7e {
			return false
		}
	}
	return true
}

// binary reports control bytes no text format holds raw: NUL and C0
// controls other than tab, line feed, vertical tab, form feed, carriage
// return and escape (ANSI colours in logs).
func binary(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\v' && c != '\f' && c != '\r' && c != 0x1b {
			return true
		}
	}
	return false
}

// compressedMagic names the compressed format b starts with, or "".
func compressedMagic(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0x1f && b[1] == 0x8b && b[2] == 8:
		return "gzip"
	case len(b) >= 4 && b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f && b[3] == 0xfd:
		return "zstd"
	}
	return ""
}

// readRaw serves the sniffed bytes, then the rest.
func (rd *Reader) readRaw(p []byte) (int, error) {
	if rd.pi < rd.pn {
		n := copy(p, rd.peek[rd.pi:rd.pn])
		rd.pi += n
		return n, nil
	}
	return rd.counted.Read(p)
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// Read reads plain UTF-8 text.
func (rd *Reader) Read(p []byte) (int, error) { return rd.src.Read(p) }

// Decoded is the number of bytes read after the coding chain was undone.
func (rd *Reader) Decoded() int64 { return rd.counted.n }

// Transcoded reports whether the text was not UTF-8 (it is converted back
// by the Writer).
func (rd *Reader) Transcoded() bool { return !rd.Charset.IsUTF8() || len(rd.BOM) > 0 }

// Close releases the decoders and the budget share. It does not close the
// raw body.
func (rd *Reader) Close() error {
	if rd.closed {
		return nil
	}
	rd.closed = true
	for _, d := range rd.layers {
		d.release()
	}
	rd.layers = nil
	rd.lease.release()
	return nil
}

// Writer encodes redacted UTF-8 text back as the body came: BOM, charset,
// then the Content-Encoding chain.
type Writer struct {
	w      io.Writer
	closer []io.Closer // innermost first
	after  []func()
}

// NewWriter returns a writer of text in the body's original charset and
// codings to dst. With keepCodings false the codings are not redone (the
// caller drops Content-Encoding); the charset always is.
func (rd *Reader) NewWriter(dst io.Writer, keepCodings bool) (*Writer, error) {
	return newWriter(dst, rd.Charset, rd.BOM, codingsIf(rd.class.Codings, keepCodings))
}

// Encode returns the redacted UTF-8 text as the body came (see NewWriter),
// for a body that was held whole.
func (rd *Reader) Encode(text []byte, keepCodings bool) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(text)/2 + 64)
	ew, err := rd.NewWriter(&b, keepCodings)
	if err == nil {
		_, err = ew.Write(text)
		if e := ew.Close(); err == nil {
			err = e
		}
	}
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func codingsIf(c []Coding, keep bool) []Coding {
	if keep {
		return c
	}
	return nil
}

// NewEncodingWriter returns a writer that applies codings (in the order
// given, as Content-Encoding lists them) to UTF-8 text written to dst.
func NewEncodingWriter(dst io.Writer, codings []Coding) *Writer {
	w, _ := newWriter(dst, charset.UTF8, nil, codings)
	return w
}

func newWriter(dst io.Writer, cs charset.Encoding, bom []byte, codings []Coding) (*Writer, error) {
	w := &Writer{}
	cur := dst
	var enc []encoder
	for i := len(codings) - 1; i >= 0; i-- {
		e := newEncoder(codings[i], cur)
		enc = append(enc, e)
		cur = e.w
	}
	// Close the innermost (last built) first.
	for i := len(enc) - 1; i >= 0; i-- {
		w.closer = append(w.closer, enc[i].w)
		w.after = append(w.after, enc[i].after)
	}
	if len(bom) > 0 {
		if _, err := cur.Write(bom); err != nil {
			w.Close()
			return nil, err
		}
	}
	if !cs.IsUTF8() {
		t := cs.NewEncoder(cur)
		w.closer = append([]io.Closer{t}, w.closer...)
		w.after = append([]func(){nil}, w.after...)
		cur = t
	}
	w.w = cur
	return w, nil
}

func (w *Writer) Write(p []byte) (int, error) { return w.w.Write(p) }

// Close flushes every layer (not dst) and returns the codecs to their
// pools. A rune the charset cannot hold is an error.
func (w *Writer) Close() error {
	var err error
	for i, c := range w.closer {
		if e := c.Close(); e != nil && err == nil {
			err = e
		}
		if w.after[i] != nil {
			w.after[i]()
		}
	}
	w.closer, w.after = nil, nil
	if err != nil {
		return &Error{Status: 500, Code: "reencode_failed", Msg: "the redacted body cannot be encoded back to its charset or coding", Err: err}
	}
	return nil
}
