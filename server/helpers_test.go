package server_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server/wstest"
)

// dialWS opens a WebSocket client connection to url, failing tb if the
// server sent anything before the client spoke.
func dialWS(tb testing.TB, url string) *wstest.Conn {
	tb.Helper()
	c := wstest.Dial(tb, url)
	if n := c.Buffered(); n > 0 {
		tb.Fatalf("server sent %d bytes right after the handshake", n)
	}
	return c
}

// echoOnce sends msg and waits for it to come back.
func echoOnce(tb testing.TB, c *wstest.Conn, msg string) {
	tb.Helper()
	c.SendText(tb, msg)
	c.ExpectText(tb, msg)
}

// readCloseCode reads frames until a close frame and returns its code; data
// frames before it are skipped. It fails if none arrives within d.
func readCloseCode(tb testing.TB, c *wstest.Conn, d time.Duration) ws.StatusCode {
	tb.Helper()
	f, err := c.ReadCloseFrame(d)
	if err != nil {
		tb.Fatalf("no close frame: %v", err)
	}
	return f.Code
}

// expectEOF fails unless the server ends the connection within d without
// sending anything more.
func expectEOF(tb testing.TB, c *wstest.Conn, d time.Duration) {
	tb.Helper()
	if err := c.ReadEOF(d); err != nil {
		tb.Fatal(err)
	}
}

// expectHangup waits until the server closes a plain TCP connection (no
// WebSocket), discarding whatever it sends first.
func expectHangup(tb testing.TB, c net.Conn, d time.Duration) {
	tb.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	buf := make([]byte, 4096)
	for {
		_, err := c.Read(buf)
		if err == nil {
			continue
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			tb.Fatalf("connection still open after %v", d)
		}
		return // EOF or reset: closed
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(tb testing.TB, d time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hasCode reports whether codes contains code.
func hasCode(codes []int, code ws.StatusCode) bool {
	for _, c := range codes {
		if c == int(code) {
			return true
		}
	}
	return false
}

// maskedHeader returns the header of a masked client frame with an all-zero
// mask, so the payload can be written as is.
func maskedHeader(op ws.OpCode, fin bool, length int) []byte {
	return wstest.EncodeHeader(fin, 0, op, true, uint64(length))
}
