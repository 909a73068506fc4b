package corpus

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
)

// Result says how well a redacted output matches what was planted.
type Result struct {
	// Leaked lists the planted secrets still visible in the output: whole,
	// or any 16-byte piece of a longer one, in the raw output or inside a
	// decoded $content envelope.
	Leaked []Secret
	// ValuesTotal counts the occurrences of the corpus's ordinary values in
	// the input; ValuesKept counts those still present byte-identical in the
	// output.
	ValuesTotal, ValuesKept int
	// Lost lists ordinary values with fewer occurrences in the output than in
	// the input (they are not secrets, so showing them is fine).
	Lost []string
}

// KeptRatio is ValuesKept / ValuesTotal, 1 when there are no values.
func (r Result) KeptRatio() float64 {
	if r.ValuesTotal == 0 {
		return 1
	}
	return float64(r.ValuesKept) / float64(r.ValuesTotal)
}

// fragment is the length of the pieces of a secret that must not survive.
const fragment = 16

// Verify compares out, the redaction of c.Data, with what c planted.
func Verify(c *Corpus, out []byte) Result {
	var res Result
	hay := out
	if decoded := decodeContents(out); len(decoded) > 0 {
		hay = append(append(append([]byte(nil), out...), '\n'), decoded...)
	}
	// Every secret, and every 16-byte piece of a longer one, is counted in
	// one pass over the output.
	var pieces []string
	for _, s := range c.Secrets {
		pieces = append(pieces, fragments(s.Value)...)
	}
	found := countValues(hay, pieces)
	for _, s := range c.Secrets {
		for _, f := range fragments(s.Value) {
			if found[f] > 0 || (len(f) < 8 && bytes.Contains(hay, []byte(f))) {
				res.Leaked = append(res.Leaked, s)
				break
			}
		}
	}
	in := countValues(c.Data, c.Values)
	got := countValues(out, c.Values)
	for v, n := range in {
		k := min(n, got[v])
		res.ValuesTotal += n
		res.ValuesKept += k
		if k < n {
			res.Lost = append(res.Lost, v)
		}
	}
	return res
}

// fragments returns v and, when v is longer than fragment+4 bytes, its
// 16-byte pieces at every 8 bytes (and the last 16 bytes).
func fragments(v string) []string {
	out := []string{v}
	if len(v) < fragment+4 {
		return out
	}
	for i := 0; ; i += fragment / 2 {
		if i+fragment > len(v) {
			i = len(v) - fragment
		}
		out = append(out, v[i:i+fragment])
		if i == len(v)-fragment {
			return out
		}
	}
}

// decodeContents returns the decoded bodies of every "$content" envelope in
// b that is valid standard base64, newline-separated.
func decodeContents(b []byte) []byte {
	var out []byte
	key := []byte(`"$content"`)
	for {
		i := bytes.Index(b, key)
		if i < 0 {
			return out
		}
		b = b[i+len(key):]
		j := 0
		for j < len(b) && (b[j] == ' ' || b[j] == ':' || b[j] == '\n' || b[j] == '\t' || b[j] == '\r') {
			j++
		}
		if j >= len(b) || b[j] != '"' {
			continue
		}
		e := bytes.IndexByte(b[j+1:], '"')
		if e < 0 {
			return out
		}
		if d, err := base64.StdEncoding.DecodeString(string(b[j+1 : j+1+e])); err == nil {
			out = append(append(out, d...), '\n')
		}
		b = b[j+1+e:]
	}
}

// countValues counts the occurrences in data of each distinct value (all at
// least 8 bytes), overlapping ones included, in one pass: a table keyed by
// each value's last 8 bytes is probed at every position. (Keying on the
// last bytes keeps buckets small: values such as timestamps share their
// first bytes, not their last.)
func countValues(data []byte, values []string) map[string]int {
	table := make(map[uint64][]string)
	var last [1 << 16]bool
	counts := make(map[string]int, len(values))
	for _, v := range values {
		if _, ok := counts[v]; ok || len(v) < 8 {
			continue
		}
		counts[v] = 0
		k := binary.LittleEndian.Uint64([]byte(v[len(v)-8:]))
		table[k] = append(table[k], v)
		last[binary.LittleEndian.Uint16([]byte(v[len(v)-2:]))] = true
	}
	for e := 8; e <= len(data); e++ {
		if !last[binary.LittleEndian.Uint16(data[e-2:])] {
			continue
		}
		for _, v := range table[binary.LittleEndian.Uint64(data[e-8:])] {
			if len(v) <= e && string(data[e-len(v):e]) == v {
				counts[v]++
			}
		}
	}
	return counts
}
