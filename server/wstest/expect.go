package wstest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// ExpectMessage fails tb unless the next message (see ReadMessage) arrives
// within the Conn's timeout with opcode op and payload want.
func (c *Conn) ExpectMessage(tb testing.TB, op ws.OpCode, want []byte) {
	tb.Helper()
	got, p, err := c.ReadMessage(c.Timeout())
	if err != nil {
		tb.Fatalf("want %s message of %s: %v", opName(op), preview(want), err)
	}
	if got != op {
		tb.Fatalf("want %s message of %s, got %s", opName(op), preview(want), describeMessage(got, p))
	}
	if !bytes.Equal(p, want) {
		tb.Fatalf("want %s message of %s, got %s", opName(op), preview(want), payloadDiff(p, want))
	}
}

// ExpectPong fails tb unless the next message is a pong carrying want.
func (c *Conn) ExpectPong(tb testing.TB, want []byte) {
	tb.Helper()
	c.ExpectMessage(tb, ws.OpPong, want)
}

// ReadCloseFrame reads until a close frame arrives within timeout (0: no
// deadline), skipping any other frame without answering it, and returns it
// parsed by ParseClose. It does not answer the close and leaves the
// connection as it is.
func (c *Conn) ReadCloseFrame(timeout time.Duration) (CloseFrame, error) {
	return c.readCloseFrame(timeout, false, nil)
}

// ExpectCloseFrame is ReadCloseFrame within the Conn's timeout that logs
// the frames it skips and fails tb unless the close is valid and its code is
// one of want (any code if want is empty; 1005 stands for an empty
// payload).
func (c *Conn) ExpectCloseFrame(tb testing.TB, want ...ws.StatusCode) CloseFrame {
	tb.Helper()
	return c.expectCloseFrame(tb, false, want)
}

// ExpectCloseFrameNext is ExpectCloseFrame without skipping: the very next
// frame must be the close.
func (c *Conn) ExpectCloseFrameNext(tb testing.TB, want ...ws.StatusCode) CloseFrame {
	tb.Helper()
	return c.expectCloseFrame(tb, true, want)
}

// ExpectClose is the whole closing handshake: ExpectCloseFrame, then, unless
// this Conn already sent a close frame, a close frame in reply echoing the
// server's code (RFC 6455 5.5.1), then ExpectEOF. Failing to write the reply
// is only logged: the server may already have ended the connection.
func (c *Conn) ExpectClose(tb testing.TB, want ...ws.StatusCode) CloseFrame {
	tb.Helper()
	return c.expectClose(tb, false, want)
}

// ExpectCloseNext is ExpectClose without skipping: the very next frame must
// be the close.
func (c *Conn) ExpectCloseNext(tb testing.TB, want ...ws.StatusCode) CloseFrame {
	tb.Helper()
	return c.expectClose(tb, true, want)
}

func (c *Conn) expectClose(tb testing.TB, strict bool, want []ws.StatusCode) CloseFrame {
	tb.Helper()
	f := c.expectCloseFrame(tb, strict, want)
	if err := c.answerClose(f); err != nil {
		tb.Logf("answering %v: %v", f, err)
	}
	c.ExpectEOF(tb)
	return f
}

// answerClose writes the close reply to the server's close f, unless this
// Conn already sent a close frame.
func (c *Conn) answerClose(f CloseFrame) error {
	if c.sentClose.Load() {
		return nil
	}
	reply := CloseEmpty()
	if f.Code != ws.StatusNoStatusRcvd {
		reply = Close(f.Code, "")
	}
	return c.Write(reply)
}

func (c *Conn) expectCloseFrame(tb testing.TB, strict bool, want []ws.StatusCode) CloseFrame {
	tb.Helper()
	skipped := func(h ws.Header, p []byte) { tb.Logf("skipping %s while waiting for close", describe(h, p)) }
	f, err := c.readCloseFrame(c.Timeout(), strict, skipped)
	if err != nil {
		tb.Fatalf("want close %v: %v", codes(want), err)
	}
	if len(want) > 0 && !slices.Contains(want, f.Code) {
		tb.Fatalf("want close %v, got %v", codes(want), f)
	}
	return f
}

// readCloseFrame reads until a close frame; any other frame is an error if
// strict, else passed to skipped (if not nil).
func (c *Conn) readCloseFrame(timeout time.Duration, strict bool, skipped func(ws.Header, []byte)) (CloseFrame, error) {
	deadline := deadlineAfter(timeout)
	for {
		h, p, err := c.readFrame(deadline)
		switch {
		case isEnd(err):
			return CloseFrame{}, fmt.Errorf("connection ended without a close frame: %w", err)
		case isTimeout(err):
			return CloseFrame{}, fmt.Errorf("no close frame within %v: %w", timeout, err)
		case err != nil:
			return CloseFrame{}, err
		}
		if h.OpCode == ws.OpClose {
			return ParseClose(p)
		}
		if strict {
			return CloseFrame{}, fmt.Errorf("got %s", describe(h, p))
		}
		if skipped != nil {
			skipped(h, p)
		}
	}
}

// ReadEOF returns nil if the server ends the TCP connection (EOF or reset)
// within timeout (0: no deadline) without sending anything more, and an
// error describing what happened instead. It closes the Conn.
func (c *Conn) ReadEOF(timeout time.Duration) error {
	defer c.Close()
	h, p, err := c.readFrame(deadlineAfter(timeout))
	switch {
	case err == nil:
		return fmt.Errorf("want end of connection, got %s", describe(h, p))
	case isEnd(err):
		return nil
	case isTimeout(err):
		return fmt.Errorf("want end of connection: still open after %v", timeout)
	default:
		return fmt.Errorf("want end of connection, got %w", err)
	}
}

// ExpectEOF is ReadEOF within the Conn's timeout that fails tb on error.
func (c *Conn) ExpectEOF(tb testing.TB) {
	tb.Helper()
	if err := c.ReadEOF(c.Timeout()); err != nil {
		tb.Fatal(err)
	}
}

// isEnd reports whether err is the peer ending the connection between frames.
func isEnd(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

func codes(want []ws.StatusCode) string {
	if len(want) == 0 {
		return "(any code)"
	}
	return fmt.Sprint(want)
}

func describeMessage(op ws.OpCode, p []byte) string {
	if op == ws.OpClose {
		if f, err := ParseClose(p); err == nil {
			return f.String()
		}
	}
	return fmt.Sprintf("%s message of %s", opName(op), preview(p))
}

// payloadDiff describes how got differs from want without dumping megabytes.
func payloadDiff(got, want []byte) string {
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	lo := max(0, i-8)
	return fmt.Sprintf("%d bytes, first difference at offset %d: got %q, want %q",
		len(got), i, got[lo:min(len(got), i+8)], want[lo:min(len(want), i+8)])
}
