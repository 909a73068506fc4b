package redactor

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"math"
	"strconv"
	"strings"

	"github.com/valyala/fastjson"
)

// entropy returns the Shannon entropy of b in bits per byte.
func entropy(b []byte) float64 {
	if len(b) == 0 {
		return 0
	}
	var counts [256]int
	for _, c := range b {
		counts[c]++
	}
	n := float64(len(b))
	h := 0.0
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// checks implements the validators that patterns.Validators names and
// documents; this is the one place a validator's check is registered.
var checks = map[string]func(secret []byte, arg int) bool{
	"github-crc32": func(s []byte, _ int) bool { return githubChecksum(s) },
	"jwt":          func(s []byte, _ int) bool { return validJWT(s) },
	"base64":       func(s []byte, _ int) bool { return decodeBase64(s) != nil },
	"base64-len": func(s []byte, n int) bool {
		d := decodeBase64(s)
		return d != nil && len(d) == n
	},
	"hex":    func(s []byte, _ int) bool { return isHex(s) },
	"random": func(s []byte, _ int) bool { return looksRandom(s) },
	// The opt-in pii packs' checks (pii.go).
	"luhn":       func(s []byte, _ int) bool { return luhn(s) },
	"iban-mod97": func(s []byte, _ int) bool { return ibanMod97(s) },
	"ssn":        func(s []byte, _ int) bool { return issuableSSN(s) },
	"ip":         func(s []byte, _ int) bool { return ipAddress(s) },
}

// parseValidator resolves "name" or "name:N" to its check.
func parseValidator(spec string) (validator, error) {
	name, arg, _ := strings.Cut(spec, ":")
	check, ok := checks[name]
	if !ok {
		return validator{}, fmt.Errorf("unknown validator %q", spec)
	}
	n, _ := strconv.Atoi(arg)
	return validator{name: name, arg: n, check: check}, nil
}

// Validate applies one validator ("jwt", "base64-len:64") to a secret, as
// a rule with that validator would.
func Validate(spec string, secret []byte) (bool, error) {
	v, err := parseValidator(spec)
	if err != nil {
		return false, err
	}
	return v.check(secret, v.arg), nil
}

// validate reports whether every validator accepts the secret.
func validate(vs []validator, secret []byte) bool {
	for _, v := range vs {
		if !v.check(secret, v.arg) {
			return false
		}
	}
	return true
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// githubChecksum checks the CRC32 that GitHub appends, base62-encoded in six
// characters, to the random part of its tokens (ghp_, gho_, ghu_, ghs_, ghr_).
func githubChecksum(tok []byte) bool {
	i := bytes.IndexByte(tok, '_')
	if i < 0 || len(tok)-i-1 < 7 {
		return false
	}
	body := tok[i+1:]
	random, sum := body[:len(body)-6], body[len(body)-6:]
	c := crc32.ChecksumIEEE(random)
	var enc [6]byte
	for k := 5; k >= 0; k-- {
		enc[k] = base62[c%62]
		c /= 62
	}
	return bytes.Equal(enc[:], sum)
}

func validJWT(tok []byte) bool {
	parts := bytes.Split(tok, []byte("."))
	if len(parts) < 2 {
		return false
	}
	var p fastjson.Parser
	for k, part := range parts[:2] {
		d, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(string(part), "="))
		if err != nil {
			return false
		}
		v, err := p.ParseBytes(d)
		if err != nil || v.Type() != fastjson.TypeObject {
			return false
		}
		if k == 0 && v.Get("alg") == nil {
			return false
		}
	}
	return true
}

func decodeBase64(s []byte) []byte {
	str := strings.TrimRight(string(s), "=")
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		if d, err := enc.DecodeString(str); err == nil {
			return d
		}
	}
	return nil
}

func isHex(s []byte) bool {
	for _, c := range s {
		if !(c-'0' < 10 || c-'a' < 6 || c-'A' < 6) {
			return false
		}
	}
	return len(s) > 0
}

// The randomness test decides whether a value under a name that also holds
// words and identifiers (key, auth, session) is a secret. A value is random
// when all of these hold:
//
//   - it is at least minRandomLen bytes long and made only of token bytes
//     (letters, digits and + / = _ - . ~);
//   - it holds a digit and a letter, and either both cases of letters,
//     or only hexadecimal letters (a hex key, a UUID), or is 20 or more
//     letters and digits alone with at least a fifth of each (alnumMix);
//   - its Shannon entropy is at least minRandomEntropy bits per byte;
//   - it is not a dummy (isDummy).
const (
	minRandomLen     = 16
	minRandomEntropy = 3.0
)

// looksRandom is the randomness test (see minRandomLen).
func looksRandom(v []byte) bool {
	if len(v) < minRandomLen || isDummy(v) || containsFold(v, "example") {
		return false
	}
	var lowerC, upperC, digit, hexOnly = false, false, false, true
	for _, c := range v {
		switch {
		case c-'a' < 26:
			lowerC = true
			hexOnly = hexOnly && c <= 'f'
		case c-'A' < 26:
			upperC = true
			hexOnly = hexOnly && c <= 'F'
		case c-'0' < 10:
			digit = true
		case c == '+' || c == '/' || c == '=' || c == '_' || c == '-' || c == '.' || c == '~':
			if c != '-' {
				hexOnly = false
			}
		default:
			return false
		}
	}
	if !digit || !(lowerC || upperC) {
		return false
	}
	if !(lowerC && upperC) && !hexOnly && !alnumMix(v) {
		return false
	}
	return entropy(v) >= minRandomEntropy
}

// alnumMix reports a run of 20 or more letters and digits only, at least a
// fifth of each (s2s1gfcuatgbi61n8h5s): no separator, so no path or name.
func alnumMix(v []byte) bool {
	if len(v) < 20 {
		return false
	}
	var letters, digits int
	for _, c := range v {
		switch {
		case c-'0' < 10:
			digits++
		case isAlpha(c):
			letters++
		default:
			return false
		}
	}
	return digits*5 >= len(v) && letters*5 >= len(v)
}

// mixedClasses reports whether v holds upper- and lower-case letters and
// digits, which hex hashes, UUIDs and words never do together.
func mixedClasses(v []byte) bool {
	var lo, up, dg bool
	for _, c := range v {
		switch {
		case c-'a' < 26:
			lo = true
		case c-'A' < 26:
			up = true
		case c-'0' < 10:
			dg = true
		}
	}
	return lo && up && dg
}

// dummyWords mark a value as an instruction to the reader rather than a
// secret (YOUR_API_KEY_HERE, your-token, <insert-key>).
var dummyWords = []string{"your", "here", "replace", "insert", "placeholder", "example", "dummy", "changeme", "change_me", "sample"}

// dummyPairs are user:password stand-ins.
var dummyPairs = []string{"user:pass", "username:password", "user:password", "login:password"}

// containsFold reports whether v contains word (lower-case ASCII),
// ignoring ASCII case, without allocating.
func containsFold(v []byte, word string) bool {
	n := len(word)
	for i := 0; i+n <= len(v); i++ {
		k := 0
		for k < n && lower(v[i+k]) == word[k] {
			k++
		}
		if k == n {
			return true
		}
	}
	return false
}

// isDummy reports a stand-in for a secret: mostly filler after a short
// prefix (sk_live_xxxxxxxx, ghp_0000000000, ****), an angle-bracket
// placeholder, a line of instruction words (PUT_YOUR_TOKEN_HERE),
// user:pass, or a ticket-style label (API-1234).
func isDummy(v []byte) bool {
	if len(v) == 0 {
		return true
	}
	if v[0] == '<' && v[len(v)-1] == '>' {
		return true
	}
	filler := 0
	for _, c := range v {
		switch c {
		case 'x', 'X', '*', '#', '0', '.':
			filler++
		}
	}
	if len(v) >= 6 && filler*10 >= len(v)*6 {
		return true
	}
	if len(v) >= 4 {
		if containsFold(v, "xxxx") || bytes.Contains(v, []byte("****")) {
			return true
		}
		words, sep := true, false
		for _, c := range v {
			switch {
			case isAlpha(c):
			case c == '_' || c == '-' || c == ' ':
				sep = true
			default:
				words = false
			}
		}
		if words && sep {
			for _, w := range dummyWords {
				if containsFold(v, w) {
					return true
				}
			}
		}
		for _, d := range dummyPairs {
			if len(v) == len(d) && containsFold(v, d) {
				return true
			}
		}
	}
	// API-1234, JIRA-42
	if d := bytes.IndexByte(v, '-'); d >= 2 && d <= 10 && d < len(v)-1 {
		label := true
		for k, c := range v {
			if (k < d && !isUpper(c)) || (k > d && c-'0' >= 10) {
				label = false
				break
			}
		}
		if label {
			return true
		}
	}
	return false
}
