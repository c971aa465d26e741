package server_test

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/testcert"
	"github.com/chatd/chatd/server/wstest"
)

// tlsServer is a test server with server.tls on, its certificate issued by
// ca for 127.0.0.1; mutate may change the config further.
type tlsServer struct {
	*testserver.Server
	ca                *testcert.CA
	certFile, keyFile string
	dir               string
}

func startTLS(t *testing.T, mutate func(*server.Config)) *tlsServer {
	t.Helper()
	ca := testcert.NewCA(t, "chatd test CA")
	dir := t.TempDir()
	certFile, keyFile := ca.Server(t, "first").Files(t, dir)
	ts := startTLSWith(t, certFile, keyFile, mutate, nil)
	ts.ca, ts.dir = ca, dir
	return ts
}

// startTLSWith starts a TLS server on the given files, with extra
// endpoints (may be nil).
func startTLSWith(t *testing.T, certFile, keyFile string, mutate func(*server.Config), eps map[string]server.Endpoint) *tlsServer {
	t.Helper()
	ts := testserver.StartWith(t, func(c *server.Config) {
		c.TLS.CertFile, c.TLS.KeyFile = certFile, keyFile
		c.TLS.ReloadInterval = 100 * time.Millisecond
		if mutate != nil {
			mutate(c)
		}
	}, eps)
	return &tlsServer{Server: ts, certFile: certFile, keyFile: keyFile}
}

func (s *tlsServer) wss(path string) string { return "wss://" + s.Addr + path }

// clientTLS trusts the test CA.
func (s *tlsServer) clientTLS() *tls.Config { return &tls.Config{RootCAs: s.ca.Pool()} }

// dialTLS opens a raw TLS connection, handshake done.
func (s *tlsServer) dialTLS(t *testing.T, c *tls.Config) *tls.Conn {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", s.Addr, c)
	if err != nil {
		t.Fatalf("tls dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestTLSEcho: wss:// echoes text of every size around a TLS record
// (16 KiB), so messages span records and records span reads.
func TestTLSEcho(t *testing.T) {
	ts := startTLS(t, nil)
	c := wstest.Dial(t, ts.wss("/echo"), wstest.WithTLS(ts.clientTLS()))
	for _, n := range []int{0, 1, 125, 126, 1000, 16383, 16384, 16385, 40000, 65536} {
		msg := strings.Repeat("x", n)
		c.SendText(t, msg)
		c.ExpectText(t, msg)
	}
	if err := c.WriteClose(1000, ""); err != nil {
		t.Fatal(err)
	}
	if code := readCloseCode(t, c, 5*time.Second); code != 1000 {
		t.Fatalf("close code %d, want 1000", code)
	}
	if codes := waitCloseCodes(t, ts.Server, 1, 5*time.Second); codes[0] != 1000 {
		t.Fatalf("server logged %v, want 1000", codes)
	}
}

// TestTLSHTTPS: the listener serves HTTPS: /healthz over TLS, and a plain
// HTTP request to it gets net/http's 400 "HTTP request to an HTTPS
// server", counted as a tls handshake failure.
func TestTLSHTTPS(t *testing.T) {
	ts := startTLS(t, nil)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: ts.clientTLS()}, Timeout: 5 * time.Second}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + ts.Addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("https /healthz: %d %q", resp.StatusCode, body)
	}
	plain := &http.Client{Timeout: 5 * time.Second}
	resp, err = plain.Get("http://" + ts.Addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 400 || !strings.Contains(string(body), "HTTP request to an HTTPS server") {
		t.Fatalf("plain http to the TLS port: %d %q", resp.StatusCode, body)
	}
	waitFor(t, 5*time.Second, "a tls handshake failure counted", func() bool { return ts.Srv.Stats().HandshakeFailures["tls"] == 1 })
}
