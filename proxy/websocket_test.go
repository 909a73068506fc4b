package proxy_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/flowmask/flowmask/proxy"
)

// wsUpstream is a WebSocket server that records every message it gets and
// answers each text message with one that holds secret.
type wsUpstream struct {
	*httptest.Server
	mu   sync.Mutex
	got  []string
	done chan struct{}
}

func newWSUpstream(t *testing.T, secret string) *wsUpstream {
	t.Helper()
	u := &wsUpstream{done: make(chan struct{}, 4)}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { u.done <- struct{}{} }()
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			u.mu.Lock()
			u.got = append(u.got, string(msg))
			u.mu.Unlock()
			if typ == websocket.MessageText {
				c.Write(r.Context(), websocket.MessageText, []byte(`{"reply":"ok","debug":"token `+secret+`"}`))
			}
		}
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *wsUpstream) all() string {
	u.mu.Lock()
	defer u.mu.Unlock()
	return strings.Join(u.got, "\n")
}

// Leak 2: on a route that opts in, WebSocket text messages are redacted in
// both directions and binary messages end the connection unscanned-free.
func TestWebSocketRedacted(t *testing.T) {
	replySecret := freshGitHubToken()
	up := newWSUpstream(t, replySecret)
	cfg := oneRoute(up.URL, "generic")
	cfg.Routes[0].WebSocket = proxy.WebSocketRedact
	cfg.Routes[0].Redact = "both"
	f := start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.url, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	pw, tok := fresh(20), freshGitHubToken()
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"password":"`+pw+`","msg":"deploy with `+tok+`"}`)); err != nil {
		t.Fatal(err)
	}
	typ, reply, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if typ != websocket.MessageText || strings.Contains(string(reply), replySecret) || !strings.Contains(string(reply), `"reply":"ok"`) {
		t.Errorf("reply to the client: %s", reply)
	}
	got := up.all()
	for _, s := range []string{pw, tok} {
		if strings.Contains(got, s) {
			t.Errorf("the upstream got a secret: %s", got)
		}
	}
	if !strings.Contains(got, `"password":"[REDACTED:password]"`) {
		t.Errorf("upstream message: %s", got)
	}
	// A binary message is not scanned: the connection ends, the upstream
	// never sees it.
	bin := freshGitHubToken()
	c.Write(ctx, websocket.MessageBinary, []byte(bin))
	if _, _, err := c.Read(ctx); websocket.CloseStatus(err) != websocket.StatusUnsupportedData {
		t.Errorf("after a binary message: %v; want close 1003", err)
	}
	select {
	case <-up.done:
	case <-ctx.Done():
		t.Fatal("the upstream connection stayed open")
	}
	if strings.Contains(up.all(), bin) {
		t.Errorf("the upstream got a binary message: %s", up.all())
	}
	noLeak(t, f, &capture{Server: up.Server}, pw)
}

func TestWebSocketBinaryPass(t *testing.T) {
	up := newWSUpstream(t, "x")
	cfg := oneRoute(up.URL, "generic")
	cfg.Routes[0].WebSocket = proxy.WebSocketRedact
	cfg.Routes[0].WebSocketBinary = proxy.BinaryPass
	f := start(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(f.url, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.Write(ctx, websocket.MessageBinary, []byte{0, 1, 2, 3})
	c.Write(ctx, websocket.MessageText, []byte("hello"))
	if _, _, err := c.Read(ctx); err != nil {
		t.Fatal(err)
	}
	if got := up.all(); got != "\x00\x01\x02\x03\nhello" {
		t.Errorf("upstream got %q", got)
	}
	c.Close(websocket.StatusNormalClosure, "bye")
}
