package wsframe

import (
	"encoding/binary"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// AppendFrame appends one final, unmasked server frame to dst.
func AppendFrame(dst []byte, op ws.OpCode, payload []byte) []byte {
	dst = AppendHeader(dst, op, len(payload))
	return append(dst, payload...)
}

// AppendHeader appends the header of a final, unmasked server frame carrying
// n payload bytes.
func AppendHeader(dst []byte, op ws.OpCode, n int) []byte {
	b0 := 0x80 | byte(op)
	switch {
	case n <= 125:
		return append(dst, b0, byte(n))
	case n <= 0xffff:
		dst = append(dst, b0, 126)
		return binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, b0, 127)
		return binary.BigEndian.AppendUint64(dst, uint64(n))
	}
}

// AppendClose appends a close frame with code and reason. Code 0 makes an
// empty close frame. The reason is truncated at a rune boundary to fit the
// 125-byte limit.
func AppendClose(dst []byte, code ws.StatusCode, reason string) []byte {
	if code == 0 {
		return AppendHeader(dst, ws.OpClose, 0)
	}
	if len(reason) > 123 {
		// Cut at a rune boundary so the reason stays valid UTF-8: a peer
		// must fail the connection on an invalid close reason (1007).
		n := 123
		for n > 0 && !utf8.RuneStart(reason[n]) {
			n--
		}
		reason = reason[:n]
	}
	dst = AppendHeader(dst, ws.OpClose, 2+len(reason))
	dst = binary.BigEndian.AppendUint16(dst, uint16(code))
	return append(dst, reason...)
}

// AppendCompressedHeader is AppendHeader for the first (here: only) frame
// of a compressed message: RSV1 set (RFC 7692 6).
func AppendCompressedHeader(dst []byte, op ws.OpCode, n int) []byte {
	start := len(dst)
	dst = AppendHeader(dst, op, n)
	dst[start] |= 0x40
	return dst
}

// ServerFrame parses the frame at the start of b, an unmasked frame as
// AppendHeader writes them: its header, and the length of the header. ok
// is false when b does not start with a whole frame (header and payload).
func ServerFrame(b []byte) (h ws.Header, hdrLen int, ok bool) {
	if len(b) < 2 || b[1]&0x80 != 0 {
		return h, 0, false
	}
	hdrLen = headerSize(b[0], b[1])
	if len(b) < hdrLen {
		return h, 0, false
	}
	h, err := parseHeader(b[:hdrLen])
	if err != nil || h.Length > int64(len(b)-hdrLen) {
		return h, 0, false
	}
	return h, hdrLen, true
}
