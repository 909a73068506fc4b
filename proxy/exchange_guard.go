package proxy

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/flowmask/flowmask/redactor"
)

// Request checks and masking shared by the reverse proxy's request path:
// which methods may pass, what an Upgrade looks like, and how URLs, hosts
// and header values are masked for the audit record and for headers that
// flowmask writes itself (X-Forwarded-Host, response headers).

// maskedMethod stands for a method that is not a standard HTTP method in
// the audit record: such a method is client-chosen text and may be a secret.
const maskedMethod = "[REDACTED:method]"

// allowedMethods are the methods forwarded. CONNECT and TRACE are standard
// but make no sense for a log sink (TRACE echoes headers back): 405.
var allowedMethods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// auditMethod is the method as written to the audit record.
func auditMethod(m string) string {
	if allowedMethods[m] || m == http.MethodConnect || m == http.MethodTrace {
		return m
	}
	return maskedMethod
}

// checkMethod refuses what is not forwarded: 501 for a method that is not a
// standard one (RFC 9110 §9.1), 405 for CONNECT and TRACE.
func checkMethod(m string) *httpError {
	switch {
	case allowedMethods[m]:
		return nil
	case m == http.MethodConnect || m == http.MethodTrace:
		return errMethodNotAllowed
	}
	return errMethodNotImplemented
}

// isUpgrade reports whether r asks to switch protocols (WebSocket, h2c).
func isUpgrade(r *http.Request) bool {
	if len(r.Header.Values("Upgrade")) > 0 {
		return true
	}
	for _, v := range r.Header.Values("Connection") {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return true
			}
		}
	}
	return false
}

// nameRule reports whether a parameter or header named name holds a
// credential, and the mask to use: the engine's key-name rules for JSON
// keys (Redactor.NameRule), then those for URL parameters
// (Redactor.ParamRule: signatures, session ids, short password names).
// name is already decoded; bracketed parts (user[password]) are read as
// separate words.
func nameRule(red *redactor.Redactor, name string) (mask string, ok bool) {
	n := bracketsAsWords.Replace(name)
	if id, ok := red.NameRule(n); ok {
		return "[REDACTED:" + id + "]", true
	}
	if id, ok := red.ParamRule(n); ok {
		return "[REDACTED:" + id + "]", true
	}
	// The last bracketed word alone: auth[pw], creds[sig].
	if i := strings.LastIndexByte(strings.TrimRight(name, "]"), '['); i >= 0 {
		return nameRule(red, strings.TrimRight(name[i+1:], "]"))
	}
	return "", false
}

var bracketsAsWords = strings.NewReplacer("[", "_", "]", "_")

// maskValue masks value as it would be masked under the key name: whole if
// the name is a credential name, else by the text rules.
func maskValue(red *redactor.Redactor, name, value string) string {
	if value == "" {
		return value
	}
	if m, ok := nameRule(red, name); ok {
		return m
	}
	return red.String(value)
}

// auditURI is the request target as written to the audit record: the path
// and every path parameter (;jsessionid=...) and query parameter with
// names and values percent-decoded, values under a credential name masked
// whole, everything else through the text rules. Undecodable parts are
// masked whole.
func auditURI(red *redactor.Redactor, u *url.URL) string {
	path := u.EscapedPath()
	if u.Opaque != "" {
		path = u.Opaque
	}
	if u.RawQuery == "" && !u.ForceQuery && !strings.ContainsAny(path, "%;") {
		// Nothing encoded and no parameters: the text rules see it all.
		return red.String(path)
	}
	var b strings.Builder
	b.Grow(len(path) + len(u.RawQuery) + 8)
	for i, seg := range strings.Split(path, "/") {
		if i > 0 {
			b.WriteByte('/')
		}
		params := strings.Split(seg, ";")
		b.WriteString(auditText(red, params[0], url.PathUnescape))
		for _, p := range params[1:] {
			b.WriteByte(';')
			auditParam(&b, red, p, url.PathUnescape)
		}
	}
	if u.RawQuery != "" || u.ForceQuery {
		b.WriteByte('?')
		for i, p := range strings.FieldsFunc(u.RawQuery, func(r rune) bool { return r == '&' || r == ';' }) {
			if i > 0 {
				b.WriteByte('&')
			}
			auditParam(&b, red, p, url.QueryUnescape)
		}
	}
	// A secret spanning parts (a whole URL in a parameter) is caught last.
	return red.String(b.String())
}

// auditParam writes name=value, decoded and masked.
func auditParam(b *strings.Builder, red *redactor.Redactor, p string, unescape func(string) (string, error)) {
	rawName, rawVal, hasVal := strings.Cut(p, "=")
	name, err := unescape(rawName)
	if err != nil {
		b.WriteString("[REDACTED:undecodable]")
		return
	}
	b.WriteString(auditText(red, rawName, unescape))
	if !hasVal {
		return
	}
	b.WriteByte('=')
	val, err := unescape(rawVal)
	switch {
	case err != nil:
		b.WriteString("[REDACTED:undecodable]")
	case val == "":
	default:
		if m, ok := nameRule(red, name); ok {
			b.WriteString(m)
			return
		}
		if r := red.String(val); r != val {
			b.WriteString(r)
			return
		}
		b.WriteString(rawVal)
	}
}

// auditText is raw (an escaped name or path segment) with its decoded form
// scanned: raw when nothing is found, the redacted decoded text otherwise.
func auditText(red *redactor.Redactor, raw string, unescape func(string) (string, error)) string {
	dec, err := unescape(raw)
	if err != nil {
		return "[REDACTED:undecodable]"
	}
	if r := red.String(dec); r != dec {
		return r
	}
	return raw
}

// maskHeaders applies the header rules to every value of h in place and
// returns how many values were masked. A header whose name holds a secret
// is dropped with its values (a masked name is no valid header name). A
// known secret whose case net/http changed in a name is not seen.
func maskHeaders(red *redactor.Redactor, h http.Header) int {
	n := 0
	for k, vs := range h {
		// net/http has canonicalised the name (X-Ghp_abc... for
		// x-ghp_aBc...): look at it as it is and lower-cased.
		if low := strings.ToLower(k); red.String(k) != k || red.String(low) != low {
			delete(h, k)
			n += len(vs)
			continue
		}
		for i, v := range vs {
			if m := maskValue(red, k, v); m != v {
				vs[i] = m
				n++
			}
		}
	}
	return n
}
