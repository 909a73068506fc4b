package proxy

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzWebSocketRelay feeds random server frames through the relay with
// redaction on: the known secret never comes out in a frame's payload, and
// nothing panics.
func FuzzWebSocketRelay(f *testing.F) {
	var seed bytes.Buffer
	writeFrame(&seed, false, opText, []byte(`{"a":"`+fuzzCanary[:10]), false)
	writeFrame(&seed, true, opCont, []byte(fuzzCanary[10:]+`"}`), false)
	writeFrame(&seed, true, 0x9, []byte("ping"), false)
	writeFrame(&seed, true, opClose, closePayload(1000, "bye "+fuzzCanary), false)
	f.Add(seed.Bytes())
	var bin bytes.Buffer
	writeFrame(&bin, true, opBinary, []byte(fuzzCanary), false)
	f.Add(bin.Bytes())
	r := fuzzRedactor(f)
	f.Fuzz(func(t *testing.T, in []byte) {
		var out, back bytes.Buffer
		relayFrames(bufio.NewReader(bytes.NewReader(in)), &out, &back, r, false, 1<<16, false, &exchange{})
		// Read back what was sent and check every payload.
		src := bufio.NewReader(&out)
		for {
			_, _, p, err := readFrame(src, false, 1<<20)
			if err != nil {
				break
			}
			if bytes.Contains(p, []byte(fuzzCanary)) {
				t.Fatalf("canary relayed: %q from %q", p, in)
			}
		}
	})
}
