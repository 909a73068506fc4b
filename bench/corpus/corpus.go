// Package corpus generates the deterministic inputs of flowmask's benchmarks:
// clean NDJSON application logs, the same logs with about one secret per KiB,
// a large Logic Apps run-history export, and lists of known secret values.
//
// Every generator is a pure function of its seed and size, so benchmark runs
// on different machines and days measure the same bytes. Each secret planted
// is reported with its kind and the exact bytes as they appear in the data,
// and each ordinary value that must survive redaction byte-identical (GUIDs,
// run ids, hashes, timestamps, trace ids, api-version=...) is reported too, so
// tests can assert that every secret is gone and the rest is kept.
//
// The values look real but are random: no generated secret is valid anywhere.
package corpus

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Secret is one planted secret.
type Secret struct {
	// Kind names the secret type, such as "github-pat" or "azure-sas-sig".
	Kind string
	// Value is the secret's bytes exactly as they appear in the data
	// (escaped as the surrounding format escapes it). A prefix that a rule
	// may keep visible, such as a scheme or a connection-string name, is not
	// part of it.
	Value string
	// InContent is true when the secret is inside a base64 "$content"
	// envelope: it does not appear in the raw data, only in the decoded
	// content.
	InContent bool
}

// Corpus is one generated input and what was planted in it.
type Corpus struct {
	// Name is the benchmark name: clean-ndjson, dense-ndjson, runhistory-json.
	Name string
	// Data is the input.
	Data []byte
	// Lines is the number of newline-terminated lines in Data.
	Lines int
	// Secrets lists every planted secret, once per occurrence.
	Secrets []Secret
	// Values lists ordinary values (GUIDs, run ids, hashes, timestamps, trace
	// ids, URLs without credentials, $content without secrets) that a
	// redactor must leave byte-identical, once per occurrence. All are at
	// least 8 bytes long.
	Values []string
	// Literals are the known secret values planted in Data; a redactor must
	// be given them to remove every secret.
	Literals []string
}

// DefaultSize is the default size of an NDJSON corpus: 1 MiB.
const DefaultSize = 1 << 20

// DefaultRunHistorySize is the default size of a run-history document: 4 MiB.
const DefaultRunHistorySize = 4 << 20

// plantedLiterals is how many known values a dense corpus plants.
const plantedLiterals = 16

type gen struct {
	rng     *rand.Rand
	buf     []byte
	secrets []Secret
	values  []string
	lits    []string
	clock   int64 // unix microseconds
}

func newGen(seed uint64, size int) *gen {
	return &gen{
		rng:   rand.New(rand.NewPCG(seed, seed^0x5DEECE66D)),
		buf:   make([]byte, 0, size+8<<10),
		clock: 1795774200 * 1e6, // 2026-11-27T08:10:00Z
	}
}

const (
	alnum    = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	base62   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	upper32  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b64chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	b64url   = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	lowerHex = "0123456789abcdef"
	litChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=&%:@!_-.~"
)

func (g *gen) str(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
	return string(b)
}

func (g *gen) pick(xs ...string) string { return xs[g.rng.IntN(len(xs))] }

// keep records an ordinary value and returns it.
func (g *gen) keep(v string) string {
	g.values = append(g.values, v)
	return v
}

// secret records a planted secret and returns its value.
func (g *gen) secret(kind, v string) string {
	g.secrets = append(g.secrets, Secret{Kind: kind, Value: v})
	return v
}

func (g *gen) guid() string {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint64(b, g.rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], g.rng.Uint64())
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// runID is a Logic Apps run id such as 08585344587123456789012345678CU08.
func (g *gen) runID() string {
	return "085853" + g.str(23, "0123456789") + "CU" + fmt.Sprintf("%02d", g.rng.IntN(40))
}

func (g *gen) hexN(n int) string { return g.str(n, lowerHex) }

// md5b64 is a base64 MD5 as in Content-MD5 and contentHash.
func (g *gen) md5b64() string {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint64(b, g.rng.Uint64())
	binary.LittleEndian.PutUint64(b[8:], g.rng.Uint64())
	return base64.StdEncoding.EncodeToString(b)
}

// ts advances the clock and returns an RFC 3339 timestamp with microseconds.
func (g *gen) ts() string {
	g.clock += int64(g.rng.IntN(20000))
	sec, us := g.clock/1e6, g.clock%1e6
	return unixUTC(sec) + "." + fmt.Sprintf("%06d", us) + "Z"
}

// unixUTC formats seconds since the epoch as 2006-01-02T15:04:05 without
// importing time's zone machinery (UTC only).
func unixUTC(sec int64) string {
	days := sec / 86400
	rem := sec % 86400
	// civil from days (Howard Hinnant's algorithm)
	z := days + 719468
	era := z / 146097
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d", y, m, d, rem/3600, rem%3600/60, rem%60)
}

// jsonStr returns s as a JSON string literal, escaping only what JSON
// requires (plus nothing HTML-related), as most loggers do.
func jsonStr(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// line appends one JSON object built from alternating keys and raw JSON
// values, then a newline.
func (g *gen) line(kv ...string) {
	g.buf = append(g.buf, '{')
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			g.buf = append(g.buf, ',')
		}
		g.buf = append(g.buf, '"')
		g.buf = append(g.buf, kv[i]...)
		g.buf = append(g.buf, '"', ':')
		g.buf = append(g.buf, kv[i+1]...)
	}
	g.buf = append(g.buf, '}', '\n')
}

// q quotes a plain value (no escaping needed) as a JSON string.
func q(s string) string { return `"` + s + `"` }

// Literals returns n random known secret values of 20 to 60 bytes, drawn
// from letters, digits and characters that URL and base64 encodings change
// (+/=&%:@). The same seed gives the same list.
func Literals(seed uint64, n int) []string {
	g := newGen(seed^0x11, 0)
	out := make([]string, n)
	seen := make(map[string]bool, n)
	for i := range out {
		for {
			v := g.str(20+g.rng.IntN(41), litChars)
			if !seen[v] {
				seen[v] = true
				out[i] = v
				break
			}
		}
	}
	return out
}

// CleanNDJSON returns about size bytes of JSON log lines with no secret:
// access logs, auth and token debug lines that only mention keywords
// ("auth token validated", "idempotency key reused", "password reset
// requested"), storage lines with hashes, Logic Apps run lines, and errors
// with stack traces, with \u00e9, \" and \t escapes.
func CleanNDJSON(seed uint64, size int) *Corpus {
	g := newGen(seed, size)
	for len(g.buf) < size {
		g.cleanLine()
	}
	return g.corpus("clean-ndjson")
}

// DenseNDJSON returns about size bytes of the clean logs with one secret
// line per KiB, cycling through many kinds of secret (see Kinds). It plants
// the first 16 of lits (raw, base64 and URL-escaped); a redactor must be
// given Corpus.Literals.
func DenseNDJSON(seed uint64, size int, lits []string) *Corpus {
	g := newGen(seed, size)
	g.lits = lits[:min(plantedLiterals, len(lits))]
	next, k := 1024, 0
	for len(g.buf) < size {
		if len(g.buf) >= next {
			g.secretLine(k)
			k++
			next += 1024
			continue
		}
		g.cleanLine()
	}
	return g.corpus("dense-ndjson")
}

func (g *gen) corpus(name string) *Corpus {
	n := 0
	for _, c := range g.buf {
		if c == '\n' {
			n++
		}
	}
	var lits []string
	used := map[string]bool{}
	for _, s := range g.secrets {
		used[s.Kind] = true
	}
	if used[KindLiteralRaw] || used[KindLiteralBase64] || used[KindLiteralURL] {
		lits = g.lits
	}
	return &Corpus{Name: name, Data: g.buf, Lines: n, Secrets: g.secrets, Values: g.values, Literals: lits}
}

var (
	paths    = []string{"/api/v1/orders", "/api/v1/customers", "/api/v2/invoices", "/healthz", "/api/v1/auth/callback", "/api/v1/keys/rotation-status", "/api/v1/tokens/introspect"}
	agents   = []string{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36", "azure-logic-apps/1.0 (workflow orders-sync)", "okhttp/4.12.0", "python-requests/2.32.3", "Go-http-client/1.1"}
	users    = []string{"bob", "alice", "ren\u00e9e", "jos\u00e9", "svc-orders", "mar\u00eda"}
	regions  = []string{"westeurope", "eastus2", "brazilsouth", "northeurope"}
	services = []string{"orders-api", "billing-worker", "auth-gateway", "sync-function"}
)

func (g *gen) common() []string {
	return []string{
		"ts", q(g.keep(g.ts())),
		"service", q(g.pick(services...)),
		"trace_id", q(g.keep(g.hexN(32))),
		"span_id", q(g.keep(g.hexN(16))),
	}
}

func (g *gen) cleanLine() {
	c := g.common()
	switch g.rng.IntN(10) {
	case 0, 1, 2: // access log
		path := g.pick(paths...)
		id := g.keep(g.guid())
		g.line(append(c,
			"level", q("info"),
			"msg", q("request completed"),
			"method", q(g.pick("GET", "POST", "PUT", "DELETE")),
			"path", q(path+"/"+id),
			"query", q(g.keep("api-version=2019-05-01")+"&$top="+strconv.Itoa(10+g.rng.IntN(90))),
			"status", strconv.Itoa(g.pick3(200, 201, 204)),
			"code", q("OK"),
			"duration_ms", strconv.FormatFloat(float64(g.rng.IntN(50000))/100, 'f', 2, 64),
			"bytes", strconv.Itoa(g.rng.IntN(90000)),
			"request_id", q(g.keep(g.guid())),
			"client_ip", q(fmt.Sprintf("10.%d.%d.%d", g.rng.IntN(256), g.rng.IntN(256), g.rng.IntN(256))),
			"user_agent", q(g.pick(agents...)),
		)...)
	case 3: // auth debug, mentions token and auth
		g.line(append(c,
			"level", q("debug"),
			"logger", q("auth"),
			"msg", jsonStr("auth token validated for user \""+g.pick(users...)+"\" via /api/v1/auth"),
			"token_type", q("Bearer"),
			"expires_in", strconv.Itoa(3599),
			"scope", q("api://orders/.default"),
			"tenant_id", q(g.keep(g.guid())),
			"client_id", q(g.keep(g.guid())),
			"keyType", q(g.pick("primary", "secondary")),
			"token_hash", q(g.keep("sha256:"+g.hexN(64))),
		)...)
	case 4: // keyword mentions without secrets
		msg := g.pick(
			"idempotency key reused for request "+strconv.Itoa(g.rng.IntN(1000)),
			"password reset requested for user "+g.pick(users...),
			"api key rotation scheduled\tnext run in 24h",
			"access token expired, refreshing",
			"secret fetched from key vault",
			"cache miss for key orders:"+strconv.Itoa(g.rng.IntN(1e6)),
		)
		g.line(append(c,
			"level", q("info"),
			"msg", jsonStr(msg),
			"secretName", q("partner-api-token"),
			"secretVersion", q(g.keep(g.hexN(32))),
			"partitionKey", q("orders"),
			"vault", q("https://kv-orders.vault.azure.net/"),
			"idempotency_key_hash", q(g.keep(g.hexN(64))),
			"password_reset_required", "false",
			"authType", q("ManagedIdentity"),
		)...)
	case 5, 6: // storage with hashes and URLs without credentials
		acct := "st" + g.str(10, "abcdefghijklmnopqrstuvwxyz0123456789")
		blob := "runs/2026/11/27/" + g.keep(g.guid()) + ".json"
		g.line(append(c,
			"level", q("info"),
			"msg", q("blob uploaded"),
			"url", q(g.keep("https://"+acct+".blob.core.windows.net/exports/"+blob)),
			"Content-MD5", q(g.keep(g.md5b64())),
			"contentHash", q(g.keep(g.hexN(64))),
			"md5", q(g.keep(g.hexN(32))),
			"etag", jsonStr(`"0x8DC`+strings.ToUpper(g.hexN(11))+`"`),
			"size", strconv.Itoa(g.rng.IntN(1<<22)),
			"x-ms-request-id", q(g.keep(g.guid())),
		)...)
	case 7: // Logic Apps run
		run := g.keep(g.runID())
		g.line(append(c,
			"level", q("info"),
			"msg", q("workflow run "+g.pick("started", "succeeded", "failed")),
			"workflow", q("orders-sync"),
			"run_id", q(run),
			"clientTrackingId", q(run),
			"actionTrackingId", q(g.keep(g.guid())),
			"resource_id", q(g.keep("/subscriptions/"+g.guid()+"/resourceGroups/rg-orders/providers/Microsoft.Logic/workflows/orders-sync/runs/"+run)),
			"location", q(g.pick(regions...)),
			"status", q("Succeeded"),
			"code", q("OK"),
		)...)
	case 8: // error with stack trace and escapes
		host := g.pick("api.partner.example.com", "graph.microsoft.com", "login.microsoftonline.com")
		stack := "goroutine " + strconv.Itoa(g.rng.IntN(900)) + " [running]:\n" +
			"github.com/contoso/orders/client.(*Client).Do(0xc000" + g.hexN(6) + ", {0x1a2b3c, 0xc0001234})\n" +
			"\t/src/client/client.go:" + strconv.Itoa(g.rng.IntN(400)) + " +0x1a5\n" +
			"github.com/contoso/orders/sync.(*Worker).run(...)\n" +
			"\t/src/sync/worker.go:" + strconv.Itoa(g.rng.IntN(400)) + " +0x2f0\n"
		g.line(append(c,
			"level", q("error"),
			"msg", jsonStr("upstream call failed for caf\u00e9 \""+g.pick(users...)+"\""),
			"error", jsonStr("Get \"https://"+host+"/v2/items?page="+strconv.Itoa(g.rng.IntN(9))+"\": context deadline exceeded"),
			"stack", jsonStr(stack),
			"request_id", q(g.keep(g.guid())),
		)...)
	default: // OAuth response metadata, no token
		g.line(append(c,
			"level", q("debug"),
			"msg", q("token refreshed"),
			"token_type", q("Bearer"),
			"expires_in", "3600",
			"ext_expires_in", "3600",
			"scope", q("https://graph.microsoft.com/.default"),
			"correlation_id", q(g.keep(g.guid())),
			"x-ms-ags-diagnostic", jsonStr(`{"ServerInfo":{"DataCenter":"West Europe","Slice":"E","Ring":"4"}}`),
		)...)
	}
}

func (g *gen) pick3(a, b, c int) int {
	switch g.rng.IntN(3) {
	case 0:
		return a
	case 1:
		return b
	}
	return c
}
