package server_test

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/wstest"
)

// TestTLSShutdownMidHandshake: a server holding, at once, TLS handshakes
// stalled half way from 200 addresses (far more than
// handshake.max_concurrent), clients whose TLS handshake is done but whose
// HTTP request never comes, and upgraded clients that never speak, with
// handshake.timeout a minute off. Goroutines stay within max_concurrent
// (one per handshake, none per connection); Shutdown returns in seconds,
// not at the handshake timeout; afterwards no goroutine (noLeaks) and no
// file descriptor is left.
func TestTLSShutdownMidHandshake(t *testing.T) {
	noLeaks(t)
	fds := openFDs(t)
	const maxConcurrent = 50
	ts := startTLS(t, func(c *server.Config) {
		c.Handshake.Timeout = time.Minute
		c.Handshake.MaxConcurrent = maxConcurrent
		c.Connections.MaxHandshakesPerAddress = 4
		c.Connections.RatePerAddress, c.Connections.BurstPerAddress = 10000, 10000
	})
	base := runtime.NumGoroutine()
	var upgraded []*wstest.Conn
	for range 5 {
		c := wstest.Dial(t, ts.wss("/echo"), wstest.WithTLS(ts.clientTLS()))
		echoOnce(t, c, "then silent")
		upgraded = append(upgraded, c)
	}
	for range 3 { // within max_handshakes_per_address
		ts.dialTLS(t, ts.clientTLS()) // the TLS handshake, then no request
	}
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	const flood = 200
	for i := range flood {
		a := netip.AddrFrom4([4]byte{127, 0, 1, byte(1 + i)})
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: a.AsSlice()}, Timeout: 5 * time.Second}
		c, err := d.Dial("tcp", ts.Addr)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write(halfHello)
		conns = append(conns, c)
	}
	waitFor(t, 10*time.Second, "the flood admitted up to max_concurrent, the rest refused", func() bool {
		return ts.Srv.Stats().Refused["max_handshakes"] >= flood-maxConcurrent
	})
	if g := runtime.NumGoroutine() - base; g > maxConcurrent+10 {
		t.Errorf("%d goroutines more than before the flood; want at most max_concurrent (%d) handshakes", g, maxConcurrent)
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := ts.Srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("shutdown took %v with handshakes stalled (handshake.timeout 1m)", d)
	}
	for _, c := range upgraded {
		if code := readCloseCode(t, c, 5*time.Second); code != 1001 {
			t.Errorf("an upgraded client got %d, want 1001", code)
		}
	}
	for _, c := range conns {
		c.Close()
	}
	conns = nil
	waitFor(t, 5*time.Second, "every server fd closed", func() bool { return openFDs(t) <= fds+len(upgraded)+3 })
	t.Logf("shutdown took %v", time.Since(start))
}

// TestTLSAbruptEnds: a client that closes half way through its TLS
// handshake, one reset half way through a record after the upgrade, and
// one that sends close_notify followed by more data each end at once
// (peer_gone, 1006, 1006), with nothing left open. (A hang-up inside a
// record reaches chatd as io.ErrUnexpectedEOF, which was counted as a tls
// failure, a bad client, and its socket lingered.)
func TestTLSAbruptEnds(t *testing.T) {
	noLeaks(t)
	ts := startTLS(t, func(c *server.Config) { c.Handshake.Timeout = time.Minute })
	nc := mustDial(t, ts.Addr)
	_, _ = nc.Write(halfHello)
	nc.Close()
	waitFor(t, 5*time.Second, "the half handshake counted as peer_gone", func() bool {
		return ts.Srv.Stats().HandshakeFailures["peer_gone"] == 1
	})

	r, _ := dialRawTLS13(t, ts, 0)
	b := r.appData(nil, []byte(upgradeRequest("/echo", "")))
	rec := r.appData(nil, append(maskedHeader(ws.OpText, true, 100), make([]byte, 100)...))
	if _, err := r.raw.Write(append(b, rec[:len(rec)/2]...)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "the upgrade", func() bool { return ts.Srv.Stats().Open == 1 && len(ts.Srv.Stats().Endpoints) > 0 })
	_ = r.raw.(*net.TCPConn).SetLinger(0)
	r.raw.Close() // RST
	if codes := waitCloseCodes(t, ts.Server, 1, 5*time.Second); codes[0] != 1006 {
		t.Fatalf("reset mid-record: close codes %v, want 1006", codes)
	}

	r, _ = dialRawTLS13(t, ts, 0)
	b = r.appData(nil, []byte(upgradeRequest("/echo", "")))
	b = r.seal(b, 0x15, []byte{1, 0}) // close_notify
	b = r.appData(b, append(maskedHeader(ws.OpText, true, 5), "after"...))
	if _, err := r.raw.Write(b); err != nil {
		t.Fatal(err)
	}
	if codes := waitCloseCodes(t, ts.Server, 2, 5*time.Second); codes[1] != 1006 {
		t.Fatalf("close_notify then data: close codes %v, want 1006", codes)
	}
	waitFor(t, 5*time.Second, "nothing left open", func() bool { return ts.Srv.Stats().Open == 0 })
}
