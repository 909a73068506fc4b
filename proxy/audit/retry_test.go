package audit

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/flowmask/flowmask/proxy/sink"
)

// scriptedSink answers the n-th request (from 0) with reply(n, w); it
// keeps every request like fakeSink.
func scriptedSink(t *testing.T, tlsOn bool, reply func(n int, w http.ResponseWriter, r *http.Request)) *fakeSink {
	t.Helper()
	s := &fakeSink{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		n := len(s.posts)
		s.posts = append(s.posts, sinkPost{r.Header.Clone(), r.URL.Path, b, time.Now()})
		s.mu.Unlock()
		reply(n, w, r)
	})
	if tlsOn {
		s.srv = httptest.NewTLSServer(h)
	} else {
		s.srv = httptest.NewServer(h)
	}
	t.Cleanup(s.srv.Close)
	return s
}

// throttleOnce answers the first request with status and Retry-After:
// after(), then 2xx.
func throttleOnce(status int, after func() string, ok int) func(int, http.ResponseWriter, *http.Request) {
	return func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 0 {
			w.Header().Set("Retry-After", after())
			w.WriteHeader(status)
			io.WriteString(w, `{"echo":"`+sinkMarker+`"}`)
			return
		}
		w.WriteHeader(ok)
	}
}

// gap is the time between the first two requests a sink got.
func gap(t *testing.T, s *fakeSink) time.Duration {
	t.Helper()
	posts := s.got()
	if len(posts) != 2 {
		t.Fatalf("%d requests, want 2 (one throttled, one accepted)", len(posts))
	}
	return posts[1].at.Sub(posts[0].at)
}

// TestPosterRetryAfter: a 429 or 503 with Retry-After (delay seconds or
// an HTTP-date) is retried no sooner than it says, although the poster's
// own backoff would retry within milliseconds. Only a lower bound is
// asserted: the wait may be longer on a loaded machine.
func TestPosterRetryAfter(t *testing.T) {
	t.Parallel()
	_, lines := sinkRecords(t, 3, 100)
	t.Run("429 seconds", func(t *testing.T) {
		t.Parallel()
		s := scriptedSink(t, false, throttleOnce(429, func() string { return "2" }, 200))
		postAll(t, s, PosterConfig{Profile: sink.SplunkHEC, Token: sinkToken}, lines)
		if g := gap(t, s); g < 2*time.Second-50*time.Millisecond {
			t.Errorf("retried %v after a 429 with Retry-After: 2", g)
		}
	})
	t.Run("503 HTTP-date", func(t *testing.T) {
		t.Parallel()
		// The date has whole seconds: the sink asks for 2 to 3 s.
		s := scriptedSink(t, false, throttleOnce(503, func() string {
			return time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat)
		}, 200))
		postAll(t, s, PosterConfig{Profile: sink.Generic}, lines)
		if g := gap(t, s); g < 1500*time.Millisecond {
			t.Errorf("retried %v after a 503 whose Retry-After is 2-3 s ahead", g)
		}
	})
}

// TestPosterRetryAfterBeyondBudget: a Retry-After that ends past the
// post's time budget (MaxElapsed) is not waited for: the batch is given
// up at once, counted and logged with the status.
func TestPosterRetryAfterBeyondBudget(t *testing.T) {
	_, lines := sinkRecords(t, 2, 100)
	s := scriptedSink(t, false, throttleOnce(429, func() string { return "3600" }, 200))
	var undelivered atomic.Int32
	start := time.Now()
	logs := postAll(t, s, PosterConfig{Profile: sink.Generic, OnUndelivered: func() { undelivered.Add(1) }}, lines)
	if n := len(s.got()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if el := time.Since(start); el > 30*time.Second {
		t.Errorf("took %v", el)
	}
	if undelivered.Load() != 1 || !strings.Contains(logs, "status 429") {
		t.Errorf("undelivered %d, logs %s", undelivered.Load(), logs)
	}
}

// TestPosterRetryStatuses: 5xx, 408 and 429 (without Retry-After) are
// retried up to MaxTries, with jittered backoff; 400, 401, 403 and 413
// are not retried. Every failure is counted once per batch and logged
// without the token, the records or the sink's reply.
func TestPosterRetryStatuses(t *testing.T) {
	_, lines := sinkRecords(t, 2, 100)
	for _, tt := range []struct {
		status, posts int
	}{{500, 4}, {502, 4}, {503, 4}, {429, 4}, {408, 4}, {400, 1}, {401, 1}, {403, 1}, {413, 1}} {
		s := newFakeSink(t, false, tt.status)
		var undelivered atomic.Int32
		logs := postAll(t, s, PosterConfig{Profile: sink.SplunkHEC, Token: sinkToken, Retry: RetryPolicy{MaxTries: 4},
			OnUndelivered: func() { undelivered.Add(1) }}, lines)
		if n := len(s.got()); n != tt.posts {
			t.Errorf("status %d: %d posts, want %d", tt.status, n, tt.posts)
		}
		if !strings.Contains(logs, "audit records not delivered") || !strings.Contains(logs, "status "+strconv.Itoa(tt.status)) {
			t.Errorf("status %d: failure not logged: %s", tt.status, logs)
		}
		if undelivered.Load() != 1 {
			t.Errorf("status %d: %d undelivered batches counted, want 1", tt.status, undelivered.Load())
		}
		if strings.Contains(logs, sinkToken) {
			t.Errorf("status %d: the token is in the logs", tt.status)
		}
	}
	// A 503 then a 200: delivered, nothing counted.
	s := scriptedSink(t, false, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 0 {
			w.WriteHeader(503)
		}
	})
	var undelivered atomic.Int32
	logs := postAll(t, s, PosterConfig{Profile: sink.Generic, OnUndelivered: func() { undelivered.Add(1) }}, lines)
	if n := len(s.got()); n != 2 || undelivered.Load() != 0 || strings.Contains(logs, "not delivered") {
		t.Errorf("503 then 200: %d posts, %d undelivered, logs %s", n, undelivered.Load(), logs)
	}
}

// closeWithin closes p with a deadline of wait and fails the test if
// Close has not returned well after it (a generous bound: never a tight
// timing).
func closeWithin(t *testing.T, p *Poster, wait time.Duration) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	errc := make(chan error, 1)
	start := time.Now()
	go func() { errc <- p.Close(ctx) }()
	select {
	case err := <-errc:
		return err
	case <-time.After(wait + 10*time.Second):
		t.Fatalf("Close(%v deadline) still blocked after %v", wait, time.Since(start))
		return nil
	}
}

// TestPosterCloseCancelsRetryWait: at shutdown the poster flushes; a sink
// that asks it to come back in 30 s does not hold Close past its
// deadline: the wait is cancelled, the batch counted as undelivered and
// logged, and Close says so.
func TestPosterCloseCancelsRetryWait(t *testing.T) {
	_, lines := sinkRecords(t, 3, 100)
	s := scriptedSink(t, false, func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(503)
	})
	logs, logger := testLogger()
	var undelivered atomic.Int32
	p, err := NewPoster(PosterConfig{URL: s.srv.URL, Profile: sink.Generic, Logger: logger, Interval: time.Hour,
		OnUndelivered: func() { undelivered.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		p.Add(l)
	}
	if err := closeWithin(t, p, 300*time.Millisecond); err == nil {
		t.Error("Close gave up on a batch and returned nil")
	}
	if n := len(s.got()); n != 1 {
		t.Errorf("%d posts; want 1 (the retry is 30 s away)", n)
	}
	if undelivered.Load() != 1 || !strings.Contains(logs.String(), "not delivered") {
		t.Errorf("undelivered %d, logs %s", undelivered.Load(), logs)
	}
	p.Add(lines[0]) // after Close: dropped and counted
	if undelivered.Load() != 2 {
		t.Errorf("a record added after Close: undelivered %d, want 2", undelivered.Load())
	}
}

// TestPosterCloseCancelsHungPost: a sink that never answers does not hold
// Close past its deadline (an attempt may otherwise take 30 s).
func TestPosterCloseCancelsHungPost(t *testing.T) {
	_, lines := sinkRecords(t, 2, 100)
	release := make(chan struct{})
	s := scriptedSink(t, false, func(_ int, w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	t.Cleanup(func() { close(release) }) // before the server closes
	var undelivered atomic.Int32
	p, err := NewPoster(PosterConfig{URL: s.srv.URL, Profile: sink.Generic, Interval: time.Hour,
		OnUndelivered: func() { undelivered.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		p.Add(l)
	}
	if err := closeWithin(t, p, 300*time.Millisecond); err == nil {
		t.Error("Close returned nil with the batch undelivered")
	}
	if undelivered.Load() != 1 {
		t.Errorf("undelivered %d, want 1", undelivered.Load())
	}
}

// countingCredential is a TokenCredential that counts its calls.
type countingCredential struct{ calls atomic.Int32 }

func (c *countingCredential) GetToken(_ context.Context, o policy.TokenRequestOptions) (azcore.AccessToken, error) {
	c.calls.Add(1)
	if len(o.Scopes) != 1 || o.Scopes[0] != "https://monitor.azure.com//.default" {
		return azcore.AccessToken{}, context.Canceled // any error: the scope is wrong
	}
	return azcore.AccessToken{Token: "entra-token-for-tests", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestPosterLogsIngestionAzlogs: the Logs Ingestion target goes through
// the azlogs client against a fake data collection endpoint on loopback
// TLS: the token comes from the TokenCredential (fetched once, then
// cached by azcore), the request is the API's (rule and stream in the
// path, api-version), azcore honours Retry-After, retries 503 up to
// MaxTries with no second retry loop around it, does not retry 400, and
// neither the reply (which can echo records) nor a token reaches the
// logs.
func TestPosterLogsIngestionAzlogs(t *testing.T) {
	t.Parallel()
	recs, lines := sinkRecords(t, 20, 100)
	run := func(t *testing.T, reply func(int, http.ResponseWriter, *http.Request), retry RetryPolicy) (*fakeSink, string, *countingCredential, int32) {
		s := scriptedSink(t, true, reply)
		cred := &countingCredential{}
		var undelivered atomic.Int32
		logs := postAll(t, s, PosterConfig{URL: dcrPath + "?api-version=2023-01-01", Profile: sink.LogsIngestion, Credential: cred,
			Retry: retry, OnUndelivered: func() { undelivered.Add(1) }}, lines)
		if strings.Contains(logs, "entra-token-for-tests") {
			t.Errorf("the token is in the logs: %s", logs)
		}
		return s, logs, cred, undelivered.Load()
	}
	t.Run("delivered", func(t *testing.T) {
		t.Parallel()
		var mu sync.Mutex
		var queries []string
		s, _, cred, undelivered := run(t, func(_ int, w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			queries = append(queries, r.URL.RawQuery)
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		}, RetryPolicy{})
		posts := s.got()
		if len(posts) != 1 || undelivered != 0 {
			t.Fatalf("%d posts, %d undelivered", len(posts), undelivered)
		}
		p := posts[0]
		if p.path != dcrPath || queries[0] != "api-version=2023-01-01" {
			t.Errorf("request %s?%s", p.path, queries[0])
		}
		if a := p.header.Get("Authorization"); a != "Bearer entra-token-for-tests" {
			t.Errorf("Authorization %q", a)
		}
		if ua := p.header.Get("User-Agent"); !strings.Contains(ua, "azlogs") {
			t.Errorf("User-Agent %q: not the azlogs client", ua)
		}
		var got []testRecord
		if err := jsonUnmarshal(p.body, &got); err != nil {
			t.Fatal(err)
		}
		checkArrived(t, got, recs)
		if n := cred.calls.Load(); n != 1 {
			t.Errorf("%d token requests", n)
		}
	})
	t.Run("429 Retry-After", func(t *testing.T) {
		t.Parallel()
		// azcore does not wait a Retry-After longer than MaxInterval.
		s, _, _, undelivered := run(t, throttleOnce(429, func() string { return "2" }, http.StatusNoContent), RetryPolicy{MaxInterval: 5 * time.Second})
		if g := gap(t, s); g < 2*time.Second-50*time.Millisecond || undelivered != 0 {
			t.Errorf("retried %v after Retry-After: 2; %d undelivered", g, undelivered)
		}
	})
	t.Run("503 retried once over", func(t *testing.T) {
		t.Parallel()
		s, logs, _, undelivered := run(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(503)
			io.WriteString(w, `{"error":{"code":"ServiceUnavailable","message":"`+sinkMarker+`"}}`)
		}, RetryPolicy{MaxTries: 3})
		if n := len(s.got()); n != 3 {
			t.Errorf("%d requests for MaxTries 3 (a retry loop around azcore's would make 9)", n)
		}
		if undelivered != 1 || !strings.Contains(logs, "status 503") {
			t.Errorf("undelivered %d, logs %s", undelivered, logs)
		}
	})
	t.Run("400 not retried", func(t *testing.T) {
		t.Parallel()
		s, logs, _, undelivered := run(t, func(_ int, w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(400)
			io.WriteString(w, `{"error":{"code":"InvalidStream","message":"`+sinkMarker+`"}}`)
		}, RetryPolicy{MaxTries: 3})
		if n := len(s.got()); n != 1 || undelivered != 1 || !strings.Contains(logs, "status 400") {
			t.Errorf("%d requests, %d undelivered, logs %s", n, undelivered, logs)
		}
	})
}

// TestParseRetryAfter: delay seconds, HTTP-dates (past ones mean now),
// absurd values capped, garbage ignored.
func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"2", 2 * time.Second, true},
		{" 120 ", 2 * time.Minute, true},
		{"0", 0, true},
		{"Wed, 02 Dec 2026 10:00:05 GMT", 5 * time.Second, true},
		{"Wednesday, 02-Dec-26 10:00:07 GMT", 7 * time.Second, true}, // RFC 850
		{"Wed Dec  2 10:00:09 2026", 9 * time.Second, true},          // asctime
		{"Wed, 02 Dec 2026 09:59:00 GMT", 0, true},
		{"99999999999999999999", 0, false},
		{"9999999999", maxRetryAfter, true},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	} {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%q: %v %v, want %v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// FuzzParseRetryAfter: any header value gives a wait within [0, 24h] or
// is ignored; never a panic.
func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"2", "0", "120", "Wed, 02 Dec 2026 10:00:05 GMT", "Wednesday, 02-Dec-26 10:00:07 GMT", "-1", "1e9", "18446744073709551616", ""} {
		f.Add(s)
	}
	now := time.Date(2026, 12, 2, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		d, ok := parseRetryAfter(v, now)
		if d < 0 || d > maxRetryAfter || (!ok && d != 0) {
			t.Fatalf("%q: %v %v", v, d, ok)
		}
	})
}
