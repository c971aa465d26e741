package server

import (
	"crypto/tls"
	"testing"
	"time"

	"github.com/chatd/chatd/server/testcert"
)

// FuzzTLSConfig feeds server.tls's values and the PEM bytes of its files
// to validation and to the builder the loader and the reloader use.
// Neither may panic; a config that validates and builds serves exactly one
// certificate, never below TLS 1.2, speaks HTTP/1.1 only, and verifies
// client certificates against a CA pool whenever it asks for them. The
// seeds are generated (no private key is committed): a valid pair, with a
// client CA, truncated (a half-written renewal), swapped, and mismatched.
func FuzzTLSConfig(f *testing.F) {
	ca := testcert.NewCA(f, "fuzz CA")
	a, b := ca.Server(f, "a"), ca.Server(f, "b")
	f.Add("1.2", "none", a.CertPEM, a.KeyPEM, []byte(nil))
	f.Add("1.3", "require", a.CertPEM, a.KeyPEM, ca.PEM)
	f.Add("1.2", "request", a.CertPEM, a.KeyPEM, ca.PEM[:len(ca.PEM)/2])
	f.Add("1.2", "none", a.CertPEM[:len(a.CertPEM)/2], a.KeyPEM, []byte(nil))
	f.Add("1.2", "none", a.KeyPEM, a.CertPEM, []byte(nil))
	f.Add("1.2", "none", a.CertPEM, b.KeyPEM, []byte(nil))
	f.Add("1.1", "optional", []byte("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"), []byte{}, []byte("x"))
	f.Fuzz(func(t *testing.T, minVersion, clientAuth string, cert, key, ca []byte) {
		cfg := DefaultTLS()
		cfg.CertFile, cfg.KeyFile = "cert.pem", "key.pem"
		cfg.MinVersion, cfg.ClientAuth = minVersion, clientAuth
		if len(ca) > 0 {
			cfg.ClientCAFile = "ca.pem"
		}
		if errs := cfg.validate(); len(errs) > 0 {
			return
		}
		if minVersion != "1.2" && minVersion != "1.3" {
			t.Fatalf("min_version %q validated", minVersion)
		}
		c, err := buildTLSConfig(cfg, tlsFiles{cert: cert, key: key, clientCA: ca}, time.Now())
		if err != nil {
			return
		}
		if len(c.Certificates) != 1 || c.MinVersion < tls.VersionTLS12 {
			t.Fatalf("built %d certificates, min version %x", len(c.Certificates), c.MinVersion)
		}
		if len(c.NextProtos) != 1 || c.NextProtos[0] != "http/1.1" {
			t.Fatalf("ALPN %q", c.NextProtos)
		}
		if c.ClientAuth != tls.NoClientCert && c.ClientCAs == nil {
			t.Fatalf("client_auth %q without a CA pool", clientAuth)
		}
	})
}
