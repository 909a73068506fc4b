package forward_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/flowmask/flowmask/proxy"
	"github.com/flowmask/flowmask/proxy/forward"
	"go.uber.org/zap/zapcore"
)

// TestForwardAuditUndeliveredMetric: records the audit sink refuses are
// counted in flowmask_audit_undelivered_batches_total on the forward
// proxy's registry, and Close returns once the sink has answered.
func TestForwardAuditUndeliveredMetric(t *testing.T) {
	var posts atomic.Int32
	sinkSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		posts.Add(1)
		w.WriteHeader(http.StatusBadRequest) // not retried
	}))
	defer sinkSrv.Close()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer up.Close()
	cfg := forward.DefaultForwardConfig()
	cfg.Audit = sinkSrv.URL + "/ingest"
	cfg.Allow = []string{strings.TrimPrefix(up.URL, "http://")}
	reg := proxy.NewRegistry()
	fw, err := forward.NewForward(cfg, forward.ForwardOptions{Registry: reg, LogOutput: zapcore.AddSync(io.Discard)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(fw)
	defer srv.Close()
	pu, _ := url.Parse(srv.URL)
	client := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}, Timeout: 10 * time.Second}
	resp, err := client.Get(up.URL + "/a")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err := fw.Close(); err != nil { // flushes: one post, refused
		t.Fatal(err)
	}
	if posts.Load() != 1 {
		t.Errorf("%d posts, want 1 (a 400 is not retried)", posts.Load())
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var got float64 = -1
	for _, mf := range mfs {
		if mf.GetName() == "flowmask_audit_undelivered_batches_total" {
			got = mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	if got != 1 {
		t.Errorf("flowmask_audit_undelivered_batches_total = %v, want 1", got)
	}
}

// TestForwardAuditLogsIngestionURL: an azure-logs-ingestion audit URL
// must name the data collection rule and the stream.
func TestForwardAuditLogsIngestionURL(t *testing.T) {
	for _, tt := range []struct {
		url, err string
	}{
		{"https://dce.eastus-1.ingest.monitor.azure.com/dataCollectionRules/dcr-0123/streams/Custom-FlowmaskForward?api-version=2023-01-01", ""},
		{"https://dce.eastus-1.ingest.monitor.azure.com/ingest", "forward.audit: azure-logs-ingestion: want https://<endpoint>/dataCollectionRules/<dcr-id>/streams/<stream>"},
		{"https://dce.eastus-1.ingest.monitor.azure.com/dataCollectionRules/dcr-0123/streams/", "forward.audit: azure-logs-ingestion: want"},
		{"http://dce.eastus-1.ingest.monitor.azure.com/dataCollectionRules/dcr-0123/streams/S", "forward.audit: azure-logs-ingestion sends a bearer token and needs an https URL"},
	} {
		c := forward.DefaultForwardConfig()
		c.Audit, c.AuditProfile = tt.url, "azure-logs-ingestion"
		err := c.Validate()
		switch {
		case tt.err == "" && err != nil:
			t.Errorf("%s: %v", tt.url, err)
		case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
			t.Errorf("%s: got %v, want %q", tt.url, err, tt.err)
		}
	}
}
