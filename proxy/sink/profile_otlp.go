package sink

import (
	"encoding/base64"
	"encoding/json"
	"github.com/flowmask/flowmask/proxy/httpbody"
	"net/http"
	"slices"

	"github.com/flowmask/flowmask/proxy/internal/refusal"
	"github.com/flowmask/flowmask/redactor"
)

// otlpProfile handles OTLP/HTTP JSON (/v1/logs, /v1/traces, /v1/metrics):
// every string is scanned, none is exempt by name (ids and timestamps match
// no rule, so they stay as they are); attribute values are judged by their
// key, and bytesValue attributes are decoded from base64 and scanned.
type otlpProfile struct{}

func (otlpProfile) Allow() []redactor.Allow { return nil }

func (otlpProfile) Plan(r *http.Request, _ Route) (Plan, error) {
	mt, _ := mediaType(r.Header)
	switch {
	case httpbody.IsJSON(mt):
		// Held whole (up to max_decoded_bytes) so attribute pairs can be
		// judged by their key.
		return Plan{Format: redactor.FormatJSON, NeedJSON: true, Whole: true, Pre: otlpAttributes}, nil
	case mt == "" || isProtobuf(mt):
		return Plan{}, refusal.Unsupported("OTLP protobuf cannot be scanned; export OTLP/HTTP JSON instead (Content-Type: application/json, exporter protocol http/json)")
	}
	return Plan{}, refusal.Unsupported("Content-Type " + mt + " is not OTLP/HTTP; send JSON (Content-Type: application/json)")
}

// otlpAttributes masks the string values of OTLP key/value attributes
// ({"key":"password","value":{"stringValue":"..."}}) whose key the engine
// deems sensitive: each pair is shown to the engine as {"<key>":"<value>"}
// and the value is replaced only when the engine masks it. Everything else
// is left byte for byte. src must be valid JSON.
func otlpAttributes(red *redactor.Redactor, src []byte) ([]byte, redactor.Stats) {
	var st redactor.Stats
	var edits []otlpEdit
	var probe []byte
	var walk func(i int) int
	walk = func(i int) int {
		i = otlpSkipWS(src, i)
		switch src[i] {
		case '{':
			// Every "key" and "value" member counts: a duplicate must not
			// hide a sensitive key or a second value from the pair check.
			var keys, vals, strs [][2]int
			var bytesVal []bool
			i = otlpSkipWS(src, i+1)
			if src[i] == '}' {
				return i + 1
			}
			for {
				ks := otlpSkipWS(src, i)
				ke := otlpStrEnd(src, ks)
				vs := otlpSkipWS(src, otlpSkipWS(src, ke)+1)
				name := string(src[ks+1 : ke-1])
				var ve int
				switch {
				case name == "key" && src[vs] == '"':
					ve = otlpStrEnd(src, vs)
					keys = append(keys, [2]int{vs, ve})
				case name == "value" && src[vs] == '{':
					ve = walk(vs)
					sp, isBytes := otlpStringValueIn(src, vs, ve)
					vals, strs, bytesVal = append(vals, [2]int{vs, ve}), append(strs, sp), append(bytesVal, isBytes)
				case name == "bytesValue" && src[vs] == '"':
					// Bytes anywhere (a log body, an array element): the
					// decoded text is scanned; a pair below may mask it
					// whole by its key.
					ve = otlpStrEnd(src, vs)
					if repl, s, ok := otlpBytes(red, src[vs:ve], nil); ok {
						edits = append(edits, otlpEdit{vs, ve, repl, s})
					}
				default:
					ve = walk(vs)
				}
				i = otlpSkipWS(src, ve)
				if src[i] == ',' {
					i++
					continue
				}
				i++ // '}'
				break
			}
			for v := range vals {
				for _, key := range keys {
					if otlpPair(red, src, key, vals[v], strs[v], bytesVal[v], &edits, &probe) {
						break // masked by the first sensitive key
					}
				}
			}
			return i
		case '[':
			i = otlpSkipWS(src, i+1)
			if src[i] == ']' {
				return i + 1
			}
			for {
				i = otlpSkipWS(src, walk(i))
				if src[i] == ',' {
					i++
					continue
				}
				return i + 1
			}
		case '"':
			return otlpStrEnd(src, i)
		}
		for i < len(src) && !otlpIsDelim(src[i]) {
			i++
		}
		return i
	}
	walk(0)
	if len(edits) == 0 {
		return src, st
	}
	slices.SortFunc(edits, func(a, b otlpEdit) int { return a.start - b.start })
	for _, e := range edits {
		st.Add(e.st)
	}
	out := make([]byte, 0, len(src)+64*len(edits))
	last := 0
	for _, e := range edits {
		out = append(out, src[last:e.start]...)
		out = append(out, e.repl...)
		last = e.end
	}
	return append(out, src[last:]...), st
}

// otlpPair judges one attribute value (the object src[val[0]:val[1]],
// whose stringValue or bytesValue is str) by its key, the quoted
// src[key[0]:key[1]], and adds the edit that masks it. A value that is not
// a string under a sensitive key (intValue, which OTLP JSON writes as a
// string, doubleValue, arrayValue, kvlistValue) is masked whole: the value
// object becomes {"stringValue":"<mask>"}. It reports whether it masked.
func otlpPair(red *redactor.Redactor, src []byte, key, val, str [2]int, isBytes bool, edits *[]otlpEdit, probe *[]byte) bool {
	inside := func(e otlpEdit) bool { return e.start >= val[0] && e.end <= val[1] }
	switch {
	case str[1] > 0 && isBytes:
		repl, s, ok := otlpBytes(red, src[str[0]:str[1]], src[key[0]:key[1]])
		if ok {
			// Replaces what the bytes alone gave, if anything.
			*edits = slices.DeleteFunc(*edits, func(e otlpEdit) bool { return e.start == str[0] })
			*edits = append(*edits, otlpEdit{str[0], str[1], repl, s})
		}
		return ok
	case str[1] > 0:
		p := append((*probe)[:0], '{')
		p = append(p, src[key[0]:key[1]]...)
		p = append(p, ':')
		n := len(p)
		p = append(p, src[str[0]:str[1]]...)
		p = append(p, '}')
		*probe = p
		out, s := red.Append(nil, p, redactor.FormatJSON)
		if s.Redactions > 0 && len(out) > n {
			*edits = slices.DeleteFunc(*edits, func(e otlpEdit) bool { return e.start >= str[0] && e.end <= str[1] })
			*edits = append(*edits, otlpEdit{str[0], str[1], out[n : len(out)-1], s})
			return true
		}
		return false
	}
	var name string
	if json.Unmarshal(src[key[0]:key[1]], &name) != nil {
		return false
	}
	if _, ok := red.NameRule(name); !ok {
		return false
	}
	var members map[string]json.RawMessage
	if json.Unmarshal(src[val[0]:val[1]], &members) != nil {
		return false
	}
	var raw json.RawMessage
	for _, m := range []string{"intValue", "doubleValue", "arrayValue", "kvlistValue"} {
		if r, ok := members[m]; ok && string(r) != "null" {
			raw = r
			break
		}
	}
	if raw == nil {
		return false // boolValue, an empty value: nothing secret
	}
	text := string(raw)
	var str2 string
	if json.Unmarshal(raw, &str2) == nil {
		text = str2 // intValue "123"
	}
	out, s := red.AppendValue(nil, name, []byte(text))
	if s.Redactions == 0 {
		return false
	}
	q, _ := json.Marshal(string(out))
	repl := append(append([]byte(`{"stringValue":`), q...), '}')
	*edits = slices.DeleteFunc(*edits, inside)
	*edits = append(*edits, otlpEdit{val[0], val[1], repl, s})
	return true
}

type otlpEdit struct {
	start, end int
	repl       []byte
	st         redactor.Stats
}

// otlpStringValueIn returns the span of the "stringValue" or "bytesValue"
// string directly in the object src[s:e] (isBytes for the latter), or zeros.
func otlpStringValueIn(src []byte, s, e int) (span [2]int, isBytes bool) {
	i := otlpSkipWS(src, s+1)
	for i < e && src[i] == '"' {
		ke := otlpStrEnd(src, i)
		vs := otlpSkipWS(src, otlpSkipWS(src, ke)+1)
		if n := string(src[i+1 : ke-1]); (n == "stringValue" || n == "bytesValue") && src[vs] == '"' {
			return [2]int{vs, otlpStrEnd(src, vs)}, n == "bytesValue"
		}
		// Skip this member's value.
		depth, j := 0, vs
		for ; j < e; j++ {
			c := src[j]
			if c == '"' {
				j = otlpStrEnd(src, j) - 1
				continue
			}
			if c == '{' || c == '[' {
				depth++
			} else if c == '}' || c == ']' {
				if depth == 0 {
					break
				}
				depth--
			} else if c == ',' && depth == 0 {
				break
			}
		}
		if j >= e || src[j] != ',' {
			break
		}
		i = otlpSkipWS(src, j+1)
	}
	return [2]int{}, false
}

// otlpBytes scans a bytesValue (quoted, base64 as the protobuf JSON mapping
// writes it): the decoded bytes are shown to the engine as the value of
// key (a quoted JSON key, or nil for none). When the engine masks anything,
// repl is the quoted base64 of the masked text. A value that is not base64
// is left to the engine's scan of the whole document, as a string.
func otlpBytes(red *redactor.Redactor, quoted, key []byte) (repl []byte, st redactor.Stats, ok bool) {
	var enc string
	if json.Unmarshal(quoted, &enc) != nil {
		return nil, st, false
	}
	var raw []byte
	var err error
	for _, e := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if raw, err = e.DecodeString(enc); err == nil {
			break
		}
	}
	if err != nil {
		return nil, st, false
	}
	k := "bytesValue"
	if key != nil {
		if json.Unmarshal(key, &k) != nil {
			return nil, st, false
		}
	}
	out, st := red.AppendValue(nil, k, raw)
	if st.Redactions == 0 {
		return nil, st, false
	}
	repl, _ = json.Marshal(base64.StdEncoding.EncodeToString(out))
	return repl, st, true
}

func otlpSkipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// otlpStrEnd returns the index after the string starting at b[i] == '"'.
func otlpStrEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}

func otlpIsDelim(c byte) bool {
	return c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r'
}
