package sink

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"github.com/flowmask/flowmask/proxy/httpbody"
	"net/http"
	"strconv"
	"strings"

	"github.com/flowmask/flowmask/proxy/internal/refusal"
	"github.com/flowmask/flowmask/redactor"
)

// LogsIngestionMaxBytes is the Azure Monitor Logs Ingestion API's limit per
// call, compressed and uncompressed. A larger body after redaction is
// refused with 413, never split behind the client's back.
const LogsIngestionMaxBytes = 1 << 20

// logsIngestionProfile handles the Azure Monitor Logs Ingestion API
// (DCR/DCE): the body is a JSON array, held whole, at most 1 MiB after
// redaction. The bearer token is the client's and passes untouched.
type logsIngestionProfile struct{}

func (logsIngestionProfile) Allow() []redactor.Allow { return nil }

func (logsIngestionProfile) Plan(r *http.Request, _ Route) (Plan, error) {
	mt, _ := mediaType(r.Header)
	if mt != "" && !httpbody.IsJSON(mt) {
		return Plan{}, refusal.Unsupported("the Logs Ingestion API takes a JSON array (Content-Type: application/json)")
	}
	return Plan{Format: redactor.FormatJSON, NeedJSON: true, NeedArray: true, Whole: true,
		Finish: func(_ *http.Request, body []byte, decoded int64) error {
			if len(body) > LogsIngestionMaxBytes || decoded > LogsIngestionMaxBytes {
				return &refusal.Error{Status: http.StatusRequestEntityTooLarge, Code: "sink_limit",
					Msg: "the redacted body exceeds the Logs Ingestion API's 1 MiB limit; send smaller batches"}
			}
			return nil
		}}, nil
}

// dataCollectorProfile handles the legacy Log Analytics HTTP Data Collector
// API. The SharedKey signature covers Content-Length, so after redaction the
// proxy re-signs with the workspace key. The client's signature is checked
// first, so the proxy never signs for a client that lacks the key.
type dataCollectorProfile struct{}

func (dataCollectorProfile) Allow() []redactor.Allow { return nil }

func (dataCollectorProfile) Plan(r *http.Request, rt Route) (Plan, error) {
	mt, _ := mediaType(r.Header)
	if mt != "application/json" {
		return Plan{}, refusal.Unsupported("the Data Collector API takes Content-Type: application/json")
	}
	date := r.Header.Get("x-ms-date")
	id, sig, ok := parseSharedKey(r.Header.Get("Authorization"))
	if !ok || date == "" {
		return Plan{}, &refusal.Error{Status: http.StatusForbidden, Code: "invalid_authorization", Msg: "want Authorization: SharedKey <workspace-id>:<signature> and x-ms-date"}
	}
	if r.ContentLength < 0 {
		return Plan{}, &refusal.Error{Status: http.StatusLengthRequired, Code: "length_required", Msg: "the SharedKey signature needs Content-Length"}
	}
	want := SignDataCollector(rt.WorkspaceKey, r.ContentLength, date)
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return Plan{}, &refusal.Error{Status: http.StatusForbidden, Code: "invalid_authorization", Msg: "the SharedKey signature does not match the workspace key"}
	}
	key := rt.WorkspaceKey
	return Plan{Format: redactor.FormatJSON, NeedJSON: true, Whole: true, NoEncoding: true,
		Finish: func(out *http.Request, body []byte, _ int64) error {
			out.Header.Set("Authorization", "SharedKey "+id+":"+SignDataCollector(key, int64(len(body)), date))
			return nil
		}}, nil
}

func parseSharedKey(h string) (id, sig string, ok bool) {
	rest, found := strings.CutPrefix(h, "SharedKey ")
	if !found {
		return "", "", false
	}
	return strings.Cut(strings.TrimSpace(rest), ":")
}

// SignDataCollector returns the Data Collector API signature for a POST
// body of n bytes sent with the given x-ms-date: the base64 HMAC-SHA256,
// keyed by the decoded workspace key, of
// "POST\n<n>\napplication/json\nx-ms-date:<date>\n/api/logs".
func SignDataCollector(key []byte, n int64, date string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("POST\n" + strconv.FormatInt(n, 10) + "\napplication/json\nx-ms-date:" + date + "\n/api/logs"))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
