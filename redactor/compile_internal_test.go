package redactor

import "testing"

// TestRelaxRepeats: large counted repeats become unbounded; escapes,
// character classes and small bounds are left alone.
func TestRelaxRepeats(t *testing.T) {
	for _, tt := range []struct{ give, want string }{
		{`a{1,100}b`, `a{1,}b`},
		{`a{1,32}b`, `a{1,32}b`},
		{`[{1,100}]x{2,40}`, `[{1,100}]x{2,}`},
		{`\{1,100}`, `\{1,100}`},
		{`(?P<s>[]a{]{0,999})`, `(?P<s>[]a{]{0,})`},
		{`x{5}`, `x{5}`},
	} {
		if got := relaxRepeats(tt.give); got != tt.want {
			t.Errorf("relaxRepeats(%q) = %q; want %q", tt.give, got, tt.want)
		}
	}
}
