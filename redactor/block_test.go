package redactor_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// keyBody returns n bytes of a private key body: random base64 in lines of
// 64 characters joined by nl.
func keyBody(seed uint64, n int, nl string) (string, []string) {
	rng := rand.New(rand.NewPCG(seed, 17))
	raw := make([]byte, n*3/4+3)
	for i := range raw {
		raw[i] = byte(rng.Uint32())
	}
	enc := base64.StdEncoding.EncodeToString(raw)[:n]
	var lines []string
	for len(enc) > 64 {
		lines = append(lines, enc[:64])
		enc = enc[64:]
	}
	lines = append(lines, enc)
	return strings.Join(lines, nl), lines
}

// checkBody fails when any line of the key body survived.
func checkBody(t *testing.T, out string, lines []string) {
	t.Helper()
	for i, l := range lines {
		if len(l) >= 16 && strings.Contains(out, l) {
			t.Fatalf("body line %d of %d survived", i+1, len(lines))
		}
	}
}

// TestLongPrivateKeys: PEM, OpenSSH and PGP private keys whose body is far
// longer than the rule's 16 KiB window are masked from BEGIN to END, raw
// or inside a JSON string, and the text after END is kept (issue 17.6).
func TestLongPrivateKeys(t *testing.T) {
	r := def(t)
	for _, kind := range []string{"RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "PGP PRIVATE KEY BLOCK", "ENCRYPTED PRIVATE KEY"} {
		body, lines := keyBody(1, 40<<10, "\n")
		pem := "-----BEGIN " + kind + "-----\n" + body + "\n-----END " + kind + "-----"
		in := "deploying with key\n" + pem + "\nafter=visible\n"
		for _, f := range []redactor.Format{redactor.FormatText, redactor.FormatAuto} {
			out := redact(t, r, in, f)
			checkBody(t, out, lines)
			if !strings.HasSuffix(out, "-----END "+kind+"-----\nafter=visible\n") || strings.Count(out, "\n") != strings.Count(in, "\n") {
				t.Errorf("%s/%s: END line, the text after it or the line count changed: %q", kind, f, out[max(0, len(out)-200):])
			}
		}
		// Inside a JSON string, whole and as an NDJSON line.
		doc, _ := json.Marshal(map[string]string{"name": "tls", "private_key": pem})
		for _, f := range []redactor.Format{redactor.FormatJSON, redactor.FormatNDJSON} {
			out := redact(t, r, string(doc), f)
			checkBody(t, out, lines)
			if !json.Valid([]byte(out)) {
				t.Errorf("%s/%s: JSON broken", kind, f)
			}
		}
	}
}

// TestLongPrivateKeyStreamed: a key body spanning several read chunks, its
// END line falling at many positions around a chunk boundary, is masked
// whole by a Writer; so is a BEGIN block that never ends, to the end of the
// input.
func TestLongPrivateKeyStreamed(t *testing.T) {
	r := def(t)
	const chunk = 256 << 10
	for k, n := range []int{600 << 10, 2*chunk - 70, 2*chunk - 40, 2*chunk - 33, 2*chunk - 30, 2*chunk - 20, 2*chunk - 5, 2 * chunk, 2*chunk + 7} {
		body, lines := keyBody(uint64(k), n, "\r\n")
		in := "key:\r\n-----BEGIN EC PRIVATE KEY-----\r\n" + body + "\r\n-----END EC PRIVATE KEY-----\r\nafter=visible\r\n"
		var out bytes.Buffer
		st, err := r.Stream(context.Background(), &out, strings.NewReader(in), redactor.FormatText, redactor.FormatAuto)
		if err != nil {
			t.Fatal(err)
		}
		got := out.String()
		checkBody(t, got, lines)
		if !strings.HasSuffix(got, "\n-----END EC PRIVATE KEY-----\r\nafter=visible\r\n") || strings.Count(got, "\n") != strings.Count(in, "\n") {
			t.Errorf("n=%d: END line, the text after it or the line count changed: %q", n, got[max(0, len(got)-100):])
		}
		if st.Redactions != 1 {
			t.Errorf("n=%d: %d redactions; want 1", n, st.Redactions)
		}
	}
	// Never ends: masked to the end of the input.
	body, lines := keyBody(9, 700<<10, "\n")
	in := "-----BEGIN RSA PRIVATE KEY-----\n" + body + "\nlog line after a cut key\n"
	var out bytes.Buffer
	if _, err := r.Stream(context.Background(), &out, strings.NewReader(in), redactor.FormatText, redactor.FormatAuto); err != nil {
		t.Fatal(err)
	}
	checkBody(t, out.String(), lines)
	if strings.Contains(out.String(), "log line") || strings.Count(out.String(), "\n") != strings.Count(in, "\n") {
		t.Errorf("unterminated block: not masked to the end, or lines lost")
	}
	if got := redact(t, r, in, redactor.FormatText); strings.Contains(got, "log line") {
		t.Errorf("unterminated block (Append): not masked to the end")
	}
}
