package secrets_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/secrets"
	"github.com/flowmask/flowmask/redactor/secrets/kvfake"
	"github.com/prometheus/client_golang/prometheus"
)

// TestRotationWithTraffic rotates a secret in the fake vault while a
// goroutine redacts continuously through the Redactor the Manager keeps
// current. The old value is masked in every single response (before the
// rotation, and after it during the grace period), the new value in every
// response that started after the refresh; after the grace period the old
// value is dropped.
func TestRotationWithTraffic(t *testing.T) {
	const (
		oldValue = "rotating-secret-OLD-5f2c9e1b"
		newValue = "rotating-secret-NEW-8d3a7f40"
	)
	v := kvfake.New("test-token")
	v.Set("app-token", oldValue)
	srv := v.Start(t)
	clk := newClock()
	reg := prometheus.NewRegistry()
	m, err := secrets.New(secrets.Config{KeyVaults: []secrets.KeyVault{{URL: srv.URL}}},
		secrets.Options{Credential: &stubCred{token: "test-token"}, ClientOptions: clientOptions(srv, 3), Now: clk.Now, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	base, err := redactor.New(redactor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	// What a front end does: swap an atomic pointer on every change.
	var cur atomic.Pointer[redactor.Redactor]
	m.Subscribe(func(lits []redactor.Literal) { cur.Store(base.WithLiterals(lits)) })

	body := func(s string) []byte {
		return fmt.Appendf(nil, `{"msg":"login","password_hint":"%s","b64":"%s"}`+"\n", s, base64.StdEncoding.EncodeToString([]byte(s)))
	}
	var (
		refreshed atomic.Bool
		stop      atomic.Bool
		before    atomic.Int64 // responses that started before the refresh returned
		after     atomic.Int64 // responses that started after it
		failMu    sync.Mutex
		failures  []string
		wg        sync.WaitGroup
	)
	fail := func(format string, a ...any) {
		failMu.Lock()
		if len(failures) < 5 {
			failures = append(failures, fmt.Sprintf(format, a...))
		}
		failMu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		var dst []byte
		for !stop.Load() {
			isAfter := refreshed.Load()
			r := cur.Load()
			src := append(body(oldValue), body(newValue)...)
			dst, _ = r.Append(dst[:0], src, redactor.FormatNDJSON)
			out := string(dst)
			if strings.Contains(out, oldValue) || strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(oldValue))) {
				fail("old value unmasked (after refresh: %v)", isAfter)
			}
			if isAfter {
				if strings.Contains(out, newValue) {
					fail("new value unmasked after the refresh")
				}
				after.Add(1)
			} else {
				before.Add(1)
			}
		}
	}()
	waitFor(t, func() bool { return before.Load() >= 20 })
	// An unchanged vault costs one list and no get.
	gets := v.Count("get")
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := v.Count("get"); got != gets {
		t.Errorf("refresh of an unchanged vault fetched %d values; want 0", got-gets)
	}

	v.Set("app-token", newValue)
	clk.Advance(time.Hour)
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	refreshed.Store(true)
	waitFor(t, func() bool { return after.Load() >= 20 })
	stop.Store(true)
	wg.Wait()
	for _, f := range failures {
		t.Error(f)
	}
	if got, _ := metricValue(t, reg, "flowmask_secrets_grace_values"); got != 1 {
		t.Errorf("grace values = %v; want 1", got)
	}

	// 24h later (the default grace), the old value is dropped at the next
	// refresh.
	clk.Advance(secrets.DefaultGrace)
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := values(m.Literals()); len(got) != 1 || got[0] != newValue {
		t.Errorf("after grace: %d values; want only the new one", len(got))
	}
	r := cur.Load()
	if out := r.String("token " + oldValue); !strings.Contains(out, oldValue) {
		t.Errorf("after grace the old value is still masked: %q", out)
	}
	if out := r.String("token " + newValue); strings.Contains(out, newValue) {
		t.Errorf("new value unmasked: %q", out)
	}
}

// waitFor polls cond until it holds, failing the test after a generous
// deadline (a hang guard, not a timing assertion).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 30s")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestGraceConfigurable(t *testing.T) {
	const first, second = "first-value-0123456789", "second-value-0123456789"
	dir := t.TempDir()
	file := writeFile(t, dir, "secrets.txt", first+"\n")
	clk := newClock()
	m, err := secrets.New(secrets.Config{Files: []string{file}, Grace: time.Minute}, secrets.Options{Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "secrets.txt", second+"\n")
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := values(m.Literals()); strings.Join(got, ",") != first+","+second {
		t.Errorf("within grace: %v; want both", got)
	}
	clk.Advance(time.Minute)
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := values(m.Literals()); strings.Join(got, ",") != second {
		t.Errorf("after grace: %v; want only the second", got)
	}
	// A negative grace drops rotated-out values at once.
	m2, err := secrets.New(secrets.Config{Files: []string{file}, Grace: -1}, secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Load(ctx); err != nil {
		t.Fatal(err)
	}
	writeFile(t, dir, "secrets.txt", first+"\n")
	if err := m2.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if got := values(m2.Literals()); strings.Join(got, ",") != first {
		t.Errorf("grace -1: %v; want only the first", got)
	}
}

// TestRunRefreshesOnInterval lets Run's timer (not a file event) pick up a
// rotation in the vault.
func TestRunRefreshesOnInterval(t *testing.T) {
	v := kvfake.New("test-token")
	v.Set("app-token", "interval-value-one-1")
	srv := v.Start(t)
	m, err := secrets.New(secrets.Config{KeyVaults: []secrets.KeyVault{{URL: srv.URL}}, Refresh: 20 * time.Millisecond},
		secrets.Options{Credential: &stubCred{token: "test-token"}, ClientOptions: clientOptions(srv, 3)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	sets := make(chan []redactor.Literal, 64)
	m.Subscribe(func(l []redactor.Literal) {
		select {
		case sets <- l:
		default:
		}
	})
	<-sets
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	v.Set("app-token", "interval-value-two-2")
	select {
	case got := <-sets:
		if vals := values(got); strings.Join(vals, ",") != "interval-value-one-1,interval-value-two-2" {
			t.Errorf("after interval refresh: %v; want both (old in grace)", vals)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("no refresh in 30s")
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v; want nil", err)
	}
	for _, s := range m.Sources() {
		if s.Failures != 0 {
			t.Errorf("%s: %d failures after shutdown; want 0", s.Name, s.Failures)
		}
	}
}
