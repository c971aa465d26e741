package server_test

// RFC 6455 conformance cases: echo, ping, reserved bits, fragmentation and UTF-8.
// The harness and its conventions are in conformance_harness_test.go.

import (
	"fmt"
	"testing"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server/wstest"
)

// confServer starts chatd and returns the URL of /echo.
func TestConformanceEcho(t *testing.T) {
	t.Parallel()
	var cases []confCase
	for _, op := range confDataOps {
		for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, confBigLimit} {
			p := confPayload(op, n)
			cases = append(cases, confCase{
				name: fmt.Sprintf("%s %d bytes", confOpName(op), n),
				send: []wstest.Frame{confFrame(op, p)},
				want: []confStep{confEcho(op, p)},
			})
		}
	}
	cases = append(cases, confCase{
		name: "messages echo in order",
		send: []wstest.Frame{wstest.Text([]byte("one")), wstest.Binary([]byte{2}), wstest.Text(nil), wstest.Text([]byte("four"))},
		want: []confStep{
			confEcho(ws.OpText, []byte("one")), confEcho(ws.OpBinary, []byte{2}),
			confEcho(ws.OpText, []byte{}), confEcho(ws.OpText, []byte("four")),
		},
	})
	runConf(t, confServer(t, confLimit(confBigLimit)), cases)
}

// TestConformancePing: pings are answered with the same payload, control
// frames are at most 125 bytes, unsolicited pongs are ignored.
func TestConformancePing(t *testing.T) {
	t.Parallel()
	cases := []confCase{
		{name: "ping empty", send: []wstest.Frame{wstest.Ping(nil)}, want: []confStep{confPong([]byte{})}},
		{name: "ping text", send: []wstest.Frame{wstest.Ping([]byte("hello"))}, want: []confStep{confPong([]byte("hello"))}},
		{name: "ping binary", send: []wstest.Frame{wstest.Ping(confBinary(64))}, want: []confStep{confPong(confBinary(64))}},
		{name: "ping 125 bytes", send: []wstest.Frame{wstest.Ping(confBinary(125))}, want: []confStep{confPong(confBinary(125))}},
		{name: "ping 126 bytes", send: []wstest.Frame{wstest.Ping(confBinary(126))}, want: []confStep{confClosed(ws.StatusProtocolError)}},
		{name: "ping 65536 bytes", send: []wstest.Frame{wstest.Ping(confBinary(65536))}, want: []confStep{confClosed(ws.StatusProtocolError)}},
		{name: "pong 126 bytes", send: []wstest.Frame{wstest.Pong(confBinary(126))}, want: []confStep{confClosed(ws.StatusProtocolError)}},
		{name: "unsolicited pong ignored", send: []wstest.Frame{wstest.Pong([]byte("unsolicited"))}},
		{name: "unsolicited empty pong ignored", send: []wstest.Frame{wstest.Pong(nil)}},
		{name: "unsolicited 125-byte pong ignored", send: []wstest.Frame{wstest.Pong(confBinary(125))}},
		{
			name: "ping then text",
			send: []wstest.Frame{wstest.Ping([]byte("p")), wstest.Text([]byte("t"))},
			want: []confStep{confPong([]byte("p")), confEcho(ws.OpText, []byte("t"))},
		},
		{
			name: "text then ping",
			send: []wstest.Frame{wstest.Text([]byte("t")), wstest.Ping([]byte("p"))},
			want: []confStep{confUnordered(confMsg{ws.OpText, []byte("t")}, confMsg{ws.OpPong, []byte("p")})},
		},
		{
			name: "pong then text",
			send: []wstest.Frame{wstest.Pong([]byte("p")), wstest.Text([]byte("t"))},
			want: []confStep{confEcho(ws.OpText, []byte("t"))},
		},
	}
	runConf(t, confServer(t, nil), cases)
}

// TestConformanceReserved: reserved bits, reserved opcodes and unmasked
// client frames fail the connection with 1002.
func TestConformanceReserved(t *testing.T) {
	t.Parallel()
	proto := []confStep{confClosed(ws.StatusProtocolError)}
	var cases []confCase
	for rsv := byte(1); rsv <= 7; rsv++ {
		cases = append(cases, confCase{
			name: fmt.Sprintf("rsv=%d text", rsv),
			send: []wstest.Frame{wstest.Text([]byte("rsv")).WithRsv(rsv)},
			want: proto,
		})
	}
	for _, op := range confReservedOps {
		cases = append(cases,
			confCase{
				name: fmt.Sprintf("opcode 0x%x", byte(op)),
				send: []wstest.Frame{wstest.Text(nil).WithOpCode(op)},
				want: proto,
			},
			confCase{
				name: fmt.Sprintf("opcode 0x%x with payload", byte(op)),
				send: []wstest.Frame{wstest.Binary(confBinary(200)).WithOpCode(op)},
				want: proto,
			},
		)
	}
	start := wstest.Text([]byte("start")).WithFin(false)
	cases = append(cases,
		confCase{name: "rsv1 binary", send: []wstest.Frame{wstest.Binary([]byte{1}).WithRsv(4)}, want: proto},
		confCase{name: "rsv1 ping", send: []wstest.Frame{wstest.Ping([]byte("p")).WithRsv(4)}, want: proto},
		confCase{name: "rsv2 pong", send: []wstest.Frame{wstest.Pong(nil).WithRsv(2)}, want: proto},
		confCase{name: "rsv3 close", send: []wstest.Frame{wstest.Close(1000, "").WithRsv(1)}, want: proto},
		confCase{name: "rsv1 continuation", send: []wstest.Frame{start, wstest.Continuation([]byte("end")).WithRsv(4)}, want: proto},
		confCase{name: "reserved opcode inside fragmented message", send: []wstest.Frame{start, wstest.Ping(nil).WithOpCode(0xb)}, want: proto},
		confCase{name: "unmasked text", send: []wstest.Frame{wstest.Text([]byte("hi")).Unmasked()}, want: proto},
		confCase{name: "unmasked empty text", send: []wstest.Frame{wstest.Text(nil).Unmasked()}, want: proto},
		confCase{name: "unmasked binary", send: []wstest.Frame{wstest.Binary([]byte{0}).Unmasked()}, want: proto},
		confCase{name: "unmasked ping", send: []wstest.Frame{wstest.Ping([]byte("p")).Unmasked()}, want: proto},
		confCase{name: "unmasked pong", send: []wstest.Frame{wstest.Pong(nil).Unmasked()}, want: proto},
		confCase{name: "unmasked close", send: []wstest.Frame{wstest.Close(1000, "").Unmasked()}, want: proto},
		confCase{name: "unmasked continuation", send: []wstest.Frame{start, wstest.Continuation([]byte("end")).Unmasked()}, want: proto},
	)
	runConf(t, confServer(t, nil), cases)
}

// TestConformanceFragmentation: fragmented messages are echoed whole,
// control frames may be interleaved, and broken sequences fail with 1002.
func TestConformanceFragmentation(t *testing.T) {
	t.Parallel()
	msg := []byte("fragmented message")
	frags := func(cuts ...int) []wstest.Frame { return wstest.Split(ws.OpText, msg, cuts...) }
	// insert puts extra before fragment i of fs.
	insert := func(fs []wstest.Frame, i int, extra ...wstest.Frame) []wstest.Frame {
		return append(append(append([]wstest.Frame{}, fs[:i]...), extra...), fs[i:]...)
	}
	echoed := []confStep{confEcho(ws.OpText, msg)}
	proto := []confStep{confClosed(ws.StatusProtocolError)}
	start := wstest.Text([]byte("start")).WithFin(false)
	cases := []confCase{
		{name: "text in 2 fragments", send: frags(5), want: echoed},
		{name: "text in 3 fragments", send: frags(5, 10), want: echoed},
		{name: "text in single-byte fragments", send: frags(confEveryByte(len(msg))...), want: echoed},
		{name: "empty first fragment", send: frags(0, 5), want: echoed},
		{name: "empty middle fragment", send: frags(5, 5), want: echoed},
		{name: "empty last fragment", send: frags(len(msg)), want: echoed},
		{name: "all fragments empty", send: wstest.Split(ws.OpText, nil, 0, 0), want: []confStep{confEcho(ws.OpText, []byte{})}},
		{
			name: "binary in 4 fragments",
			send: wstest.Split(ws.OpBinary, confBinary(1000), confCuts(1000, 4)...),
			want: []confStep{confEcho(ws.OpBinary, confBinary(1000))},
		},
		{
			name: "ping between fragments",
			send: insert(frags(5, 10), 1, wstest.Ping([]byte("mid"))),
			want: []confStep{confPong([]byte("mid")), confEcho(ws.OpText, msg)},
		},
		{
			name: "125-byte ping between fragments",
			send: insert(frags(5), 1, wstest.Ping(confBinary(125))),
			want: []confStep{confPong(confBinary(125)), confEcho(ws.OpText, msg)},
		},
		{
			name: "pings between all fragments",
			send: insert(insert(frags(5, 10), 2, wstest.Ping([]byte("2"))), 1, wstest.Ping([]byte("1"))),
			want: []confStep{confPong([]byte("1")), confPong([]byte("2")), confEcho(ws.OpText, msg)},
		},
		{
			name: "pong between fragments",
			send: insert(frags(5), 1, wstest.Pong([]byte("unsolicited"))),
			want: echoed,
		},
		{
			name: "fragmented message then another",
			send: append(frags(5), wstest.Binary([]byte("next"))),
			want: []confStep{confEcho(ws.OpText, msg), confEcho(ws.OpBinary, []byte("next"))},
		},
		{
			name: "two fragmented messages",
			send: append(frags(5), wstest.Split(ws.OpBinary, []byte("second"), 3)...),
			want: []confStep{confEcho(ws.OpText, msg), confEcho(ws.OpBinary, []byte("second"))},
		},
		{
			name: "close between fragments",
			send: []wstest.Frame{start, wstest.Close(ws.StatusNormalClosure, "")},
			want: []confStep{confClosed(ws.StatusNormalClosure)},
		},
		{name: "continuation without start", send: []wstest.Frame{wstest.Continuation([]byte("x"))}, want: proto},
		{name: "unfinished continuation without start", send: []wstest.Frame{wstest.Continuation([]byte("x")).WithFin(false)}, want: proto},
		{name: "text start inside fragmented text", send: []wstest.Frame{start, wstest.Text([]byte("new"))}, want: proto},
		{name: "binary start inside fragmented text", send: []wstest.Frame{start, wstest.Binary([]byte("new"))}, want: proto},
		{
			name: "text start inside fragmented binary",
			send: []wstest.Frame{wstest.Binary([]byte{1}).WithFin(false), wstest.Text([]byte("new")).WithFin(false)},
			want: proto,
		},
		{name: "ping with FIN=0", send: []wstest.Frame{wstest.Ping([]byte("p")).WithFin(false)}, want: proto},
		{name: "empty ping with FIN=0", send: []wstest.Frame{wstest.Ping(nil).WithFin(false)}, want: proto},
		{name: "pong with FIN=0", send: []wstest.Frame{wstest.Pong([]byte("p")).WithFin(false)}, want: proto},
		{name: "close with FIN=0", send: []wstest.Frame{wstest.Close(1000, "").WithFin(false)}, want: proto},
		{
			name: "ping fragmented into a continuation",
			send: []wstest.Frame{wstest.Ping([]byte("pi")).WithFin(false), wstest.Continuation([]byte("ng"))},
			want: proto,
		},
		{
			name: "ping with FIN=0 inside fragmented message",
			send: []wstest.Frame{start, wstest.Ping([]byte("p")).WithFin(false), wstest.Continuation([]byte("end"))},
			want: proto,
		},
	}
	runConf(t, confServer(t, nil), cases)
}

// TestConformanceUTF8: text must be valid UTF-8, checked across fragment
// boundaries; violations fail with 1007.
func TestConformanceUTF8(t *testing.T) {
	t.Parallel()
	valid := []struct{ name, s string }{
		{"ascii", "Hello, world"},
		{"2-byte greek", "κόσμε"},
		{"3-byte euro", "€"},
		{"4-byte g clef", "𝄞"},
		{"4-byte emoji", "😀"},
		{"mixed", "aκ€😀z"},
		{"U+0000", "\x00"},
		{"U+007F", "\x7f"},
		{"U+0080", "\u0080"},
		{"U+07FF", "\u07ff"},
		{"U+0800", "\u0800"},
		{"U+D7FF", "\ud7ff"},
		{"U+E000", "\ue000"},
		{"U+FFFD", "\ufffd"},
		{"U+FFFF", "\uffff"},
		{"U+10000", "\U00010000"},
		{"U+10FFFF", "\U0010ffff"},
	}
	invalid := []struct{ name, s string }{
		{"byte 0xFF", "\xff"},
		{"byte 0xFE", "\xfe"},
		{"lone continuation byte", "\x80"},
		{"lone continuation after ascii", "ab\xbf"},
		{"overlong slash", "\xc0\xaf"},
		{"overlong NUL", "\xc0\x80"},
		{"overlong 3-byte", "\xe0\x80\xaf"},
		{"overlong 4-byte", "\xf0\x80\x80\xaf"},
		{"surrogate U+D800", "\xed\xa0\x80"},
		{"surrogate U+DFFF", "\xed\xbf\xbf"},
		{"surrogate pair", "\xed\xa0\x80\xed\xb0\x80"},
		{"above U+10FFFF", "\xf4\x90\x80\x80"},
		{"lead byte 0xF5", "\xf5\x80\x80\x80"},
		{"5-byte form", "\xf8\x88\x80\x80\x80"},
		{"truncated 2-byte at end", "κ\xce"},
		{"truncated 3-byte at end", "\xe2\x82"},
		{"truncated 4-byte at end", "\xf0\x9f\x98"},
		{"missing continuation", "a\xe2\x82b"},
		{"invalid after valid", "κόσμε\xed\xa0\x80edited"},
	}
	var cases []confCase
	for _, v := range valid {
		cases = append(cases, confCase{
			name: "valid " + v.name,
			send: []wstest.Frame{wstest.Text([]byte(v.s))},
			want: []confStep{confEcho(ws.OpText, []byte(v.s))},
		})
	}
	for _, v := range invalid {
		cases = append(cases, confCase{
			name: "invalid " + v.name,
			send: []wstest.Frame{wstest.Text([]byte(v.s))},
			want: []confStep{confClosed(ws.StatusInvalidFramePayloadData)},
		})
	}
	// Split at every byte boundary, and at all of them at once.
	good := []byte("κόσμε€𝄞😀\U0010ffff!")
	bad := []byte("κόσμε\xed\xa0\x80edited")
	for i := 1; i < len(good); i++ {
		cases = append(cases, confCase{
			name: fmt.Sprintf("valid split at byte %d", i),
			send: wstest.Split(ws.OpText, good, i),
			want: []confStep{confEcho(ws.OpText, good)},
		})
	}
	for i := 1; i < len(bad); i++ {
		cases = append(cases, confCase{
			name: fmt.Sprintf("invalid split at byte %d", i),
			send: wstest.Split(ws.OpText, bad, i),
			want: []confStep{confClosed(ws.StatusInvalidFramePayloadData)},
		})
	}
	cases = append(cases,
		confCase{
			name: "valid in single-byte fragments",
			send: wstest.Split(ws.OpText, good, confEveryByte(len(good))...),
			want: []confStep{confEcho(ws.OpText, good)},
		},
		confCase{
			name: "invalid in single-byte fragments",
			send: wstest.Split(ws.OpText, bad, confEveryByte(len(bad))...),
			want: []confStep{confClosed(ws.StatusInvalidFramePayloadData)},
		},
		confCase{
			name: "truncated sequence at end of fragmented message",
			send: wstest.Split(ws.OpText, []byte("ab\xe2\x82"), 2),
			want: []confStep{confClosed(ws.StatusInvalidFramePayloadData)},
		},
		confCase{
			name: "sequence completed after interleaved ping",
			send: []wstest.Frame{
				wstest.Text([]byte("\xf0\x9f")).WithFin(false), wstest.Ping([]byte("p")), wstest.Continuation([]byte("\x98\x80")),
			},
			want: []confStep{confPong([]byte("p")), confEcho(ws.OpText, []byte("😀"))},
		},
		confCase{
			name: "invalid UTF-8 in binary is data",
			send: []wstest.Frame{wstest.Binary([]byte("\xff\xed\xa0\x80"))},
			want: []confStep{confEcho(ws.OpBinary, []byte("\xff\xed\xa0\x80"))},
		},
		confCase{
			name: "UTF-8 state does not leak into next message",
			send: []wstest.Frame{wstest.Text([]byte("ok\xe2\x82\xac")), wstest.Binary([]byte("\xe2\x82"))},
			want: []confStep{
				confEcho(ws.OpText, []byte("ok\xe2\x82\xac")),
				confEcho(ws.OpBinary, []byte("\xe2\x82")),
				confRaw(wstest.Text([]byte("\xac")).Bytes()),
				confClosed(ws.StatusInvalidFramePayloadData),
			},
		},
	)
	runConf(t, confServer(t, nil), cases)
}

// TestConformanceClose: the closing handshake, close codes and reasons.
