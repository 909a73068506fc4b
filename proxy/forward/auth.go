package forward

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/flowmask/flowmask/redactor"
	"golang.org/x/crypto/bcrypt"
)

// proxyAuth checks Proxy-Authorization against an auth file: "user:<bcrypt
// hash>" lines (Basic) and bearer tokens (any other line). It keeps only
// hashes; a verified credential's SHA-256 is cached so bcrypt runs once
// per credential, not once per request.
type proxyAuth struct {
	users  map[string][]byte   // user -> bcrypt hash
	tokens [][sha256.Size]byte // SHA-256 of each bearer token
	mu     sync.Mutex
	ok     map[[sha256.Size]byte]string // verified Basic credentials -> user
	sem    chan struct{}                // bounds concurrent bcrypt checks
}

// loadProxyAuth reads an auth file. Bearer tokens are returned as literals
// so that they are masked wherever they appear. Errors name the line,
// never its content.
func loadProxyAuth(path string) (*proxyAuth, []redactor.Literal, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("auth_file: %w", err)
	}
	a := &proxyAuth{users: map[string][]byte{}, ok: map[[sha256.Size]byte]string{}, sem: make(chan struct{}, 2)}
	var lits []redactor.Literal
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if user, hash, ok := strings.Cut(line, ":"); ok && strings.HasPrefix(hash, "$2") {
			if _, err := bcrypt.Cost([]byte(hash)); err != nil || user == "" {
				return nil, nil, fmt.Errorf("auth_file %s:%d: want user:<bcrypt hash> (htpasswd -nbB user password)", path, n)
			}
			a.users[user] = []byte(hash)
			continue
		}
		if len(line) < 16 {
			return nil, nil, fmt.Errorf("auth_file %s:%d: a bearer token must be at least 16 characters", path, n)
		}
		a.tokens = append(a.tokens, sha256.Sum256([]byte(line)))
		lits = append(lits, redactor.Literal{Source: fmt.Sprintf("auth_file:%d", n), Value: line})
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("auth_file %s: %w", path, err)
	}
	if len(a.users) == 0 && len(a.tokens) == 0 {
		return nil, nil, fmt.Errorf("auth_file %s: no credentials", path)
	}
	return a, lits, nil
}

// check verifies a Proxy-Authorization value and returns the user name
// ("token" for a bearer token).
func (a *proxyAuth) check(h string) (string, bool) {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok {
		return "", false
	}
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "bearer":
		sum := sha256.Sum256([]byte(cred))
		found := 0
		for _, t := range a.tokens {
			found |= subtle.ConstantTimeCompare(sum[:], t[:])
		}
		return "token", found == 1
	case "basic":
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			return "", false
		}
		user, pass, ok := strings.Cut(string(raw), ":")
		hash, known := a.users[user]
		if !ok || !known {
			return "", false
		}
		sum := sha256.Sum256(raw)
		a.mu.Lock()
		u, cached := a.ok[sum]
		a.mu.Unlock()
		if cached {
			return u, true
		}
		a.sem <- struct{}{}
		err = bcrypt.CompareHashAndPassword(hash, []byte(pass))
		<-a.sem
		if err != nil {
			return "", false
		}
		a.mu.Lock()
		if len(a.ok) >= 1024 {
			clear(a.ok)
		}
		a.ok[sum] = user
		a.mu.Unlock()
		return user, true
	}
	return "", false
}

// challenge is the Proxy-Authenticate header of a 407.
func (a *proxyAuth) challenge() []string {
	var c []string
	if len(a.users) > 0 {
		c = append(c, `Basic realm="flowmask"`)
	}
	if len(a.tokens) > 0 {
		c = append(c, `Bearer realm="flowmask"`)
	}
	return c
}
