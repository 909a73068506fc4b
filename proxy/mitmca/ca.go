package mitmca

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/elazarl/goproxy"
	"golang.org/x/sync/singleflight"
)

// CA file names inside a CA directory.
const (
	CertFile = "ca.crt"
	KeyFile  = "ca.key"
)

// Init creates dir (mode 0700) if needed and writes a new ECDSA P-256
// interception CA to dir/ca.crt (0644) and dir/ca.key (0600), valid for
// five years. It never overwrites: if either file exists it returns an
// error wrapping fs.ErrExist and changes nothing.
func Init(dir string, now time.Time) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("ca dir: %w", err)
	}
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	for _, p := range []string{keyPath, certPath} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s already exists; not overwriting (remove it to make a new CA): %w", p, fs.ErrExist)
		}
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber:          randSerial(),
		Subject:               pkix.Name{CommonName: "flowmask interception CA " + host + " " + now.UTC().Format("2006-01-02"), Organization: []string{"flowmask"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(5, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return fmt.Errorf("create certificate: %w", err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("marshal key: %w", err)
	}
	// O_EXCL: a key that appeared meanwhile is still never overwritten.
	kf, err := os.OpenFile(keyPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	if err := pem.Encode(kf, &pem.Block{Type: "PRIVATE KEY", Bytes: kd}); err != nil {
		kf.Close()
		os.Remove(keyPath)
		return fmt.Errorf("write key: %w", err)
	}
	if err := kf.Close(); err != nil {
		return fmt.Errorf("write key: %w", err)
	}
	cf, err := os.OpenFile(certPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		os.Remove(keyPath)
		return fmt.Errorf("write certificate: %w", err)
	}
	err = pem.Encode(cf, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	if e := cf.Close(); err == nil {
		err = e
	}
	if err != nil {
		os.Remove(keyPath)
		os.Remove(certPath)
		return fmt.Errorf("write certificate: %w", err)
	}
	return nil
}

func randSerial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return n.Add(n, big.NewInt(1))
}

// CA signs leaf certificates for intercepted hosts and caches them. It
// implements goproxy.CertStorage. Signing runs outside the cache lock, and
// concurrent requests for one host share one signature (singleflight), so
// one slow signature never holds up other hosts.
type CA struct {
	cert    *x509.Certificate
	der     []byte
	key     crypto.Signer
	mu      sync.Mutex // guards leaf only; never held while signing
	leaf    map[string]*tls.Certificate
	minting singleflight.Group
}

// Leaf certificates live a week and are renewed a day before they expire;
// the cache holds at most maxLeaves hosts (expired ones go first, then
// arbitrary ones).
const (
	leafLifetime = 7 * 24 * time.Hour
	leafRenew    = 24 * time.Hour
	maxLeaves    = 4096
)

// Load reads dir/ca.crt and dir/ca.key. goproxy's built-in CA, whose key
// is public, is refused.
func Load(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CertFile))
	if err != nil {
		return nil, fmt.Errorf("ca_dir: %w", err)
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, KeyFile))
	if err != nil {
		return nil, fmt.Errorf("ca_dir: %w", err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("ca_dir %s: %w", dir, err)
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return nil, fmt.Errorf("ca_dir %s: %w", dir, err)
	}
	if publicKnownKey(cert) {
		return nil, fmt.Errorf("ca_dir %s: this CA's key is goproxy's built-in key, which is public; create your own with `flowmask ca init`", dir)
	}
	if !cert.IsCA || cert.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, fmt.Errorf("ca_dir %s: %s is not a CA certificate (no CA:TRUE / keyCertSign)", dir, CertFile)
	}
	key, ok := pair.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("ca_dir %s: unsupported key type", dir)
	}
	return &CA{cert: cert, der: pair.Certificate[0], key: key, leaf: map[string]*tls.Certificate{}}, nil
}

// publicKnownKey reports whether cert's key is goproxy's built-in CA key,
// compared by SubjectPublicKeyInfo: a certificate re-issued around that
// public key is refused as well as goproxy's own.
func publicKnownKey(cert *x509.Certificate) bool {
	for _, raw := range goproxy.GoproxyCa.Certificate {
		known, err := x509.ParseCertificate(raw)
		if err == nil && bytes.Equal(known.RawSubjectPublicKeyInfo, cert.RawSubjectPublicKeyInfo) {
			return true
		}
	}
	return false
}

// Fetch returns the cached certificate of host, calling gen when there is
// none or it is about to expire. Concurrent calls for one host wait for
// one gen; calls for other hosts do not wait at all.
func (c *CA) Fetch(host string, gen func() (*tls.Certificate, error)) (*tls.Certificate, error) {
	if lc := c.cached(host); lc != nil {
		return lc, nil
	}
	v, err, _ := c.minting.Do(host, func() (any, error) {
		if lc := c.cached(host); lc != nil {
			return lc, nil // minted while this call waited
		}
		lc, err := gen()
		if err != nil {
			return nil, err
		}
		c.store(host, lc)
		return lc, nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*tls.Certificate), nil
}

// cached returns host's certificate unless it is missing or due renewal.
func (c *CA) cached(host string) *tls.Certificate {
	c.mu.Lock()
	defer c.mu.Unlock()
	if lc := c.leaf[host]; lc != nil && time.Until(lc.Leaf.NotAfter) > leafRenew {
		return lc
	}
	return nil
}

// store caches lc, keeping the cache under maxLeaves entries.
func (c *CA) store(host string, lc *tls.Certificate) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.leaf) >= maxLeaves {
		for h, old := range c.leaf {
			if time.Until(old.Leaf.NotAfter) <= leafRenew {
				delete(c.leaf, h)
			}
		}
		for h := range c.leaf {
			if len(c.leaf) < maxLeaves {
				break
			}
			delete(c.leaf, h)
		}
	}
	c.leaf[host] = lc
}

// sign mints an ECDSA P-256 server certificate for host (a name or an IP).
func (c *CA) sign(host string) (*tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: randSerial(),
		Subject:      pkix.Name{CommonName: host, Organization: []string{"flowmask interception"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(leafLifetime),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if tmpl.NotAfter.After(c.cert.NotAfter) {
		tmpl.NotAfter = c.cert.NotAfter
	}
	if ip := net.ParseIP(host); ip != nil {
		tmpl.IPAddresses = []net.IP{ip}
	} else {
		tmpl.DNSNames = []string{host}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, key.Public(), c.key)
	if err != nil {
		return nil, fmt.Errorf("sign certificate for %s: %w", host, err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der, c.der}, PrivateKey: key, Leaf: leaf}, nil
}

// TLSConfig is the goproxy ConnectAction.TLSConfig of intercepted hosts:
// TLS 1.2+, HTTP/1.1, a cached leaf of our CA.
func (c *CA) TLSConfig(hostport string, _ *goproxy.ProxyCtx) (*tls.Config, error) {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	if host == "" {
		return nil, errors.New("no host to sign for")
	}
	lc, err := c.Fetch(host, func() (*tls.Certificate, error) { return c.sign(host) })
	if err != nil {
		return nil, err
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{*lc}, NextProtos: []string{"http/1.1"}}, nil
}
