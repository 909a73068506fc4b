package proxy_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/ingestion/azlogs"
	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"
	"github.com/flowmask/flowmask/proxy"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and returns the
// cert and key paths and a pool trusting it.
func writeCert(t *testing.T, dir, name string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, name+".crt"), filepath.Join(dir, name+".key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// serve runs srv with Serve on a loopback listener until the test ends.
func serve(t *testing.T, srv *proxy.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln, nil) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return ln.Addr().String()
}

type stubCredential struct{}

func (stubCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: "stub-token-for-tests", ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// TestAzlogsClient sends with the Azure SDK's Logs Ingestion client through
// the proxy's TLS listener to a TLS fake DCE that the proxy verifies with a
// custom CA.
func TestAzlogsClient(t *testing.T) {
	var gotBody []byte
	var gotAuth, gotPath string
	dce := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var buf bytes.Buffer
		buf.ReadFrom(r.Body)
		gotBody, gotAuth, gotPath = buf.Bytes(), r.Header.Get("Authorization"), r.URL.Path
		w.WriteHeader(http.StatusNoContent)
	}))
	defer dce.Close()
	dir := t.TempDir()
	caFile := filepath.Join(dir, "dce-ca.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: dce.Certificate().Raw}), 0o600)
	certFile, keyFile, pool := writeCert(t, dir, "proxy")

	cfg := oneRoute(dce.URL, proxy.ProfileLogsIngestion)
	cfg.TLS.CertFile, cfg.TLS.KeyFile = certFile, keyFile
	cfg.Routes[0].UpstreamTLS.CAFile = caFile
	f := start(t, cfg)
	addr := serve(t, f.srv)

	client, err := azlogs.NewClient("https://"+addr, stubCredential{}, &azlogs.ClientOptions{ClientOptions: azcore.ClientOptions{
		Transport: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	logs := `[{"Time":"2023-11-14 15:10:02","Computer":"Value01","AdditionalContext":"conn password=hunter2-hunter2;","Token":"` + canary + `"}]`
	if _, err := client.Upload(context.Background(), "dcr-00000000000000000000000000000000", "Custom-MyTable_CL", []byte(logs), nil); err != nil {
		t.Fatal(err)
	}
	want := `[{"Time":"2023-11-14 15:10:02","Computer":"Value01","AdditionalContext":"conn password=` + maskPassword + `;","Token":"[REDACTED:token]"}]`
	if string(gotBody) != want {
		t.Errorf("DCE got\n%s\nwant\n%s", gotBody, want)
	}
	if gotAuth != "Bearer stub-token-for-tests" || gotPath != "/dataCollectionRules/dcr-00000000000000000000000000000000/streams/Custom-MyTable_CL" {
		t.Errorf("auth %q path %q", gotAuth, gotPath)
	}
}

// TestElasticBulkIndexer indexes through the proxy with go-elasticsearch's
// BulkIndexer against a fake _bulk.
func TestElasticBulkIndexer(t *testing.T) {
	var bodies [][]byte
	es := newSink(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		if !strings.HasSuffix(r.URL.Path, "/_bulk") {
			w.Write([]byte(`{}`))
			return
		}
	})
	es.reply = func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		reqs := es.requests()
		body := reqs[len(reqs)-1].body
		bodies = append(bodies, body)
		var items []string
		sc := bufio.NewScanner(bytes.NewReader(body))
		for sc.Scan() {
			var action map[string]map[string]any
			if json.Unmarshal(sc.Bytes(), &action) != nil {
				continue
			}
			for op := range action {
				if op == "index" || op == "create" || op == "delete" || op == "update" {
					items = append(items, fmt.Sprintf(`{"%s":{"_index":"logs","status":201}}`, op))
					if op != "delete" {
						sc.Scan()
					}
				}
			}
		}
		fmt.Fprintf(w, `{"took":1,"errors":false,"items":[%s]}`, strings.Join(items, ","))
	}
	f := start(t, oneRoute(es.URL, proxy.ProfileElasticBulk))
	client, err := elasticsearch.NewClient(elasticsearch.Config{Addresses: []string{f.url}})
	if err != nil {
		t.Fatal(err)
	}
	bi, err := esutil.NewBulkIndexer(esutil.BulkIndexerConfig{Client: client, Index: "logs", NumWorkers: 1, FlushBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var failed int
	for i := range 20 {
		doc := fmt.Sprintf(`{"i":%d,"msg":"user login","password":"hunter2-hunter2","token":"%s"}`, i, canary)
		err := bi.Add(context.Background(), esutil.BulkIndexerItem{
			Action: "index", DocumentID: fmt.Sprint(i), Body: strings.NewReader(doc),
			OnFailure: func(context.Context, esutil.BulkIndexerItem, esutil.BulkIndexerResponseItem, error) { failed++ },
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := bi.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	st := bi.Stats()
	if st.NumFailed != 0 || failed != 0 || st.NumIndexed != 20 {
		t.Errorf("stats: %+v", st)
	}
	all := bytes.Join(bodies, nil)
	if bytes.Contains(all, []byte("hunter2")) || bytes.Contains(all, []byte(canary)) {
		t.Errorf("secret reached the fake _bulk")
	}
	for i := range 20 {
		action := fmt.Sprintf(`{"index":{"_id":"%d"}}`, i)
		doc := fmt.Sprintf(`{"i":%d,"msg":"user login","password":"%s","token":"[REDACTED:token]"}`, i, maskPassword)
		if !bytes.Contains(all, []byte(action+"\n"+doc+"\n")) {
			t.Fatalf("document %d not as expected in:\n%s", i, all)
		}
	}
}
