package clienttest_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/monitor/ingestion/azlogs"
	"github.com/elastic/go-elasticsearch/v8"
	"github.com/elastic/go-elasticsearch/v8/esutil"
	"github.com/flowmask/flowmask/proxy/sink"
)

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

	cfg := oneRoute(dce.URL, sink.LogsIngestion)
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
	var (
		mu     sync.Mutex
		bodies [][]byte
	)
	es := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		w.Header().Set("Content-Type", "application/json")
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		if !strings.HasSuffix(r.URL.Path, "/_bulk") {
			w.Write([]byte(`{}`))
			return
		}
		mu.Lock()
		bodies = append(bodies, body)
		mu.Unlock()
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
	}))
	defer es.Close()
	f := start(t, oneRoute(es.URL, sink.ElasticBulk))
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
	mu.Lock()
	all := bytes.Join(bodies, nil)
	mu.Unlock()
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
