package server_test

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/testcert"
	"github.com/chatd/chatd/server/wstest"
)

// servedCN is the common name of the certificate a new handshake gets.
func servedCN(t *testing.T, ts *tlsServer) string {
	t.Helper()
	c := ts.dialTLS(t, &tls.Config{InsecureSkipVerify: true})
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].Subject.CommonName
}

// TestTLSReload: a certificate replaced on disk is served to new
// handshakes (found by polling), a half-written one is refused (logged,
// the previous one kept, ReloadTLS returns the error), and connections
// open across both reloads keep working.
func TestTLSReload(t *testing.T) {
	ts := startTLS(t, nil)
	open := wstest.Dial(t, ts.wss("/echo"), wstest.WithTLS(ts.clientTLS()))
	echoOnce(t, open, "before")

	ts.ca.Server(t, "second").Files(t, ts.dir)
	waitFor(t, 5*time.Second, "the new certificate served", func() bool { return servedCN(t, ts) == "second" })
	echoOnce(t, open, "after the first reload")

	third := ts.ca.Server(t, "third")
	testcert.WriteFile(t, ts.certFile, third.CertPEM[:len(third.CertPEM)/2]) // half written
	waitFor(t, 5*time.Second, "the failed reload logged", func() bool {
		return ts.Logs.FilterMessageSnippet("do not load").Len() > 0
	})
	if cn := servedCN(t, ts); cn != "second" {
		t.Fatalf("after a half-written file the server serves %q, want the previous \"second\"", cn)
	}
	if err := ts.Srv.ReloadTLS(); err == nil {
		t.Fatal("ReloadTLS of a half-written certificate: no error")
	}
	testcert.WriteFile(t, ts.certFile, third.CertPEM)
	testcert.WriteFile(t, ts.keyFile, third.KeyPEM)
	if err := ts.Srv.ReloadTLS(); err != nil {
		t.Fatalf("ReloadTLS: %v", err)
	}
	if cn := servedCN(t, ts); cn != "third" {
		t.Fatalf("after ReloadTLS the server serves %q, want \"third\"", cn)
	}
	echoOnce(t, open, "after the second reload")
}

// TestTLSReloadSymlinks: certbot's layout, cert_file and key_file being
// symlinks into a versioned directory; renewing swaps the links.
func TestTLSReloadSymlinks(t *testing.T) {
	ca := testcert.NewCA(t, "chatd test CA")
	dir := t.TempDir()
	v1, v2 := filepath.Join(dir, "v1"), filepath.Join(dir, "v2")
	for _, d := range []string{v1, v2} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	ca.Server(t, "v1").Files(t, v1)
	ca.Server(t, "v2").Files(t, v2)
	link := func(target string) {
		for _, f := range []string{"cert.pem", "key.pem"} {
			tmp := filepath.Join(dir, f+".new")
			if err := os.Symlink(filepath.Join(target, f), tmp); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, filepath.Join(dir, f)); err != nil {
				t.Fatal(err)
			}
		}
	}
	link(v1)
	ts := startTLSFiles(t, ca, dir, nil)
	if cn := servedCN(t, ts); cn != "v1" {
		t.Fatalf("serves %q, want v1", cn)
	}
	link(v2)
	waitFor(t, 5*time.Second, "the swapped link served", func() bool { return servedCN(t, ts) == "v2" })
}

func startTLSFiles(t *testing.T, ca *testcert.CA, dir string, mutate func(*server.Config)) *tlsServer {
	t.Helper()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ts := startTLSWith(t, certFile, keyFile, mutate, nil)
	ts.ca, ts.dir = ca, dir
	return ts
}

// TestTLSClientCertificates: with client_auth require, a client with a
// certificate from client_ca_file connects; one without a certificate, or
// with one from another CA, fails the handshake (counted as tls); with
// request, a client without one connects too.
func TestTLSClientCertificates(t *testing.T) {
	clients := testcert.NewCA(t, "clients CA")
	caFile := filepath.Join(t.TempDir(), "clients.pem")
	testcert.WriteFile(t, caFile, clients.PEM)
	stranger := testcert.NewCA(t, "stranger CA").Client(t, "mallory")
	alice := clients.Client(t, "alice")

	for _, mode := range []string{"require", "request"} {
		t.Run(mode, func(t *testing.T) {
			ts := startTLS(t, func(c *server.Config) {
				c.TLS.ClientAuth = mode
				c.TLS.ClientCAFile = caFile
			})
			// GetClientCertificate, not Certificates: Go's client would
			// not send a certificate the server's CA list does not name.
			with := func(certs ...tls.Certificate) *tls.Config {
				c := ts.clientTLS()
				c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
					if len(certs) == 0 {
						return &tls.Certificate{}, nil
					}
					return &certs[0], nil
				}
				return c
			}
			echoOnce(t, wstest.Dial(t, ts.wss("/echo"), wstest.WithTLS(with(alice.TLS(t)))), "alice")
			_, err := wstest.DialContext(t.Context(), ts.wss("/echo"), wstest.WithTLS(with(stranger.TLS(t))))
			if err == nil {
				t.Fatal("a certificate from another CA was accepted")
			}
			failures := uint64(1)
			_, err = wstest.DialContext(t.Context(), ts.wss("/echo"), wstest.WithTLS(with()))
			switch {
			case mode == "require" && err == nil:
				t.Fatal("client_auth require: a client without a certificate connected")
			case mode == "require":
				failures++
				if !strings.Contains(err.Error(), "certificate") {
					t.Logf("refused without a certificate: %v", err)
				}
			case err != nil:
				t.Fatalf("client_auth request: a client without a certificate: %v", err)
			}
			waitFor(t, 3*time.Second, "the refusals counted", func() bool {
				return ts.Srv.Stats().HandshakeFailures["tls"] == failures
			})
		})
	}
}
