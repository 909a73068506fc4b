package redactor

import (
	"bytes"
	"encoding/base64"
	"hash/crc32"
	"math"
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

// validate reports whether every validator accepts the secret.
func validate(vs []validator, secret []byte) bool {
	for _, v := range vs {
		ok := false
		switch v.name {
		case "github-crc32":
			ok = githubChecksum(secret)
		case "jwt":
			ok = validJWT(secret)
		case "base64":
			ok = decodeBase64(secret) != nil
		case "base64-len":
			d := decodeBase64(secret)
			ok = d != nil && len(d) == v.arg
		case "hex":
			ok = isHex(secret)
		default:
			if f := piiValidators[v.name]; f != nil {
				ok = f(secret)
			}
		}
		if !ok {
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
