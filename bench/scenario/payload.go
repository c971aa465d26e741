package scenario

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strconv"
	"time"

	"github.com/chatd/chatd/bench/check"
)

// A chat payload is the "data" string of a message: ASCII that JSON
// carries unescaped,
//
//	cb|<from>|<u|r><to>|<seq>|<intended unix ns>|xxxx…
//
// padded with 'x' to the configured size. The receiver learns the stream,
// the sequence number and the intended send time from it, and checks the
// padding, so a payload that was cut, altered or mixed up is caught.
const payloadMagic = "cb|"

// appendPayload appends the payload of message seq on s, intended at at,
// padded to size bytes.
func appendPayload(b []byte, s check.Stream, seq uint32, at time.Time, size int) []byte {
	start := len(b)
	b = append(b, payloadMagic...)
	b = strconv.AppendInt(b, int64(s.From), 10)
	if s.Room {
		b = append(b, "|r"...)
	} else {
		b = append(b, "|u"...)
	}
	b = strconv.AppendInt(b, int64(s.To), 10)
	b = append(b, '|')
	b = strconv.AppendUint(b, uint64(seq), 10)
	b = append(b, '|')
	b = strconv.AppendInt(b, at.UnixNano(), 10)
	b = append(b, '|')
	for len(b)-start < size {
		b = append(b, 'x')
	}
	return b
}

// errPayload: a payload that is not one of ours, or was altered.
var errPayload = errors.New("malformed payload")

// parsePayload is the inverse of appendPayload. size is the configured
// size: the padding must bring the payload exactly to it (or be empty when
// the header alone is longer).
func parsePayload(p []byte, size int) (s check.Stream, seq uint32, at time.Time, err error) {
	if !bytes.HasPrefix(p, []byte(payloadMagic)) {
		return s, 0, at, errPayload
	}
	rest := p[len(payloadMagic):]
	field := func() []byte {
		i := bytes.IndexByte(rest, '|')
		if i < 0 {
			err = errPayload
			return nil
		}
		f := rest[:i]
		rest = rest[i+1:]
		return f
	}
	from, to, sq, ns := field(), field(), field(), field()
	if err != nil || len(to) < 2 {
		return s, 0, at, errPayload
	}
	switch to[0] {
	case 'r':
		s.Room = true
	case 'u':
	default:
		return s, 0, at, errPayload
	}
	// Only the form appendPayload writes: otherwise an inserted '0' or '+'
	// would parse to the same values with one 'x' less, unnoticed.
	if !canonical(from) || !canonical(to[1:]) || !canonical(sq) || !canonical(ns) {
		return s, 0, at, errPayload
	}
	f, err1 := strconv.ParseInt(string(from), 10, 32)
	t, err2 := strconv.ParseInt(string(to[1:]), 10, 32)
	q, err3 := strconv.ParseUint(string(sq), 10, 32)
	n, err4 := strconv.ParseInt(string(ns), 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
		return s, 0, at, errPayload
	}
	if h := len(p) - len(rest); (h < size && len(p) != size) || (h >= size && len(rest) != 0) {
		return s, 0, at, errPayload
	}
	for _, c := range rest {
		if c != 'x' {
			return s, 0, at, errPayload
		}
	}
	s.From, s.To = int32(f), int32(t)
	return s, uint32(q), time.Unix(0, n), nil
}

// canonical reports whether f is a decimal integer as strconv writes it:
// digits with no leading zero, after a '-' for a negative number.
func canonical(f []byte) bool {
	if len(f) > 1 && f[0] == '-' {
		f = f[1:]
		if len(f) == 1 && f[0] == '0' {
			return false // -0
		}
	}
	if len(f) == 0 || (len(f) > 1 && f[0] == '0') {
		return false
	}
	for _, c := range f {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// echoHeader is the fixed part of an echo payload: sequence number and
// intended send time, 8 bytes each, big-endian. The rest is a pattern that
// depends on the connection and the sequence number.
const echoHeader = 16

// fillEcho writes the echo payload of message seq of connection conn into b.
func fillEcho(b []byte, conn int, seq uint32, at time.Time) {
	binary.BigEndian.PutUint64(b[0:8], uint64(seq))
	binary.BigEndian.PutUint64(b[8:16], uint64(at.UnixNano()))
	for i := echoHeader; i < len(b); i++ {
		b[i] = byte(i + conn + int(seq))
	}
}

// parseEcho checks an echo payload of connection conn and returns its
// sequence number and intended send time.
func parseEcho(b []byte, conn, size int) (seq uint32, at time.Time, err error) {
	if len(b) != size || size < echoHeader {
		return 0, at, errPayload
	}
	q := binary.BigEndian.Uint64(b[0:8])
	if q > 1<<32-1 {
		return 0, at, errPayload
	}
	seq = uint32(q)
	for i := echoHeader; i < len(b); i++ {
		if b[i] != byte(i+conn+int(seq)) {
			return 0, at, errPayload
		}
	}
	return seq, time.Unix(0, int64(binary.BigEndian.Uint64(b[8:16]))), nil
}
