package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/flowmask/flowmask/proxy/mitmca"
	"github.com/spf13/cobra"
)

func newCACmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "Manage the CA that flowmask forward intercepts HTTPS with",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newCAInitCmd())
	return cmd
}

func newCAInitCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "init --out DIR",
		Short: "Create an ECDSA P-256 interception CA (DIR/ca.crt, DIR/ca.key)",
		Long: `init creates DIR (mode 0700) if needed and writes a new CA certificate to
DIR/ca.crt and its private key to DIR/ca.key (mode 0600). An existing
ca.crt or ca.key is never overwritten. Clients of flowmask forward must trust
ca.crt for the hosts it intercepts; keep ca.key secret: whoever holds it can
impersonate any site to those clients.`,
		Example: `  flowmask ca init --out /etc/flowmask/ca`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return &exitError{exitUsage, errors.New("--out DIR is required")}
			}
			if err := mitmca.Init(out, time.Now()); err != nil {
				if errors.Is(err, fs.ErrExist) {
					return &exitError{exitUsage, err}
				}
				return &exitError{exitUsage, fmt.Errorf("ca init: %w", err)}
			}
			crt, _ := filepath.Abs(filepath.Join(out, mitmca.CertFile))
			key, _ := filepath.Abs(filepath.Join(out, mitmca.KeyFile))
			fmt.Fprintf(cmd.OutOrStdout(), `wrote %s
wrote %s (mode 0600; keep it secret: it can impersonate any site to clients that trust the CA)

Start the proxy:   flowmask forward --ca-dir %s --intercept HOST:443 ...
Trust the CA in the clients whose traffic is intercepted, for example:
  Go, OpenSSL, Python requests:  SSL_CERT_FILE=%s  (Go and OpenSSL then trust only this file:
                                 concatenate it with the system bundle to keep the usual roots)
  curl:                          curl -x http://127.0.0.1:3128 --cacert %s https://HOST/
  Node.js:                       NODE_EXTRA_CA_CERTS=%s
  Debian/Ubuntu system store:    cp %s /usr/local/share/ca-certificates/flowmask.crt && update-ca-certificates
  Windows (on-premises data gateway, .NET):  certutil -addstore -f Root %s
`, crt, key, filepath.Dir(crt), crt, crt, crt, crt, crt)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "`DIR` to write ca.crt and ca.key to")
	return cmd
}
