package wstest

import (
	"fmt"
	"testing"

	"github.com/gobwas/ws"
)

// WriteRaw writes p to the socket in one write call, as it is: a frame and a
// half, one byte of a header, three frames at once.
func (c *Conn) WriteRaw(p []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeRaw(p)
}

func (c *Conn) writeRaw(p []byte) error {
	if err := c.nc.SetWriteDeadline(deadlineAfter(c.Timeout())); err != nil {
		return fmt.Errorf("wstest: write: %w", err)
	}
	if _, err := c.nc.Write(p); err != nil {
		return fmt.Errorf("wstest: write %d bytes: %w", len(p), err)
	}
	return nil
}

// Write writes each frame with its own write call. Writing a close frame
// marks the Conn as having sent its close (see ExpectClose); so do
// WriteCoalesced and WriteBytewise, but not WriteRaw.
func (c *Conn) Write(frames ...Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for _, f := range frames {
		c.noteClose(f)
		if err := c.writeRaw(f.Bytes()); err != nil {
			return fmt.Errorf("%w (frame %v)", err, f)
		}
	}
	return nil
}

// WriteCoalesced writes all frames back to back in a single write call, so
// that the server is likely to read several frames at once.
func (c *Conn) WriteCoalesced(frames ...Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for _, f := range frames {
		c.noteClose(f)
	}
	return c.writeRaw(Concat(frames...))
}

// WriteBytewise writes the frames one byte per write call, the harshest
// split a server's frame assembly can face. With TCP_NODELAY (Go's default)
// each byte leaves in its own segment, though the server may still read
// several at once.
func (c *Conn) WriteBytewise(frames ...Frame) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	for _, f := range frames {
		c.noteClose(f)
	}
	b := Concat(frames...)
	for i := range b {
		if err := c.writeRaw(b[i : i+1]); err != nil {
			return fmt.Errorf("byte %d of %d: %w", i, len(b), err)
		}
	}
	return nil
}

func (c *Conn) noteClose(f Frame) {
	if f.OpCode == ws.OpClose {
		c.sentClose.Store(true)
	}
}

// WriteFrame writes one frame exactly as described; see EncodeFrame.
func (c *Conn) WriteFrame(fin bool, rsv byte, op ws.OpCode, masked bool, payload []byte) error {
	return c.Write(Frame{Fin: fin, Rsv: rsv, OpCode: op, Masked: masked, Payload: payload})
}

// WriteText writes a final, masked text frame.
func (c *Conn) WriteText(p []byte) error { return c.Write(Text(p)) }

// WriteBinary writes a final, masked binary frame.
func (c *Conn) WriteBinary(p []byte) error { return c.Write(Binary(p)) }

// WritePing writes a masked ping frame.
func (c *Conn) WritePing(p []byte) error { return c.Write(Ping(p)) }

// WritePong writes a masked, unsolicited pong frame.
func (c *Conn) WritePong(p []byte) error { return c.Write(Pong(p)) }

// WriteClose writes a masked close frame with code and reason; see Close.
func (c *Conn) WriteClose(code ws.StatusCode, reason string) error {
	return c.Write(Close(code, reason))
}

// Send is Write that fails tb on error.
func (c *Conn) Send(tb testing.TB, frames ...Frame) {
	tb.Helper()
	if err := c.Write(frames...); err != nil {
		tb.Fatal(err)
	}
}

// SendRaw is WriteRaw that fails tb on error.
func (c *Conn) SendRaw(tb testing.TB, p []byte) {
	tb.Helper()
	if err := c.WriteRaw(p); err != nil {
		tb.Fatal(err)
	}
}
