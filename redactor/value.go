package redactor

import "bytes"

// NameRule reports whether a value stored under name (a JSON key, a header,
// a query parameter, an attribute or setting name) is a secret by its name
// alone, and the ID of the key-name rule that says so: NameRule("smtpPassword")
// is ("password", true), NameRule("passwordPolicy") is ("", false). Names are
// compared as the engine compares JSON keys: case-insensitively, with '-',
// '_', '.' and blanks ignored, as a whole or, for suffix rules, by their
// trailing words. The names come from the key-name rules of the rule set
// (patterns/rules/keynames.yaml by default), the one list of credential names.
func (r *Redactor) NameRule(name string) (ruleID string, ok bool) {
	ri := r.c.keyRule([]byte(name))
	if ri < 0 {
		return "", false
	}
	return r.c.rules[ri].id, true
}

// ParamRule is NameRule for a URL query or path parameter (or a form
// field): the key-name rules whose contexts include query, among them
// names too short or too common to count in a JSON document or in text
// (sig, pw, signature, jsessionid). ParamRule("X-Amz-Signature") is
// ("url-credential", true).
func (r *Redactor) ParamRule(name string) (ruleID string, ok bool) {
	ri := r.c.paramRule([]byte(name))
	if ri < 0 {
		return "", false
	}
	return r.c.rules[ri].id, true
}

// AppendValue redacts value as the value of a field named name and appends
// the result to dst: the whole value is masked when NameRule(name) holds and
// the value is not a placeholder (empty, a mask, an expression, a Key Vault
// reference); otherwise it is scanned like a JSON string's content (as JSON
// when it holds a JSON document, else as text). value is plain text, not
// JSON-escaped. Front ends that hold a name and a value apart (OTLP
// attributes, headers, settings) call this instead of building a document
// around them.
func (r *Redactor) AppendValue(dst []byte, name string, value []byte) ([]byte, Stats) {
	st := r.getState()
	defer r.putState(st)
	st.namedValue(name, value)
	dst = st.apply(dst, value, st.edits)
	return dst, st.stats(int64(len(value)))
}

// ScanValue is AppendValue without output: it calls fn for each secret
// found in value (offsets, lines and columns are within value) and returns
// the counts.
func (r *Redactor) ScanValue(name string, value []byte, fn func(Finding)) Stats {
	st := r.getState()
	defer r.putState(st)
	st.onFind = fn
	st.namedValue(name, value)
	st.apply(nil, value, st.edits)
	return st.stats(int64(len(value)))
}

// namedValue finds the edits of value stored under name, into st.edits.
func (st *state) namedValue(name string, value []byte) {
	b := &st.top
	b.src, b.parent, b.pmap, b.base, b.line = value, nil, nil, 0, 1
	st.prepare(b)
	st.edits, st.repl = st.edits[:0], st.repl[:0]
	if ri := st.r.c.keyRule([]byte(name)); ri >= 0 && !isPlaceholder(value) {
		vs := 0
		if st.r.c.rules[ri].keepScheme {
			vs = afterScheme(value, 0, len(value))
			if vs >= len(value) {
				return // "Bearer ": the scheme alone
			}
		}
		st.spans = append(st.spans, span{start: vs, end: len(value), rule: ri})
		st.flushSpans(b, &st.edits)
		return
	}
	if len(b.hits) == 0 && len(b.lits) == 0 && !b.disguised {
		return
	}
	if t := bytes.TrimLeft(value, " \t\r\n"); len(t) > 0 && (t[0] == '{' || t[0] == '[') && validJSON(value) {
		st.walkJSON(b, 0, len(value), &st.edits)
		return
	}
	st.detectText(b, 0, len(value), len(value), modeText, &st.edits)
}
