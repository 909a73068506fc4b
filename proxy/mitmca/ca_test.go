package mitmca

import (
	"crypto/tls"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func testCA(t *testing.T) *CA {
	t.Helper()
	dir := t.TempDir()
	if err := Init(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	ca, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// TestCAMintsHostsConcurrently (issue 18, item 5): minting a leaf for one
// host does not wait for another host's signature (no global lock around
// signing); both gens must run at once or this test fails.
func TestCAMintsHostsConcurrently(t *testing.T) {
	ca := testCA(t)
	bStarted := make(chan struct{})
	done := make(chan error, 2)
	go func() {
		_, err := ca.Fetch("a.test", func() (*tls.Certificate, error) {
			select {
			case <-bStarted:
			case <-time.After(5 * time.Second):
				t.Error("host b was not minted while host a was being minted")
			}
			return ca.sign("a.test")
		})
		done <- err
	}()
	time.Sleep(10 * time.Millisecond) // let a's gen start first (either order passes)
	go func() {
		_, err := ca.Fetch("b.test", func() (*tls.Certificate, error) {
			close(bStarted)
			return ca.sign("b.test")
		})
		done <- err
	}()
	for range 2 {
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("minting deadlocked")
		}
	}
}

// TestCAMintsOncePerHost: concurrent first connections to one host share
// one signature, and later ones get the cached leaf.
func TestCAMintsOncePerHost(t *testing.T) {
	ca := testCA(t)
	var calls atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	certs := make([]*tls.Certificate, 16)
	for i := range certs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := ca.Fetch("api.test", func() (*tls.Certificate, error) {
				calls.Add(1)
				<-release
				return ca.sign("api.test")
			})
			if err != nil {
				t.Error(err)
			}
			certs[i] = c
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	if _, err := ca.Fetch("api.test", func() (*tls.Certificate, error) { calls.Add(1); return ca.sign("api.test") }); err != nil {
		t.Fatal(err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("signed %d times; want 1", n)
	}
	for _, c := range certs[1:] {
		if c != certs[0] {
			t.Fatal("hosts got different leaves")
		}
	}
}

// TestCACacheBounded: the leaf cache never holds more than maxLeaves.
func TestCACacheBounded(t *testing.T) {
	ca := testCA(t)
	lc, err := ca.sign("x.test")
	if err != nil {
		t.Fatal(err)
	}
	for i := range maxLeaves + 10 {
		ca.store(string(rune('a'+i%26))+time.Duration(i).String(), lc)
	}
	if n := len(ca.leaf); n > maxLeaves {
		t.Errorf("cache holds %d leaves; max %d", n, maxLeaves)
	}
}
