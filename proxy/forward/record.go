package forward

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/flowmask/flowmask/proxy/audit"
	"github.com/flowmask/flowmask/redactor"
	"go.uber.org/zap"
)

// recordWriter writes records as JSON lines, each with one Write call on
// an unbuffered file, so it is on disk as soon as the exchange ends. Every
// value in a record has been through the redactor already (URL, header
// values, bodies), so lines are not redacted again: that cost a quarter of
// the proxy's CPU per exchange.
type recordWriter struct {
	out  *audit.Output
	post *audit.Poster // for an http(s) URL output
	mu   sync.Mutex
	buf  bytes.Buffer
	null bool
}

func newRecordWriter(output string, sink *audit.PosterConfig, stdout, stderr io.Writer, logger *zap.Logger) (*recordWriter, error) {
	if sink != nil {
		pc := *sink
		pc.Logger = logger
		p, err := audit.NewPoster(pc)
		if err != nil {
			return nil, err
		}
		return &recordWriter{out: &audit.Output{}, post: p}, nil
	}
	rs, off, err := audit.OpenOutput(output, stdout, stderr)
	if err != nil {
		return nil, err
	}
	return &recordWriter{out: rs, null: off}, nil
}

func (w *recordWriter) write(rec *ForwardRecord) error {
	if w.null {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Reset()
	enc := json.NewEncoder(&w.buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rec); err != nil { // one line, '\n'-terminated
		return err
	}
	if w.post != nil {
		w.post.Add(w.buf.Bytes())
		return nil
	}
	_, err := w.out.Write(w.buf.Bytes())
	return err
}

// credentialHeaders are masked whole in records; any header whose name
// mentions a token, key, secret, password, signature or cookie is too.
var credentialHeaders = map[string]bool{
	"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
	"Www-Authenticate": false, "X-Api-Key": true, "Api-Key": true, "X-Auth-Token": true,
	"X-Functions-Key": true, "Ocp-Apim-Subscription-Key": true, "X-Amz-Security-Token": true,
	"X-Goog-Api-Key": true, "X-Vault-Token": true, "Private-Token": true, "X-Ms-Token-Aad-Access-Token": true,
}

var credentialWords = []string{"token", "secret", "password", "passwd", "apikey", "api-key", "signature", "cookie", "credential", "session"}

func isCredentialHeader(name string) bool {
	if v, ok := credentialHeaders[name]; ok {
		return v
	}
	l := strings.ToLower(name)
	for _, w := range credentialWords {
		if strings.Contains(l, w) {
			return true
		}
	}
	return strings.HasSuffix(l, "-key") || strings.HasSuffix(l, "-auth")
}

const maskedHeader = "[REDACTED:credential-header]"

// recordHeaders copies h for a record: credential headers masked (keeping
// an auth scheme such as "Bearer"), other values through the redactor, and
// every name through a nameMasker (net/http has canonicalised it, so its
// case is not what the client sent). fold is red with its known secrets
// lower-cased.
func recordHeaders(h http.Header, red, fold *redactor.Redactor) map[string][]string {
	if len(h) == 0 {
		return nil
	}
	names := nameMasker{red: red, fold: fold}
	out := make(map[string][]string, len(h))
	for k, vs := range h {
		cp := make([]string, len(vs))
		for i, v := range vs {
			if isCredentialHeader(k) {
				if s, _, ok := strings.Cut(v, " "); ok && isScheme(s) {
					cp[i] = s + " " + maskedHeader
				} else {
					cp[i] = maskedHeader
				}
				continue
			}
			cp[i] = red.String(v)
		}
		name := names.mask(k)
		// Two names can mask to the same text: keep every value.
		out[name] = append(out[name], cp...)
	}
	return out
}

// recordName is s (a header name, host or method the client chose, or a
// text quoting one) for a record: see nameMasker.
func recordName(s string, red, fold *redactor.Redactor) string {
	if s == "" {
		return s
	}
	n := nameMasker{red: red, fold: fold}
	return n.mask(s)
}

// nameMasker masks secrets in names for records. HTTP compares names and
// hosts case-insensitively and flowmask changes their case (net/http
// canonicalises header names, hosts are lower-cased), so a known secret in
// them may be in any case: a name goes through red as it is and,
// lower-cased, through fold (red with its known secrets lower-cased). When
// fold finds a secret the record holds the lower-cased, masked text;
// otherwise red's. Its buffers are reused from name to name, so a clean
// name costs no allocation of its own.
type nameMasker struct {
	red, fold *redactor.Redactor
	in, out   []byte
}

func (n *nameMasker) mask(s string) string {
	n.in = append(n.in[:0], s...)
	var st redactor.Stats
	n.out, st = n.red.Append(n.out[:0], n.in, redactor.FormatText)
	masked := s
	if st.Redactions > 0 {
		masked = string(n.out)
	}
	if n.fold == nil {
		return masked
	}
	lowerASCII(n.in)
	if n.out, st = n.fold.Append(n.out[:0], n.in, redactor.FormatText); st.Redactions == 0 {
		return masked
	}
	if masked == s {
		return string(n.out)
	}
	// Both found something: mask what red found (rules may be
	// case-sensitive), then the rest.
	return n.fold.String(strings.ToLower(masked))
}

// lowerASCII lower-cases the ASCII letters of b in place (a header name is
// ASCII; other bytes are kept as they are).
func lowerASCII(b []byte) {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
}

func isScheme(s string) bool {
	if s == "" || len(s) > 16 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
			return false
		}
	}
	return true
}

// recordURL is u with any password dropped and the rest through the
// redactor (which masks secrets in the query).
func recordURL(u *url.URL, red *redactor.Redactor) string {
	if u == nil {
		return ""
	}
	c := *u
	if c.User != nil {
		if _, has := c.User.Password(); has {
			c.User = url.UserPassword(c.User.Username(), "REDACTED")
		}
	}
	return red.String(c.String())
}

// capture keeps the first limit bytes written to it and counts the rest.
type capture struct {
	limit int
	buf   []byte
	n     int64
}

func (c *capture) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	if room := c.limit - len(c.buf); room > 0 {
		c.buf = append(c.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (c *capture) truncated() bool { return c.n > int64(len(c.buf)) }

// auditCloseTimeout is how long closing waits for an audit sink to take
// the records still waiting (retries included) before it gives up and
// counts them as undelivered.
const auditCloseTimeout = 10 * time.Second

// close flushes and closes the output.
func (w *recordWriter) close() error {
	if w.post != nil {
		ctx, cancel := context.WithTimeout(context.Background(), auditCloseTimeout)
		defer cancel()
		return w.post.Close(ctx)
	}
	return w.out.Close()
}
