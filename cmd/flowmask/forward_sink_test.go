package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestForwardBinaryAuditHEC runs `flowmask forward --audit URL
// --audit-profile splunk-hec --audit-token-env X` and drives curl through
// it: a fake HEC endpoint gets the run-history record as a HEC event with
// the Splunk token, and the token, sent in the connector call, is masked
// in the record. End to end: the built binary, the token from the process
// environment, exit code 0 after a real SIGTERM.
func TestForwardBinaryAuditHEC(t *testing.T) {
	prebuild()
	t.Parallel()
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	const token = "8d1c6a0e-hec-token-4b2f-9e71-3c5d0a6b8f24"
	var mu sync.Mutex
	var events []map[string]any
	var auths []string
	hec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		dec := json.NewDecoder(bytes.NewReader(b))
		mu.Lock()
		defer mu.Unlock()
		auths = append(auths, r.Header.Get("Authorization"))
		for {
			var ev map[string]any
			if err := dec.Decode(&ev); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				w.WriteHeader(http.StatusBadRequest) // as HEC: "Invalid data format"
				return
			}
			events = append(events, ev)
		}
		io.WriteString(w, `{"text":"Success","code":0}`)
	}))
	defer hec.Close()
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok")
	}))
	defer up.Close()
	hp := up.Listener.Addr().String()
	fw := startServerBinary(t, []string{"FWD_HEC_TOKEN=" + token}, "forward", "--listen", "127.0.0.1:0", "--allow", hp,
		"--audit", hec.URL+"/services/collector/event", "--audit-profile", "splunk-hec", "--audit-token-env", "FWD_HEC_TOKEN")
	addr, _ := fw.listening(t, "forward")["addr"].(string)
	if out := curl(t, "-x", "http://"+addr, "-H", "Content-Type: application/json", "--data", `{"hec":"`+token+`"}`, up.URL+"/call"); out != "ok" {
		t.Fatalf("curl got %q", out)
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		mu.Lock()
		n := len(events)
		mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no HEC event\n%s", fw.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	mu.Lock()
	ev, auth := events[0], auths[0]
	mu.Unlock()
	if auth != "Splunk "+token {
		t.Errorf("Authorization %q", auth)
	}
	rec, _ := ev["event"].(map[string]any)
	b, _ := json.Marshal(ev)
	if ev["sourcetype"] != "flowmask:forward" || rec == nil || rec["method"] != "POST" || rec["host"] != hp || strings.Contains(string(b), token) || !strings.Contains(string(b), "[REDACTED:known-secret]") {
		t.Errorf("HEC event %s", b)
	}
	fw.stop(t)
	if strings.Contains(fw.stderr.String(), token) {
		t.Error("own logs hold the HEC token")
	}
}

// TestForwardAuditFlagErrors: bad audit sink flags are usage errors naming
// the key.
func TestForwardAuditFlagErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--audit", "http://127.0.0.1:1/x", "--audit-profile", "nope"}, `forward.audit_profile: unknown profile "nope"`},
		{[]string{"--audit-profile", "splunk-hec", "--audit-token-env", "X"}, "splunk-hec needs an http(s) URL in forward.audit"},
		{[]string{"--audit", "https://127.0.0.1:1/api/logs", "--audit-profile", "azure-data-collector", "--audit-workspace-id", "w"}, "forward.audit_workspace_key_file:"},
		{[]string{"--audit", "http://127.0.0.1:1/x", "--audit-profile", "splunk-hec", "--audit-token-env", "FLOWMASK_TEST_UNSET_VAR"}, "forward.audit_token_file: $FLOWMASK_TEST_UNSET_VAR is not set"},
	} {
		res := runBin(t, "", nil, append([]string{"forward", "--listen", "127.0.0.1:0"}, tt.args...)...)
		if res.code != exitUsage || !strings.Contains(res.stderr, tt.want) {
			t.Errorf("%v: %d %q; want %q", tt.args, res.code, res.stderr, tt.want)
		}
	}
}
