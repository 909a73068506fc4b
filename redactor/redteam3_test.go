package redactor_test

// Round 3 of the red team (docs/redteam.md): name/value pair objects
// ({"name":"DB_PASSWORD","value":"..."}) that only the JSON walk masks, in
// input the walk never sees.

import (
	"bytes"
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// TestRedteam3NamedPairOutsideTheWalk: text rules do not know name/value
// pair objects, so a pair in text (a text/plain body, a JSON body with
// bytes after it, a pretty-printed object in NDJSON, NDJSON records ended
// by a lone CR or U+2028, a line holding a JSON string of escaped JSON)
// kept its value, and scan reported nothing.
func TestRedteam3NamedPairOutsideTheWalk(t *testing.T) {
	r := def(t)
	const secret = "Vq7xN2pL9mK4wR8t" // generated, fake
	pair := `{"name":"DB_PASSWORD","value":"` + secret + `"}`
	for _, tc := range []struct {
		name string
		f    redactor.Format
		in   string
	}{
		{"text", redactor.FormatText, pair + "\n"},
		{"json with trailing bytes", redactor.FormatAuto, pair + " x\n"},
		{"pretty object in ndjson", redactor.FormatNDJSON, "{\"a\":1}\n{\n  \"name\": \"DB_PASSWORD\",\n  \"value\": \"" + secret + "\"\n}\n"},
		{"lone CR records", redactor.FormatNDJSON, "{\"a\":1}\r" + pair + "\r{\"b\":2}\r"},
		{"U+2028 between records", redactor.FormatNDJSON, "{\"a\":1}\n" + pair + "\u2028{\"b\":2}\n"},
		{"json string line", redactor.FormatNDJSON, "{\"a\":1}\n\"" + strings.ReplaceAll(pair, `"`, `\"`) + "\"\n"},
	} {
		out, _ := r.Append(nil, []byte(tc.in), tc.f)
		if bytes.Contains(out, []byte(secret)) {
			t.Errorf("%s: the value survived: %q", tc.name, out)
		}
	}
}
