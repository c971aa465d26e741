package server_test

import (
	"context"
	"net"
	"net/netip"
	"runtime"
	"testing"
	"time"

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
