package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/flowmask/flowmask/patterns"
	"github.com/flowmask/flowmask/proxy/sink"
	"github.com/flowmask/flowmask/redactor"
)

// route is a compiled RouteConfig.
type route struct {
	cfg          RouteConfig
	profile      sink.Profile
	report       bool
	redactReq    bool
	redactResp   bool
	target       *url.URL // nil: the built-in sink
	base         *redactor.Redactor
	red          atomic.Pointer[redactor.Redactor]
	ownLits      []redactor.Literal
	workspaceKey []byte
	transport    http.RoundTripper
	rp           *httputil.ReverseProxy
	host         string
	wildcard     bool
	prefix       string
	// metrics are the route's series, bound when the configuration is
	// loaded.
	metrics *routeMetrics
}

// matches reports whether r belongs to the route.
func (rt *route) matches(r *http.Request) bool {
	if rt.host != "" {
		h := r.Host
		if hh, _, err := net.SplitHostPort(h); err == nil {
			h = hh
		}
		h = strings.ToLower(h)
		if rt.wildcard {
			if !strings.HasSuffix(h, rt.host) || len(h) == len(rt.host) {
				return false
			}
		} else if h != rt.host {
			return false
		}
	}
	if rt.prefix != "" {
		p := r.URL.Path
		if !strings.HasPrefix(p, rt.prefix) {
			return false
		}
		if len(p) > len(rt.prefix) && !strings.HasSuffix(rt.prefix, "/") && p[len(rt.prefix)] != '/' {
			return false
		}
	}
	return true
}

// compileRoute builds a route; errors name the route's key path.
func (s *Server) compileRoute(i int, rc RouteConfig, lits []redactor.Literal, hashKey []byte, cache map[string]*redactor.Redactor) (*route, error) {
	p := fmt.Sprintf("routes[%d]", i)
	rt := &route{
		cfg:        rc,
		profile:    sink.ByName(rc.Profile),
		report:     rc.Mode == ModeReport,
		redactReq:  rc.Redact == "request" || rc.Redact == "both",
		redactResp: rc.Redact == "response" || rc.Redact == "both",
		prefix:     rc.Match.PathPrefix,
	}
	if h := strings.ToLower(rc.Match.Host); strings.HasPrefix(h, "*.") {
		rt.host, rt.wildcard = h[1:], true
	} else {
		rt.host = h
	}
	if rc.WorkspaceKeyFile != "" || rc.WorkspaceKeyEnv != "" {
		raw, src, err := s.readSecret(rc.WorkspaceKeyFile, rc.WorkspaceKeyEnv)
		if err != nil {
			return nil, fmt.Errorf("%s: workspace key: %w", p, err)
		}
		key, err := base64.StdEncoding.DecodeString(raw)
		if err != nil || len(key) == 0 {
			return nil, fmt.Errorf("%s: workspace key from %s: not base64", p, src)
		}
		rt.workspaceKey = key
		rt.ownLits = append(rt.ownLits, redactor.Literal{Source: src, Value: raw})
	}
	mask, _ := redactor.ParseMaskStyle(rc.Mask)
	if mask == redactor.MaskHash && len(hashKey) == 0 {
		return nil, fmt.Errorf("%s.mask: hash needs the key in $%s", p, s.cfgHashEnv())
	}
	allow := append(append([]redactor.Allow(nil), rc.Allow...), rt.profile.Allow()...)
	routeLits := append(append([]redactor.Literal(nil), lits...), rt.ownLits...)
	// Routes with the same rules share one compiled rule set (the largest
	// part of the proxy's memory); WithLiterals adds the known secrets.
	key := fmt.Sprintf("%q|%q|%q|%v|%d|%d", rc.Rules, rc.DisableRules, rc.Packs, allow, mask, rc.Limits.MaxDocument)
	if shared := cache[key]; shared != nil {
		rt.base = shared.WithLiterals(routeLits)
	} else {
		set, err := patterns.DefaultWith(rc.Packs...)
		if err != nil {
			return nil, fmt.Errorf("%s.packs: %w", p, err)
		}
		for _, f := range rc.Rules {
			rules, err := patterns.LoadFile(f)
			if err != nil {
				return nil, fmt.Errorf("%s.rules: %w", p, err)
			}
			if err := set.Add(rules...); err != nil {
				return nil, fmt.Errorf("%s.rules: %w", p, err)
			}
		}
		if len(rc.DisableRules) > 0 {
			if set, err = set.Without(rc.DisableRules...); err != nil {
				return nil, fmt.Errorf("%s.disable_rules: %w", p, err)
			}
		}
		rcfg := redactor.Config{Rules: set, Mask: mask, Literals: routeLits, Allow: allow, MaxDocument: int(rc.Limits.MaxDocument), Logger: s.logger}
		if mask == redactor.MaskHash {
			rcfg.HashKey = hashKey
		}
		if rt.base, err = redactor.New(rcfg); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		cache[key] = rt.base
	}
	rt.red.Store(rt.base)
	if rc.Upstream != "" {
		rt.target, _ = url.Parse(rc.Upstream)
		tr, err := newTransport(rc)
		if err != nil {
			return nil, fmt.Errorf("%s.upstream_tls: %w", p, err)
		}
		rt.transport = tr
	} else {
		rt.transport = &sinkTransport{w: s.stdout, mu: &s.sinkMu}
		rt.target = &url.URL{Scheme: "http", Host: "flowmask-sink"}
	}
	rt.rp = s.newReverseProxy(rt)
	return rt, nil
}

// newTransport is the route's upstream pool: keep-alive connections for
// at least as many concurrent clients as MaxIdleConnsPerHost, TLS verified.
func newTransport(rc RouteConfig) (*http.Transport, error) {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          0,
		MaxIdleConnsPerHost:   rc.Limits.MaxIdleConnsPerHost,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ResponseHeaderTimeout: rc.Limits.UpstreamTimeout,
		DisableCompression:    true,
	}
	if rc.UpstreamTLS.CAFile != "" || rc.UpstreamTLS.ServerName != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: rc.UpstreamTLS.ServerName}
		if rc.UpstreamTLS.CAFile != "" {
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			pem, err := os.ReadFile(rc.UpstreamTLS.CAFile)
			if err != nil {
				return nil, err
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%s: no PEM certificate", rc.UpstreamTLS.CAFile)
			}
			tc.RootCAs = pool
		}
		tr.TLSClientConfig = tc
	}
	return tr, nil
}

// readSecret reads one of flowmask's own secrets from a file or an
// environment variable, trimmed; src names where it came from.
func (s *Server) readSecret(file, env string) (val, src string, err error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", "", err
		}
		v := strings.TrimSpace(string(b))
		if v == "" {
			return "", "", fmt.Errorf("%s is empty", file)
		}
		return v, "file:" + file, nil
	}
	v, ok := s.lookupEnv(env)
	if !ok || strings.TrimSpace(v) == "" {
		return "", "", fmt.Errorf("$%s is not set", env)
	}
	return strings.TrimSpace(v), "env:" + env, nil
}
