package secrets_test

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
	"github.com/flowmask/flowmask/redactor/secrets"
	"github.com/prometheus/client_golang/prometheus"
)

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		t.Fatal(err)
	}
	// Write then rename, as editors and config management do.
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, p); err != nil {
		t.Fatal(err)
	}
	return p
}

// k8sMount lays out dir as kubelet does for a secret volume: the data in a
// timestamped directory, ..data pointing at it (swapped atomically by a
// rename), and one top-level link per key.
func k8sMount(t *testing.T, dir string, gen int, data map[string]string) {
	t.Helper()
	ts := fmt.Sprintf("..2026_11_27_10_00_00.%09d", gen)
	for k, v := range data {
		writeFile(t, filepath.Join(dir, ts), k, v)
	}
	old, _ := os.Readlink(filepath.Join(dir, "..data"))
	if err := os.Symlink(ts, filepath.Join(dir, "..data_tmp")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(dir, "..data_tmp"), filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	for k := range data {
		top := strings.SplitN(k, "/", 2)[0]
		if _, err := os.Lstat(filepath.Join(dir, top)); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Join("..data", top), filepath.Join(dir, top)); err != nil {
			t.Fatal(err)
		}
	}
	if old != "" {
		os.RemoveAll(filepath.Join(dir, old))
	}
}

func bySource(lits []redactor.Literal) map[string]string {
	m := map[string]string{}
	for _, l := range lits {
		m[l.Source] = l.Value
	}
	return m
}

func TestEnvSources(t *testing.T) {
	t.Setenv("FLOWMASK_T_DB", "env-db-password-123")
	t.Setenv("APP_SECRET_ONE", "app-secret-one-value")
	t.Setenv("APP_SECRET_TWO", "app-secret-two-value")
	t.Setenv("APP_SECRET_SHORT", "xq7zk")
	t.Setenv("APP_OTHER", "not-a-secret-by-prefix")
	logger, logs := observed()
	m, err := secrets.New(secrets.Config{Env: []string{"FLOWMASK_T_DB"}, EnvPrefix: []string{"APP_SECRET_"}}, secrets.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"env:FLOWMASK_T_DB":  "env-db-password-123",
		"env:APP_SECRET_ONE": "app-secret-one-value",
		"env:APP_SECRET_TWO": "app-secret-two-value",
	}
	if got := bySource(m.Literals()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("literals = %v; want %v", got, want)
	}
	warned := logs.FilterMessageSnippet("shorter than 8 bytes").All()
	if len(warned) != 1 || warned[0].ContextMap()["source"] != "env:APP_SECRET_SHORT" {
		t.Errorf("warnings = %v; want one naming env:APP_SECRET_SHORT", warned)
	}
	assertNoValues(t, logs, "xq7zk", "env-db-password-123")

	// A named variable that is not set is an error naming it.
	m2, err := secrets.New(secrets.Config{Env: []string{"FLOWMASK_T_UNSET_VAR"}}, secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := m2.Load(context.Background()); err == nil || !strings.Contains(err.Error(), "FLOWMASK_T_UNSET_VAR") {
		t.Errorf("Load = %v; want an error naming the variable", err)
	}
}

func TestFileAndDotenvSources(t *testing.T) {
	dir := t.TempDir()
	file := writeFile(t, dir, "values.txt", "file-value-one-1234\r\n\nfile-value-two-5678\n")
	env := writeFile(t, dir, ".env", `# app settings
export DB_PASSWORD="dotenv-db\"pass\"word"
API_KEY='dotenv-api-key-1234' # comment
PLAIN=dotenv-plain-value-99 # trailing comment
EMPTY=
MULTI="-----BEGIN KEY-----
line-two
-----END KEY-----"
`)
	m, err := secrets.New(secrets.Config{Files: []string{file}, Dotenv: []string{env}}, secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"file:" + file + ":1":            "file-value-one-1234",
		"file:" + file + ":3":            "file-value-two-5678",
		"dotenv:" + env + ":DB_PASSWORD": `dotenv-db"pass"word`,
		"dotenv:" + env + ":API_KEY":     "dotenv-api-key-1234",
		"dotenv:" + env + ":PLAIN":       "dotenv-plain-value-99",
		"dotenv:" + env + ":MULTI":       "-----BEGIN KEY-----\nline-two\n-----END KEY-----",
	}
	if got := bySource(m.Literals()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("literals = %v\nwant %v", got, want)
	}
	// A file changed on disk is picked up by the next refresh; the old
	// value stays masked for the grace period.
	writeFile(t, dir, "values.txt", "file-value-three-9012\n")
	if err := m.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	got := bySource(m.Literals())
	if got["file:"+file+":1"] != "file-value-three-9012" {
		t.Errorf("after change: %v; want file-value-three-9012 at line 1", got)
	}
	if vals := strings.Join(values(m.Literals()), ","); !strings.Contains(vals, "file-value-one-1234") || !strings.Contains(vals, "file-value-two-5678") {
		t.Errorf("rotated-out file values dropped before the grace period: %s", vals)
	}
	// A file that disappears fails the refresh and keeps the last good set.
	os.Remove(file)
	if err := m.Refresh(ctx); err == nil || !strings.Contains(err.Error(), "file:"+file) {
		t.Errorf("Refresh after remove = %v; want an error naming the file source", err)
	}
	if got := bySource(m.Literals()); got["file:"+file+":1"] != "file-value-three-9012" {
		t.Errorf("last good set lost: %v", got)
	}
}

func TestDirSourceKubernetesMount(t *testing.T) {
	dir := t.TempDir()
	k8sMount(t, dir, 1, map[string]string{
		"username":          "service-account-user\n",
		"password":          "k8s-password-value-1\n",
		".dockerconfigjson": `{"auths":{"r.example":{"auth":"dXNlcjpwYXNzd29yZA=="}}}`,
		"nested/token":      "nested-token-value-42",
	})
	writeFile(t, dir, ".gitkeep-not-a-key", "editor-litter-value-123")
	m, err := secrets.New(secrets.Config{Dirs: []string{dir}}, secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"dir:" + dir + "/username":          "service-account-user",
		"dir:" + dir + "/password":          "k8s-password-value-1",
		"dir:" + dir + "/.dockerconfigjson": `{"auths":{"r.example":{"auth":"dXNlcjpwYXNzd29yZA=="}}}`,
		"dir:" + dir + "/nested/token":      "nested-token-value-42",
	}
	if got := bySource(m.Literals()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("literals = %v\nwant %v", got, want)
	}
}

// TestRunReloadsChangedMount runs the refresh loop with a long interval and
// rotates a key the way kubelet does; the file watcher triggers the reload
// and subscribers see the new set (with the old value still in grace).
func TestRunReloadsChangedMount(t *testing.T) {
	dir := t.TempDir()
	k8sMount(t, dir, 1, map[string]string{"password": "mounted-password-v1"})
	m, err := secrets.New(secrets.Config{Dirs: []string{dir}, Refresh: 1 << 40}, secrets.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.Load(ctx); err != nil {
		t.Fatal(err)
	}
	sets := make(chan []redactor.Literal, 16)
	m.Subscribe(func(l []redactor.Literal) { sets <- l })
	<-sets // the current set, at once
	done := make(chan error)
	go func() { done <- m.Run(ctx) }()
	// Run starts its watcher asynchronously; keep rotating until a change
	// is seen, each time to a new value.
	var got []redactor.Literal
	for gen := 2; got == nil; gen++ {
		if gen > 200 {
			t.Fatal("no reload after 200 rotations")
		}
		k8sMount(t, dir, gen, map[string]string{"password": fmt.Sprintf("mounted-password-v%d", gen)})
		select {
		case got = <-sets:
		case <-timeAfter(100):
		}
	}
	vals := values(got)
	if len(vals) < 2 || vals[0] != "mounted-password-v1" {
		t.Errorf("after reload: %v; want v1 (in grace) and a newer value", vals)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v; want nil", err)
	}
}

func TestStaticAndTrack(t *testing.T) {
	t.Setenv("FLOWMASK_T_KEY", "env-key-value-abcdef")
	m, err := secrets.New(secrets.Config{Env: []string{"FLOWMASK_T_KEY"}}, secrets.Options{
		Static: []redactor.Literal{{Source: "inbound_token", Value: "inbound-token-value-xyz"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	base, err := redactor.New(redactor.Config{})
	if err != nil {
		t.Fatal(err)
	}
	live := m.Track(base)
	// Before Load: only the static value.
	if out := live.Load().String("a inbound-token-value-xyz b env-key-value-abcdef"); strings.Contains(out, "inbound-token-value-xyz") || !strings.Contains(out, "env-key-value-abcdef") {
		t.Errorf("before Load: %q; want only the static value masked", out)
	}
	if err := m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if out := live.Load().String("a inbound-token-value-xyz b env-key-value-abcdef"); strings.Contains(out, "inbound-token-value-xyz") || strings.Contains(out, "env-key-value-abcdef") {
		t.Errorf("after Load: %q; want both masked", out)
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		give secrets.Config
		want string
	}{
		{secrets.Config{KeyVaults: []secrets.KeyVault{{URL: "http://v.vault.azure.net"}}}, "keyvaults[0].url: must be an https URL"},
		{secrets.Config{KeyVaults: []secrets.KeyVault{{}}}, "keyvaults[0].url: required"},
		{secrets.Config{KeyVaults: []secrets.KeyVault{{URL: "https://v.vault.azure.net/secrets/x"}}}, "keyvaults[0].url: must be the vault's base URL"},
		{secrets.Config{KeyVaults: []secrets.KeyVault{{URL: "https://v.vault.azure.net"}, {URL: "https://v.vault.azure.net/"}}}, "keyvaults[1]: same vault and prefix as keyvaults[0]"},
		{secrets.Config{EnvPrefix: []string{""}}, "env_prefix[0]: empty prefix"},
		{secrets.Config{Env: []string{"A=B"}}, "env[0]:"},
		{secrets.Config{Files: []string{""}}, "files[0]: empty path"},
		{secrets.Config{Refresh: -1}, "refresh: must not be negative"},
		{secrets.Config{MaxFailures: -1}, "max_failures: must not be negative"},
	}
	for _, tt := range tests {
		err := tt.give.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Validate(%+v) = %v; want %q", tt.give, err, tt.want)
		}
		if _, err := secrets.New(tt.give, secrets.Options{}); err == nil {
			t.Errorf("New(%+v) = nil error", tt.give)
		}
	}
	ok := secrets.Config{KeyVaults: []secrets.KeyVault{{URL: "https://v.vault.azure.net/", Prefix: "app-", Tags: map[string]string{"a": "b"}}}}
	if err := ok.Validate(); err != nil {
		t.Errorf("Validate(valid) = %v", err)
	}
	// Every problem is reported at once.
	two := secrets.Config{Refresh: -1, MaxFailures: -1}
	if err := two.Validate(); err == nil || strings.Count(err.Error(), "must not be negative") != 2 {
		t.Errorf("Validate = %v; want both problems", err)
	}
}

func TestMetricsRegistryConflict(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := secrets.New(secrets.Config{}, secrets.Options{Registry: reg}); err != nil {
		t.Fatal(err)
	}
	if _, err := secrets.New(secrets.Config{}, secrets.Options{Registry: reg}); err == nil {
		t.Error("second Manager on one registry: nil error; want a registration error")
	}
}

// solutionZip builds a Power Platform solution export.
func solutionZip(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		w, err := zw.Create(n)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(files[n]))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func envDef(schema, display, typ, def string) string {
	d := ""
	if def != "" {
		d = "<defaultvalue>" + def + "</defaultvalue>"
	}
	return `<environmentvariabledefinition schemaname="` + schema + `">
  <description default="test"/><displayname default="` + display + `"><label description="` + display + `" languagecode="1033"/></displayname>
  <introducedversion>1.0.0.0</introducedversion><iscustomizable>1</iscustomizable><isrequired>0</isrequired>
  <secretstore>0</secretstore><type>` + typ + `</type>` + d + `</environmentvariabledefinition>`
}

func envValue(schema, value string) string {
	return `{"environmentvariablevalues":{"environmentvariablevalue":{"iscustomizable":"1","schemaname":"` + schema + `","value":"` + value + `"}}}`
}

func testSolution(t testing.TB) []byte {
	const d = "environmentvariabledefinitions/"
	return solutionZip(t, map[string]string{
		"solution.xml":       "<ImportExportXml/>",
		"customizations.xml": "<ImportExportXml/>",
		d + "admin_ClientSecret/environmentvariabledefinition.xml": envDef("admin_ClientSecret", "Client Secret", "100000005", ""),
		d + "admin_ClientSecret/environmentvariablevalues.json":    envValue("admin_ClientSecret", "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/kv1/secrets/clientsecret"),
		d + "admin_RawSecret/environmentvariabledefinition.xml":    envDef("admin_RawSecret", "Raw secret", "100000005", ""),
		d + "admin_RawSecret/environmentvariablevalues.json":       envValue("admin_RawSecret", "raw-secret-value-in-solution"),
		d + "admin_ApiKey/environmentvariabledefinition.xml":       envDef("admin_ApiKey", "API", "100000000", "default-api-key-value-1"),
		d + "admin_ApiKey/environmentvariablevalues.json":          envValue("admin_ApiKey", "current-api-key-value-2"),
		d + "admin_Service/environmentvariabledefinition.xml":      envDef("admin_Service", "Service Password", "100000000", "service-password-default"),
		d + "admin_SiteUrl/environmentvariabledefinition.xml":      envDef("admin_SiteUrl", "Site URL", "100000000", "https://contoso.sharepoint.com/sites/x"),
		d + "admin_SiteUrl/environmentvariablevalues.json":         envValue("admin_SiteUrl", "https://contoso.sharepoint.com/sites/y"),
		d + "admin_TokenCount/environmentvariabledefinition.xml":   envDef("admin_TokenCount", "Token count", "100000001", "123456789012"),
	})
}

func TestSolutionSource(t *testing.T) {
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "Solution_1_0_0_0.zip")
	if err := os.WriteFile(zipPath, testSolution(t), 0o600); err != nil {
		t.Fatal(err)
	}
	logger, logs := observed()
	m, err := secrets.New(secrets.Config{Solutions: []string{zipPath}}, secrets.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	p := "solution:" + zipPath + ":"
	want := map[string]string{
		p + "admin_RawSecret":        "raw-secret-value-in-solution",
		p + "admin_ApiKey":           "current-api-key-value-2",
		p + "admin_ApiKey(default)":  "default-api-key-value-1",
		p + "admin_Service(default)": "service-password-default",
	}
	if got := bySource(m.Literals()); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("literals = %v\nwant %v", got, want)
	}
	if n := len(logs.FilterMessageSnippet("Key Vault reference").All()); n != 1 {
		t.Errorf("Key Vault reference notes = %d; want 1", n)
	}
}

// TestSolutionErrorsHoldNoValues feeds broken solution files whose parse
// errors would quote input, and checks the source's error does not.
func TestSolutionErrorsHoldNoValues(t *testing.T) {
	const d = "environmentvariabledefinitions/x_Secret/"
	tests := []map[string]string{
		{"solution.xml": "<x/>", d + "environmentvariablevalues.json": `{"environmentvariablevalues":{"environmentvariablevalue":{"value":"leaky-secret-value"`},
		{"solution.xml": "<x/>", d + "environmentvariablevalues.json": `{"environmentvariablevalues":{"environmentvariablevalue":{"value":"leaky-secret-value"}}}x`},
		{"solution.xml": "<x/>", d + "environmentvariabledefinition.xml": `<x><defaultvalue>leaky&secret;</defaultvalue></x>`},
	}
	for i, files := range tests {
		zipPath := filepath.Join(t.TempDir(), "s.zip")
		if err := os.WriteFile(zipPath, solutionZip(t, files), 0o600); err != nil {
			t.Fatal(err)
		}
		m, err := secrets.New(secrets.Config{Solutions: []string{zipPath}}, secrets.Options{})
		if err != nil {
			t.Fatal(err)
		}
		err = m.Load(context.Background())
		if err == nil || strings.Contains(err.Error(), "leaky") || strings.Contains(err.Error(), "secret;") {
			t.Errorf("case %d: Load = %v; want an error without input bytes", i, err)
		}
	}
}
