package server_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"go.uber.org/goleak"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/testcert"
	"github.com/chatd/chatd/server/wstest"
)

// halfHello is the start of a TLS ClientHello record that announces 512
// bytes and sends 9: a client that then goes silent.
var halfHello = []byte{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc}

// TestTLSHalfClientHello: a client that sends half a ClientHello and goes
// silent is closed at handshake.timeout and counted as a timeout, while
// others connect meanwhile.
func TestTLSHalfClientHello(t *testing.T) {
	noLeaks(t)
	ts := startTLS(t, func(c *server.Config) { c.Handshake.Timeout = 300 * time.Millisecond })
	nc, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := nc.Write(halfHello); err != nil {
		t.Fatal(err)
	}
	echoOnce(t, wstest.Dial(t, ts.wss("/echo"), wstest.WithTLS(ts.clientTLS())), "meanwhile")
	start := time.Now()
	expectHangup(t, nc, 3*time.Second)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("closed after %v, want about handshake.timeout", d)
	}
	waitFor(t, 2*time.Second, "a handshake timeout counted", func() bool {
		return ts.Srv.Stats().HandshakeFailures["timeout"] == 1
	})
}

// TestTLSHandshakeFlood: hundreds of silent half-handshakes from one
// address hold at most connections.max_handshakes_per_address goroutines;
// the rest are refused at accept, and a client from another address still
// connects and echoes at once. When the flood times out, every goroutine
// is gone (goleak in TestMain).
func TestTLSHandshakeFlood(t *testing.T) {
	noLeaks(t)
	ts := startTLS(t, func(c *server.Config) {
		c.Handshake.Timeout = 3 * time.Second
		c.Connections.MaxHandshakesPerAddress = 16
		c.Connections.RatePerAddress = 10000
		c.Connections.BurstPerAddress = 10000
	})
	flooder := netip.MustParseAddr("127.0.0.7")
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: flooder.AsSlice()}}
	for range 300 {
		c, err := d.Dial("tcp", ts.Addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write(halfHello)
		conns = append(conns, c)
	}
	waitFor(t, 5*time.Second, "the flood refused past the per-address limit", func() bool {
		return ts.Srv.Stats().Refused["address_handshakes"] >= 300-16
	})
	start := time.Now()
	c := wstest.Dial(t, ts.wss("/echo"), wstest.WithTLS(ts.clientTLS()), wstest.WithLocalAddr(netip.MustParseAddr("127.0.0.8")))
	echoOnce(t, c, "still served")
	// Well before the flood's handshakes time out: not queued behind them.
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("an honest client took %v to connect and echo during the flood", d)
	}
	waitFor(t, 10*time.Second, "the flood's handshakes timed out", func() bool {
		return ts.Srv.Stats().HandshakeFailures["timeout"] == 16
	})
}

// noLeaks checks, once the test's server has shut down (cleanups run last
// registered first), that no goroutine started during the test is left:
// no handshake goroutine outlives its handshake or the server.
func noLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

// byteConn writes one byte per write call, so every TLS record reaches
// the server split byte by byte.
type byteConn struct{ net.Conn }

func (b byteConn) Write(p []byte) (int, error) {
	for i := range p {
		if _, err := b.Conn.Write(p[i : i+1]); err != nil {
			return i, err
		}
	}
	return len(p), nil
}

// dialThrough upgrades over a TLS connection made of raw by the test.
func dialThrough(t *testing.T, ts *tlsServer, raw net.Conn, path string) (*wstest.Conn, *tls.Conn) {
	t.Helper()
	tc := tls.Client(raw, &tls.Config{RootCAs: ts.ca.Pool(), ServerName: "127.0.0.1"})
	d := ws.Dialer{Timeout: 10 * time.Second, NetDial: func(context.Context, string, string) (net.Conn, error) { return tc, nil }}
	_, br, _, err := d.Dial(context.Background(), "ws://"+ts.Addr+path)
	if err != nil {
		t.Fatalf("upgrade over TLS: %v", err)
	}
	c := wstest.NewConn(tc, br, 10*time.Second)
	t.Cleanup(func() { c.Close() })
	return c, tc
}

// TestTLSByteByByte: the handshake, the upgrade and messages, every TLS
// record split into one-byte writes.
func TestTLSByteByByte(t *testing.T) {
	ts := startTLS(t, nil)
	raw, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := dialThrough(t, ts, byteConn{raw}, "/echo")
	for _, msg := range []string{"a", strings.Repeat("b", 300), "c"} {
		echoOnce(t, c, msg)
	}
}

// TestTLSBadRecords: after the handshake, an oversized record, a record
// that does not decrypt, and garbage each end the connection at once
// (crypto/tls's alert, then the close), logged as 1006.
func TestTLSBadRecords(t *testing.T) {
	cases := map[string][]byte{
		"oversized": {0x17, 0x03, 0x03, 0xff, 0xff, 1, 2, 3},
		"bad MAC":   append([]byte{0x17, 0x03, 0x03, 0x00, 0x20}, make([]byte, 0x20)...),
		"garbage":   []byte("GET / HTTP/1.1\r\n\r\n"),
	}
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ts := startTLS(t, nil)
			raw, err := net.Dial("tcp", ts.Addr)
			if err != nil {
				t.Fatal(err)
			}
			c, _ := dialThrough(t, ts, raw, "/echo")
			echoOnce(t, c, "before")
			if _, err := raw.Write(bad); err != nil {
				t.Fatal(err)
			}
			expectHangup(t, raw, 3*time.Second)
			if codes := waitCloseCodes(t, ts.Server, 1, 3*time.Second); codes[0] != 1006 {
				t.Fatalf("close codes %v, want 1006", codes)
			}
		})
	}
}

// TestTLSGarbageHandshake: bytes that are not TLS, and a plaintext
// WebSocket upgrade, end at once with the tls reason (the upgrade gets
// the 400 a plain HTTP request gets).
func TestTLSGarbageHandshake(t *testing.T) {
	ts := startTLS(t, nil)
	nc, err := net.Dial("tcp", ts.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	_, _ = nc.Write([]byte("\x00\x01\x02\x03\x04\x05 not tls at all"))
	expectHangup(t, nc, 2*time.Second)
	_, err = wstest.DialContext(context.Background(), ts.URL("/echo"))
	if err == nil || !strings.Contains(err.Error(), "400") {
		t.Fatalf("plaintext upgrade to the TLS port: %v, want a 400", err)
	}
	waitFor(t, 2*time.Second, "two tls failures", func() bool { return ts.Srv.Stats().HandshakeFailures["tls"] == 2 })
}

// TestTLSCloseNotify: a client that sends close_notify (no close frame)
// or drops the TCP connection ends with 1006; a close handshake ends with
// chatd's close_notify, so the client reads a clean EOF.
func TestTLSCloseNotify(t *testing.T) {
	ts := startTLS(t, nil)
	c, tc := dialThrough(t, ts, mustDial(t, ts.Addr), "/echo")
	echoOnce(t, c, "x")
	if err := tc.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	waitCloseCodes(t, ts.Server, 1, 3*time.Second)

	raw := mustDial(t, ts.Addr)
	c, _ = dialThrough(t, ts, raw, "/echo")
	echoOnce(t, c, "y")
	raw.Close()
	codes := waitCloseCodes(t, ts.Server, 2, 3*time.Second)

	c, tc = dialThrough(t, ts, mustDial(t, ts.Addr), "/echo")
	echoOnce(t, c, "z")
	if err := c.WriteClose(1000, "bye"); err != nil {
		t.Fatal(err)
	}
	if code := readCloseCode(t, c, 3*time.Second); code != 1000 {
		t.Fatalf("close code %d", code)
	}
	_ = tc.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := tc.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("after the close handshake the client read %v, want io.EOF (close_notify)", err)
	}
	codes = waitCloseCodes(t, ts.Server, 3, 3*time.Second)
	if codes[0] != 1006 || codes[1] != 1006 || codes[2] != 1000 {
		t.Fatalf("close codes %v, want [1006 1006 1000]", codes)
	}
}

func mustDial(t *testing.T, addr string) net.Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// TestTLSBackpressure: thousands of messages pipelined in a few TLS
// reads through a tiny actor queue. Reading pauses while the queue is full
// with complete records still inside crypto/tls, where epoll cannot see
// them; every message must still be echoed, in order.
func TestTLSBackpressure(t *testing.T) {
	ts := startTLS(t, func(c *server.Config) { c.Limits.QueueSize = 4 })
	c := wstest.Dial(t, ts.wss("/echo"), wstest.WithTLS(ts.clientTLS()))
	const n = 3000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		frames := make([]wstest.Frame, 0, 100)
		for i := 0; i < n; i += 100 {
			frames = frames[:0]
			for j := i; j < i+100; j++ {
				frames = append(frames, wstest.Text([]byte(msgN(j))))
			}
			if err := c.WriteCoalesced(frames...); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := range n {
		got, err := c.ReadText(10 * time.Second)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if got != msgN(i) {
			t.Fatalf("message %d: got %q", i, got)
		}
	}
	wg.Wait()
}

func msgN(i int) string {
	return "message " + strings.Repeat("*", i%50) + string(rune('a'+i%26)) + itoa(i)
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		if i /= 10; i == 0 {
			return string(b[n:])
		}
	}
}

// holdConn passes writes through, except between hold and flush, when it
// gathers them to send in one write call.
type holdConn struct {
	net.Conn
	mu      sync.Mutex
	holding bool
	buf     []byte
}

func (h *holdConn) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.holding {
		h.buf = append(h.buf, p...)
		return len(p), nil
	}
	return h.Conn.Write(p)
}

func (h *holdConn) hold() { h.mu.Lock(); h.holding = true; h.mu.Unlock() }

func (h *holdConn) flush() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.holding = false
	_, err := h.Conn.Write(h.buf)
	h.buf = nil
	return err
}

// TestTLSRecordsHeldInCryptoTLS: "pause" and 20 short messages, each in a
// TLS record of its own (1 KB in all), reach the server in one write, and
// the client then sends nothing. The server reads them all from the
// socket at once (one read of crypto/tls's buffer); the
// session pauses reading at the first, so the rest stay complete records
// inside crypto/tls, on an empty socket that epoll will never report
// again. Once the session resumes they must all be echoed, in order (the
// loop posts itself a read).
func TestTLSRecordsHeldInCryptoTLS(t *testing.T) {
	var seen atomic.Int64
	conns := make(chan *server.Conn, 1)
	ep := server.EndpointFunc(func(c *server.Conn) server.Session {
		conns <- c
		return pauser{c, &seen}
	})
	ca := testcert.NewCA(t, "chatd test CA")
	certFile, keyFile := ca.Server(t, "held").Files(t, t.TempDir())
	ts := startTLSWith(t, certFile, keyFile, nil, map[string]server.Endpoint{"/p": ep})
	ts.ca = ca
	hc := &holdConn{Conn: mustDial(t, ts.Addr)}
	c, tc := dialThrough(t, ts, hc, "/p")
	sc := <-conns
	const n = 20
	short := func(i int) string { return "m" + itoa(i) }
	hc.hold()
	for i := -1; i < n; i++ {
		m := "pause"
		if i >= 0 {
			m = short(i)
		}
		if _, err := tc.Write(wstest.Text([]byte(m)).Bytes()); err != nil { // one record each
			t.Fatal(err)
		}
	}
	if err := hc.flush(); err != nil {
		t.Fatal(err)
	}
	c.ExpectText(t, "pause")
	c.ExpectQuiet(t, 200*time.Millisecond)
	if err := sc.Notify("resume"); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		got, err := c.ReadText(5 * time.Second)
		if err != nil {
			t.Fatalf("message %d of %d: %v", i, n, err)
		}
		if got != short(i) {
			t.Fatalf("message %d: got %q", i, got)
		}
	}
}
