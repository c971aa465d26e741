package server_test

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/wstest"
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
			if err == nil {
				t.Fatalf("the server read %d KiB of KeyUpdate requests from a client that reads nothing, and answered each into a buffer: pending ciphertext is not bounded by write_budget_bytes (%d)", sent>>10, budget)
			}
			// A write that timed out: the server stopped reading (the
			// budget) and has not closed the socket yet, or a loaded box
			// read slowly. Either way the drop must follow, within
			// close_timeout and a sweep, plus slack for a loaded box.
			var ne net.Error
			timedOut := errors.As(err, &ne) && ne.Timeout()
			t.Logf("the client's writes ended after %d KiB (timed out: %v)", sent>>10, timedOut)
			if upgraded {
				if codes := waitCloseCodes(t, ts.Server, 1, 20*time.Second); codes[0] != int(server.CloseSlowConsumer) {
					t.Fatalf("close codes %v, want 4008", codes)
				}
			}
			waitFor(t, 20*time.Second, "the connection released", func() bool { return ts.Srv.Stats().Open == 0 })
		})
	}
}

// flusher sends n numbered frames of size bytes for each message it is
// sent, each followed by OnFlushed (written is the highest frame number
// reported written plus one, settled counts the callbacks), and closes
// after "last".
type flusher struct {
	c       *server.Conn
	n, size int
	next    *int
	written *atomic.Int64
	settled *atomic.Int64
}

func (f flusher) Message(_ server.MessageType, b []byte) {
	for range f.n {
		i := *f.next
		*f.next++
		frame := []byte(fmt.Sprintf("%06d", i))
		frame = append(frame, bytes.Repeat([]byte{'.'}, f.size-len(frame))...)
		if f.c.Send(server.Text, frame) != nil {
			break
		}
		f.c.OnFlushed(func(written bool) {
			if written && int64(i+1) > f.written.Load() {
				f.written.Store(int64(i + 1))
			}
			f.settled.Add(1)
		})
	}
	if string(b) == "last" {
		f.c.Close(4000, "done")
	}
}

func (flusher) Notify(any)                       {}
func (flusher) Closed(server.StatusCode, string) {}

// flushServer serves /flush (a flusher of n frames of 1000 bytes) on a
// 16 KiB send buffer.
func flushServer(t *testing.T, n int, written, settled *atomic.Int64) *tlsServer {
	ep := server.EndpointFunc(func(c *server.Conn) server.Session {
		return flusher{c: c, n: n, size: 1000, next: new(int), written: written, settled: settled}
	})
	return startTLSSndbuf(t, 16<<10, func(c *server.Config) {
		c.CloseTimeout = 300 * time.Millisecond
	}, map[string]server.Endpoint{"/flush": ep})
}

func readNumbered(t *testing.T, c *wstest.Conn, i int) error {
	msg, err := c.ReadText(5 * time.Second)
	if err != nil {
		return err
	}
	if want := fmt.Sprintf("%06d", i); !strings.HasPrefix(msg, want) {
		t.Fatalf("frame %d: got %.6q", i, msg)
	}
	return nil
}

// TestTLSWrittenMeansKernelTook: OnFlushed's written=true (the chat's
// "delivered") must mean the frame's ciphertext was taken by the socket,
// not that it was encrypted into the pending buffer. A client with a tiny
// receive window asks for 200 KB and does not read; the server closes at
// once, and its close times out with ciphertext still pending, which is
// dropped. Every frame reported written must then reach the client,
// which reads what the kernel holds, in order.
func TestTLSWrittenMeansKernelTook(t *testing.T) {
	var written, settled atomic.Int64
	const n = 200
	ts := flushServer(t, n, &written, &settled)
	c := wstest.Dial(t, ts.wss("/flush"), wstest.WithTLS(ts.clientTLS()), wstest.WithReceiveBuffer(4096))
	c.SendText(t, "last")
	waitCloseCodes(t, ts.Server, 1, 10*time.Second) // close_timeout: torn down, pending dropped
	if s := settled.Load(); s != n {
		t.Fatalf("%d of %d OnFlushed callbacks called after teardown", s, n)
	}
	w := int(written.Load())
	got := 0
	for readNumbered(t, c, got) == nil {
		got++
	}
	if got < w {
		t.Fatalf("the server reported %d frames written but the client received %d: frames still in the pending buffer were called written", w, got)
	}
	if got == n {
		t.Fatalf("all %d frames reached the client: the test wants ciphertext left pending", n)
	}
	t.Logf("%d frames reported written, %d received (the rest was dropped with the pending ciphertext)", w, got)
}

// TestTLSWrittenWhileMoreQueued: frames whose ciphertext the socket has
// taken are reported written even while later output is still pending.
// 200 KB are encrypted into the pending buffer; 200 KB more are queued
// behind them; the client reads the first 200 frames and stops. Those
// must be reported written now, not once the second batch is out too (a
// recipient behind a steady stream would never hear "delivered").
func TestTLSWrittenWhileMoreQueued(t *testing.T) {
	var written, settled atomic.Int64
	const n = 200
	ts := flushServer(t, n, &written, &settled)
	c := wstest.Dial(t, ts.wss("/flush"), wstest.WithTLS(ts.clientTLS()), wstest.WithReceiveBuffer(4096))
	c.SendText(t, "first")
	if err := readNumbered(t, c, 0); err != nil { // the first batch is out of c.out
		t.Fatal(err)
	}
	c.SendText(t, "second") // queued behind pending ciphertext
	for i := 1; i < n; i++ {
		if err := readNumbered(t, c, i); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
	}
	waitFor(t, 5*time.Second, "the 200 frames the client read reported written", func() bool {
		return written.Load() >= n
	})
}

// TestTLSPingFloodNeverRead: a client that floods pings and reads
// nothing: the pongs' ciphertext, pending behind a 16 KiB send buffer,
// reaches write_budget_bytes and the connection is dropped with 4008,
// the flood read no further than the closing limits allow.
func TestTLSPingFloodNeverRead(t *testing.T) {
	const budget = 64 << 10
	ts := startTLSSndbuf(t, 16<<10, func(c *server.Config) {
		c.Limits.WriteBudgetBytes = budget
		c.Limits.MaxMessageBytes = 4096
	}, nil)
	c := wstest.Dial(t, ts.wss("/echo"), wstest.WithTLS(ts.clientTLS()), wstest.WithReceiveBuffer(4096))
	ping := wstest.Ping(bytes.Repeat([]byte{'p'}, 125))
	frames := make([]wstest.Frame, 64)
	for i := range frames {
		frames[i] = ping
	}
	sent := 0
	for sent < 64*budget {
		if err := c.WriteCoalesced(frames...); err != nil {
			break
		}
		sent += 64 * 131
	}
	if codes := waitCloseCodes(t, ts.Server, 1, 10*time.Second); codes[0] != int(server.CloseSlowConsumer) {
		t.Fatalf("close codes %v, want 4008", codes)
	}
	t.Logf("dropped after the client sent about %d KiB of pings", sent>>10)
}
