// Package kvfake is an in-memory fake of the Azure Key Vault secrets REST
// API for tests, served over TLS on loopback by httptest. It speaks enough of
// the API for azsecrets: the 401 bearer challenge, list with absolute
// nextLink paging, get of the current version, disabled and expired
// secrets, and injected faults (429 with Retry-After, 500).
package kvfake

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Tenant is the tenant the challenge names.
const Tenant = "00000000-0000-0000-0000-00000000f00d"

// Resource is the resource the challenge names.
const Resource = "https://vault.azure.net"

// Secret is one secret of the fake vault.
type Secret struct {
	Value    string
	Enabled  bool
	Expires  time.Time // zero: never
	Tags     map[string]string
	versions int
}

// Fault is an injected error response.
type Fault struct {
	// Status is the HTTP status, such as 429 or 500.
	Status int
	// RetryAfter, if set, is sent as the Retry-After header.
	RetryAfter string
}

// Vault is a fake Key Vault. Its zero value is not usable: call New.
type Vault struct {
	// Token is the bearer token requests must carry after the challenge.
	Token string
	// PageSize is how many secrets a list page holds. Zero means 2.
	PageSize int

	mu      sync.Mutex
	secrets map[string]*Secret
	faults  []Fault
	counts  map[string]int
}

// New returns an empty vault that accepts token.
func New(token string) *Vault {
	return &Vault{Token: token, secrets: map[string]*Secret{}, counts: map[string]int{}}
}

// Start serves v on a loopback TLS server, closed when the test ends.
func (v *Vault) Start(t interface{ Cleanup(func()) }) *httptest.Server {
	srv := httptest.NewUnstartedServer(v)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes cut short by Close
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// Set creates an enabled secret or gives it a new version with value.
func (v *Vault) Set(name, value string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s := v.secrets[name]
	if s == nil {
		s = &Secret{Enabled: true}
		v.secrets[name] = s
	}
	s.Value = value
	s.versions++
}

// Update changes a secret's attributes with fn.
func (v *Vault) Update(name string, fn func(*Secret)) {
	v.mu.Lock()
	defer v.mu.Unlock()
	fn(v.secrets[name])
}

// Delete removes a secret.
func (v *Vault) Delete(name string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.secrets, name)
}

// Fail queues faults: each authenticated request gets the next one until
// the queue is empty.
func (v *Vault) Fail(f ...Fault) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.faults = append(v.faults, f...)
}

// Count returns how many requests of a kind were answered: "challenge",
// "list" (pages), "get", "fault", "unauthorized".
func (v *Vault) Count(kind string) int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.counts[kind]
}

type attributes struct {
	Enabled bool   `json:"enabled"`
	Created int64  `json:"created"`
	Updated int64  `json:"updated"`
	Expires *int64 `json:"exp,omitempty"`
}

type item struct {
	ID         string            `json:"id"`
	Value      *string           `json:"value,omitempty"`
	Attributes attributes        `json:"attributes"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// ServeHTTP implements the REST API.
func (v *Vault) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if r.URL.Query().Get("api-version") == "" {
		v.fail(w, http.StatusBadRequest, "BadParameter", "api-version missing")
		return
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		v.counts["challenge"]++
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization="https://login.microsoftonline.com/%s", resource="%s"`, Tenant, Resource))
		v.fail(w, http.StatusUnauthorized, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.")
		return
	}
	if auth != "Bearer "+v.Token {
		v.counts["unauthorized"]++
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization="https://login.microsoftonline.com/%s", resource="%s"`, Tenant, Resource))
		v.fail(w, http.StatusUnauthorized, "Unauthorized", "AKV10032: Invalid issuer.")
		return
	}
	if len(v.faults) > 0 {
		f := v.faults[0]
		v.faults = v.faults[1:]
		v.counts["fault"]++
		if f.RetryAfter != "" {
			w.Header().Set("Retry-After", f.RetryAfter)
		}
		code := "Throttled"
		if f.Status >= 500 {
			code = "InternalServerError"
		}
		v.fail(w, f.Status, code, "injected fault")
		return
	}
	base := "https://" + r.Host
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && len(parts) == 1 && parts[0] == "secrets":
		v.counts["list"]++
		v.list(w, r, base)
	case r.Method == http.MethodGet && len(parts) >= 2 && len(parts) <= 3 && parts[0] == "secrets":
		v.counts["get"]++
		s := v.secrets[parts[1]]
		if s == nil {
			v.fail(w, http.StatusNotFound, "SecretNotFound", "A secret with (name/id) "+parts[1]+" was not found in this key vault.")
			return
		}
		if !s.Enabled {
			v.fail(w, http.StatusForbidden, "Forbidden", "Operation get is not allowed on a disabled secret.")
			return
		}
		it := v.item(base, parts[1], s, true)
		writeJSON(w, it)
	default:
		v.fail(w, http.StatusNotFound, "NotFound", "no such operation")
	}
}

func (v *Vault) item(base, name string, s *Secret, withValue bool) item {
	it := item{ID: base + "/secrets/" + name, Attributes: attributes{Enabled: s.Enabled, Created: 1482189047, Updated: 1482189047 + int64(s.versions)}, Tags: s.Tags}
	if !s.Expires.IsZero() {
		e := s.Expires.Unix()
		it.Attributes.Expires = &e
	}
	if withValue {
		it.ID += fmt.Sprintf("/%032x", s.versions)
		val := s.Value
		it.Value = &val
	}
	return it
}

// list serves one page; the nextLink is absolute, on a different
// api-version and with an explicit :port, as the real service does.
func (v *Vault) list(w http.ResponseWriter, r *http.Request, base string) {
	size := v.PageSize
	if size <= 0 {
		size = 2
	}
	names := make([]string, 0, len(v.secrets))
	for n := range v.secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	start := 0
	if tok := r.URL.Query().Get("$skiptoken"); tok != "" {
		n, err := strconv.Atoi(tok)
		if err != nil || n < 0 || n > len(names) {
			v.fail(w, http.StatusBadRequest, "BadParameter", "bad skiptoken")
			return
		}
		start = n
	}
	end := min(start+size, len(names))
	page := struct {
		Value    []item  `json:"value"`
		NextLink *string `json:"nextLink"`
	}{Value: []item{}}
	for _, n := range names[start:end] {
		page.Value = append(page.Value, v.item(base, n, v.secrets[n], false))
	}
	if end < len(names) {
		q := url.Values{"api-version": {"7.2"}, "$skiptoken": {strconv.Itoa(end)}, "maxresults": {strconv.Itoa(size)}}
		next := base + "/secrets?" + q.Encode()
		page.NextLink = &next
	}
	writeJSON(w, page)
}

func (v *Vault) fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}
