package forward_test

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"testing"

	"github.com/flowmask/flowmask/proxy/internal/leakcheck"
	"github.com/flowmask/flowmask/redactor/charset"
)

const maskPassword = "[REDACTED:password]"

// secretIn reports whether secret can be read out of b in any encoding.
var secretIn = leakcheck.SecretInAnyDecoding

// freshSecret is a password no rule or literal knows: only its key masks it.
func freshSecret(t testing.TB) string {
	var b [12]byte
	rand.Read(b[:])
	return "Pw" + hex.EncodeToString(b[:]) + "x9"
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func enc(t testing.TB, e charset.Encoding, s string) []byte {
	b, err := e.Encode([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
