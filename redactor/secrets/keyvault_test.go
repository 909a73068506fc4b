package secrets_test

import (
	"context"
	"encoding/pem"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/secrets"
	"github.com/flowmask/flowmask/redactor/secrets/kvfake"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	dbPassword = "db-password-4c1f8e2a9b"
	apiKey     = "api-key-77d0e6b1c3f5"
	otherToken = "other-token-0a9b8c7d6e"
	disabled   = "disabled-value-3e4f5a6b"
	expired    = "expired-value-9f8e7d6c"
	tagged     = "tagged-value-1a2b3c4d5e"
	shortValue = "tiny"
)

// newVault returns a fake vault with secrets covering every filter: two
// plain app- secrets, one outside the prefix, a disabled one, an expired
// one, a tagged one and one too short to mask. Four list pages of two.
func newVault(t *testing.T) (*kvfake.Vault, *httptest.Server) {
	v := kvfake.New("test-token")
	v.Set("app-db-password", dbPassword)
	v.Set("app-api-key", apiKey)
	v.Set("other-token", otherToken)
	v.Set("app-disabled", disabled)
	v.Update("app-disabled", func(s *kvfake.Secret) { s.Enabled = false })
	v.Set("app-expired", expired)
	v.Update("app-expired", func(s *kvfake.Secret) { s.Expires = time.Now().Add(-time.Hour) })
	v.Set("app-tagged", tagged)
	v.Update("app-tagged", func(s *kvfake.Secret) { s.Tags = map[string]string{"flowmask": "mask", "env": "prod"} })
	v.Set("app-short", shortValue)
	v.Set("zz-last", "zz-last-value-on-last-page")
	return v, v.Start(t)
}

func values(lits []redactor.Literal) []string {
	var out []string
	for _, l := range lits {
		out = append(out, l.Value)
	}
	sort.Strings(out)
	return out
}

func sources(lits []redactor.Literal) []string {
	var out []string
	for _, l := range lits {
		out = append(out, l.Source)
	}
	sort.Strings(out)
	return out
}

func TestKeyVaultLoadStubCredential(t *testing.T) {
	v, srv := newVault(t)
	url := srv.URL
	cred := &stubCred{token: "test-token"}
	logger, logs := observed()
	reg := prometheus.NewRegistry()
	m, err := secrets.New(secrets.Config{KeyVaults: []secrets.KeyVault{{URL: url, Prefix: "app-"}}},
		secrets.Options{Credential: cred, ClientOptions: clientOptions(srv, 3), Logger: logger, Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(context.Background()); err != nil {
		t.Fatalf("Load: %v", err)
	}
	lits := m.Literals()
	if got, want := strings.Join(values(lits), ","), strings.Join([]string{apiKey, dbPassword, tagged}, ","); got != want {
		t.Errorf("values = %s; want %s", got, want)
	}
	wantSrc := []string{"keyvault:" + url + "/secrets/app-api-key", "keyvault:" + url + "/secrets/app-db-password", "keyvault:" + url + "/secrets/app-tagged"}
	if got := sources(lits); strings.Join(got, ",") != strings.Join(wantSrc, ",") {
		t.Errorf("sources = %v; want %v", got, wantSrc)
	}
	// 8 secrets, pages of 2: the pager followed every absolute nextLink.
	if got := v.Count("list"); got != 4 {
		t.Errorf("list pages = %d; want 4", got)
	}
	if got := v.Count("challenge"); got != 1 {
		t.Errorf("challenges = %d; want 1", got)
	}
	asked := cred.requests()
	if len(asked) == 0 || asked[0].TenantID != kvfake.Tenant || len(asked[0].Scopes) != 1 || asked[0].Scopes[0] != kvfake.Resource+"/.default" {
		t.Errorf("token requests = %+v; want tenant %s, scope %s/.default", asked, kvfake.Tenant, kvfake.Resource)
	}
	st := m.Sources()
	if len(st) != 1 || st[0].Name != "keyvault:"+url || st[0].Values != 3 || st[0].Skipped != 1 || st[0].Err != nil {
		t.Errorf("Sources() = %+v; want 3 values, 1 skipped", st)
	}
	if m.Ready() != nil {
		t.Errorf("Ready() = %v; want nil", m.Ready())
	}
	// The short value is reported by source and name, never by value.
	warned := logs.FilterMessageSnippet("shorter than 8 bytes").All()
	if len(warned) != 1 || warned[0].ContextMap()["source"] != "keyvault:"+url+"/secrets/app-short" {
		t.Errorf("short-value warnings = %+v; want one naming keyvault:%s/secrets/app-short", warned, url)
	}
	if got, ok := metricValue(t, reg, "flowmask_secrets_values", "source", "keyvault:"+url); !ok || got != 3 {
		t.Errorf("flowmask_secrets_values = %v, %v; want 3", got, ok)
	}
	if got, ok := metricValue(t, reg, "flowmask_secrets_last_refresh_success_timestamp_seconds"); !ok || got == 0 {
		t.Errorf("last refresh timestamp = %v, %v; want set", got, ok)
	}
	all := []string{dbPassword, apiKey, otherToken, disabled, expired, tagged, shortValue}
	assertNoValues(t, logs, all...)
	text := metricsText(t, reg)
	for _, s := range all {
		if strings.Contains(text, s) {
			t.Errorf("metrics leak a value")
		}
	}
}

func TestKeyVaultTagFilter(t *testing.T) {
	v := kvfake.New("test-token")
	v.Set("a", "untagged-value-123456")
	v.Set("b", tagged)
	v.Update("b", func(s *kvfake.Secret) { s.Tags = map[string]string{"flowmask": "mask", "env": "prod"} })
	v.Set("c", "wrong-tag-value-123456")
	v.Update("c", func(s *kvfake.Secret) { s.Tags = map[string]string{"flowmask": "no"} })
	srv := v.Start(t)
	m, err := secrets.New(secrets.Config{KeyVaults: []secrets.KeyVault{{URL: srv.URL, Tags: map[string]string{"flowmask": "mask"}}}},
		secrets.Options{Credential: &stubCred{token: "test-token"}, ClientOptions: clientOptions(srv, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := values(m.Literals()); len(got) != 1 || got[0] != tagged {
		t.Errorf("values = %v; want only the tagged one", got)
	}
}

func TestKeyVaultRetriesThrottlingAndServerErrors(t *testing.T) {
	v := kvfake.New("test-token")
	v.Set("app-api-key", apiKey)
	srv := v.Start(t)
	// The first authenticated request is throttled (Retry-After: 1), the
	// next one fails with 500; the SDK's retry policy rides both out.
	v.Fail(kvfake.Fault{Status: 429, RetryAfter: "1"}, kvfake.Fault{Status: 500})
	m, err := secrets.New(secrets.Config{KeyVaults: []secrets.KeyVault{{URL: srv.URL}}},
		secrets.Options{Credential: &stubCred{token: "test-token"}, ClientOptions: clientOptions(srv, 3)})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(context.Background()); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := v.Count("fault"); got != 2 {
		t.Errorf("faults served = %d; want 2", got)
	}
	if got := values(m.Literals()); len(got) != 1 || got[0] != apiKey {
		t.Errorf("values = %v; want the api key", got)
	}
}

func TestKeyVaultWrongTokenFails(t *testing.T) {
	v := kvfake.New("test-token")
	v.Set("app-api-key", apiKey)
	srv := v.Start(t)
	m, err := secrets.New(secrets.Config{KeyVaults: []secrets.KeyVault{{URL: srv.URL}}},
		secrets.Options{Credential: &stubCred{token: "wrong"}, ClientOptions: clientOptions(srv, -1)})
	if err != nil {
		t.Fatal(err)
	}
	err = m.Load(context.Background())
	if err == nil || !strings.Contains(err.Error(), "keyvault:"+srv.URL) || !strings.Contains(err.Error(), "status 401") {
		t.Fatalf("Load = %v; want a 401 naming the vault", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error spans lines: %q", err)
	}
}

func TestKeyVaultUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "https://" + ln.Addr().String()
	ln.Close() // nothing listens here now
	v := kvfake.New("x")
	srv := v.Start(t) // only for its client's TLS settings
	for _, optional := range []bool{false, true} {
		m, err := secrets.New(secrets.Config{KeyVaults: []secrets.KeyVault{{URL: url, Optional: optional}}},
			secrets.Options{Credential: &stubCred{token: "x"}, ClientOptions: clientOptions(srv, -1)})
		if err != nil {
			t.Fatal(err)
		}
		err = m.Load(context.Background())
		if !optional {
			if err == nil || !strings.Contains(err.Error(), "keyvault:"+url) || !strings.Contains(err.Error(), "list secrets") {
				t.Errorf("Load = %v; want an error naming keyvault:%s", err, url)
			}
			continue
		}
		if err != nil {
			t.Errorf("optional: Load = %v; want nil", err)
		}
		if st := m.Sources(); st[0].Err == nil || st[0].Loaded {
			t.Errorf("optional: Sources() = %+v; want the error recorded", st)
		}
		if err := m.Ready(); err != nil {
			t.Errorf("optional: Ready() = %v; want nil", err)
		}
	}
}

func TestReadyAfterMaxFailures(t *testing.T) {
	v := kvfake.New("test-token")
	v.Set("app-api-key", apiKey)
	srv := v.Start(t)
	reg := prometheus.NewRegistry()
	logger, logs := observed()
	m, err := secrets.New(secrets.Config{KeyVaults: []secrets.KeyVault{{URL: srv.URL}}, MaxFailures: 2},
		secrets.Options{Credential: &stubCred{token: "test-token"}, ClientOptions: clientOptions(srv, -1), Registry: reg, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Ready(); err == nil {
		t.Error("Ready() before Load = nil; want an error")
	}
	ctx := context.Background()
	if err := m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	src := "keyvault:" + srv.URL
	for i := 1; i <= 2; i++ {
		v.Fail(kvfake.Fault{Status: 500})
		if err := m.Refresh(ctx); err == nil {
			t.Fatalf("refresh %d = nil; want the 500", i)
		}
		// The last good set is kept.
		if got := values(m.Literals()); len(got) != 1 || got[0] != apiKey {
			t.Fatalf("after failure %d: values = %v; want the last good set", i, got)
		}
		if got, _ := metricValue(t, reg, "flowmask_secrets_refresh_failures_total", "source", src); got != float64(i) {
			t.Errorf("failures metric = %v; want %d", got, i)
		}
		err := m.Ready()
		if i < 2 && err != nil {
			t.Errorf("Ready() after %d failure = %v; want nil", i, err)
		}
		if i == 2 && (err == nil || !strings.Contains(err.Error(), src)) {
			t.Errorf("Ready() after %d failures = %v; want an error naming %s", i, err, src)
		}
	}
	if got, _ := metricValue(t, reg, "flowmask_secrets_ready"); got != 0 {
		t.Errorf("flowmask_secrets_ready = %v; want 0", got)
	}
	if n := len(logs.FilterMessageSnippet("load failed").All()); n != 2 {
		t.Errorf("failure logs = %d; want 2", n)
	}
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Ready(); err != nil {
		t.Errorf("Ready() after recovery = %v; want nil", err)
	}
	if got, _ := metricValue(t, reg, "flowmask_secrets_ready"); got != 1 {
		t.Errorf("flowmask_secrets_ready = %v; want 1", got)
	}
	assertNoValues(t, logs, apiKey)
}

// TestKeyVaultEnvToken runs the child test below in a new process with
// FLOWMASK_KEYVAULT_TOKEN and SSL_CERT_FILE set: the default transport then
// trusts the fake vault's certificate (the system pool is read once per
// process, hence the child), and no azidentity credential is built.
func TestKeyVaultEnvToken(t *testing.T) {
	v := kvfake.New("env-token-from-pipeline")
	v.Set("app-api-key", apiKey)
	v.Set("app-db-password", dbPassword)
	srv := v.Start(t)
	cert := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKeyVaultEnvTokenChild$", "-test.v")
	cmd.Env = append(os.Environ(),
		"FLOWMASK_TEST_VAULT="+srv.URL,
		"FLOWMASK_KEYVAULT_TOKEN=env-token-from-pipeline",
		"SSL_CERT_FILE="+cert,
		"SSL_CERT_DIR="+t.TempDir(),
		// Make sure a stray azidentity could not reach anything.
		"AZURE_CLIENT_ID=", "AZURE_TENANT_ID=", "IDENTITY_ENDPOINT=", "MSI_ENDPOINT=",
	)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestKeyVaultEnvTokenChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if v.Count("get") != 2 || v.Count("unauthorized") != 0 {
		t.Errorf("gets = %d, unauthorized = %d; want 2, 0", v.Count("get"), v.Count("unauthorized"))
	}
}

func TestKeyVaultEnvTokenChild(t *testing.T) {
	url := os.Getenv("FLOWMASK_TEST_VAULT")
	if url == "" {
		t.Skip("run by TestKeyVaultEnvToken")
	}
	if os.Getenv(secrets.TokenEnv) == "" {
		t.Fatal("FLOWMASK_KEYVAULT_TOKEN unset: refusing to fall back to DefaultAzureCredential in a test")
	}
	// No Credential, no Transport: the env token and the default transport.
	m, err := secrets.New(secrets.Config{KeyVaults: []secrets.KeyVault{{URL: url}}}, secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(context.Background()); err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := values(m.Literals()); strings.Join(got, ",") != apiKey+","+dbPassword {
		t.Fatalf("values = %d; want the two secrets", len(got))
	}
}
