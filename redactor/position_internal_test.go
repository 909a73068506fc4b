package redactor

import "testing"

// TestPositionCursor: the cursor gives the same line and column as a count
// from the start, in order, out of order and for a line begun in an
// earlier chunk.
func TestPositionCursor(t *testing.T) {
	src := []byte("abc\ndef\n\nghij")
	b := &buffer{src: src, line: 7, col0: 5}
	want := func(pos int) (int, int) {
		line, ls := 7, -5
		for i := 0; i < pos; i++ {
			if src[i] == '\n' {
				line, ls = line+1, i+1
			}
		}
		return line, pos - ls + 1
	}
	for _, pos := range []int{0, 2, 5, 5, 9, 13, 1, 8, 4, 12} {
		l, c := b.position(pos)
		wl, wc := want(pos)
		if l != wl || c != wc {
			t.Errorf("pos %d: line %d col %d, want %d %d", pos, l, c, wl, wc)
		}
	}
}
