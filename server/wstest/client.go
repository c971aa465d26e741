package wstest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// CloseError is the server's close frame, returned by ReadData and ReadText
// when it arrives where a data message was awaited (after the close was
// answered).
type CloseError struct{ CloseFrame }

func (e *CloseError) Error() string { return "wstest: server sent " + e.CloseFrame.String() }

// ReadData returns the next data message that arrives within timeout (0: no
// deadline), reading the way an application's client does: fragments are
// assembled and checked as ReadMessage does, a ping is answered with a pong
// (until this Conn has sent a close), a pong is skipped, and a close frame
// is answered with a close echoing its code (unless this Conn already sent
// one) and returned as a *CloseError. The reply to a close is best effort:
// the server may already have gone.
func (c *Conn) ReadData(timeout time.Duration) (ws.OpCode, []byte, error) {
	deadline := deadlineAfter(timeout)
	for {
		op, p, err := c.readMessage(deadline)
		if err != nil {
			return op, p, err
		}
		switch op {
		case ws.OpPing:
			if c.sentClose.Load() {
				continue
			}
			if err := c.Write(Pong(p)); err != nil {
				return op, p, fmt.Errorf("wstest: answering a ping: %w", err)
			}
		case ws.OpPong:
		case ws.OpClose:
			f, _ := ParseClose(p) // readMessage checked it
			_ = c.answerClose(f)
			return op, p, &CloseError{f}
		default:
			return op, p, nil
		}
	}
}

// ReadText is ReadData that wants a text message: a binary one is an error.
func (c *Conn) ReadText(timeout time.Duration) (string, error) {
	op, p, err := c.ReadData(timeout)
	if err != nil {
		return "", err
	}
	if op != ws.OpText {
		return "", fmt.Errorf("wstest: want a text message, got %s", describeMessage(op, p))
	}
	return string(p), nil
}

// NextText returns the next text message (see ReadText) within the Conn's
// timeout, failing tb on anything else: a binary message, a close, an error,
// the timeout.
func (c *Conn) NextText(tb testing.TB) string {
	tb.Helper()
	s, err := c.ReadText(c.Timeout())
	if err != nil {
		tb.Fatalf("want a text message: %v", err)
	}
	return s
}

// NextJSON decodes the next text message (see NextText) into v, failing tb
// if it is not JSON that fits v.
func (c *Conn) NextJSON(tb testing.TB, v any) {
	tb.Helper()
	s := c.NextText(tb)
	if err := json.Unmarshal([]byte(s), v); err != nil {
		tb.Fatalf("want a JSON text message, got %s: %v", preview([]byte(s)), err)
	}
}

// ExpectText fails tb unless the next text message (see NextText) is want.
func (c *Conn) ExpectText(tb testing.TB, want string) {
	tb.Helper()
	if got := c.NextText(tb); got != want {
		tb.Fatalf("want text %s, got %s", preview([]byte(want)), payloadDiff([]byte(got), []byte(want)))
	}
}

// ExpectQuiet fails tb if a data message or a close arrives within d, or if
// the connection fails; pings are answered meanwhile (see ReadData). A
// message that is only partly read when d passes leaves the Conn broken
// (see ReadFrame), so the next read reports it.
func (c *Conn) ExpectQuiet(tb testing.TB, d time.Duration) {
	tb.Helper()
	op, p, err := c.ReadData(d)
	switch {
	case err == nil:
		tb.Fatalf("want nothing for %v, got %s", d, describeMessage(op, p))
	case !isTimeout(err):
		tb.Fatalf("want nothing for %v: %v", d, err)
	}
}

// SendText writes a text message in one final, masked frame, failing tb on
// error.
func (c *Conn) SendText(tb testing.TB, s string) {
	tb.Helper()
	c.Send(tb, Text([]byte(s)))
}

// SendBinary writes a binary message in one final, masked frame, failing
// tb on error.
func (c *Conn) SendBinary(tb testing.TB, p []byte) {
	tb.Helper()
	c.Send(tb, Binary(p))
}

// SendJSON writes v encoded as JSON in one text message, failing tb on
// error.
func (c *Conn) SendJSON(tb testing.TB, v any) {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatalf("wstest: encoding %T: %v", v, err)
	}
	c.Send(tb, Text(b))
}
