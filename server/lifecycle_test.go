package server_test

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/wstest"
)

// dialSmallWindow dials with a small receive buffer, so a client that does
// not read stops the server's writes after little data.
func dialSmallWindow(t *testing.T, url string) *wstest.Conn {
	t.Helper()
	return wstest.Dial(t, url, wstest.WithReceiveBuffer(16<<10))
}

// TestSlowConsumer: a client that floods /echo and never reads is dropped
// as a slow consumer (4008 logged) at once: the server does not go on
// reading and decoding its flood until close_timeout, and reads at most
// limits.closing_read_bytes (plus the read in progress) after deciding to
// close. Another client is unaffected.
func TestSlowConsumer(t *testing.T) {
	const closingRead = 64 << 10
	ts := testserver.Start(t, func(c *server.Config) {
		c.Limits.WriteBudgetBytes = 256 << 10
		c.Limits.ClosingReadBytes = closingRead
		c.CloseTimeout = 10 * time.Second // the old code read the flood this long
	})
	slow := dialSmallWindow(t, ts.URL("/echo"))
	other := dialWS(t, ts.URL("/echo"))

	payload := make([]byte, 16<<10)
	frame := append(maskedHeader(ws.OpBinary, true, len(payload)), payload...)
	slow.SetTimeout(20 * time.Second)
	sent, sentAtDecision := 0, -1
	var decided time.Time
	var writeErr error
	for sent < 64<<20 {
		if writeErr = slow.WriteRaw(frame); writeErr != nil {
			break // the server dropped the connection: expected
		}
		sent += len(frame)
		if sentAtDecision < 0 && hasCode(ts.ClosingCodes(), 4008) {
			sentAtDecision, decided = sent, time.Now()
		}
		if sentAtDecision >= 0 && hasCode(ts.CloseCodes(), 4008) {
			break
		}
		if sent%(1<<20) == 0 {
			echoOnce(t, other, "unaffected") // others keep being served meanwhile
		}
	}
	if sentAtDecision < 0 { // dropped before the test saw the decision
		waitFor(t, time.Second, "4008 after the write error", func() bool { return hasCode(ts.ClosingCodes(), 4008) })
		sentAtDecision, decided = sent, time.Now()
	}
	waitFor(t, 2*time.Second, "the connection to be torn down with 4008", func() bool {
		return hasCode(ts.CloseCodes(), 4008)
	})
	tornDown := time.Since(decided)
	read := server.ClosingBytesRead(ts.Srv)
	t.Logf("the client sent %d KiB, %d KiB of it after the test saw the decision (write error: %v); "+
		"the server read %d bytes after deciding and tore down within %v of the test seeing it",
		sent>>10, (sent-sentAtDecision)>>10, writeErr, read, tornDown.Round(time.Millisecond))
	if limit := int64(closingRead + server.ReadBufferSize); read > limit {
		t.Errorf("server read %d bytes after deciding to close, want at most %d", read, limit)
	}
	echoOnce(t, other, "still unaffected")
	// The slow client finally reads: the echoes the kernel had, then the
	// end (no close frame: it could not be sent after the pending data).
	deadline := time.Now().Add(5 * time.Second)
	for {
		h, p, err := slow.ReadFrame(time.Until(deadline))
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatal("slow client's connection still open")
			}
			break
		}
		if h.OpCode == ws.OpClose {
			t.Fatalf("got a close frame %q, want the connection dropped", p)
		}
	}
}

// TestKeepalive: a client that answers pings stays; one that never answers
// is closed after ping_interval + pong_timeout.
func TestKeepalive(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) {
		c.Keepalive.PingInterval = 100 * time.Millisecond
		c.Keepalive.PongTimeout = 200 * time.Millisecond
	})
	live := dialWS(t, ts.URL("/echo"))
	dead := dialWS(t, ts.URL("/echo"))

	// The live client answers every ping it gets for a while.
	pings := 0
	deadline := time.Now().Add(time.Second)
	for time.Now().Before(deadline) {
		h, p, err := live.ReadFrame(time.Until(deadline))
		if err != nil {
			break
		}
		if h.OpCode == ws.OpPing {
			pings++
			live.Send(t, wstest.Pong(p))
		}
	}
	if pings < 2 {
		t.Fatalf("got %d pings in 1s with a 100ms interval", pings)
	}
	echoOnce(t, live, "alive after pings")

	// The dead client got a ping, never answered, and was closed with 4003.
	if h, _, err := dead.ReadFrame(5 * time.Second); err != nil || h.OpCode != ws.OpPing {
		t.Fatalf("first frame = %v, %v; want a ping", h.OpCode, err)
	}
	if code := readCloseCode(t, dead, 5*time.Second); code != 4003 {
		t.Fatalf("close code = %d, want 4003", code)
	}
	expectEOF(t, dead, 5*time.Second)
}

// TestCloseHandshake: the server answers a client close with the same code
// and closes the TCP connection.
func TestCloseHandshake(t *testing.T) {
	ts := testserver.Start(t, nil)
	c := dialWS(t, ts.URL("/echo"))
	c.Send(t, wstest.Close(1000, "bye"))
	if code := readCloseCode(t, c, 5*time.Second); code != 1000 {
		t.Fatalf("close reply = %d, want 1000", code)
	}
	expectEOF(t, c, 5*time.Second)
	waitFor(t, 5*time.Second, "close logged", func() bool { return hasCode(ts.CloseCodes(), 1000) })
	e := ts.Logs.FilterMessage("connection closed").All()[0].ContextMap()
	if e["reason"] != "bye" {
		t.Errorf("logged reason = %v, want bye", e["reason"])
	}
}

// TestShutdown: Shutdown sends 1001 to every connection and waits for them;
// a client that never answers is cut off after close_timeout.
func TestShutdown(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) { c.CloseTimeout = 300 * time.Millisecond })
	polite := dialWS(t, ts.URL("/echo"))
	mute := dialWS(t, ts.URL("/echo"))
	echoOnce(t, polite, "before")
	echoOnce(t, mute, "before")

	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done <- ts.Srv.Shutdown(ctx)
	}()
	if code := readCloseCode(t, polite, 5*time.Second); code != 1001 {
		t.Fatalf("close = %d, want 1001", code)
	}
	_ = polite.WriteClose(1001, "")
	if code := readCloseCode(t, mute, 5*time.Second); code != 1001 {
		t.Fatalf("close = %d, want 1001", code)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("shutdown: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("shutdown did not return")
	}
	expectEOF(t, polite, time.Second)
	expectEOF(t, mute, time.Second)
	if _, err := net.Dial("tcp", ts.Addr); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

// TestCloseThenHalfClose: a client that sends a message and a close frame
// and half-closes TCP at once still gets the echo and the close reply: the
// end of input is queued behind what came before it.
func TestCloseThenHalfClose(t *testing.T) {
	ts := testserver.Start(t, nil)
	c := dialWS(t, ts.URL("/echo"))
	c.SendRaw(t, wstest.Concat(wstest.Text([]byte("last")), wstest.Close(1000, "done"))) // one write
	if err := c.NetConn().(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if got, err := c.ReadText(5 * time.Second); err != nil || got != "last" {
		t.Fatalf("echo = %q, %v", got, err)
	}
	if code := readCloseCode(t, c, 5*time.Second); code != 1000 {
		t.Fatalf("close reply = %d, want 1000", code)
	}
	expectEOF(t, c, 5*time.Second)
}
