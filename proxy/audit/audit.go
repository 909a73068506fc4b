package audit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/flowmask/flowmask/redactor"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Record is one audited exchange. It holds counts, rule IDs and a path
// whose query was redacted; never a body, a header value or a secret.
type Record struct {
	Time            time.Time
	Proxy           string // "reverse" or "forward"
	Route           string
	Mode            string
	Method          string
	Host            string
	Path            string // with the query redacted
	Remote          string
	Status          int // sent to the client; 499 when the client went away
	UpstreamStatus  int // 0 when the upstream never answered
	Duration        time.Duration
	UpstreamLatency time.Duration // to the upstream's response headers
	BytesIn         int64         // request body bytes read from the client
	BytesOut        int64         // request body bytes sent upstream
	ResponseBytes   int64         // response body bytes sent to the client
	Redactions      int
	ByRule          map[string]int
	Reason          string // why flowmask refused or failed, a stable code
	Aborted         bool   // the response was cut part-way
}

// MarshalLogObject implements zapcore.ObjectMarshaler.
func (r *Record) MarshalLogObject(e zapcore.ObjectEncoder) error {
	e.AddString("proxy", r.Proxy)
	e.AddString("route", r.Route)
	e.AddString("mode", r.Mode)
	e.AddString("method", r.Method)
	if r.Host != "" {
		e.AddString("host", r.Host)
	}
	e.AddString("path", r.Path)
	if r.Remote != "" {
		e.AddString("remote", r.Remote)
	}
	e.AddInt("status", r.Status)
	if r.UpstreamStatus != 0 {
		e.AddInt("upstream_status", r.UpstreamStatus)
	}
	e.AddFloat64("duration_ms", float64(r.Duration.Microseconds())/1000)
	if r.UpstreamLatency > 0 {
		e.AddFloat64("upstream_latency_ms", float64(r.UpstreamLatency.Microseconds())/1000)
	}
	e.AddInt64("bytes_in", r.BytesIn)
	e.AddInt64("bytes_out", r.BytesOut)
	e.AddInt64("response_bytes", r.ResponseBytes)
	e.AddInt("redactions", r.Redactions)
	if len(r.ByRule) > 0 {
		e.AddObject("rules", ruleCounts(r.ByRule))
	}
	if r.Reason != "" {
		e.AddString("reason", r.Reason)
	}
	if r.Aborted {
		e.AddBool("aborted", true)
	}
	return nil
}

type ruleCounts map[string]int

func (m ruleCounts) MarshalLogObject(e zapcore.ObjectEncoder) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e.AddInt(k, m[k])
	}
	return nil
}

// Logger writes one JSON line per exchange. It is safe for concurrent
// use; Reopen reopens a file output for log rotation (call it on SIGHUP).
type Logger struct {
	out    *Output
	buf    *zapcore.BufferedWriteSyncer // nil for "off"
	logger *zap.Logger
	del    *deliverySyncer // nil for "off"
}

// OnUndelivered sets fn to be called once for each batch of records that
// could not be written to the output; call it before logging.
func (a *Logger) OnUndelivered(fn func()) {
	if a.del != nil {
		a.del.onFail.Store(&fn)
	}
}

// Err is the error of the last write to the output, nil once a write has
// succeeded again: while it is set, records are being lost.
func (a *Logger) Err() error {
	if a.del == nil {
		return nil
	}
	if e := a.del.last.Load(); e != nil {
		return *e
	}
	return nil
}

// deliverySyncer remembers whether the last write to the audit output
// failed and reports each failure.
type deliverySyncer struct {
	ws     zapcore.WriteSyncer
	last   atomic.Pointer[error]
	onFail atomic.Pointer[func()]
}

func (d *deliverySyncer) Write(p []byte) (int, error) {
	n, err := d.ws.Write(p)
	d.note(err)
	return n, err
}

func (d *deliverySyncer) Sync() error {
	err := d.ws.Sync()
	if err != nil && d.last.Load() == nil {
		// A batch whose write failed is counted once, not again here.
		d.note(err)
	}
	return err
}

func (d *deliverySyncer) note(err error) {
	if err == nil {
		d.last.Store(nil)
		return
	}
	err = fmt.Errorf("audit output: %w", err)
	d.last.Store(&err)
	if fn := d.onFail.Load(); fn != nil {
		(*fn)()
	}
}

// NewLogger writes to output: "stderr", "stdout", "off" or a file path
// (appended to, created 0600). Each line passes through ws wrappers the
// caller adds with wrap (such as a RedactingSyncer); nil means none.
func NewLogger(output string, stdout, stderr io.Writer, wrap func(zapcore.WriteSyncer) zapcore.WriteSyncer) (*Logger, error) {
	rs, off, err := OpenOutput(output, stdout, stderr)
	if err != nil {
		return nil, fmt.Errorf("audit output: %w", err)
	}
	if off {
		return &Logger{logger: zap.NewNop(), out: rs}, nil
	}
	// Records are buffered (a write per exchange would cost a system call
	// on the request path) and flushed at least once a second, before a
	// reopen and on Close.
	del := &deliverySyncer{ws: rs}
	buf := &zapcore.BufferedWriteSyncer{WS: del, Size: 256 << 10, FlushInterval: time.Second}
	var ws zapcore.WriteSyncer = buf
	if wrap != nil {
		ws = wrap(ws)
	}
	enc := zapcore.EncoderConfig{
		TimeKey:        "time",
		MessageKey:     "msg",
		LineEnding:     "\n",
		EncodeTime:     zapcore.RFC3339NanoTimeEncoder,
		EncodeDuration: zapcore.MillisDurationEncoder,
	}
	core := zapcore.NewCore(zapcore.NewJSONEncoder(enc), ws, zapcore.InfoLevel)
	return &Logger{out: rs, buf: buf, logger: zap.New(core), del: del}, nil
}

// Log writes rec.
func (a *Logger) Log(rec *Record) {
	if ce := a.logger.Check(zapcore.InfoLevel, "exchange"); ce != nil {
		ce.Time = rec.Time
		ce.Write(zap.Inline(rec))
	}
}

// Reopen flushes the buffered records and reopens a file output; it only
// flushes for stderr and stdout.
func (a *Logger) Reopen() error {
	if a.buf != nil {
		if err := a.buf.Sync(); err != nil {
			return err
		}
	}
	return a.out.Reopen()
}

// Sync writes the buffered records out.
func (a *Logger) Sync() error {
	if a.buf == nil {
		return nil
	}
	return a.buf.Sync()
}

// Close flushes the buffered records and closes a file output.
func (a *Logger) Close() error {
	if a.buf != nil {
		if err := a.buf.Stop(); err != nil {
			return err
		}
	}
	return a.out.Close()
}

// OpenOutput opens an audit output: "stderr" (or ""), "stdout", "off" (off
// is true, and writes are discarded) or a file path, appended to and
// created 0600.
func OpenOutput(output string, stdout, stderr io.Writer) (rs *Output, off bool, err error) {
	rs = &Output{}
	switch output {
	case "off":
		return rs, true, nil
	case "", "stderr":
		rs.w = stderr
	case "stdout":
		rs.w = stdout
	default:
		if looksLikeURL(output) {
			// Not quoted: the URL may hold a signature or a password.
			return nil, false, errors.New("the output is a URL but not an http(s) URL; give an http(s) URL, a file path, stdout, stderr or off")
		}
		rs.path = output
		if err := rs.Reopen(); err != nil {
			return nil, false, err
		}
	}
	return rs, false, nil
}

// looksLikeURL reports whether s starts with a URL scheme of two or more
// letters and ":/" (ftp://, a mistyped htps://); a drive letter (C:/) is a
// path.
func looksLikeURL(s string) bool {
	i := strings.Index(s, ":/")
	if i < 2 {
		return false
	}
	for j, c := range s[:i] {
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (j == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return false
		}
	}
	return true
}

// Output is a zapcore.WriteSyncer whose file can be reopened (for log
// rotation). It is exported for the forward proxy's record writer, which
// writes its own JSON lines unbuffered; the zero Output discards writes.
type Output struct {
	mu   sync.Mutex
	path string
	f    *os.File
	w    io.Writer
}

// Write writes p (discards it for "off").
func (r *Output) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w == nil {
		return len(p), nil
	}
	return r.w.Write(p)
}

// Sync syncs a file output.
func (r *Output) Sync() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f != nil {
		return r.f.Sync()
	}
	return nil
}

// Reopen opens the file again (after it was rotated away); it does nothing
// for stderr, stdout and "off".
func (r *Output) Reopen() error {
	if r.path == "" {
		return nil
	}
	f, err := os.OpenFile(r.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	r.mu.Lock()
	old := r.f
	r.f, r.w = f, f
	r.mu.Unlock()
	if old != nil {
		old.Close()
	}
	return nil
}

// Close closes a file output.
func (r *Output) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f, r.w = nil, nil
	return err
}

// RedactingSyncer runs the redactor over each encoded log entry before it
// reaches the underlying WriteSyncer, so even a logged error cannot leak a
// secret. Entries must be single lines (zap's JSON or console encoders).
type RedactingSyncer struct {
	ws  zapcore.WriteSyncer
	red func() *redactor.Redactor
	mu  sync.Mutex
	buf []byte
}

// NewRedactingSyncer returns a RedactingSyncer; red returns the current
// redactor (it may change on reload).
func NewRedactingSyncer(ws zapcore.WriteSyncer, red func() *redactor.Redactor) *RedactingSyncer {
	return &RedactingSyncer{ws: ws, red: red}
}

// Write redacts p and writes the result; it reports len(p) on success.
func (s *RedactingSyncer) Write(p []byte) (int, error) {
	r := s.red()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.buf, _ = r.Append(s.buf[:0], p, redactor.FormatNDJSON)
	if _, err := s.ws.Write(s.buf); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Sync syncs the underlying WriteSyncer.
func (s *RedactingSyncer) Sync() error { return s.ws.Sync() }
