package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/testcert"
	"github.com/chatd/chatd/server/wstest"
)

// TestTLSVersionsAndALPN: TLS 1.0 and 1.1 offers are refused, min_version
// 1.3 refuses 1.2; a browser's ALPN offer (h2, http/1.1) gets http/1.1
// and works, an h2-only offer fails the handshake (no_application_protocol)
// rather than upgrading into frames chatd does not speak. Each refusal is
// a tls handshake failure, and the server serves on.
func TestTLSVersionsAndALPN(t *testing.T) {
	for _, minVersion := range []string{"1.2", "1.3"} {
		t.Run(minVersion, func(t *testing.T) {
			ts := startTLS(t, func(c *server.Config) { c.TLS.MinVersion = minVersion })
			refused := []uint16{tls.VersionTLS10, tls.VersionTLS11}
			if minVersion == "1.3" {
				refused = append(refused, tls.VersionTLS12)
			}
			for _, v := range refused {
				c := ts.clientTLS()
				c.MinVersion, c.MaxVersion = tls.VersionTLS10, v
				if _, err := tls.Dial("tcp", ts.Addr, c); err == nil {
					t.Errorf("a client offering at most %s connected", tls.VersionName(v))
				}
			}
			h2 := ts.clientTLS()
			h2.NextProtos = []string{"h2"}
			if _, err := tls.Dial("tcp", ts.Addr, h2); err == nil {
				t.Error("an h2-only ALPN offer connected")
			}
			browser := ts.clientTLS()
			browser.NextProtos = []string{"h2", "http/1.1"}
			tc := ts.dialTLS(t, browser)
			if p := tc.ConnectionState().NegotiatedProtocol; p != "http/1.1" {
				t.Errorf("ALPN h2, http/1.1 negotiated %q", p)
			}
			echoOnce(t, wstest.Dial(t, ts.wss("/echo"), wstest.WithTLS(browser)), "browser-like")
			want := uint64(len(refused) + 1)
			waitFor(t, 3*time.Second, "the refusals counted as tls", func() bool {
				return ts.Srv.Stats().HandshakeFailures["tls"] == want
			})
		})
	}
}

// issue signs a client certificate with ca, from tmpl (serial, key and
// usage filled in).
func issue(t *testing.T, ca *testcert.CA, tmpl *x509.Certificate) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = big.NewInt(time.Now().UnixNano())
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.Key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// TestTLSClientCertificatesHostile: with client_auth require, a client
// certificate signed by client_ca_file but expired, not yet valid, or for
// server authentication only fails the handshake, as does none; a good
// one gets in. A client that sends a ClientHello after the handshake
// (renegotiation, which TLS 1.3 has not) is cut off with 1006.
func TestTLSClientCertificatesHostile(t *testing.T) {
	clients := testcert.NewCA(t, "clients CA")
	caFile := filepath.Join(t.TempDir(), "clients.pem")
	testcert.WriteFile(t, caFile, clients.PEM)
	ts := startTLS(t, func(c *server.Config) {
		c.TLS.ClientAuth = "require"
		c.TLS.ClientCAFile = caFile
	})
	now := time.Now()
	clientAuth := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	bad := map[string]*x509.Certificate{
		"expired":       {Subject: pkix.Name{CommonName: "old"}, NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour), ExtKeyUsage: clientAuth},
		"not yet valid": {Subject: pkix.Name{CommonName: "early"}, NotBefore: now.Add(time.Hour), NotAfter: now.Add(48 * time.Hour), ExtKeyUsage: clientAuth},
		"server usage":  {Subject: pkix.Name{CommonName: "srv"}, NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
	}
	with := func(cert *tls.Certificate) *tls.Config {
		c := ts.clientTLS()
		c.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			if cert == nil {
				return &tls.Certificate{}, nil
			}
			return cert, nil
		}
		return c
	}
	for name, tmpl := range bad {
		cert := issue(t, clients, tmpl)
		if _, err := wstest.DialContext(t.Context(), ts.wss("/echo"), wstest.WithTLS(with(&cert))); err == nil {
			t.Errorf("client_auth require accepted a certificate %s", name)
		}
	}
	if _, err := wstest.DialContext(t.Context(), ts.wss("/echo"), wstest.WithTLS(with(nil))); err == nil {
		t.Error("client_auth require accepted a client without a certificate")
	}
	good := clients.Client(t, "alice").TLS(t)
	echoOnce(t, wstest.Dial(t, ts.wss("/echo"), wstest.WithTLS(with(&good))), "alice")
	waitFor(t, 3*time.Second, "four tls failures", func() bool { return ts.Srv.Stats().HandshakeFailures["tls"] == 4 })

}

// TestTLSPostHandshakeClientHello: a client that sends a ClientHello
// after the upgrade (a renegotiation attempt, which TLS 1.3 does not
// have) or a handshake message the server never expects is cut off at
// once: crypto/tls's alert, the connection closed, 1006 logged.
func TestTLSPostHandshakeClientHello(t *testing.T) {
	msgs := map[string][]byte{
		"ClientHello":       {1, 0, 0, 4, 3, 3, 0, 0},
		"Finished":          {20, 0, 0, 32, 31: 0, 35: 0},
		"KeyUpdate garbage": {24, 0, 0, 1, 7},
	}
	for name, msg := range msgs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ts := startTLS(t, nil)
			r, _ := dialRawTLS13(t, ts, 0)
			b := r.appData(nil, []byte(upgradeRequest("/echo", "")))
			b = r.appData(b, append(maskedHeader(ws.OpText, true, 2), 'h', 'i'))
			b = r.seal(b, 0x16, msg)
			if _, err := r.raw.Write(b); err != nil {
				t.Fatal(err)
			}
			expectHangup(t, r.raw, 5*time.Second)
			if codes := waitCloseCodes(t, ts.Server, 1, 5*time.Second); codes[0] != 1006 {
				t.Fatalf("close codes %v, want 1006", codes)
			}
		})
	}
}

// TestTLSAPIClientAuth: another listener of the process (the HTTP API)
// served with Server.TLSConfig gets the same client_auth: without a
// client certificate, or with an expired one, the handshake fails; with a
// good one the request is served, over HTTP/1.1 even when h2 is offered.
func TestTLSAPIClientAuth(t *testing.T) {
	clients := testcert.NewCA(t, "clients CA")
	caFile := filepath.Join(t.TempDir(), "clients.pem")
	testcert.WriteFile(t, caFile, clients.PEM)
	ts := startTLS(t, func(c *server.Config) {
		c.TLS.ClientAuth = "require"
		c.TLS.ClientCAFile = caFile
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	api := &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, r.Proto) }),
		TLSConfig: ts.Srv.TLSConfig(),
		ErrorLog:  log.New(io.Discard, "", 0),
	}
	go func() { _ = api.ServeTLS(ln, "", "") }()
	defer api.Close()
	get := func(cert *tls.Certificate) (string, error) {
		c := ts.clientTLS()
		c.NextProtos = []string{"h2", "http/1.1"}
		if cert != nil {
			c.Certificates = []tls.Certificate{*cert}
		}
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: c, ForceAttemptHTTP2: true}}
		defer client.CloseIdleConnections()
		resp, err := client.Get("https://" + ln.Addr().String() + "/")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	if _, err := get(nil); err == nil {
		t.Error("the API served a client without a certificate (client_auth require)")
	}
	now := time.Now()
	expired := issue(t, clients, &x509.Certificate{Subject: pkix.Name{CommonName: "old"}, NotBefore: now.Add(-48 * time.Hour),
		NotAfter: now.Add(-time.Hour), ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if _, err := get(&expired); err == nil {
		t.Error("the API served a client with an expired certificate")
	}
	good := clients.Client(t, "api user").TLS(t)
	proto, err := get(&good)
	if err != nil {
		t.Fatalf("the API refused a good client certificate: %v", err)
	}
	if proto != "HTTP/1.1" {
		t.Errorf("the API spoke %s, want HTTP/1.1", proto)
	}
}
