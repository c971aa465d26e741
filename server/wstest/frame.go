package wstest

import (
	"encoding/binary"
	"fmt"

	"github.com/gobwas/ws"
)

// Frame is one client frame, valid or not. The constructors (Text, Binary,
// Continuation, Ping, Pong, Close, CloseEmpty) return final, masked frames;
// the With methods return modified copies, so that a table can say
// Text(p).WithFin(false).WithRsv(4).
type Frame struct {
	Fin bool
	// Rsv holds RSV1, RSV2 and RSV3 in its three low bits, as ws.Rsv builds
	// it: 4 is RSV1, 2 is RSV2, 1 is RSV3.
	Rsv byte
	// OpCode is written as is, reserved values included.
	OpCode ws.OpCode
	// Masked frames get a fresh random key each time they are encoded.
	Masked  bool
	Payload []byte
}

// Text returns a final, masked text frame.
func Text(p []byte) Frame { return Frame{Fin: true, OpCode: ws.OpText, Masked: true, Payload: p} }

// Binary returns a final, masked binary frame.
func Binary(p []byte) Frame { return Frame{Fin: true, OpCode: ws.OpBinary, Masked: true, Payload: p} }

// Continuation returns a final, masked continuation frame.
func Continuation(p []byte) Frame {
	return Frame{Fin: true, OpCode: ws.OpContinuation, Masked: true, Payload: p}
}

// Ping returns a masked ping frame.
func Ping(p []byte) Frame { return Frame{Fin: true, OpCode: ws.OpPing, Masked: true, Payload: p} }

// Pong returns a masked pong frame.
func Pong(p []byte) Frame { return Frame{Fin: true, OpCode: ws.OpPong, Masked: true, Payload: p} }

// Close returns a masked close frame whose payload is code (always two bytes,
// even 0) followed by reason, which is neither checked nor truncated.
func Close(code ws.StatusCode, reason string) Frame {
	return Frame{Fin: true, OpCode: ws.OpClose, Masked: true, Payload: ClosePayload(code, reason)}
}

// CloseEmpty returns a masked close frame with no payload.
func CloseEmpty() Frame { return Frame{Fin: true, OpCode: ws.OpClose, Masked: true} }

// ClosePayload returns the two-byte big-endian code followed by reason.
func ClosePayload(code ws.StatusCode, reason string) []byte {
	p := make([]byte, 2, 2+len(reason))
	binary.BigEndian.PutUint16(p, uint16(code))
	return append(p, reason...)
}

// WithFin returns f with its FIN bit set to fin.
func (f Frame) WithFin(fin bool) Frame { f.Fin = fin; return f }

// WithRsv returns f with its reserved bits set to rsv (see Frame.Rsv).
func (f Frame) WithRsv(rsv byte) Frame { f.Rsv = rsv; return f }

// WithOpCode returns f with opcode op.
func (f Frame) WithOpCode(op ws.OpCode) Frame { f.OpCode = op; return f }

// Unmasked returns f without a mask, which a server must reject.
func (f Frame) Unmasked() Frame { f.Masked = false; return f }

// Bytes encodes f.
func (f Frame) Bytes() []byte { return EncodeFrame(f.Fin, f.Rsv, f.OpCode, f.Masked, f.Payload) }

// String describes f for test logs.
func (f Frame) String() string {
	return fmt.Sprintf("%s(fin=%t rsv=%d masked=%t %s)", opName(f.OpCode), f.Fin, f.Rsv, f.Masked, preview(f.Payload))
}

// Split cuts p at the offsets in cuts (ascending, each within p) into a
// fragmented message: the first fragment has opcode op, the others are
// continuations, the last one is final. Empty fragments are allowed:
// Split(ws.OpText, p, 0) starts with an empty text frame.
func Split(op ws.OpCode, p []byte, cuts ...int) []Frame {
	frames := make([]Frame, 0, len(cuts)+1)
	prev := 0
	for _, cut := range append(cuts, len(p)) {
		if cut < prev || cut > len(p) {
			panic(fmt.Sprintf("wstest.Split: cut %d out of order or outside [0,%d]", cut, len(p)))
		}
		frames = append(frames, Continuation(p[prev:cut]).WithFin(false))
		prev = cut
	}
	frames[0].OpCode = op
	frames[len(frames)-1].Fin = true
	return frames
}

// Concat encodes frames back to back, for writing them in one WriteRaw.
func Concat(frames ...Frame) []byte {
	var b []byte
	for _, f := range frames {
		b = append(b, f.Bytes()...)
	}
	return b
}

// EncodeFrame encodes one frame exactly as described, using the shortest
// length encoding and, if masked, a fresh random mask key. Nothing is
// validated: reserved bits and opcodes, oversized or fragmented control
// frames are all written as asked.
func EncodeFrame(fin bool, rsv byte, op ws.OpCode, masked bool, payload []byte) []byte {
	var mask [4]byte
	if masked {
		mask = ws.NewMask()
	}
	return encodeFrame(fin, rsv, op, masked, mask, payload)
}

func encodeFrame(fin bool, rsv byte, op ws.OpCode, masked bool, mask [4]byte, payload []byte) []byte {
	b := appendHeader(make([]byte, 0, ws.MaxHeaderSize+len(payload)), fin, rsv, op, masked, mask, uint64(len(payload)))
	start := len(b)
	b = append(b, payload...)
	if masked {
		ws.Cipher(b[start:], mask, 0)
	}
	return b
}

// EncodeHeader encodes only a frame header that declares length payload
// bytes, for tests that lie about the length or write the payload in pieces.
// A masked header carries the all-zero key, which leaves the payload
// unchanged: the caller writes the payload bytes as they are.
func EncodeHeader(fin bool, rsv byte, op ws.OpCode, masked bool, length uint64) []byte {
	return appendHeader(make([]byte, 0, ws.MaxHeaderSize), fin, rsv, op, masked, [4]byte{}, length)
}

func appendHeader(b []byte, fin bool, rsv byte, op ws.OpCode, masked bool, mask [4]byte, length uint64) []byte {
	b0 := (rsv&7)<<4 | byte(op)&0x0f
	if fin {
		b0 |= 0x80
	}
	var maskBit byte
	if masked {
		maskBit = 0x80
	}
	switch {
	case length <= 125:
		b = append(b, b0, maskBit|byte(length))
	case length <= 0xffff:
		b = append(b, b0, maskBit|126)
		b = binary.BigEndian.AppendUint16(b, uint16(length))
	default:
		b = append(b, b0, maskBit|127)
		b = binary.BigEndian.AppendUint64(b, length)
	}
	if masked {
		b = append(b, mask[:]...)
	}
	return b
}

func opName(op ws.OpCode) string {
	switch op {
	case ws.OpContinuation:
		return "continuation"
	case ws.OpText:
		return "text"
	case ws.OpBinary:
		return "binary"
	case ws.OpClose:
		return "close"
	case ws.OpPing:
		return "ping"
	case ws.OpPong:
		return "pong"
	}
	return fmt.Sprintf("opcode-0x%x", byte(op))
}

// preview describes a payload briefly: its length and its first bytes.
func preview(p []byte) string {
	const max = 48
	if len(p) <= max {
		return fmt.Sprintf("%d bytes %q", len(p), p)
	}
	return fmt.Sprintf("%d bytes %q...", len(p), p[:max])
}
