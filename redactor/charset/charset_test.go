package charset_test

import (
	"bytes"
	"errors"
	"io"
	"testing"

	"github.com/flowmask/flowmask/redactor/charset"
)

const text = `{"password":"hunter2-Secret-ü€𝄞"}`

func TestRoundTripEveryUnicodeForm(t *testing.T) {
	for _, e := range []charset.Encoding{charset.UTF16LE, charset.UTF16BE, charset.UTF32LE, charset.UTF32BE} {
		wire, err := e.Encode([]byte(text))
		if err != nil {
			t.Fatalf("%s: encode: %v", e, err)
		}
		if bytes.Contains(wire, []byte("hunter2")) {
			t.Fatalf("%s: encoded text still reads as ASCII", e)
		}
		// With a BOM, and without one (found by its NUL pattern).
		for _, in := range [][]byte{append(e.BOM(), wire...), wire} {
			got, bom, ok := charset.Sniff(in)
			if !ok || got.Name != e.Name || bom != len(in)-len(wire) {
				t.Fatalf("%s: Sniff = %s, %d, %v; want %s, %d, true", e, got, bom, ok, e, len(in)-len(wire))
			}
			plain, err := io.ReadAll(got.NewDecoder(bytes.NewReader(in[bom:])))
			if err != nil || string(plain) != text {
				t.Fatalf("%s: decoded %q, %v; want %q", e, plain, err, text)
			}
			var back bytes.Buffer
			w := got.NewEncoder(&back)
			if _, err := w.Write(plain); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back.Bytes(), wire) {
				t.Fatalf("%s: re-encoded bytes differ", e)
			}
		}
	}
}

func TestSniffLeavesUTF8AndBinaryAlone(t *testing.T) {
	for _, in := range []string{"", "ab", `{"a":1}`, "plain log line with ünïcode\n", "\x00\x01\x02\x03\x04\x05\x06\x07"} {
		if e, _, ok := charset.Sniff([]byte(in)); ok {
			t.Errorf("Sniff(%q) = %s; want nothing", in, e)
		}
	}
	if e, bom, ok := charset.Sniff([]byte("\xEF\xBB\xBF{}")); !ok || !e.IsUTF8() || bom != 3 {
		t.Errorf("UTF-8 BOM: got %s, %d, %v", e, bom, ok)
	}
}

func TestLookup(t *testing.T) {
	for label, want := range map[string]string{
		"": "utf-8", "UTF-8": "utf-8", "us-ascii": "utf-8", "utf-16": "utf-16be", "UTF-16LE": "utf-16le",
		"utf-32": "utf-32be", "utf-32le": "utf-32le", "latin1": "windows-1252", "ISO-8859-1": "windows-1252",
		"shift_jis": "shift_jis", " Windows-1251 ": "windows-1251",
	} {
		e, err := charset.Lookup(label)
		if err != nil || e.Name != want {
			t.Errorf("Lookup(%q) = %s, %v; want %s", label, e, err, want)
		}
	}
	for _, label := range []string{"x-made-up", "utf-7", "\"utf-8\"x", "binary"} {
		if _, err := charset.Lookup(label); !errors.Is(err, charset.ErrUnknown) {
			t.Errorf("Lookup(%q) err = %v; want ErrUnknown", label, err)
		}
	}
}

func TestDecodeLatin1(t *testing.T) {
	e, _ := charset.Lookup("iso-8859-1")
	got, err := e.Decode([]byte("pass\xe9word=x"))
	if err != nil || string(got) != "passéword=x" {
		t.Fatalf("got %q, %v", got, err)
	}
}

func FuzzSniffDecode(f *testing.F) {
	f.Add([]byte("\xff\xfeh\x00i\x00"))
	f.Add([]byte(text))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, bom, _ := charset.Sniff(b)
		if bom > len(b) {
			t.Fatalf("BOM length %d past %d bytes", bom, len(b))
		}
		if _, err := io.ReadAll(e.NewDecoder(bytes.NewReader(b[bom:]))); err != nil {
			t.Fatalf("%s decoder failed: %v", e, err)
		}
	})
}
