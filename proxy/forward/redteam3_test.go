package forward_test

// Round 3 of the red team (docs/redteam.md): bodies a redact-requests host
// receives whose secret is held in a name/value pair object
// ({"name":"DB_PASSWORD","value":...}), the shape Logic Apps variables,
// App Service settings and Kubernetes env lists use.

import (
	"crypto/rand"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/proxy/forward"
	"github.com/flowmask/flowmask/redactor"
)

// TestRedteam3ForwardNamedPairNumericValue: a name/value pair whose value
// is a JSON number ({"name":"DB_PIN","value":73829104756392}) reached the
// destination unmasked, though {"password":48291573610} is masked.
func TestRedteam3ForwardNamedPairNumericValue(t *testing.T) {
	up := newUpstream(t, false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.RedactRequests = []string{up.hp}, []string{up.hp}
	})
	secret := "73829104756392"
	for _, body := range []string{
		`{"name":"DB_PASSWORD","value":` + secret + `}`,
		`{"value":-` + secret + `,"Name":"SMTP_PASSWORD"}`,
		`{"properties":{"settings":[{"name":"API_TOKEN","value":` + secret + `.5e3}]}}`,
	} {
		resp := postBody(t, e.client(), up.URL+"/settings", "application/json", []byte(body), false)
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("%s: status %d", body, resp.StatusCode)
		}
		got := up.last(t).body
		if strings.Contains(string(got), secret) {
			t.Errorf("the numeric secret of a name/value pair reached the destination: %s", got)
		}
		if !strings.Contains(string(got), `"value":"[REDACTED:`) {
			t.Errorf("the pair's value is not a masked JSON string: %s", got)
		}
	}
	e.waitRecords(3)
	if strings.Contains(e.audit.String(), secret) {
		t.Error("a record holds the numeric secret")
	}
}

// TestRedteam3ForwardNamedPairInTextBody: a JSON object sent as text
// (Content-Type text/plain, a JSON body with bytes after it, or an NDJSON
// body holding a pretty-printed object) is redacted by text rules, which
// do not know name/value pairs: the value reached the destination.
func TestRedteam3ForwardNamedPairInTextBody(t *testing.T) {
	up := newUpstream(t, false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.RedactRequests = []string{up.hp}, []string{up.hp}
	})
	for i, tc := range []struct{ ctype, body string }{
		{"text/plain", `{"name":"DB_PASSWORD","value":"%s"}`},
		{"text/plain; charset=utf-8", `[{"name":"ApiKey","value":"%s"}]` + "\n"},
		{"application/json", `{"name":"DB_PASSWORD","value":"%s"} trailing`},
		{"application/x-ndjson", "{\"level\":\"info\"}\n{\n  \"name\": \"DB_PASSWORD\",\n  \"value\": \"%s\"\n}\n"},
		{"text/csv", `{"name":"DB_PASSWORD","value":"%s"}`},
		{"application/x-www-form-urlencoded", `{"name":"DB_PASSWORD","value":"%s"}`},
	} {
		secret := freshSecret(t)
		body := strings.Replace(tc.body, "%s", secret, 1)
		resp := postBody(t, e.client(), up.URL+"/ingest", tc.ctype, []byte(body), false)
		if resp.StatusCode/100 == 2 && secretIn(up.last(t).body, secret) {
			t.Errorf("case %d (%s): status %d and the secret reached the destination", i, tc.ctype, resp.StatusCode)
		}
		if secretIn([]byte(e.audit.String()), secret) {
			t.Errorf("case %d (%s): a record holds the secret", i, tc.ctype)
		}
	}
}

// TestRedteam3ForwardJSONSequenceUnderJSONType: NDJSON (Fluent Bit's
// json_lines, a batch of events) sent as application/json is not one JSON
// value: the engine fell back to text rules, and a name/value pair object
// on any line reached the destination. The reverse proxy reads such a body
// as records already.
func TestRedteam3ForwardJSONSequenceUnderJSONType(t *testing.T) {
	up := newUpstream(t, false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.RedactRequests = []string{up.hp}, []string{up.hp}
	})
	secret := freshSecret(t)
	body := `{"level":"info","msg":"start"}` + "\n" + `{"name":"DB_PASSWORD","value":"` + secret + `"}` + "\n"
	resp := postBody(t, e.client(), up.URL+"/events", "application/json", []byte(body), false)
	if resp.StatusCode/100 == 2 && secretIn(up.last(t).body, secret) {
		t.Errorf("status %d and the secret reached the destination: %s", resp.StatusCode, up.last(t).body)
	}
	e.waitRecords(1)
	if secretIn([]byte(e.audit.String()), secret) {
		t.Error("the record holds the secret")
	}
}

// TestRedteam3ForwardJSONSequenceResponse: the same body as a
// redact-responses answer (application/json holding NDJSON) streams
// through the engine as one JSON document, which falls back to text rules:
// the pair's value reached the client.
func TestRedteam3ForwardJSONSequenceResponse(t *testing.T) {
	secret := freshSecret(t)
	up := newUpstream(t, false, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"level":"info"}` + "\n" + `{"name":"DB_PASSWORD","value":"` + secret + `"}` + "\n"))
	})
	e := newFwdEnv(t, func(c *forward.ForwardConfig) {
		c.Allow, c.RedactResponses = []string{up.hp}, []string{up.hp}
	})
	resp, err := e.client().Get(up.URL + "/settings")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if secretIn(got, secret) {
		t.Errorf("status %d and the secret reached the client: %s", resp.StatusCode, got)
	}
}

// TestRedteam3ForwardRefusalMessageQuotesHeader: a refusal's message
// quotes the media type or charset it could not handle, and records are
// not redacted again, so a secret sent in Content-Type (masked in the
// record's headers) came out whole in the record's message or omitted
// reason, and in the error body the client (and its run history) got.
func TestRedteam3ForwardRefusalMessageQuotesHeader(t *testing.T) {
	var respToken string // the token the destination's Content-Type holds (requests are sequential)
	up := newUpstream(t, false, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=xoxb-"+respToken)
		w.Write([]byte("hello"))
	})
	for _, redact := range []bool{true, false} {
		e := newFwdEnv(t, func(c *forward.ForwardConfig) {
			c.Allow = []string{up.hp}
			if redact {
				c.RedactRequests, c.RedactResponses = []string{up.hp}, []string{up.hp}
			}
		})
		tokens := []string{}
		for _, ct := range []string{"application/xoxb-%s", "text/plain; charset=xoxb-%s", `text/plain; charset="xoxb-%s"`} {
			tok := "123456789012-1234567890123-" + strings.ToLower(fresh3(24))
			respToken = "123456789012-1234567890123-" + strings.ToLower(fresh3(24))
			tokens = append(tokens, tok, respToken)
			req, _ := http.NewRequest(http.MethodPost, up.URL+"/x", strings.NewReader("hello"))
			req.Header.Set("Content-Type", strings.Replace(ct, "%s", tok, 1))
			resp, err := e.client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(body), tok) {
				t.Errorf("redact=%v %s: the error body quotes the token: %s", redact, ct, body)
			}
		}
		e.waitRecords(len(tokens) / 2)
		for _, tok := range tokens {
			if strings.Contains(e.audit.String(), tok) {
				t.Errorf("redact=%v: a record holds a Slack token sent in Content-Type", redact)
			}
		}
	}
}

// fresh3 is n random lower-case letters and digits.
func fresh3(n int) string {
	const abc = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = abc[int(b[i])%len(abc)]
	}
	return string(b)
}

// TestRedteam3ForwardHeaderNameHoldsSecret: header names are copied into
// records as they are (values go through the redactor), and Go
// canonicalises them (X-Lz9kq2wx...), so a known secret or a token used as
// a header name is recorded, its case changed, where the literal matcher
// (case-sensitive) no longer sees it.
func TestRedteam3ForwardHeaderNameHoldsSecret(t *testing.T) {
	up := newUpstream(t, false, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	lit := "Lz9kQ2wX7vN4pR8mT3yB" + strings.ToUpper(fresh3(6))
	e := newFwdEnv(t, func(c *forward.ForwardConfig) { c.Allow = []string{up.hp} },
		func(f *forward.Forward) { f.SetLiterals([]redactor.Literal{{Source: "test", Value: lit}}) })
	req, _ := http.NewRequest(http.MethodGet, up.URL+"/x", nil)
	req.Header.Set("X-"+lit, "1")
	resp, err := e.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	e.waitRecords(1)
	if strings.Contains(strings.ToLower(e.audit.String()), strings.ToLower(lit)) {
		t.Errorf("the record holds the known secret as a header name (case changed)")
	}
}
