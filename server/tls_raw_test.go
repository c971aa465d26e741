package server_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/testcert"
)

// rawTLS13 writes TLS 1.3 records on a connection whose handshake a
// crypto/tls client did, with the client's application traffic secret
// (from its key log): it can send what crypto/tls never sends on its own
// (KeyUpdate requests, records of a chosen size and split), and the test
// never reads. Records the client's tls.Conn wrote after the handshake
// must not exist (the sequence starts at 0).
type rawTLS13 struct {
	raw    net.Conn
	newH   func() hash.Hash
	keyLen int
	secret []byte
	aead   cipher.AEAD
	iv     []byte
	seq    uint64
}

// keyLog keeps the CLIENT_TRAFFIC_SECRET_0 line of a handshake.
type keyLog struct {
	mu     sync.Mutex
	secret []byte
}

func (k *keyLog) Write(p []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, line := range strings.Split(string(p), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "CLIENT_TRAFFIC_SECRET_0" {
			k.secret, _ = hex.DecodeString(f[2])
		}
	}
	return len(p), nil
}

// dialRawTLS13 connects to ts over TLS 1.3 (the handshake by crypto/tls;
// rcvbuf > 0 shrinks the client's receive buffer first) and returns the
// raw writer, and the tls.Conn for reading (which the caller may leave
// unread).
func dialRawTLS13(t *testing.T, ts *tlsServer, rcvbuf int) (*rawTLS13, *tls.Conn) {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if rcvbuf > 0 {
		d.Control = smallRcvbuf(rcvbuf)
	}
	raw, err := d.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	kl := &keyLog{}
	cfg := ts.clientTLS()
	cfg.MinVersion, cfg.KeyLogWriter, cfg.ServerName = tls.VersionTLS13, kl, "127.0.0.1"
	tc := tls.Client(raw, cfg)
	_ = raw.SetDeadline(time.Now().Add(5 * time.Second))
	if err := tc.Handshake(); err != nil {
		t.Fatalf("tls handshake: %v", err)
	}
	_ = raw.SetDeadline(time.Time{})
	r := &rawTLS13{raw: raw}
	switch cs := tc.ConnectionState().CipherSuite; cs {
	case tls.TLS_AES_128_GCM_SHA256:
		r.newH, r.keyLen = sha256.New, 16
	case tls.TLS_AES_256_GCM_SHA384:
		r.newH, r.keyLen = sha512.New384, 32
	default:
		t.Skipf("cipher suite %s: this test client speaks AES-GCM only", tls.CipherSuiteName(cs))
	}
	kl.mu.Lock()
	r.setSecret(t, kl.secret)
	kl.mu.Unlock()
	return r, tc
}

// expandLabel is TLS 1.3's HKDF-Expand-Label with an empty context.
func (r *rawTLS13) expandLabel(t *testing.T, secret []byte, label string, n int) []byte {
	info := binary.BigEndian.AppendUint16(nil, uint16(n))
	info = append(info, byte(6+len(label)))
	info = append(append(info, "tls13 "...), label...)
	info = append(info, 0)
	out, err := hkdf.Expand(r.newH, secret, string(info), n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (r *rawTLS13) setSecret(t *testing.T, secret []byte) {
	if len(secret) == 0 {
		t.Fatal("no client traffic secret in the key log")
	}
	r.secret = secret
	block, err := aes.NewCipher(r.expandLabel(t, secret, "key", r.keyLen))
	if err != nil {
		t.Fatal(err)
	}
	if r.aead, err = cipher.NewGCM(block); err != nil {
		t.Fatal(err)
	}
	r.iv, r.seq = r.expandLabel(t, secret, "iv", 12), 0
}

// seal appends one record of content type typ holding data to b.
func (r *rawTLS13) seal(b []byte, typ byte, data []byte) []byte {
	n := len(data) + 1 + r.aead.Overhead()
	hdr := []byte{0x17, 0x03, 0x03, byte(n >> 8), byte(n)}
	nonce := bytes.Clone(r.iv)
	for i := range 8 {
		nonce[4+i] ^= byte(r.seq >> (56 - 8*i))
	}
	r.seq++
	b = append(b, hdr...)
	return r.aead.Seal(b, nonce, append(bytes.Clone(data), typ), hdr)
}

// appData appends a record of application data.
func (r *rawTLS13) appData(b, data []byte) []byte { return r.seal(b, 0x17, data) }

// keyUpdate appends a KeyUpdate asking the peer to update its keys too,
// and moves to the next write key.
func (r *rawTLS13) keyUpdate(t *testing.T, b []byte) []byte {
	b = r.seal(b, 0x16, []byte{24, 0, 0, 1, 1})
	r.setSecret(t, r.expandLabel(t, r.secret, "traffic upd", r.newH().Size()))
	return b
}

// smallRcvbuf sets SO_RCVBUF before connect (a slow reader with a tiny
// window).
func smallRcvbuf(n int) func(network, address string, c syscall.RawConn) error {
	return func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, n)
		})
		if err != nil {
			return err
		}
		return serr
	}
}

// startTLSSndbuf is startTLS on a listener whose sockets have a send
// buffer of sndbuf bytes (accepted sockets inherit it, and it turns the
// kernel's autotuning off): what the kernel can hold for a client that
// does not read is small and known, so pending ciphertext piles up after a
// few KiB rather than a few MiB.
func startTLSSndbuf(t *testing.T, sndbuf int, mutate func(*server.Config), eps map[string]server.Endpoint) *tlsServer {
	t.Helper()
	ca := testcert.NewCA(t, "chatd test CA")
	dir := t.TempDir()
	certFile, keyFile := ca.Server(t, "small").Files(t, dir)
	cfg := server.DefaultConfig()
	cfg.Listen = "127.0.0.1:0"
	cfg.TLS.CertFile, cfg.TLS.KeyFile = certFile, keyFile
	if mutate != nil {
		mutate(&cfg)
	}
	core, logs := observer.New(zapcore.DebugLevel)
	srv, err := server.New(cfg, zap.New(core))
	if err != nil {
		t.Fatal(err)
	}
	for path, ep := range eps {
		srv.Handle(path, ep)
	}
	lc := net.ListenConfig{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF, sndbuf)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	ln, err := lc.Listen(context.Background(), "tcp", cfg.Listen)
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	ts := &testserver.Server{Addr: ln.Addr().String(), Srv: srv, Logs: logs}
	return &tlsServer{Server: ts, ca: ca, certFile: certFile, keyFile: keyFile, dir: dir}
}
