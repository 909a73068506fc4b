// Package msgbody replaces an HTTP message's body with its redacted form:
// it copies decoded text through the engine into a writer, sets a held
// body with its length, drops the headers that described the original
// body, and drops an error response's body that cannot be scanned. The
// reverse and the forward proxy share it.
package msgbody

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/flowmask/flowmask/redactor"
)

// CopyBufs pools the 64 KiB buffers bodies are copied through (a
// *[]byte).
var CopyBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

// RedactCopy redacts the decoded text of src, of format f, into dst through
// a pooled copy buffer, and returns what was redacted.
func RedactCopy(red *redactor.Redactor, dst io.Writer, src io.Reader, f redactor.Format) (redactor.Stats, error) {
	bw := red.NewWriter(dst, f)
	buf := CopyBufs.Get().(*[]byte)
	_, err := io.CopyBuffer(bw, src, *buf)
	CopyBufs.Put(buf)
	if e := bw.Close(); err == nil {
		err = e
	}
	return bw.Stats(), err
}

// digests are headers that describe the original body and would be wrong
// after redaction.
var digests = []string{"Content-Md5", "Digest", "Content-Digest", "Repr-Digest"}

// DropDigests deletes the headers that describe the original body.
func DropDigests(h http.Header) {
	for _, k := range digests {
		h.Del(k)
	}
}

// SetRequestBody makes body the request's body, with its length.
func SetRequestBody(r *http.Request, body []byte) {
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.ContentLength = int64(len(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.TransferEncoding = nil
	r.Header.Set("Content-Length", strconv.Itoa(len(body)))
}

// DropBody keeps an error response's status and headers but not its body,
// which flowmask cannot scan.
func DropBody(resp *http.Response) {
	resp.Body.Close()
	resp.Body = http.NoBody
	resp.ContentLength = 0
	for _, k := range []string{"Content-Type", "Content-Encoding", "Content-Length"} {
		resp.Header.Del(k)
	}
	DropDigests(resp.Header)
	resp.Header.Set("Content-Length", "0")
	resp.Header.Set("X-Flowmask-Body", "dropped: the upstream's error body cannot be scanned")
}
