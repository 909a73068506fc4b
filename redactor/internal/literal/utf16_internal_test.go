package literal

import (
	"bytes"
	"testing"
	"unicode/utf16"
)

// TestAppendUTF16LEMatchesEncode checks the allocation-free UTF-16LE
// encoder against unicode/utf16 on ASCII, BMP and astral characters and on
// invalid UTF-8 (which .NET reads as U+FFFD), appending after old content.
func TestAppendUTF16LEMatchesEncode(t *testing.T) {
	for _, s := range []string{"", "Sup3r$ecret", "pässwörd-€", "k🔑y-𝄞x", "bad\xffutf8\xed\xa0\x80end", "\x00\x7f\u07ff\u0800\uffff\U00010000\U0010ffff"} {
		var want []byte
		for _, c := range utf16.Encode([]rune(s)) {
			want = append(want, byte(c), byte(c>>8))
		}
		got := appendUTF16LE([]byte("old"), []byte(s))
		if !bytes.Equal(got, append([]byte("old"), want...)) {
			t.Errorf("%q: got % x, want old + % x", s, got, want)
		}
	}
}
