package server

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"
)

// TLS is the server.tls section: serving wss:// (and HTTPS for the page
// and /healthz) on the main listener. Off unless cert_file and key_file
// are set. Cipher suites, curves and signature schemes are Go's defaults
// (crypto/tls), which follow current recommendations and change with Go
// releases; chatd offers no knob to weaken them.
type TLS struct {
	// CertFile is the PEM certificate chain, leaf first (certbot's
	// fullchain.pem). Default "" (TLS off). Set with key_file.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the PEM private key of the leaf certificate (certbot's
	// privkey.pem). Default "". Set with cert_file.
	KeyFile string `yaml:"key_file"`
	// MinVersion is the lowest TLS version accepted: "1.2" or "1.3".
	// Default "1.2". Versions below 1.2 are refused (RFC 8996).
	MinVersion string `yaml:"min_version"`
	// ClientAuth asks clients for a certificate: "none" (the default),
	// "request" (verified against client_ca_file when sent; a client
	// without one still connects) or "require" (a client without a
	// certificate signed by client_ca_file fails the TLS handshake).
	ClientAuth string `yaml:"client_auth"`
	// ClientCAFile holds the PEM CA certificates client certificates are
	// verified against. Default "". Required when client_auth is not
	// "none".
	ClientCAFile string `yaml:"client_ca_file"`
	// ReloadInterval is how often the files are checked for a change
	// (size, modification time, inode, through symlinks): a change is
	// loaded for new handshakes; a file that does not load (half written,
	// a key that does not match) is logged and the previous certificate
	// stays in use. Default "10s". (*Server).ReloadTLS reloads at once.
	ReloadInterval time.Duration `yaml:"reload_interval"`
}

// DefaultTLS returns server.tls's defaults: off.
func DefaultTLS() TLS {
	return TLS{MinVersion: "1.2", ClientAuth: "none", ReloadInterval: 10 * time.Second}
}

// Enabled reports whether TLS is on (cert_file and key_file are set).
func (t TLS) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

var tlsVersions = map[string]uint16{"1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}

var clientAuths = map[string]tls.ClientAuthType{
	"none":    tls.NoClientCert,
	"request": tls.VerifyClientCertIfGiven,
	"require": tls.RequireAndVerifyClientCert,
}

// validate reports every invalid field of server.tls, named by its YAML
// path. It checks values only; the files are read by New.
func (t TLS) validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if (t.CertFile == "") != (t.KeyFile == "") {
		add("server.tls: cert_file %q and key_file %q: set both (TLS on) or neither (TLS off)", t.CertFile, t.KeyFile)
	}
	if _, ok := tlsVersions[t.MinVersion]; !ok {
		add("server.tls.min_version %q: want \"1.2\" or \"1.3\" (older versions are insecure and refused)", t.MinVersion)
	}
	_, knownAuth := clientAuths[t.ClientAuth]
	switch {
	case !knownAuth:
		add("server.tls.client_auth %q: want none, request or require", t.ClientAuth)
	case t.ClientAuth != "none" && t.ClientCAFile == "":
		add("server.tls.client_ca_file: required with client_auth %q (the CAs client certificates are verified against)", t.ClientAuth)
	case t.ClientCAFile != "" && t.ClientAuth == "none":
		add("server.tls.client_ca_file %q: set client_auth to request or require, or remove it (with none it is unused)", t.ClientCAFile)
	case t.ClientAuth != "none" && !t.Enabled():
		add("server.tls.client_auth %q: needs TLS on (cert_file and key_file)", t.ClientAuth)
	}
	if t.ReloadInterval < 100*time.Millisecond {
		add("server.tls.reload_interval %v: want at least \"100ms\" (such as \"10s\")", t.ReloadInterval)
	}
	return errs
}

// tlsFiles are what one load of server.tls read: the PEM bytes of each
// file. Kept apart from building the tls.Config so that a fuzz target can
// feed the builder bytes.
type tlsFiles struct {
	cert, key, clientCA []byte
}

// readTLSFiles reads server.tls's files (following symlinks).
func readTLSFiles(t TLS) (tlsFiles, error) {
	var f tlsFiles
	var err error
	if f.cert, err = readTLSFile(t.CertFile); err != nil {
		return f, fmt.Errorf("server.tls.cert_file: %w", err)
	}
	if f.key, err = readTLSFile(t.KeyFile); err != nil {
		return f, fmt.Errorf("server.tls.key_file: %w", err)
	}
	if t.ClientCAFile != "" {
		if f.clientCA, err = readTLSFile(t.ClientCAFile); err != nil {
			return f, fmt.Errorf("server.tls.client_ca_file: %w", err)
		}
	}
	return f, nil
}

// maxTLSFileBytes bounds each of server.tls's files. A certificate chain,
// a key or a CA bundle is a few KiB (the system's whole CA bundle about
// 200 KiB); anything larger is a wrong path, and is not read.
const maxTLSFileBytes = 1 << 20

// readTLSFile reads one of server.tls's files. Only a regular file is
// read (through symlinks), and only up to maxTLSFileBytes: a path that
// names a FIFO would block the reload (the poller, SIGHUP) for good, and
// /dev/zero would be read until memory runs out. It opens without
// blocking, so that a FIFO is seen for what it is.
func readTLSFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file (%v)", path, fi.Mode().Type())
	}
	tooLarge := fmt.Errorf("%s: larger than %d bytes, more than a certificate or key file may be", path, maxTLSFileBytes)
	if fi.Size() > maxTLSFileBytes {
		return nil, tooLarge
	}
	b, err := io.ReadAll(io.LimitReader(f, maxTLSFileBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxTLSFileBytes {
		return nil, tooLarge
	}
	return b, nil
}

// buildTLSConfig makes the tls.Config handshakes use from t (validated)
// and the files' bytes. It fails on a certificate or key that does not
// parse, a key that does not match the certificate, a leaf that has
// expired, or a client CA file without a certificate.
func buildTLSConfig(t TLS, f tlsFiles, now time.Time) (*tls.Config, error) {
	pair, err := tls.X509KeyPair(f.cert, f.key)
	if err != nil {
		return nil, fmt.Errorf("server.tls: cert_file %s with key_file %s: %w", t.CertFile, t.KeyFile, err)
	}
	leaf := pair.Leaf
	if leaf == nil { // X509KeyPair sets it since Go 1.23; be safe
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, fmt.Errorf("server.tls.cert_file %s: %w", t.CertFile, err)
		}
	}
	if now.After(leaf.NotAfter) {
		return nil, fmt.Errorf("server.tls.cert_file %s: certificate expired at %s", t.CertFile, leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	cfg := &tls.Config{
		Certificates: []tls.Certificate{pair},
		MinVersion:   tlsVersions[t.MinVersion],
		ClientAuth:   clientAuths[t.ClientAuth],
		// HTTP/1.1 only: the upgrade and the page are HTTP/1.1, and a
		// browser that negotiated h2 would send frames chatd does not
		// speak.
		NextProtos: []string{"http/1.1"},
	}
	if len(f.clientCA) > 0 || t.ClientCAFile != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(f.clientCA) {
			return nil, fmt.Errorf("server.tls.client_ca_file %s: no PEM certificate in it", t.ClientCAFile)
		}
		cfg.ClientCAs = pool
	}
	return cfg, nil
}

// loadTLSConfig reads the files and builds the config.
func loadTLSConfig(t TLS) (*tls.Config, error) {
	f, err := readTLSFiles(t)
	if err != nil {
		return nil, err
	}
	return buildTLSConfig(t, f, time.Now())
}
