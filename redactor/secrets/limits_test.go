package secrets_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/flowmask/flowmask/redactor/secrets"
	"github.com/flowmask/flowmask/redactor/secrets/kvfake"
)

// getGate is a client transport that counts the secret fetches (GET
// /secrets/NAME) in flight and holds each one until limit are in flight, so
// that the highest count seen is the fetch concurrency: a bound above limit
// would show up as more than limit. The last fetches are released once total
// have started; a bound on the wait keeps a lower concurrency from hanging
// the test. A fetch of failName is answered 403.
type getGate struct {
	next     policy.Transporter
	limit    int // hold fetches until this many are in flight; 0: hold none
	total    int // or until this many have started
	failName string

	mu       sync.Mutex
	started  int
	inFlight int
	max      int
	full     chan struct{}
}

func (g *getGate) Do(req *http.Request) (*http.Response, error) {
	parts := strings.Split(strings.Trim(req.URL.Path, "/"), "/")
	if req.Method != http.MethodGet || len(parts) < 2 || parts[0] != "secrets" || req.Header.Get("Authorization") == "" {
		return g.next.Do(req)
	}
	if parts[1] == g.failName {
		body := `{"error":{"code":"Forbidden","message":"Caller is not authorized to perform action on resource."}}`
		return &http.Response{StatusCode: http.StatusForbidden, Status: "403 Forbidden", Request: req,
			Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(body))}, nil
	}
	g.mu.Lock()
	g.started++
	g.inFlight++
	g.max = max(g.max, g.inFlight)
	full, release := g.full, g.limit > 0 && (g.inFlight >= g.limit || g.started >= g.total)
	if release {
		close(g.full)
		g.full = make(chan struct{})
	}
	g.mu.Unlock()
	if g.limit > 0 && !release {
		select {
		case <-full:
		case <-req.Context().Done():
		case <-time.After(2 * time.Second): // fewer than limit left: go on
		}
	}
	resp, err := g.next.Do(req)
	g.mu.Lock()
	g.inFlight--
	g.mu.Unlock()
	return resp, err
}

func (g *getGate) highest() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.max
}

// TestKeyVaultGetConcurrencyLimit: a vault's values are fetched
// concurrently, never more than secrets.GetConcurrency at a time.
func TestKeyVaultGetConcurrencyLimit(t *testing.T) {
	v := kvfake.New("test-token")
	v.PageSize = 10
	n := 2 * secrets.GetConcurrency
	for i := range n {
		v.Set(fmt.Sprintf("app-key-%02d", i), fmt.Sprintf("kv-value-%02d-9c41e7d2b8", i))
	}
	srv := v.Start(t)
	gate := &getGate{next: srv.Client(), limit: secrets.GetConcurrency, total: n, full: make(chan struct{})}
	opts := clientOptions(srv, -1)
	opts.Transport = gate
	m, err := secrets.New(secrets.Config{KeyVaults: []secrets.KeyVault{{URL: srv.URL}}},
		secrets.Options{Credential: &stubCred{token: "test-token"}, ClientOptions: opts})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(context.Background()); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := len(m.Literals()); got != n {
		t.Errorf("loaded %d values; want %d", got, n)
	}
	if got := gate.highest(); got != secrets.GetConcurrency {
		t.Errorf("highest fetch concurrency = %d; want %d", got, secrets.GetConcurrency)
	}
}

// TestKeyVaultGetErrorNamesSecret: a secret whose value cannot be fetched
// fails the vault's load with an error naming the vault and the secret (and
// no value); nothing of that load is published.
func TestKeyVaultGetErrorNamesSecret(t *testing.T) {
	v := kvfake.New("test-token")
	v.PageSize = 10
	var all []string
	for i := range 12 {
		val := fmt.Sprintf("kv-value-%02d-5e0b3a9f61", i)
		all = append(all, val)
		v.Set(fmt.Sprintf("app-key-%02d", i), val)
	}
	srv := v.Start(t)
	gate := &getGate{next: srv.Client(), failName: "app-key-07", full: make(chan struct{})}
	opts := clientOptions(srv, -1)
	opts.Transport = gate
	logger, logs := observed()
	m, err := secrets.New(secrets.Config{KeyVaults: []secrets.KeyVault{{URL: srv.URL}}},
		secrets.Options{Credential: &stubCred{token: "test-token"}, ClientOptions: opts, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "keyvault:"+srv.URL+": get secret app-key-07: ") || !strings.Contains(err.Error(), "status 403") {
		t.Fatalf("Load = %v; want a 403 naming keyvault:%s and secret app-key-07", err, srv.URL)
	}
	for _, val := range all {
		if strings.Contains(err.Error(), val) {
			t.Errorf("error leaks a value: %v", err)
		}
	}
	if got := m.Literals(); len(got) != 0 {
		t.Errorf("a failed load published %d values", len(got))
	}
	if st := m.Sources(); len(st) != 1 || st[0].Loaded || st[0].Err == nil {
		t.Errorf("Sources() = %+v; want the failure recorded", st)
	}
	assertNoValues(t, logs, all...)
}

// TestLoadReportsEverySourceError: sources load concurrently (more of them
// than load at once), and each failing source is reported by name: one
// source's failure neither hides nor cancels another's, and the sources that
// could be read are in the set.
func TestLoadReportsEverySourceError(t *testing.T) {
	dir := t.TempDir()
	var files, missing []string
	for i := range 12 {
		name := filepath.Join(dir, fmt.Sprintf("values-%02d.txt", i))
		if i%4 == 1 {
			missing = append(missing, name)
		} else {
			writeFile(t, dir, filepath.Base(name), fmt.Sprintf("file-value-%02d-3d7a1c\n", i))
		}
		files = append(files, name)
	}
	m, err := secrets.New(secrets.Config{Files: files}, secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Load(context.Background())
	if err == nil {
		t.Fatal("Load = nil; want the missing files reported")
	}
	for _, f := range missing {
		if !strings.Contains(err.Error(), "file:"+f+": ") {
			t.Errorf("Load error does not name file:%s: %v", f, err)
		}
	}
	if got, want := len(m.Literals()), len(files)-len(missing); got != want {
		t.Errorf("set holds %d values; want %d (every readable file)", got, want)
	}
}
