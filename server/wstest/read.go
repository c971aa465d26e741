package wstest

import (
	"errors"
	"fmt"
	"io"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// Violations of RFC 6455 by the server. Read errors wrap one of them.
var (
	// ErrMasked: a server must not mask its frames (RFC 6455 5.1).
	ErrMasked = errors.New("server frame is masked")
	// ErrReservedBits: no extension is negotiated, so RSV1-3 must be 0 (5.2).
	ErrReservedBits = errors.New("server frame has reserved bits set")
	// ErrReservedOpCode: opcodes 0x3-0x7 and 0xB-0xF are reserved (5.2).
	ErrReservedOpCode = errors.New("server frame has a reserved opcode")
	// ErrControlFrame: control frames are final and at most 125 bytes (5.5).
	ErrControlFrame = errors.New("server control frame is fragmented or longer than 125 bytes")
	// ErrFragmentation: a continuation without a start, or a new data frame
	// inside a fragmented message (5.4).
	ErrFragmentation = errors.New("server broke the fragmentation sequence")
	// ErrClosePayload: a close payload of 1 byte, a code that may not be sent
	// (7.4), or a reason that is not UTF-8 (5.5.1).
	ErrClosePayload = errors.New("server close frame has an invalid payload")
	// ErrInvalidUTF8: a text message that is not UTF-8 (5.6, 8.1).
	ErrInvalidUTF8 = errors.New("server text message is not valid UTF-8")
	// ErrTooLong: a frame longer than this client is willing to buffer.
	ErrTooLong = errors.New("server frame longer than wstest accepts")
)

// maxFrame is the largest server frame ReadFrame buffers.
const maxFrame = 256 << 20

// CloseFrame is a parsed close payload.
type CloseFrame struct {
	// Code is the status code, or ws.StatusNoStatusRcvd (1005) for an empty
	// payload, as RFC 6455 7.1.5 defines.
	Code   ws.StatusCode
	Reason string
}

func (f CloseFrame) String() string {
	if f.Code == ws.StatusNoStatusRcvd {
		return "close (no status)"
	}
	return fmt.Sprintf("close %d %q", f.Code, f.Reason)
}

// ParseClose parses and checks a close payload the way a client must: an
// empty payload means 1005; one byte, a code that may not appear on the wire
// (gobwas/ws CheckCloseFrameData, plus anything from 5000 up) or a reason
// that is not UTF-8 is an error wrapping ErrClosePayload.
func ParseClose(p []byte) (CloseFrame, error) {
	switch len(p) {
	case 0:
		return CloseFrame{Code: ws.StatusNoStatusRcvd}, nil
	case 1:
		return CloseFrame{}, fmt.Errorf("%w: 1-byte payload %q", ErrClosePayload, p)
	}
	code, reason := ws.ParseCloseFrameData(p)
	f := CloseFrame{Code: code, Reason: reason}
	if err := ws.CheckCloseFrameData(code, reason); err != nil {
		return f, fmt.Errorf("%w: %v: %v", ErrClosePayload, f, err)
	}
	if code >= 5000 {
		return f, fmt.Errorf("%w: %v: code out of range", ErrClosePayload, f)
	}
	return f, nil
}

// ReadFrame reads the next frame within timeout (0: no deadline) and
// returns its header and unmasked payload. A frame that breaks a rule for server frames is returned
// together with an error wrapping ErrMasked, ErrReservedBits,
// ErrReservedOpCode or ErrControlFrame; the stream stays usable.
//
// If the timeout passes before the first byte of a frame arrives, the error
// wraps os.ErrDeadlineExceeded and the Conn stays usable. Any other I/O error
// (including a timeout in the middle of a frame) is sticky: the Conn has lost
// frame alignment and every later read returns it. A clean end of the
// connection between frames is io.EOF; in the middle of a frame it is
// io.ErrUnexpectedEOF.
func (c *Conn) ReadFrame(timeout time.Duration) (ws.Header, []byte, error) {
	return c.readFrame(deadlineAfter(timeout))
}

func (c *Conn) readFrame(deadline time.Time) (ws.Header, []byte, error) {
	if c.broken != nil {
		return ws.Header{}, nil, c.broken
	}
	if err := c.nc.SetReadDeadline(deadline); err != nil {
		return ws.Header{}, nil, fmt.Errorf("wstest: read: %w", err)
	}
	if _, err := c.br.Peek(1); err != nil {
		err = fmt.Errorf("wstest: read frame: %w", err)
		if !isTimeout(err) {
			c.broken = err
		}
		return ws.Header{}, nil, err
	}
	h, err := ws.ReadHeader(c.br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		c.broken = fmt.Errorf("wstest: read frame header: %w", err)
		return h, nil, c.broken
	}
	if h.Length < 0 || h.Length > maxFrame {
		c.broken = fmt.Errorf("wstest: %w: %s frame of %d bytes", ErrTooLong, opName(h.OpCode), h.Length)
		return h, nil, c.broken
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(c.br, p); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		c.broken = fmt.Errorf("wstest: read %d-byte %s payload: %w", h.Length, opName(h.OpCode), err)
		return h, nil, c.broken
	}
	if h.Masked {
		ws.Cipher(p, h.Mask, 0)
	}
	return h, p, c.checkHeader(h)
}

// checkHeader applies the rules for one server frame taken alone. With
// permessage-deflate, RSV1 may be set on the first frame of a data
// message (RFC 7692 6.1).
func (c *Conn) checkHeader(h ws.Header) error {
	rsv := h.Rsv
	if c.deflate != nil && h.OpCode.IsData() && h.OpCode != ws.OpContinuation {
		rsv &^= rsv1
	}
	switch {
	case h.Masked:
		return fmt.Errorf("wstest: %w: %s", ErrMasked, describe(h, nil))
	case rsv != 0:
		return fmt.Errorf("wstest: %w: %s", ErrReservedBits, describe(h, nil))
	case h.OpCode.IsReserved():
		return fmt.Errorf("wstest: %w: %s", ErrReservedOpCode, describe(h, nil))
	case h.OpCode.IsControl() && (!h.Fin || h.Length > 125):
		return fmt.Errorf("wstest: %w: %s", ErrControlFrame, describe(h, nil))
	}
	return nil
}

// ReadMessage returns, within timeout (0: no deadline), the next complete
// data message (fragments assembled, UTF-8 of text checked) or the next
// control frame, whichever completes first. A control frame that arrives between fragments
// is returned on its own and the partial message is kept for the next call.
// A close frame's payload is checked with ParseClose.
func (c *Conn) ReadMessage(timeout time.Duration) (ws.OpCode, []byte, error) {
	return c.readMessage(deadlineAfter(timeout))
}

func (c *Conn) readMessage(deadline time.Time) (ws.OpCode, []byte, error) {
	for {
		h, p, err := c.readFrame(deadline)
		if err != nil {
			return h.OpCode, p, err
		}
		switch op := h.OpCode; {
		case op.IsControl():
			if op == ws.OpClose {
				if _, err := ParseClose(p); err != nil {
					return op, p, fmt.Errorf("wstest: %w", err)
				}
			}
			return op, p, nil
		case op == ws.OpContinuation:
			if !c.inMsg {
				return op, p, fmt.Errorf("wstest: %w: continuation without a message start", ErrFragmentation)
			}
			c.msgBuf = append(c.msgBuf, p...)
		default:
			if c.inMsg {
				return op, p, fmt.Errorf("wstest: %w: %s frame inside a fragmented %s message",
					ErrFragmentation, opName(op), opName(c.msgOp))
			}
			c.inMsg, c.msgOp, c.msgBuf = true, op, p
			c.msgZ = h.Rsv&rsv1 != 0
		}
		if h.Fin {
			op, msg, z := c.msgOp, c.msgBuf, c.msgZ
			c.inMsg, c.msgOp, c.msgBuf, c.msgZ = false, 0, nil, false
			c.lastZ = z
			if z {
				if msg, err = c.deflate.inflate(msg); err != nil {
					c.broken = fmt.Errorf("wstest: %w", err)
					return op, nil, c.broken
				}
			}
			if op == ws.OpText && !utf8.Valid(msg) {
				return op, msg, fmt.Errorf("wstest: %w: %s", ErrInvalidUTF8, preview(msg))
			}
			return op, msg, nil
		}
	}
}

func describe(h ws.Header, p []byte) string {
	s := fmt.Sprintf("%s frame (fin=%t rsv=%d masked=%t len=%d)", opName(h.OpCode), h.Fin, h.Rsv, h.Masked, h.Length)
	if p != nil {
		s += " " + preview(p)
	}
	return s
}

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}
