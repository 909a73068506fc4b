package forward_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flowmask/flowmask/proxy"
	"github.com/flowmask/flowmask/proxy/forward"
)

// TestForwardAuditSinkConfig: the audit_* keys are validated with errors
// naming the key.
func TestForwardAuditSinkConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		mut  func(*forward.ForwardConfig)
		want string
	}{
		{"unknown profile", func(c *forward.ForwardConfig) { c.Audit, c.AuditProfile = "http://127.0.0.1:1/x", "x" },
			`forward.audit_profile: unknown profile "x" (want generic, splunk-hec, elastic-bulk, azure-logs-ingestion, loki-json, azure-data-collector)`},
		{"profile to a file", func(c *forward.ForwardConfig) {
			c.Audit, c.AuditProfile, c.AuditTokenEnv = "/tmp/a.jsonl", "splunk-hec", "T"
		},
			"forward.audit_profile: splunk-hec needs an http(s) URL in forward.audit"},
		{"hec without token", func(c *forward.ForwardConfig) { c.Audit, c.AuditProfile = "http://127.0.0.1:1/x", "splunk-hec" },
			"forward.audit_token_file: splunk-hec needs the HEC token"},
		{"two token sources", func(c *forward.ForwardConfig) {
			c.Audit, c.AuditProfile, c.AuditTokenEnv, c.AuditTokenFile = "http://127.0.0.1:1/x", "elastic-bulk", "T", "/f"
		}, "forward.audit_token_env: set audit_token_file or audit_token_env, not both"},
		{"generic with token", func(c *forward.ForwardConfig) { c.Audit, c.AuditTokenEnv = "http://127.0.0.1:1/x", "T" },
			"forward.audit_token_file: generic takes no token"},
		{"data collector without key", func(c *forward.ForwardConfig) {
			c.Audit, c.AuditProfile, c.AuditWorkspaceID = "https://127.0.0.1:1/api/logs", "azure-data-collector", "id"
		}, "forward.audit_workspace_key_file: azure-data-collector signs each post and needs the workspace key"},
		{"data collector without id", func(c *forward.ForwardConfig) {
			c.Audit, c.AuditProfile, c.AuditWorkspaceKeyEnv = "https://127.0.0.1:1/api/logs", "azure-data-collector", "K"
		}, "forward.audit_workspace_id: azure-data-collector needs the workspace ID"},
		{"bad log type", func(c *forward.ForwardConfig) {
			c.Audit, c.AuditProfile, c.AuditWorkspaceID, c.AuditWorkspaceKeyEnv, c.AuditLogType = "https://127.0.0.1:1/api/logs", "azure-data-collector", "id", "K", "a-b"
		}, `forward.audit_log_type: "a-b"`},
		{"logs ingestion over http", func(c *forward.ForwardConfig) {
			c.Audit, c.AuditProfile = "http://127.0.0.1:1/x", "azure-logs-ingestion"
		},
			"forward.audit: azure-logs-ingestion sends a bearer token and needs an https URL"},
		{"workspace key without the profile", func(c *forward.ForwardConfig) { c.Audit, c.AuditWorkspaceKeyEnv = "http://127.0.0.1:1/x", "K" },
			"forward.audit_workspace_id: the workspace ID and key are for audit_profile azure-data-collector"},
	} {
		c := forward.DefaultForwardConfig()
		tt.mut(c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v; want %q", tt.name, err, tt.want)
		}
		var fe *proxy.FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: not a FieldError", tt.name)
		}
	}
	c := forward.DefaultForwardConfig()
	if c.AuditProfile != "generic" || c.AuditLogType != "FlowmaskForward" || c.Validate() != nil {
		t.Errorf("defaults %q %q %v", c.AuditProfile, c.AuditLogType, c.Validate())
	}
	// From a file, with the line.
	_, err := forward.ParseForwardConfig("f.yaml", []byte("forward:\n  audit: http://127.0.0.1:1/x\n  audit_profile: splunk\n"))
	if err == nil || !strings.Contains(err.Error(), `f.yaml:3: forward.audit_profile: unknown profile "splunk"`) {
		t.Errorf("file error: %v", err)
	}
	// A missing token file is reported at start, naming the key.
	c = forward.DefaultForwardConfig()
	c.Audit, c.AuditProfile, c.AuditTokenFile = "http://127.0.0.1:1/x", "splunk-hec", filepath.Join(t.TempDir(), "none")
	if _, err := forward.NewForward(c, forward.ForwardOptions{}); err == nil || !strings.Contains(err.Error(), "forward.audit_token_file:") {
		t.Errorf("missing token file: %v", err)
	}
}

// sinkCollector keeps the bodies a fake sink got.
type sinkCollector struct {
	mu     sync.Mutex
	bodies [][]byte
	auth   []string
}

func (s *sinkCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	s.mu.Lock()
	s.bodies = append(s.bodies, b)
	s.auth = append(s.auth, r.Header.Get("Authorization"))
	s.mu.Unlock()
}

// wait returns the bodies once their joined text contains want n times.
func (s *sinkCollector) wait(t *testing.T, want string, n int) ([]byte, []string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s.mu.Lock()
		all := bytes.Join(s.bodies, nil)
		auth := append([]string(nil), s.auth...)
		s.mu.Unlock()
		if bytes.Count(all, []byte(want)) >= n {
			return all, auth
		}
		if time.Now().After(deadline) {
			t.Fatalf("sink got %q; want %d of %q", all, n, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestForwardAuditSinkCredentialsMasked: the audit token and workspace key
// are known secrets of the forward proxy, so a connector call that carries
// them is recorded masked, and they reach the sink only in its
// Authorization header (the key not even there).
func TestForwardAuditSinkCredentialsMasked(t *testing.T) {
	const token = "hec-tok-0a1b2c3d-4e5f-6789-abcd-ef0123456789"
	key := base64.StdEncoding.EncodeToString([]byte("workspace-key-for-the-forward-test"))
	t.Setenv("FWD_TEST_HEC_TOKEN", token)
	keyFile := filepath.Join(t.TempDir(), "ws.key")
	os.WriteFile(keyFile, []byte(key+"\n"), 0o600)
	for _, tt := range []struct {
		name, secret, auth string
		mut                func(*forward.ForwardConfig)
	}{
		{"splunk-hec", token, "Splunk " + token, func(c *forward.ForwardConfig) { c.AuditProfile, c.AuditTokenEnv = "splunk-hec", "FWD_TEST_HEC_TOKEN" }},
		{"azure-data-collector", key, "SharedKey ws-id:", func(c *forward.ForwardConfig) {
			c.AuditProfile, c.AuditWorkspaceID, c.AuditWorkspaceKeyFile = "azure-data-collector", "ws-id", keyFile
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			col := &sinkCollector{}
			sink := httptest.NewServer(col)
			defer sink.Close()
			up := newUpstream(t, false, jsonReply)
			e := newFwdEnv(t, func(c *forward.ForwardConfig) {
				c.Allow, c.Audit = []string{up.hp}, sink.URL+"/ingest"
				tt.mut(c)
			})
			req, _ := http.NewRequest(http.MethodPost, up.URL+"/call", strings.NewReader(`{"note":"`+tt.secret+`"}`))
			req.Header.Set("Content-Type", "application/json")
			resp, err := e.client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			all, auth := col.wait(t, `"kind":"http"`, 1)
			if bytes.Contains(all, []byte(tt.secret)) || !bytes.Contains(all, []byte("[REDACTED:known-secret]")) {
				t.Errorf("sink body %s; want the credential masked", all)
			}
			var rec struct {
				Request struct{ Body string } `json:"request"`
			}
			// The HEC event or the Data Collector array element.
			trimmed := bytes.TrimPrefix(bytes.TrimPrefix(all, []byte(`{"event":`)), []byte("["))
			json.NewDecoder(bytes.NewReader(trimmed)).Decode(&rec)
			if !strings.Contains(rec.Request.Body, "[REDACTED:known-secret]") {
				t.Errorf("recorded request body %q", rec.Request.Body)
			}
			if len(auth) == 0 || !strings.HasPrefix(auth[0], tt.auth) {
				t.Errorf("Authorization %q, want prefix %q", auth, tt.auth)
			}
			if strings.Contains(e.logs.String(), tt.secret) {
				t.Error("logs hold the credential")
			}
		})
	}
}
