package server_test

// RFC 6455 conformance cases: close, limits, framing, partial frames, fail-fast and answer-before-close.
// The harness and its conventions are in conformance_harness_test.go.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/wstest"
)

// confServer starts chatd and returns the URL of /echo.
func TestConformanceClose(t *testing.T) {
	t.Parallel()
	var cases []confCase
	for _, code := range []ws.StatusCode{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		cases = append(cases, confCase{
			name: fmt.Sprintf("code %d echoed", code),
			send: []wstest.Frame{wstest.Close(code, "")},
			want: []confStep{confClosed(code)},
		})
	}
	for _, code := range []ws.StatusCode{0, 1, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		cases = append(cases, confCase{
			name: fmt.Sprintf("code %d rejected", code),
			send: []wstest.Frame{wstest.Close(code, "")},
			want: []confStep{confClosed(ws.StatusProtocolError)},
		})
	}
	reason123 := strings.Repeat("r", 123)
	cases = append(cases,
		confCase{name: "empty close", send: []wstest.Frame{wstest.CloseEmpty()},
			want: []confStep{confClosed(ws.StatusNoStatusRcvd, ws.StatusNormalClosure)}},
		confCase{name: "code with reason", send: []wstest.Frame{wstest.Close(1000, "goodbye κόσμε")},
			want: []confStep{confClosed(ws.StatusNormalClosure)}},
		confCase{name: "123-byte reason", send: []wstest.Frame{wstest.Close(4000, reason123)},
			want: []confStep{confClosed(4000)}},
		confCase{name: "124-byte reason (126-byte payload)", send: []wstest.Frame{wstest.Close(1000, reason123+"r")},
			want: []confStep{confClosed(ws.StatusProtocolError)}},
		confCase{
			name: "1-byte payload",
			send: []wstest.Frame{{Fin: true, OpCode: ws.OpClose, Masked: true, Payload: []byte{0x03}}},
			want: []confStep{confClosed(ws.StatusProtocolError)},
		},
		confCase{name: "invalid UTF-8 reason", send: []wstest.Frame{wstest.Close(1000, "bad \xed\xa0\x80 reason")},
			want: []confStep{confClosed(ws.StatusInvalidFramePayloadData)}},
		confCase{name: "truncated UTF-8 reason", send: []wstest.Frame{wstest.Close(1000, "κ\xce")},
			want: []confStep{confClosed(ws.StatusInvalidFramePayloadData)}},
		confCase{
			name: "nothing after close",
			send: []wstest.Frame{
				wstest.Close(1000, ""), wstest.Text([]byte("after")), wstest.Ping([]byte("after")), wstest.Close(1001, ""),
			},
			want: []confStep{confClosed(ws.StatusNormalClosure)},
		},
		confCase{
			name: "close then FIN",
			send: []wstest.Frame{wstest.Close(1000, "")},
			want: []confStep{confHalfClose, confClosed(ws.StatusNormalClosure)},
		},
	)
	runConf(t, confServer(t, nil), cases)
}

// TestConformanceLimits: a message of exactly limits.max_message_bytes
// echoes; one byte more, whole or fragmented, fails with 1009.
func TestConformanceLimits(t *testing.T) {
	t.Parallel()
	for _, limit := range []int{confDefaultLimit, confBigLimit} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			t.Parallel()
			var mutate func(*server.Config)
			if limit != confDefaultLimit {
				mutate = confLimit(limit)
			}
			tooBig := []confStep{confCloseFrame(ws.StatusMessageTooBig)}
			var cases []confCase
			for _, op := range confDataOps {
				at, over := confPayload(op, limit), confPayload(op, limit+1)
				name := confOpName(op)
				cases = append(cases,
					confCase{name: name + " at limit", send: []wstest.Frame{confFrame(op, at)}, want: []confStep{confEcho(op, at)}},
					confCase{name: name + " one past limit", send: []wstest.Frame{confFrame(op, over)}, want: tooBig, async: true},
					confCase{
						name: name + " at limit in 16 fragments",
						send: wstest.Split(op, at, confCuts(limit, 16)...),
						want: []confStep{confEcho(op, at)},
					},
					confCase{
						name:  name + " one past limit in 16 fragments",
						send:  wstest.Split(op, over, confCuts(limit, 16)...),
						want:  tooBig,
						async: true,
					},
					confCase{
						name:  name + " one past limit in last 1-byte fragment",
						send:  wstest.Split(op, over, limit),
						want:  tooBig,
						async: true,
					},
					confCase{
						name:  name + " first fragment past limit",
						send:  []wstest.Frame{confFrame(op, over).WithFin(false)},
						want:  tooBig,
						async: true,
					},
				)
			}
			// Control frames between fragments do not count toward the message.
			at := confText(limit)
			frags := wstest.Split(ws.OpText, at, limit/2)
			cases = append(cases, confCase{
				name: "pings between fragments do not count",
				send: []wstest.Frame{frags[0], wstest.Ping(confBinary(125)), wstest.Ping(confBinary(125)), frags[1]},
				want: []confStep{confPong(confBinary(125)), confPong(confBinary(125)), confEcho(ws.OpText, at)},
			}, confCase{
				name: "limit is per message",
				send: []wstest.Frame{wstest.Binary(confBinary(limit)), wstest.Binary(confBinary(limit))},
				want: []confStep{confEcho(ws.OpBinary, confBinary(limit)), confEcho(ws.OpBinary, confBinary(limit))},
			})
			runConf(t, confServer(t, mutate), cases)
		})
	}
}

// TestConformanceFraming: the frame stream is reassembled however TCP
// delivers it. (Every case of this file also runs coalesced and bytewise.)
func TestConformanceFraming(t *testing.T) {
	t.Parallel()
	first, second := wstest.Text([]byte("first")), wstest.Binary(confBinary(70000))
	b := second.Bytes()
	many := make([]wstest.Frame, 100)
	var manyEchoes []confStep
	for i := range many {
		p := []byte(fmt.Sprintf("message %d", i))
		many[i] = wstest.Text(p)
		manyEchoes = append(manyEchoes, confEcho(ws.OpText, p))
	}
	cases := []confCase{
		{
			name: "two frames in one write",
			send: []wstest.Frame{wstest.Text([]byte("one")), wstest.Binary([]byte("two"))},
			want: []confStep{confEcho(ws.OpText, []byte("one")), confEcho(ws.OpBinary, []byte("two"))},
		},
		{
			name: "one frame byte by byte",
			send: []wstest.Frame{wstest.Text(confText(300))}, // 16-bit length; bytewise mode splits it
			want: []confStep{confEcho(ws.OpText, confText(300))},
		},
		{name: "100 frames", send: many, want: manyEchoes},
		{
			name: "a frame and a half, then the rest",
			want: []confStep{
				confRaw(append(first.Bytes(), b[:len(b)/2]...)),
				confEcho(ws.OpText, []byte("first")),
				confRaw(b[len(b)/2:]),
				confEcho(ws.OpBinary, confBinary(70000)),
			},
		},
		{
			name: "header split inside the 64-bit length",
			want: []confStep{
				confRaw(b[:5]),
				confSilent(50 * time.Millisecond),
				confRaw(b[5:]),
				confEcho(ws.OpBinary, confBinary(70000)),
			},
		},
		{
			name: "64-bit length with the most significant bit set",
			want: []confStep{
				confRaw(wstest.EncodeHeader(true, 0, ws.OpBinary, true, 1<<63)),
				confCloseFrame(ws.StatusProtocolError, ws.StatusMessageTooBig),
			},
		},
	}
	runConf(t, confServer(t, confLimit(confBigLimit)), cases)
}

// TestConformancePartialFrame: a frame, or a fragmented message, left
// incomplete for longer than limits.partial_frame_timeout is closed with
// 4002, the message's clock running from its first fragment whatever
// arrives meanwhile; an idle connection is not closed.
func TestConformancePartialFrame(t *testing.T) {
	t.Parallel()
	const timeout = 300 * time.Millisecond
	header := wstest.EncodeHeader(true, 0, ws.OpText, true, 10)
	cases := []confCase{
		{name: "one header byte", want: []confStep{confRaw(header[:1]), confCloseFrame(ws.StatusCode(server.CloseFrameTimeout))}},
		{name: "header without payload", want: []confStep{confRaw(header), confCloseFrame(ws.StatusCode(server.CloseFrameTimeout))}},
		{name: "half the payload", want: []confStep{confRaw(append(header, "hello"...)), confCloseFrame(ws.StatusCode(server.CloseFrameTimeout))}},
		{name: "idle between frames", send: []wstest.Frame{wstest.Text([]byte("x"))},
			want: []confStep{confEcho(ws.OpText, []byte("x")), confSilent(3 * timeout)}},
		{name: "idle inside fragmented message", send: []wstest.Frame{wstest.Text([]byte("x")).WithFin(false)},
			want: []confStep{confCloseFrame(ws.StatusCode(server.CloseFrameTimeout))}},
		{name: "fragmented message finished in time", send: []wstest.Frame{wstest.Text([]byte("x")).WithFin(false)},
			want: []confStep{confSilent(timeout / 2), confRaw(wstest.Continuation([]byte("y")).Bytes()), confEcho(ws.OpText, []byte("xy")),
				confSilent(3 * timeout)}},
		{name: "fragments and pings do not restart the message's clock",
			send: []wstest.Frame{wstest.Text([]byte("x")).WithFin(false)},
			want: []confStep{
				confSilent(timeout / 3), confRaw(wstest.Continuation([]byte("y")).WithFin(false).Bytes()),
				confSilent(timeout / 3), confRaw(wstest.Ping([]byte("p")).Bytes()), confPong([]byte("p")),
				confCloseFrame(ws.StatusCode(server.CloseFrameTimeout)),
			}},
	}
	runConf(t, confServer(t, func(c *server.Config) { c.Limits.PartialFrameTimeout = timeout }), cases)
}

// TestConformanceFailFast: violations that can be seen before a message or
// frame ends are reported at once (RFC 6455 8.1 "fail fast" on UTF-8;
// 10.4 on size), instead of waiting for bytes that may never come.
func TestConformanceFailFast(t *testing.T) {
	t.Parallel()
	utf8Err := []confStep{confCloseFrame(ws.StatusInvalidFramePayloadData)}
	// A masked header with the zero key leaves the payload as written.
	partial := func(declared int, payload string) []byte {
		return append(wstest.EncodeHeader(false, 0, ws.OpText, true, uint64(declared)), payload...)
	}
	cases := []confCase{
		{name: "invalid UTF-8 in an unfinished first fragment",
			send: []wstest.Frame{wstest.Text([]byte("ok\xff")).WithFin(false)}, want: utf8Err},
		{name: "surrogate in an unfinished continuation",
			send: []wstest.Frame{wstest.Text([]byte("κ")).WithFin(false), wstest.Continuation([]byte("\xed\xa0\x80")).WithFin(false)},
			want: utf8Err},
		{name: "invalid UTF-8 in the first bytes of an incomplete frame",
			want: []confStep{confRaw(partial(100, "ab\xc0\xaf")), confCloseFrame(ws.StatusInvalidFramePayloadData)}},
		{name: "oversized header without payload",
			want: []confStep{
				confRaw(wstest.EncodeHeader(true, 0, ws.OpBinary, true, confDefaultLimit+1)),
				confCloseFrame(ws.StatusMessageTooBig),
			}},
		{name: "oversized continuation header without payload",
			send: []wstest.Frame{wstest.Binary(confBinary(confDefaultLimit - 10)).WithFin(false)},
			want: []confStep{
				confRaw(wstest.EncodeHeader(true, 0, ws.OpContinuation, true, 11)),
				confCloseFrame(ws.StatusMessageTooBig),
			}},
		{name: "huge declared length",
			want: []confStep{
				confRaw(wstest.EncodeHeader(true, 0, ws.OpBinary, true, 1<<40)),
				confCloseFrame(ws.StatusMessageTooBig),
			}},
	}
	runConf(t, confServer(t, nil), cases)
}

// TestConformanceAnswerBeforeClose: a valid message or ping that arrived
// before a violation or a close frame is still answered, then the close
// follows. This is Autobahn's "OK" outcome for cases 3.2-3.7 (echo first,
// then close); a server that drops the answer gets "NON-STRICT" there, and
// RFC 6455 allows it (python websockets 10.4 drops it). The frames are sent
// back to back, as Autobahn does, so the violation is usually read before the
// answer is written.
func TestConformanceAnswerBeforeClose(t *testing.T) {
	t.Parallel()
	ok := wstest.Text([]byte("ok"))
	echoed := confEcho(ws.OpText, []byte("ok"))
	proto := confClosed(ws.StatusProtocolError)
	cases := []confCase{
		{name: "text then rsv", send: []wstest.Frame{ok, wstest.Text([]byte("bad")).WithRsv(2)}, want: []confStep{echoed, proto}},
		{name: "text then unmasked", send: []wstest.Frame{ok, wstest.Text([]byte("bad")).Unmasked()}, want: []confStep{echoed, proto}},
		{name: "text then continuation", send: []wstest.Frame{ok, wstest.Continuation([]byte("x"))}, want: []confStep{echoed, proto}},
		{name: "text then invalid UTF-8", send: []wstest.Frame{ok, wstest.Text([]byte("\xff"))},
			want: []confStep{echoed, confClosed(ws.StatusInvalidFramePayloadData)}},
		{name: "ping then oversized ping", send: []wstest.Frame{wstest.Ping([]byte("ok")), wstest.Ping(confBinary(126))},
			want: []confStep{confPong([]byte("ok")), proto}},
		{name: "ping then rsv", send: []wstest.Frame{wstest.Ping([]byte("ok")), wstest.Text(nil).WithRsv(4)},
			want: []confStep{confPong([]byte("ok")), proto}},
		{name: "text then close", send: []wstest.Frame{ok, wstest.Close(1000, ""), wstest.Text([]byte("after"))},
			want: []confStep{echoed, confClosed(ws.StatusNormalClosure)}},
		{name: "ping then close", send: []wstest.Frame{wstest.Ping([]byte("ok")), wstest.Close(1000, "")},
			want: []confStep{confPong([]byte("ok")), confClosed(ws.StatusNormalClosure)}},
	}
	for _, op := range confReservedOps {
		cases = append(cases, confCase{
			name: fmt.Sprintf("text then opcode 0x%x", byte(op)),
			send: []wstest.Frame{ok, wstest.Text([]byte("reserved")).WithOpCode(op)},
			want: []confStep{echoed, proto},
		})
	}
	runConf(t, confServer(t, nil), cases)
}

// The confBinary pattern must cover every byte value, or the binary cases
// would not test what they claim.
func TestConformanceBinaryPattern(t *testing.T) {
	seen := map[byte]bool{}
	for _, c := range confBinary(256) {
		seen[c] = true
	}
	if len(seen) != 256 {
		t.Fatalf("confBinary(256) covers %d byte values", len(seen))
	}
}
