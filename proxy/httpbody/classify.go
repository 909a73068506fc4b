package httpbody

import (
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/charset"
)

// MaxCodings is the longest Content-Encoding chain accepted: every layer
// multiplies what a small body can expand to.
const MaxCodings = 3

// Class is what a body is, read from all of its header lines.
type Class struct {
	// MediaType is the lower-case media type ("" when none was sent).
	MediaType string
	// Params are the Content-Type parameters (lower-case names).
	Params map[string]string
	// Charset is the declared charset (UTF-8 when none); a BOM or the NUL
	// pattern of UTF-16/32 found while decoding may override it.
	Charset charset.Encoding
	// Codings is the Content-Encoding chain in the order it was applied
	// (identity removed).
	Codings []Coding
	// Format is the engine format for the media type; Scannable is false
	// for a media type flowmask cannot scan.
	Format    redactor.Format
	Scannable bool
	// NeedJSON is set for JSON media types: the body must be JSON.
	NeedJSON bool
}

// Encoded reports whether the body has a Content-Encoding to undo.
func (c *Class) Encoded() bool { return len(c.Codings) > 0 }

// CodingNames is the chain as a header value ("gzip, br").
func (c *Class) CodingNames() string {
	switch len(c.Codings) {
	case 0:
		return ""
	case 1:
		return string(c.Codings[0])
	}
	s := make([]string, len(c.Codings))
	for i, k := range c.Codings {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

// Classify reads every Content-Type, Content-Encoding and Transfer-Encoding
// line of h (te is http.Request/Response.TransferEncoding, which net/http
// takes out of the header). It refuses with 415 what flowmask cannot read:
// more than one Content-Type line, a malformed Content-Type or one with a
// repeated parameter, an unknown charset, an unknown coding or a chain
// longer than MaxCodings; and with 501 a transfer coding other than
// chunked. A media type that is merely not scannable is no error: Scannable
// says so and the caller decides.
func Classify(h http.Header, te []string) (*Class, error) {
	c := &Class{Charset: charset.UTF8}
	for _, list := range [][]string{te, h["Transfer-Encoding"]} {
		for _, v := range list {
			for _, t := range strings.Split(v, ",") {
				switch strings.ToLower(strings.TrimSpace(t)) {
				case "", "chunked", "identity":
				default:
					return nil, &Error{Status: http.StatusNotImplemented, Code: "unsupported_transfer_encoding", Msg: "Transfer-Encoding " + strconv.Quote(strings.TrimSpace(t)) + " is not supported; send chunked or a Content-Length"}
				}
			}
		}
	}
	for _, v := range h["Content-Encoding"] {
		for _, t := range strings.Split(v, ",") {
			name := strings.ToLower(strings.TrimSpace(t))
			if name == "" || name == "identity" {
				continue
			}
			k, ok := codingByName(name)
			if !ok {
				return nil, unsupported("unsupported_media_type", "Content-Encoding "+strconv.Quote(strings.TrimSpace(t))+" cannot be decoded; send identity, gzip, deflate, zstd or br")
			}
			if len(c.Codings) == MaxCodings {
				return nil, unsupported("unsupported_media_type", "more than "+strconv.Itoa(MaxCodings)+" Content-Encoding layers; send at most "+strconv.Itoa(MaxCodings))
			}
			c.Codings = append(c.Codings, k)
		}
	}
	cts := h["Content-Type"]
	switch {
	case len(cts) > 1:
		return nil, unsupported("unsupported_media_type", "the body has "+strconv.Itoa(len(cts))+" Content-Type headers; send exactly one")
	case len(cts) == 1 && strings.TrimSpace(cts[0]) != "":
		mt, params, err := mime.ParseMediaType(cts[0])
		if err != nil {
			return nil, unsupported("unsupported_media_type", "the Content-Type header cannot be parsed (malformed or a repeated parameter)")
		}
		c.MediaType, c.Params = mt, params
		if label, ok := params["charset"]; ok {
			enc, err := charset.Lookup(label)
			if err != nil {
				return nil, unsupported("unsupported_media_type", "charset "+strconv.Quote(label)+" cannot be decoded; send UTF-8")
			}
			c.Charset = enc
		}
	}
	c.Format, c.NeedJSON, c.Scannable = FormatFor(c.MediaType)
	return c, nil
}

// FormatFor maps a media type to an engine format; ok is false for a type
// flowmask cannot scan. needJSON is set for JSON types.
func FormatFor(mt string) (f redactor.Format, needJSON, ok bool) {
	switch {
	case mt == "":
		return redactor.FormatAuto, false, true
	case IsJSON(mt):
		return redactor.FormatJSON, true, true
	case mt == "application/x-ndjson" || mt == "application/ndjson" || mt == "application/jsonl" ||
		mt == "application/x-jsonlines" || mt == "application/jsonlines" || mt == "application/json-seq" || mt == "application/stream+json":
		return redactor.FormatNDJSON, false, true
	case mt == "text/csv":
		return redactor.FormatCSV, false, true
	case mt == "application/x-www-form-urlencoded":
		return redactor.FormatForm, false, true
	case strings.HasPrefix(mt, "text/"), mt == "application/xml", strings.HasSuffix(mt, "+xml"),
		mt == "application/yaml", mt == "application/x-yaml", mt == "application/javascript":
		return redactor.FormatText, false, true
	}
	return 0, false, false
}

// IsJSON reports a JSON media type.
func IsJSON(mt string) bool {
	return mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json")
}
