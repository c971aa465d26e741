package server_test

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

// dialWS opens a WebSocket client connection to url.
func dialWS(tb testing.TB, url string) net.Conn {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, br, _, err := ws.Dial(ctx, url)
	if err != nil {
		tb.Fatalf("dial %s: %v", url, err)
	}
	if br != nil {
		tb.Fatalf("server sent data before the handshake completed")
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// echoOnce sends msg and waits for it to come back.
func echoOnce(tb testing.TB, c net.Conn, msg string) {
	tb.Helper()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if err := wsutil.WriteClientText(c, []byte(msg)); err != nil {
		tb.Fatalf("write: %v", err)
	}
	got, err := wsutil.ReadServerText(c)
	if err != nil {
		tb.Fatalf("read echo: %v", err)
	}
	if string(got) != msg {
		tb.Fatalf("echo = %q, want %q", got, msg)
	}
}

// readCloseCode reads frames until a close frame and returns its code; data
// frames before it are skipped. It fails if none arrives within d.
func readCloseCode(tb testing.TB, c net.Conn, d time.Duration) ws.StatusCode {
	tb.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	for {
		f, err := ws.ReadFrame(c)
		if err != nil {
			tb.Fatalf("no close frame: %v", err)
		}
		if f.Header.OpCode == ws.OpClose {
			if len(f.Payload) < 2 {
				return 0
			}
			return ws.StatusCode(binary.BigEndian.Uint16(f.Payload))
		}
	}
}

// expectEOF waits until the server has closed the TCP connection.
func expectEOF(tb testing.TB, c net.Conn, d time.Duration) {
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
	h := ws.Header{Fin: fin, OpCode: op, Length: int64(length), Masked: true}
	var b []byte
	w := &byteWriter{&b}
	_ = ws.WriteHeader(w, h)
	return b
}

type byteWriter struct{ b *[]byte }

func (w *byteWriter) Write(p []byte) (int, error) { *w.b = append(*w.b, p...); return len(p), nil }
