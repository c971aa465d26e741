package wsframe

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gobwas/ws"
)

// rsv1Bit is RSV1 in ws.Header.Rsv (ws.Rsv(true, false, false)).
const rsv1Bit = 4

// maxHeaderSize is the largest client frame header: 2 + 8 length + 4 mask.
const maxHeaderSize = 14

// smallMessage is the largest payload allocated at its full declared size when
// its header arrives; bigger ones grow as their bytes actually arrive, so a
// peer cannot make the server reserve memory it never sends.
const smallMessage = 16 << 10

// Message is one complete data message or control frame.
type Message struct {
	// Op is OpText, OpBinary, OpPing, OpPong or OpClose.
	Op ws.OpCode
	// Payload is the unmasked payload (for close: the whole close body).
	Payload []byte
	// Code and Reason are the parsed close body; Code is 0 when the peer sent
	// an empty close frame.
	Code   ws.StatusCode
	Reason string
	// Compressed: the message came with RSV1 set on its first frame
	// (permessage-deflate, see Decoder.Deflate). Payload is then the
	// compressed bytes, not yet inflated nor checked as UTF-8.
	Compressed bool
}

// Error is a protocol violation; the connection must be closed with Code.
type Error struct {
	Code   ws.StatusCode
	Reason string
}

func (e *Error) Error() string { return fmt.Sprintf("websocket %d: %s", e.Code, e.Reason) }

func protocolError(reason string) *Error {
	return &Error{Code: ws.StatusProtocolError, Reason: reason}
}

// Decoder assembles frames and messages from a byte stream.
// The zero value is not usable; set MaxMessage.
type Decoder struct {
	// MaxMessage is the largest message accepted, all fragments together.
	// A compressed message may take CompressedLimit(MaxMessage) bytes on
	// the wire; the caller applies MaxMessage to it once inflated.
	MaxMessage int
	// Deflate allows RSV1 on the first frame of a data message: the
	// connection negotiated permessage-deflate (RFC 7692 6). RSV1 on a
	// control frame or a continuation is still a protocol error (6.1), as
	// is any RSV1 without Deflate.
	Deflate bool

	hdr  [maxHeaderSize]byte
	hdrN int

	inFrame   bool
	frame     ws.Header
	remaining int64
	maskPos   int

	// fragmented is true between a non-final data frame and its final frame.
	fragmented bool
	msgOp      ws.OpCode
	compressed bool // the message being assembled has RSV1 (Deflate)
	msg        []byte
	// utf8Done is how many bytes of msg are known to be complete valid UTF-8.
	utf8Done int

	ctrl []byte
	err  *Error
}

// NewDecoder returns a decoder for messages of at most maxMessage bytes.
func NewDecoder(maxMessage int) *Decoder { return &Decoder{MaxMessage: maxMessage} }

// Idle reports whether the decoder holds nothing between calls: no part of
// a frame, no part of a fragmented message, no error. An idle decoder can be
// replaced by a fresh one (with the same MaxMessage) without changing what
// it decodes next.
func (d *Decoder) Idle() bool { return !d.Partial() && !d.InMessage() && d.err == nil }

// Reset makes d a fresh decoder, keeping MaxMessage and Deflate.
func (d *Decoder) Reset() { *d = Decoder{MaxMessage: d.MaxMessage, Deflate: d.Deflate} }

// CompressedLimit is the most a compressed message of at most max bytes
// may take on the wire: DEFLATE can grow data it cannot compress, by 5 bytes
// per 64 KiB stored block with klauspost/compress and about 0.03% with zlib
// (deflateBound); this allows 1/256 and 64 bytes more.
func CompressedLimit(max int) int { return max + max/256 + 64 }

// Partial reports whether a frame has started but not finished arriving.
func (d *Decoder) Partial() bool { return d.hdrN > 0 || d.inFrame }

// InMessage reports whether a fragmented message has begun (a data frame
// without FIN arrived) and has not ended (its final frame has not arrived
// whole). Between fragments Partial is false, but the message still holds
// its buffer. Control frames interleaved in the message do not end it.
func (d *Decoder) InMessage() bool {
	return d.fragmented || (d.inFrame && d.frame.OpCode == ws.OpContinuation)
}

// Decode consumes bytes from p. It returns how many bytes it consumed and,
// when a message or control frame completed, that message with ok set. Call
// it again with p[n:] until it consumes nothing. After an error the decoder
// keeps returning the same error.
func (d *Decoder) Decode(p []byte) (n int, m Message, ok bool, err error) {
	if d.err != nil {
		return 0, Message{}, false, d.err
	}
	for n < len(p) || (d.inFrame && d.remaining == 0) {
		if !d.inFrame {
			used, e := d.readHeader(p[n:])
			n += used
			if e != nil {
				d.err = e
				return n, Message{}, false, e
			}
			if !d.inFrame {
				return n, Message{}, false, nil // header incomplete, p exhausted
			}
		}
		if d.remaining > 0 {
			take := min(d.remaining, int64(len(p)-n))
			if take == 0 {
				return n, Message{}, false, nil
			}
			if e := d.readPayload(p[n : n+int(take)]); e != nil {
				d.err = e
				return n + int(take), Message{}, false, e
			}
			n += int(take)
			if d.remaining > 0 {
				return n, Message{}, false, nil
			}
		}
		m, ok, e := d.finishFrame()
		if e != nil {
			d.err = e
			return n, Message{}, false, e
		}
		if ok {
			return n, m, true, nil
		}
	}
	return n, Message{}, false, nil
}

// readHeader copies header bytes into the stash; once the header is whole it
// validates it and starts the frame.
func (d *Decoder) readHeader(p []byte) (int, *Error) {
	n := 0
	for {
		need := 2
		if d.hdrN >= 2 {
			need = headerSize(d.hdr[0], d.hdr[1])
		}
		if d.hdrN == need {
			break
		}
		if n == len(p) {
			return n, nil
		}
		c := copy(d.hdr[d.hdrN:need], p[n:])
		d.hdrN += c
		n += c
	}
	h, e := parseHeader(d.hdr[:d.hdrN])
	if e != nil {
		return n, e
	}
	d.hdrN = 0
	return n, d.startFrame(h)
}

func headerSize(b0, b1 byte) int {
	size := 2
	switch b1 & 0x7f {
	case 126:
		size += 2
	case 127:
		size += 8
	}
	if b1&0x80 != 0 {
		size += 4
	}
	return size
}

func parseHeader(b []byte) (ws.Header, *Error) {
	h := ws.Header{
		Fin:    b[0]&0x80 != 0,
		Rsv:    (b[0] & 0x70) >> 4,
		OpCode: ws.OpCode(b[0] & 0x0f),
		Masked: b[1]&0x80 != 0,
	}
	rest := b[2:]
	switch l := b[1] & 0x7f; l {
	case 126:
		h.Length = int64(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
	case 127:
		u := binary.BigEndian.Uint64(rest)
		if u>>63 != 0 {
			return h, protocolError("64-bit payload length has its most significant bit set")
		}
		h.Length = int64(u)
		rest = rest[8:]
	default:
		h.Length = int64(l)
	}
	if h.Masked {
		copy(h.Mask[:], rest)
	}
	return h, nil
}

func (d *Decoder) startFrame(h ws.Header) *Error {
	state := ws.StateServerSide
	if d.fragmented {
		state |= ws.StateFragmented
	}
	rsv1 := false
	if d.Deflate && h.Rsv&rsv1Bit != 0 {
		if h.OpCode.IsControl() || h.OpCode == ws.OpContinuation {
			return protocolError("RSV1 (compressed) set on a control frame or a continuation")
		}
		rsv1 = true
		h.Rsv &^= rsv1Bit
	}
	if err := ws.CheckHeader(h, state); err != nil {
		return protocolError(headerReason(err))
	}
	if !h.OpCode.IsControl() {
		if h.OpCode != ws.OpContinuation {
			d.compressed = rsv1
		}
		limit := d.MaxMessage
		if d.compressed {
			limit = CompressedLimit(limit)
		}
		if h.Length > int64(limit-len(d.msg)) {
			return &Error{Code: ws.StatusMessageTooBig,
				Reason: fmt.Sprintf("message exceeds %d bytes", d.MaxMessage)}
		}
		if h.OpCode != ws.OpContinuation {
			d.msgOp = h.OpCode
			d.utf8Done = 0
			if h.Length <= smallMessage {
				d.msg = make([]byte, 0, h.Length)
			} else {
				d.msg = make([]byte, 0, smallMessage)
			}
		}
		d.fragmented = !h.Fin
	} else {
		d.ctrl = make([]byte, 0, h.Length)
	}
	d.frame = h
	d.inFrame = true
	d.remaining = h.Length
	d.maskPos = 0
	return nil
}

func headerReason(err error) string {
	switch {
	case errors.Is(err, ws.ErrProtocolMaskRequired):
		return "client frames must be masked"
	case errors.Is(err, ws.ErrProtocolNonZeroRsv):
		return "reserved bits set without a negotiated extension"
	case errors.Is(err, ws.ErrProtocolOpCodeReserved):
		return "reserved opcode"
	case errors.Is(err, ws.ErrProtocolControlPayloadOverflow):
		return "control frame payload over 125 bytes"
	case errors.Is(err, ws.ErrProtocolControlNotFinal):
		return "fragmented control frame"
	case errors.Is(err, ws.ErrProtocolContinuationExpected):
		return "new data frame inside a fragmented message"
	case errors.Is(err, ws.ErrProtocolContinuationUnexpected):
		return "continuation frame without a message to continue"
	}
	return err.Error()
}

func (d *Decoder) readPayload(chunk []byte) *Error {
	d.remaining -= int64(len(chunk))
	if d.frame.OpCode.IsControl() {
		start := len(d.ctrl)
		d.ctrl = append(d.ctrl, chunk...)
		ws.Cipher(d.ctrl[start:], d.frame.Mask, d.maskPos)
		d.maskPos += len(chunk)
		return nil
	}
	start := len(d.msg)
	d.msg = append(d.msg, chunk...)
	ws.Cipher(d.msg[start:], d.frame.Mask, d.maskPos)
	d.maskPos += len(chunk)
	if d.msgOp == ws.OpText && !d.compressed {
		done, valid := scanUTF8(d.msg[d.utf8Done:])
		d.utf8Done += done
		if !valid {
			return &Error{Code: ws.StatusInvalidFramePayloadData, Reason: "invalid UTF-8 in text message"}
		}
	}
	return nil
}

// finishFrame completes the current frame; ok is set when it completed a
// message or control frame the caller must handle.
func (d *Decoder) finishFrame() (Message, bool, *Error) {
	d.inFrame = false
	h := d.frame
	if h.OpCode.IsControl() {
		payload := d.ctrl
		d.ctrl = nil
		if h.OpCode == ws.OpClose {
			return parseClose(payload)
		}
		return Message{Op: h.OpCode, Payload: payload}, true, nil
	}
	if !h.Fin {
		return Message{}, false, nil
	}
	if d.msgOp == ws.OpText && !d.compressed && d.utf8Done != len(d.msg) {
		return Message{}, false, &Error{Code: ws.StatusInvalidFramePayloadData, Reason: "text message ends inside a UTF-8 sequence"}
	}
	m := Message{Op: d.msgOp, Payload: d.msg, Compressed: d.compressed}
	d.msg = nil
	d.utf8Done = 0
	d.compressed = false
	return m, true, nil
}

// maxCloseCode is the largest close code RFC 6455 assigns a meaning to.
const maxCloseCode = 4999

func parseClose(p []byte) (Message, bool, *Error) {
	m := Message{Op: ws.OpClose, Payload: p}
	switch len(p) {
	case 0:
		return m, true, nil
	case 1:
		return Message{}, false, protocolError("close payload of 1 byte")
	}
	m.Code = ws.StatusCode(binary.BigEndian.Uint16(p))
	m.Reason = string(p[2:])
	if m.Code > maxCloseCode {
		return Message{}, false, protocolError(fmt.Sprintf("close code %d is undefined", m.Code))
	}
	if err := ws.CheckCloseFrameData(m.Code, m.Reason); err != nil {
		if errors.Is(err, ws.ErrProtocolInvalidUTF8) {
			return Message{}, false, &Error{Code: ws.StatusInvalidFramePayloadData, Reason: "close reason is not valid UTF-8"}
		}
		return Message{}, false, protocolError(fmt.Sprintf("close code %d is not allowed", m.Code))
	}
	return m, true, nil
}
