package server_test

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/wstest"
)

// closerSession closes its connection with 4000 on the first message.
type closerSession struct{ c *server.Conn }

func (s closerSession) Message(server.MessageType, []byte) { s.c.Close(4000, "closed by the endpoint") }
func (closerSession) Notify(any)                           {}
func (closerSession) Closed(server.StatusCode, string)     {}

// TestClosingReadIsBounded: once chatd has decided to close a connection,
// a client that keeps sending instead of answering the close is read for at
// most limits.closing_read_bytes, then dropped: not read (and decoded)
// until close_timeout.
func TestClosingReadIsBounded(t *testing.T) {
	const closingRead = 64 << 10
	payload := make([]byte, 16<<10)
	valid := append(maskedHeader(ws.OpBinary, true, len(payload)), payload...)
	cases := []struct {
		name  string
		start []byte // what makes chatd decide to close
		code  ws.StatusCode
	}{
		{"after a protocol error", []byte{0x82, 0x05, 'h', 'e', 'l', 'l', 'o'}, ws.StatusProtocolError}, // unmasked
		{"after the endpoint closed", append(maskedHeader(ws.OpText, true, 2), "hi"...), 4000},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := testserver.StartWith(t, func(c *server.Config) {
				c.Limits.ClosingReadBytes = closingRead
				c.CloseTimeout = 10 * time.Second
			}, map[string]server.Endpoint{"/closer": server.EndpointFunc(func(c *server.Conn) server.Session {
				return closerSession{c}
			})})
			c := dialWS(t, ts.URL("/closer"))
			c.SendRaw(t, tc.start)
			waitFor(t, 5*time.Second, "the close to begin", func() bool { return hasCode(ts.ClosingCodes(), tc.code) })
			start := time.Now()
			// Flood valid frames, never reading; the kernel buffers on
			// both sides take a few MiB before writes block (each write
			// within the Conn's 5 s).
			sent := 0
			var err error
			for sent < 256<<20 && err == nil {
				err = c.WriteRaw(valid)
				sent += len(valid)
			}
			if ne := net.Error(nil); err == nil || errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("the client wrote %d MiB (%v) without being cut off", sent>>20, err)
			}
			waitFor(t, 2*time.Second, "the connection to be closed", func() bool { return hasCode(ts.CloseCodes(), tc.code) })
			read := server.ClosingBytesRead(ts.Srv)
			t.Logf("cut off after %v and %d KiB sent (%v); the server read %d bytes after deciding to close",
				time.Since(start).Round(time.Millisecond), sent>>10, err, read)
			if limit := int64(closingRead + server.ReadBufferSize); read > limit {
				t.Errorf("server read %d bytes while closing, want at most %d", read, limit)
			}
		})
	}
}

// TestFragmentedMessageTimeout (issue 7, item 7): a first fragment without
// FIN, then silence, used to hold its buffer forever. It is closed with
// 4002 within partial_frame_timeout plus a sweep interval.
func TestFragmentedMessageTimeout(t *testing.T) {
	const timeout = 200 * time.Millisecond
	ts := testserver.Start(t, func(c *server.Config) { c.Limits.PartialFrameTimeout = timeout })
	c := dialWS(t, ts.URL("/echo"))
	first := append(maskedHeader(ws.OpText, false, 5), "hello"...)
	start := time.Now()
	c.SendRaw(t, first)
	if code := readCloseCode(t, c, 5*time.Second); code != ws.StatusCode(server.CloseFrameTimeout) {
		t.Fatalf("close code = %d, want 4002", code)
	}
	// The sweeper runs every timeout/4; allow scheduling slack on top.
	took := time.Since(start)
	t.Logf("closed after %v", took.Round(time.Millisecond))
	if took < timeout || took > timeout+timeout/4+500*time.Millisecond {
		t.Fatalf("closed after %v, want %v plus a sweep interval", took, timeout)
	}
}

// TestCloseThenEOFWithBlockedOutput: a client that sends its last
// messages, a close frame and FIN (half-closing) before reading anything
// still gets every reply, then the close answer, then EOF: chatd does not
// drop output the socket has not taken yet because the peer's input ended.
func TestCloseThenEOFWithBlockedOutput(t *testing.T) {
	ts := testserver.Start(t, func(c *server.Config) { c.Limits.WriteBudgetBytes = 16 << 20 })
	c := wstest.Dial(t, ts.URL("/echo"), wstest.WithReceiveBuffer(4096), wstest.WithTimeout(30*time.Second))
	const n, size = 100, 60_000 // 6 MB of echoes: far more than the kernel buffers for a 4 KiB receiver
	msg := func(i int) []byte { return bytes.Repeat([]byte{byte(i)}, size) }
	for i := range n {
		c.Send(t, wstest.Binary(msg(i)))
	}
	c.Send(t, wstest.Close(4444, "bye"))
	if err := c.NetConn().(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		c.ExpectMessage(t, ws.OpBinary, msg(i))
	}
	c.ExpectCloseFrameNext(t, 4444)
	if err := c.ReadEOF(10 * time.Second); err != nil {
		t.Fatal(err)
	}
}
