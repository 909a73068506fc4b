package redactor_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// canary is a known secret planted in fuzz inputs; it must never survive.
const canary = "CANARY-5f3a9c1e7b2d"

var fuzzRedactor *redactor.Redactor

func fuzzR(t testing.TB) *redactor.Redactor {
	if fuzzRedactor == nil {
		fuzzRedactor = newRedactor(t, redactor.Config{Literals: []redactor.Literal{{Source: "fuzz", Value: canary}}})
	}
	return fuzzRedactor
}

func seedCorpus(f *testing.F) {
	files, _ := filepath.Glob("testdata/runhistory/*")
	for _, name := range files {
		if data, err := os.ReadFile(name); err == nil && len(data) < 8<<10 {
			f.Add(data, uint16(len(data)/2))
		}
	}
	for _, s := range []string{
		`{"password":"hunter22","a":[1,2,{"b":"Bearer x"}]}`,
		`{"body":"{\"client_secret\":\"abc\\u0041\"}","$content":"eyJwYXNzd29yZCI6InNlY3JldCJ9"}`,
		"{\"a\":\"\\ud800\\u00e9\\\"\"}\n{\"b\":\"x\"}\n",
		"Authorization: Bearer abc\nCookie: a=b; c=d\npassword=x&code=y",
		"a,password,b\n1,\"x\"\"y\",\"{\"\"k\"\":1}\"\n",
		"-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----",
		`{"body":"{\"$content-type\":\"text/plain\",\"$content\":\"Q0FOQVJZLTVmM2E5YzFlN2IyZA==\"}"}`,
		`{"body":"{\u0022inlinedContent\u0022:\u0022aGVsbG8=\u0022}"} body={\\\"$content\\\":\\\"eA==\\\"}`,
		"payload=%7B%22password%22%3A%22hunter22%22%7D&Pwd={a}}b;c};x\n--password hunter22 curl -u a:bcd az login -p x1y2",
		"x {\"name\":\"DB_PASSWORD\",\"value\":\"a\"}{\"a\":1}\r[\n {\"value\":1,\"name\":\"ApiKey\"},\n]\n",
		`{"a":1}` + "\n" + `msg="{\"name\":\"SMTP_PASSWORD\",\"value\":\"x\"}" {"name":"token","value":"y"`,
		`{"pem":"-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\nVTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----\n"}`,
	} {
		f.Add([]byte(s), uint16(len(s)/3))
	}
}

// plant inserts the canary at position at (mod length).
func plant(data []byte, at uint16) []byte {
	p := 0
	if len(data) > 0 {
		p = int(at) % (len(data) + 1)
	}
	out := make([]byte, 0, len(data)+len(canary))
	out = append(out, data[:p]...)
	out = append(out, canary...)
	return append(out, data[p:]...)
}

// FuzzJSON: no panic; valid JSON stays valid and keeps its shape; redacting
// twice changes nothing; the canary never survives.
func FuzzJSON(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte, at uint16) {
		r := fuzzR(t)
		out, _ := r.Append(nil, data, redactor.FormatJSON)
		if json.Valid(data) {
			if !json.Valid(out) {
				t.Fatalf("valid JSON became invalid:\n in %q\nout %q", data, out)
			}
			var a, b any
			_ = json.Unmarshal(data, &a)
			_ = json.Unmarshal(out, &b)
			if err := sameShape(a, b); err != nil {
				t.Fatalf("shape changed: %v\n in %q\nout %q", err, data, out)
			}
		}
		again, _ := r.Append(nil, out, redactor.FormatJSON)
		if !bytes.Equal(again, out) {
			t.Fatalf("not idempotent:\n in %q\n1st %q\n2nd %q", data, out, again)
		}
		planted := plant(data, at)
		if out, _ := r.Append(nil, planted, redactor.FormatJSON); bytes.Contains(out, []byte(canary)) {
			t.Fatalf("canary survived:\n in %q\nout %q", planted, out)
		}
	})
}

// FuzzText: no panic; streaming in small writes gives the same output as
// the whole buffer; the canary never survives; idempotent.
func FuzzText(f *testing.F) {
	seedCorpus(f)
	f.Fuzz(func(t *testing.T, data []byte, at uint16) {
		r := fuzzR(t)
		planted := plant(data, at)
		for _, format := range []redactor.Format{redactor.FormatText, redactor.FormatNDJSON, redactor.FormatCSV, redactor.FormatAuto} {
			whole, _ := r.Append(nil, planted, format)
			if bytes.Contains(whole, []byte(canary)) {
				t.Fatalf("%v: canary survived:\n in %q\nout %q", format, planted, whole)
			}
			var buf bytes.Buffer
			w := r.NewWriter(&buf, format)
			step := int(at%7) + 1
			for i := 0; i < len(planted); i += step {
				w.Write(planted[i:min(i+step, len(planted))])
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if format != redactor.FormatAuto && !bytes.Equal(buf.Bytes(), whole) {
				t.Fatalf("%v: streamed output differs:\n in %q\nstream %q\nwhole  %q", format, planted, buf.Bytes(), whole)
			}
			if format == redactor.FormatText {
				again, _ := r.Append(nil, whole, format)
				if !bytes.Equal(again, whole) {
					t.Fatalf("not idempotent:\n in %q\n1st %q\n2nd %q", planted, whole, again)
				}
			}
		}
	})
}

// FuzzNDJSONLine: a valid JSON line redacted as NDJSON, where a text probe
// may decide that the line needs no JSON walk, comes out exactly as the
// same line redacted as a JSON document, which is always walked.
func FuzzNDJSONLine(f *testing.F) {
	seedCorpus(f)
	for _, s := range []string{
		`{"etag":"\"0x8DC\"","password":"hunter22"}`,
		`{"k":"\u0070assword=hunter22","\u0024content":"eA==","\u0050wd":"x"}`,
		`{"password":"\"hunter22\"","etag":"\"0x8DC\""}`,
		`{"etag":"\"0x8DC\"","body":"{\"password\":\"hunter22\"}"}`,
		`{"etag":"\"0x8DC\"","msg":"key\nAKIAK5KSOJGPFP4X2FXJ"}`,
		`{"msg":"auth token validated for user \"svc\" via /api/v1/auth","token_type":"Bearer","keyType":"primary"}`,
		`{"etag":"\"0x8DC\"","name":"DB_PASSWORD","value":"\"x\""}`,
		`{"url":"https:\/\/x.blob.core.windows.net\/c?sv=2022&sig=abcdEFGH1234%2Bxyz%3D","etag":"\"1\""}`,
	} {
		f.Add([]byte(s), uint16(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, _ uint16) {
		if bytes.ContainsAny(data, "\r\n") || !json.Valid(data) {
			return
		}
		r := fuzzR(t)
		doc, _ := r.Append(nil, data, redactor.FormatJSON)
		line, _ := r.Append(nil, data, redactor.FormatNDJSON)
		if !bytes.Equal(doc, line) {
			t.Fatalf("NDJSON line differs from JSON document:\n  in %q\nline %q\n doc %q", data, line, doc)
		}
	})
}
