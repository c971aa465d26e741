package server_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
)

// TestTLSKeyUpdateFlood: a TLS 1.3 client that never reads and sends
// KeyUpdate requests makes crypto/tls write a KeyUpdate of its own for
// each (27 bytes for 27), with no WebSocket output involved: one byte of
// application data after every 15 (an unsolicited pong once upgraded, a
// byte of a header line before) keeps crypto/tls's "non-advancing
// records" limit, keepalive and handshake.max_header_bytes at bay. Once
// the kernel buffers are full that ciphertext waits in the pending buffer,
// which must stay within write_budget_bytes: the connection is dropped as
// a slow consumer long before the client has pushed 64 budgets.
func TestTLSKeyUpdateFlood(t *testing.T) {
	for _, upgraded := range []bool{true, false} {
		name := map[bool]string{true: "upgraded", false: "in the request head"}[upgraded]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			const budget = 64 << 10
			ts := startTLSSndbuf(t, 16<<10, func(c *server.Config) {
				c.Limits.WriteBudgetBytes = budget
				c.Limits.MaxMessageBytes = 4096
				c.Handshake.MaxHeaderBytes = 64 << 10
			}, nil)
			r, _ := dialRawTLS13(t, ts, 4096)
			filler := maskedHeader(ws.OpPong, true, 0)
			first := []byte(upgradeRequest("/echo", ""))
			if !upgraded {
				filler, first = []byte("a"), []byte("GET /echo HTTP/1.1\r\nX-Pad: ")
			}
			if _, err := r.raw.Write(r.appData(nil, first)); err != nil {
				t.Fatal(err)
			}
			const limit = 64 * budget
			sent := 0
			var err error
			var batch []byte
			for sent < limit && err == nil {
				batch = batch[:0]
				for range 16 {
					for range 15 {
						batch = r.keyUpdate(t, batch)
					}
					batch = r.appData(batch, filler)
				}
				_ = r.raw.SetWriteDeadline(time.Now().Add(10 * time.Second))
				var n int
				n, err = r.raw.Write(batch)
				sent += n
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the server stopped reading after %d bytes but kept the connection", sent)
			}
			if err == nil {
				t.Fatalf("the server read %d KiB of KeyUpdate requests from a client that reads nothing, and answered each into a buffer: pending ciphertext is not bounded by write_budget_bytes (%d)", sent>>10, budget)
			}
			t.Logf("dropped after the client sent %d KiB", sent>>10)
			if upgraded {
				if codes := waitCloseCodes(t, ts.Server, 1, 5*time.Second); codes[0] != int(server.CloseSlowConsumer) {
					t.Fatalf("close codes %v, want 4008", codes)
				}
			}
			waitFor(t, 5*time.Second, "the connection released", func() bool { return ts.Srv.Stats().Open == 0 })
		})
	}
}
