package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// captured is one request as the capture sink behind flowmask received it.
type captured struct {
	method, path, query string
	header              http.Header
	body                []byte // decompressed
}

// shipperRecord is the i-th log record every recipe sends: a password in
// the message, a token under a sensitive key, a known secret in free text,
// and values that must survive byte for byte.
func shipperRecord(i int) map[string]any {
	return map[string]any{
		"time":         fmt.Sprintf("2026-12-02T14:0%d:00.000Z", i),
		"level":        "info",
		"service":      "orders",
		"message":      fmt.Sprintf("login user=svc-orders password=Pw-sekret-%d-Qx9zLm", i),
		"access_token": fmt.Sprintf("tok-%d-Hq7wP2vXk9ZsR4mN", i),
		"note":         "rotated key Kv8-shipper-known-secret-77 in use",
		"trace_id":     fmt.Sprintf("4bf92f3577b34da6a3ce929d0e0e473%d", i),
	}
}

var shipperSecrets = []string{"Pw-sekret-", "tok-0-Hq7", "tok-1-Hq7", "tok-2-Hq7", "Kv8-shipper-known-secret-77"}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b) //nolint:errcheck
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jsonLine(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// shipperRequest is the request shape one shipper's documented
// configuration sends (docs/shippers.md).
type shipperRequest struct {
	name    string
	method  string
	path    string
	header  map[string]string
	body    []byte
	gzip    bool
	records func(body []byte) ([]map[string]any, error) // what the sink received, record by record
}

func jsonArrayRecords(body []byte) ([]map[string]any, error) {
	var recs []map[string]any
	err := json.Unmarshal(body, &recs)
	return recs, err
}

func ndjsonRecords(body []byte) ([]map[string]any, error) {
	var recs []map[string]any
	for _, line := range bytes.Split(bytes.TrimRight(body, "\n"), []byte("\n")) {
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			return nil, fmt.Errorf("line %q: %w", line, err)
		}
		recs = append(recs, m)
	}
	return recs, nil
}

func bulkRecords(body []byte) ([]map[string]any, error) {
	all, err := ndjsonRecords(body)
	if err != nil {
		return nil, err
	}
	var docs []map[string]any
	for i := 0; i+1 < len(all); i += 2 {
		if _, ok := all[i]["create"]; !ok {
			return nil, fmt.Errorf("line %d is not a create action: %v", 2*i+1, all[i])
		}
		docs = append(docs, all[i+1])
	}
	return docs, nil
}

// otlpRecords turns OTLP/HTTP JSON logs back into records: the body string
// as message, attributes as fields.
func otlpRecords(body []byte) ([]map[string]any, error) {
	var req struct {
		ResourceLogs []struct {
			ScopeLogs []struct {
				LogRecords []struct {
					Body       struct{ StringValue string } `json:"body"`
					TraceID    string                       `json:"traceId"`
					Attributes []struct {
						Key   string                       `json:"key"`
						Value struct{ StringValue string } `json:"value"`
					} `json:"attributes"`
				} `json:"logRecords"`
			} `json:"scopeLogs"`
		} `json:"resourceLogs"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, err
	}
	var recs []map[string]any
	for _, rl := range req.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			for _, lr := range sl.LogRecords {
				m := map[string]any{"message": lr.Body.StringValue}
				for _, a := range lr.Attributes {
					m[a.Key] = a.Value.StringValue
				}
				recs = append(recs, m)
			}
		}
	}
	return recs, nil
}

func otlpBody(t *testing.T, n int) []byte {
	var lrs []any
	for i := range n {
		r := shipperRecord(i)
		lrs = append(lrs, map[string]any{
			"timeUnixNano": fmt.Sprintf("17331480%d0000000000", i), "severityText": "INFO", "severityNumber": 9,
			"body": map[string]any{"stringValue": r["message"]},
			"attributes": []any{
				map[string]any{"key": "access_token", "value": map[string]any{"stringValue": r["access_token"]}},
				map[string]any{"key": "note", "value": map[string]any{"stringValue": r["note"]}},
				map[string]any{"key": "trace_id", "value": map[string]any{"stringValue": r["trace_id"]}},
			},
		})
	}
	return jsonLine(t, map[string]any{"resourceLogs": []any{map[string]any{
		"resource":  map[string]any{"attributes": []any{map[string]any{"key": "service.name", "value": map[string]any{"stringValue": "orders"}}}},
		"scopeLogs": []any{map[string]any{"scope": map[string]any{}, "logRecords": lrs}},
	}}})
}

// TestShipperRecipes posts, through the real binary, the exact request shape
// of each shipper recipe in docs/shippers.md (method, path, headers, body
// framing, compression) to a capture sink, and checks that every record
// arrives, redacted, with its other values intact.
func TestShipperRecipes(t *testing.T) {
	t.Parallel()
	const n = 3
	var recs []map[string]any
	var arr, ndjson, bulk bytes.Buffer
	for i := range n {
		recs = append(recs, shipperRecord(i))
		ndjson.Write(jsonLine(t, shipperRecord(i)))
		ndjson.WriteByte('\n')
		bulk.WriteString(`{"create":{"_index":"logs-orders-default"}}` + "\n")
		bulk.Write(jsonLine(t, shipperRecord(i)))
		bulk.WriteByte('\n')
	}
	arr.Write(jsonLine(t, recs))

	// Fluent Bit's `json` format is an array of {date, <record>} objects.
	var fb []map[string]any
	for i := range n {
		r := shipperRecord(i)
		r["date"] = 1733148000.5 + float64(i)
		fb = append(fb, r)
	}
	var fbLines bytes.Buffer
	for _, r := range fb {
		fbLines.Write(jsonLine(t, r))
		fbLines.WriteByte('\n')
	}

	cases := []shipperRequest{
		{name: "Fluent Bit http output, format json, gzip", method: "POST", path: "/fluentbit",
			header: map[string]string{"Content-Type": "application/json", "User-Agent": "Fluent-Bit"}, body: jsonLine(t, fb), gzip: true, records: jsonArrayRecords},
		{name: "Fluent Bit http output, format json_lines", method: "POST", path: "/fluentbit",
			header: map[string]string{"Content-Type": "application/json", "User-Agent": "Fluent-Bit"}, body: fbLines.Bytes(), records: ndjsonRecords},
		{name: "Vector http sink, codec json, gzip", method: "POST", path: "/vector",
			header: map[string]string{"Content-Type": "application/json", "User-Agent": "Vector/0.48.0"}, body: arr.Bytes(), gzip: true, records: jsonArrayRecords},
		{name: "Vector http sink, codec json, framing newline_delimited", method: "POST", path: "/vector",
			header: map[string]string{"Content-Type": "application/x-ndjson", "User-Agent": "Vector/0.48.0"}, body: ndjson.Bytes(), records: ndjsonRecords},
		{name: "OpenTelemetry Collector otlphttp exporter, encoding json, gzip", method: "POST", path: "/v1/logs",
			header: map[string]string{"Content-Type": "application/json", "User-Agent": "OpenTelemetry Collector Contrib/0.130.0"}, body: otlpBody(t, n), gzip: true, records: otlpRecords},
		{name: "Logstash http output, format json_batch, http_compression", method: "POST", path: "/logstash",
			header: map[string]string{"Content-Type": "application/json"}, body: arr.Bytes(), gzip: true, records: jsonArrayRecords},
		{name: "Filebeat / Elastic Agent elasticsearch output, _bulk, compression_level 1", method: "POST", path: "/_bulk?filter_path=errors,items.*.error,items.*.status",
			header: map[string]string{"Content-Type": "application/json; charset=UTF-8", "Authorization": "ApiKey VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw=="}, body: bulk.Bytes(), gzip: true, records: bulkRecords},
		{name: "Logs Ingestion API client, gzip", method: "POST", path: "/dataCollectionRules/dcr-00000000000000000000000000000000/streams/Custom-OrdersLogs?api-version=2023-01-01",
			header: map[string]string{"Content-Type": "application/json", "Authorization": "Bearer eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL21vbml0b3IuYXp1cmUuY29tIn0.c2lnbmF0dXJl"}, body: arr.Bytes(), gzip: true, records: jsonArrayRecords},
	}

	var mu sync.Mutex
	var got []captured
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		mu.Lock()
		got = append(got, captured{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), b})
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"errors":false}`)) //nolint:errcheck
	}))
	defer sink.Close()

	dir := t.TempDir()
	known := filepath.Join(dir, "known.txt")
	if err := os.WriteFile(known, []byte("Kv8-shipper-known-secret-77\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "flowmask.yaml")
	conf := fmt.Sprintf(`listen: 127.0.0.1:0
admin: 127.0.0.1:0
secrets:
  files: [%[2]s]
routes:
  - {name: otel, match: {path_prefix: /v1/logs}, upstream: %[1]s, profile: otlp-json}
  - {name: elastic, match: {path_prefix: /_bulk}, upstream: %[1]s, profile: elastic-bulk}
  - {name: logs-ingestion, match: {path_prefix: /dataCollectionRules}, upstream: %[1]s, profile: azure-logs-ingestion}
  - {name: generic, upstream: %[1]s, profile: generic}
`, sink.URL, known)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startProxy(t, nil, "--config", cfg)
	defer p.stop(t)

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			got = nil
			mu.Unlock()
			body := tc.body
			req, err := http.NewRequest(tc.method, "http://"+p.addr+tc.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tc.gzip {
				body = gzipped(t, body)
				req.Header.Set("Content-Encoding", "gzip")
			}
			req.Body = io.NopCloser(bytes.NewReader(body))
			req.ContentLength = int64(len(body))
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			respBody, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode/100 != 2 {
				t.Fatalf("flowmask answered %d: %s", resp.StatusCode, respBody)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(got) != 1 {
				t.Fatalf("the sink got %d requests; want 1", len(got))
			}
			c := got[0]
			wantPath, wantQuery, _ := strings.Cut(tc.path, "?")
			if c.method != tc.method || c.path != wantPath || c.query != wantQuery {
				t.Errorf("sink got %s %s?%s; want %s %s", c.method, c.path, c.query, tc.method, tc.path)
			}
			if a := tc.header["Authorization"]; a != "" && c.header.Get("Authorization") != a {
				t.Errorf("the client's Authorization did not reach the sink unchanged")
			}
			for _, s := range shipperSecrets {
				if bytes.Contains(c.body, []byte(s)) {
					t.Errorf("secret %q reached the sink:\n%s", s, c.body)
				}
			}
			recs, err := tc.records(c.body)
			if err != nil {
				t.Fatalf("the sink's body is not the shipper's framing: %v\n%s", err, c.body)
			}
			if len(recs) != n {
				t.Fatalf("the sink got %d records; want %d:\n%s", len(recs), n, c.body)
			}
			for i, r := range recs {
				want := shipperRecord(i)
				if r["trace_id"] != want["trace_id"] {
					t.Errorf("record %d: trace_id %v; want %v", i, r["trace_id"], want["trace_id"])
				}
				msg, _ := r["message"].(string)
				if !strings.HasPrefix(msg, "login user=svc-orders password=[REDACTED:") {
					t.Errorf("record %d: message %q", i, msg)
				}
				if tok, _ := r["access_token"].(string); !strings.HasPrefix(tok, "[REDACTED:") {
					t.Errorf("record %d: access_token %q", i, tok)
				}
				if note, _ := r["note"].(string); note != "rotated key [REDACTED:known-secret] in use" {
					t.Errorf("record %d: note %q", i, note)
				}
			}
		})
	}
}
