package forward_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowmask/flowmask/proxy/forward"
)

// closedWithin reports whether the peer closes conn before limit (a
// generous bound: the test checks that a timeout exists, not its length).
func closedWithin(conn net.Conn, r io.Reader, limit time.Duration) bool {
	conn.SetReadDeadline(time.Now().Add(limit))
	_, err := io.Copy(io.Discard, r)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return true
}

// TestForwardTunnelTimeouts (issue 13, leak 11): an intercepted tunnel
// whose client stays silent (no TLS handshake, or a request header never
// finished) is closed by read_header_timeout; one that idles between
// requests by idle_timeout.
func TestForwardTunnelTimeouts(t *testing.T) {
	up := newUpstream(t, false, jsonReply)
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.Intercept = []string{up.hp}, []string{up.hp}
		c.ReadHeaderTimeout, c.IdleTimeout = 200*time.Millisecond, 300*time.Millisecond
	})
	t.Run("silent", func(t *testing.T) {
		conn, br := connectThrough(t, e, up.hp)
		if !closedWithin(conn, br, 10*time.Second) {
			t.Error("a silent tunnel was kept open")
		}
	})
	t.Run("slow header", func(t *testing.T) {
		conn, br := connectThrough(t, e, up.hp)
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\nX-Slow: ", up.hp)
		if !closedWithin(conn, br, 10*time.Second) {
			t.Error("a tunnel with an unfinished header was kept open")
		}
	})
	t.Run("idle", func(t *testing.T) {
		conn, br := connectThrough(t, e, up.hp)
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", up.hp)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		if !closedWithin(conn, br, 10*time.Second) {
			t.Error("an idle tunnel was kept open")
		}
	})
}

// TestForwardConnectionTimeout: an intercepted tunnel is closed after
// connection_timeout however busy it is.
func TestForwardConnectionTimeout(t *testing.T) {
	up := newUpstream(t, false, jsonReply)
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.Intercept = []string{up.hp}, []string{up.hp}
		c.ConnectionTimeout = 300 * time.Millisecond
	})
	conn, br := connectThrough(t, e, up.hp)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", up.hp)
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			return // closed: pass
		}
		io.Copy(io.Discard, resp.Body)
		time.Sleep(20 * time.Millisecond)
	}
	t.Error("a busy tunnel outlived connection_timeout")
}

// TestForwardExchangeCap (issue 13, leak 11): beyond
// max_concurrent_exchanges an exchange waits queue_timeout, then gets 503;
// nothing of it reaches the destination.
func TestForwardExchangeCap(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 4)
	up := newUpstream(t, false, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		jsonReply(w, r)
	})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free) // before the destination closes, whatever fails
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.MaxConcurrentExchanges, c.QueueTimeout = []string{up.hp}, 1, 50*time.Millisecond
	})
	c := e.client()
	first := make(chan int, 1)
	go func() {
		resp, err := c.Get(up.URL + "/slow")
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	<-arrived
	resp, err := c.Get(up.URL + "/second")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(b), "overloaded") {
		t.Errorf("second exchange: %d %s; want 503 overloaded", resp.StatusCode, b)
	}
	free()
	if st := <-first; st != http.StatusOK {
		t.Errorf("first exchange: %d", st)
	}
	// The slot is free again.
	resp, err = c.Get(up.URL + "/third")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("third exchange: %d", resp.StatusCode)
	}
}

// TestForwardConfigBounds: the bounds load from YAML with their defaults,
// and bad values are errors naming the key.
func TestForwardConfigBounds(t *testing.T) {
	cfg, err := forward.ParseForwardConfig("f.yaml", []byte("forward:\n  max_header_bytes: 32KiB\n  idle_timeout: 5s\n  allow_networks: [10.1.0.0/16, 192.168.1.7]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxHeaderBytes != 32<<10 || cfg.IdleTimeout != 5*time.Second || cfg.ReadHeaderTimeout != forward.DefaultForwardReadHeader ||
		cfg.MaxConcurrentExchanges != forward.DefaultMaxConcurrentExchanges || len(cfg.AllowNetworks) != 2 {
		t.Errorf("loaded: %+v", cfg)
	}
	_, err = forward.ParseForwardConfig("f.yaml", []byte("forward:\n  read_timeout: -1s\n  allow_networks: [nonsense]\n  max_concurrent_exchanges: -2\n"))
	for _, want := range []string{"forward.read_timeout", "forward.allow_networks[0]", "forward.max_concurrent_exchanges"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v; want it to name %s", err, want)
		}
	}
}
