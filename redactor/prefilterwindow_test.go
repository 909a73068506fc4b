package redactor_test

import (
	"strings"
	"testing"

	"github.com/flowmask/flowmask/redactor"
)

// TestKeywordAtPrefilterWindowBorder: the keyword prefilter lowers its
// input 256 KiB at a time (with an overlap of the longest keyword), so a
// keyword, in any case, that starts at every offset around a window border
// is still found, and its secret masked: in text, as a JSON key on one
// long line, and inside a JSON string with escapes (decoded into a nested
// buffer, which has windows of its own).
func TestKeywordAtPrefilterWindowBorder(t *testing.T) {
	r := def(t)
	const border = 256 << 10
	const secret = "Vq84nTz2LpWs9kRm"
	filler := strings.Repeat("event ok user alice path /api/v1/items ", 2*border/40)
	for _, kw := range []string{"PASSWORD", "Client_Secret"} {
		// Redactions per case at the first offset, where the keyword lies
		// inside the first window: a hit seen by two windows must not
		// count twice.
		want := map[string]int{}
		for off := border - 40; off <= border+8; off++ {
			for _, tc := range []struct {
				name   string
				in     string
				format redactor.Format
			}{
				{"text", filler[:off-1] + " " + kw + "=" + secret + "\n" + filler[:100], redactor.FormatText},
				{"json key", `{"m":"` + filler[:max(off-6, 0)] + `","` + kw + `":"` + secret + `"}` + "\n", redactor.FormatNDJSON},
				{"json string", `{"m":"` + filler[:max(off-6, 0)] + `\n` + kw + "=" + secret + `"}` + "\n", redactor.FormatNDJSON},
			} {
				out, st := r.Append(nil, []byte(tc.in), tc.format)
				if strings.Contains(string(out), secret) || st.Redactions == 0 {
					t.Fatalf("%s: keyword %q at offset %d: secret not masked (%d redactions)", tc.name, kw, off, st.Redactions)
				}
				if n, ok := want[tc.name]; !ok {
					want[tc.name] = st.Redactions
				} else if st.Redactions != n {
					t.Errorf("%s: keyword %q at offset %d: %d redactions; %d inside a window", tc.name, kw, off, st.Redactions, n)
				}
			}
		}
	}
}
