package server

import (
	"errors"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/actor"
	"github.com/chatd/chatd/server/internal/wsframe"
)

// MessageType is the type of a data message.
type MessageType uint8

// The data message types (RFC 6455 5.6).
const (
	Text   MessageType = MessageType(ws.OpText)
	Binary MessageType = MessageType(ws.OpBinary)
)

// Errors of the Conn methods that send or post.
var (
	// ErrClosed: the connection is not open (closing or closed); nothing
	// was sent or queued.
	ErrClosed = errors.New("server: connection not open")
	// ErrSlowConsumer: the bytes would have taken the connection's pending
	// output past limits.write_budget_bytes; they were dropped and the
	// connection is being dropped as a slow consumer (4008).
	ErrSlowConsumer = errors.New("server: slow consumer: outbound buffer over budget")
	// ErrQueueFull: the connection's queue (limits.queue_size) is full;
	// the value was not queued. The caller decides what that means.
	ErrQueueFull = errors.New("server: connection queue full")
)

// Frame is one or more encoded WebSocket frames, ready to send as they are
// (Conn.SendFrame): for a message encoded once for many recipients. Build
// one with TextFrame or AppendTextFrame, or encode the payload in place
// after NewTextFrame and finish it with FinishTextFrame.
type Frame []byte

// MaxFrameHeader is the longest header of a frame chatd sends.
const MaxFrameHeader = 10

// TextFrame returns payload as one text frame (a copy).
func TextFrame(payload []byte) Frame {
	return Frame(wsframe.AppendFrame(make([]byte, 0, len(payload)+MaxFrameHeader), ws.OpText, payload))
}

// AppendTextFrame appends payload as one text frame to dst.
func AppendTextFrame(dst, payload []byte) []byte {
	return wsframe.AppendFrame(dst, ws.OpText, payload)
}

// AppendTextHeader appends the header of a text frame of n payload bytes;
// the caller appends the n bytes.
func AppendTextHeader(dst []byte, n int) []byte {
	return wsframe.AppendHeader(dst, ws.OpText, n)
}

// NewTextFrame returns a buffer for a text frame whose payload (about size
// bytes; more only costs a copy) the caller appends: MaxFrameHeader bytes
// are held in front for the header. FinishTextFrame makes it a Frame.
func NewTextFrame(size int) []byte { return make([]byte, MaxFrameHeader, MaxFrameHeader+size) }

// FinishTextFrame makes a NewTextFrame buffer, with its payload appended,
// one text frame: the header is written into the held bytes, just before
// the payload, which is not copied.
func FinishTextFrame(b []byte) Frame {
	var hdr [MaxFrameHeader]byte
	h := wsframe.AppendHeader(hdr[:0], ws.OpText, len(b)-MaxFrameHeader)
	start := MaxFrameHeader - len(h)
	copy(b[start:], h)
	return Frame(b[start:])
}

// Send sends one unfragmented message of type t. It never blocks: the
// frame is queued and written at the end of the loop's wake, together with
// every other frame queued for the connection meanwhile (one write for
// all of them); what the socket does not take then is sent when it is
// writable. It returns ErrClosed when the connection is not open and
// ErrSlowConsumer when the frame would take the pending output past the
// write budget (the connection is then dropped, 4008); the frame is
// dropped either way.
func (c *Conn) Send(t MessageType, payload []byte) error {
	err := c.sendOp(ws.OpCode(t), payload)
	if err == nil {
		c.countOut()
	}
	return err
}

// sendOp sends one unfragmented frame of opcode op: a message, or a ping
// or pong (writeControl).
func (c *Conn) sendOp(op ws.OpCode, payload []byte) error {
	if c.state == stateOpen && !op.IsControl() && c.compressible(len(payload)) {
		if handled, err := c.sendCompressed(op, payload); handled {
			return err
		}
	}
	var hdr [MaxFrameHeader]byte
	return c.sendErr(wsframe.AppendHeader(hdr[:0], op, len(payload)), payload)
}

// SendText sends payload as one text message; see Send.
func (c *Conn) SendText(payload []byte) error { return c.Send(Text, payload) }

// SendFrame sends f, which is already encoded, as Send sends a message. f
// is not modified or retained after the call returns. On a connection
// that negotiated permessage-deflate, each unfragmented data frame of f of
// at least server.compression.min_size bytes is compressed for this
// connection alone; a message sent to many connections is better sent
// with SendPrepared, which compresses it once.
func (c *Conn) SendFrame(f Frame) error {
	if c.deflate != 0 && c.state == stateOpen {
		if handled, err := c.sendFrameCompressed(f); handled {
			if err == nil {
				c.countOut()
			}
			return err
		}
	}
	err := c.sendErr(f, nil)
	if err == nil {
		c.countOut()
	}
	return err
}

// sendErr sends data frames within the write budget and says why not.
func (c *Conn) sendErr(a, b []byte) error {
	if c.state != stateOpen {
		return ErrClosed
	}
	if c.write(a, b, c.srv.settings().writeBudgetBytes) {
		return nil
	}
	if c.closeCode == CloseSlowConsumer {
		return ErrSlowConsumer
	}
	return ErrClosed
}

// Notify posts msg to the connection's actor, which hands it to
// Session.Notify in order with the connection's other events. It never
// blocks. It fails with ErrQueueFull when the connection is too far behind
// (the caller decides what that means) and with ErrClosed once the
// connection has closed. It may be called from any goroutine.
func (c *Conn) Notify(msg any) error {
	switch err := c.actor.Post(event{kind: evNotify, ext: msg}); {
	case err == nil:
		return nil
	case errors.Is(err, actor.ErrQueueFull):
		return ErrQueueFull
	default:
		return ErrClosed
	}
}
