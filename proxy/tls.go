package proxy

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"go.uber.org/zap"
)

// certReloader serves the listener certificate, re-reading the files at
// most once a second when their modification time or size changes.
type certReloader struct {
	certFile, keyFile string
	logger            *zap.Logger
	mu                sync.Mutex
	cert              *tls.Certificate
	stamp             string
	checked           time.Time
}

func (c *certReloader) stampOf() string {
	a, err1 := os.Stat(c.certFile)
	b, err2 := os.Stat(c.keyFile)
	if err1 != nil || err2 != nil {
		return ""
	}
	return fmt.Sprint(a.ModTime().UnixNano(), a.Size(), b.ModTime().UnixNano(), b.Size())
}

func (c *certReloader) load() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return err
	}
	c.cert = &cert
	return nil
}

func (c *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); now.Sub(c.checked) > time.Second {
		c.checked = now
		if st := c.stampOf(); st != "" && st != c.stamp {
			if err := c.load(); err != nil {
				c.logger.Error("TLS certificate reload failed; keeping the old one", zap.Error(err))
			} else {
				c.stamp = st
				c.logger.Info("TLS certificate reloaded")
			}
		}
	}
	if c.cert == nil {
		return nil, errors.New("no certificate")
	}
	return c.cert, nil
}

// listenerTLS builds the listener's TLS config: TLS 1.2+, the reloading
// certificate and, with client_ca_file, required client certificates.
func (s *Server) listenerTLS(tc TLSConfig) (*tls.Config, error) {
	cr := &certReloader{certFile: tc.CertFile, keyFile: tc.KeyFile, logger: s.logger}
	cr.stamp = cr.stampOf()
	if err := cr.load(); err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: cr.get, NextProtos: []string{"http/1.1"}}
	if tc.ClientCAFile != "" {
		pem, err := os.ReadFile(tc.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.client_ca_file: no PEM certificate in %s", tc.ClientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

func tlsListener(ln net.Listener, cfg *tls.Config) net.Listener { return tls.NewListener(ln, cfg) }
