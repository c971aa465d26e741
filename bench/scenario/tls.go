package scenario

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
)

// tlsConfig is the client TLS configuration of wss:// URLs: the CAs of
// TLSCA, or none verified with TLSInsecure; nil for Go's defaults.
func (c Config) tlsConfig() (*tls.Config, error) {
	if c.TLSCA == "" && !c.TLSInsecure {
		return nil, nil
	}
	cfg := &tls.Config{InsecureSkipVerify: c.TLSInsecure} //nolint:gosec // asked for, for a test server
	if c.TLSCA != "" {
		pem, err := os.ReadFile(c.TLSCA)
		if err != nil {
			return nil, fmt.Errorf("tls_ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls_ca %s: no PEM certificate", c.TLSCA)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}
