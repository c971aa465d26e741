package wsframe

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

// decodeCase is a stream of client frames and what decoding it must yield.
type decodeCase struct {
	name   string
	max    int // MaxMessage; 0 means defaultMax
	frames []wire
	want   []event
}

const defaultMax = 1 << 17

func msg(op ws.OpCode, payload string) event { return event{op: op, payload: payload} }

func closed(code ws.StatusCode, reason string) event {
	return event{op: ws.OpClose, payload: closeBody(code, reason), code: code, reason: reason}
}

func fail(code ws.StatusCode) event { return event{err: code} }

// pattern returns n bytes of printable ASCII, so valid text too.
func pattern(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = ' ' + byte(i%95)
	}
	return string(b)
}

// binaryPattern returns n bytes covering every byte value.
func binaryPattern(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return string(b)
}

func decodeCases() []decodeCase {
	const (
		text   = ws.OpText
		binary = ws.OpBinary
		cont   = ws.OpContinuation
		ping   = ws.OpPing
		pong   = ws.OpPong
		close  = ws.OpClose
	)
	var cases []decodeCase
	add := func(name string, frames []wire, want ...event) {
		cases = append(cases, decodeCase{name: name, frames: frames, want: want})
	}
	addMax := func(name string, max int, frames []wire, want ...event) {
		cases = append(cases, decodeCase{name: name, max: max, frames: frames, want: want})
	}

	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536} {
		add(fmt.Sprintf("text length %d", n), []wire{{op: text, payload: pattern(n)}}, msg(text, pattern(n)))
		add(fmt.Sprintf("binary length %d", n), []wire{{op: binary, payload: binaryPattern(n)}}, msg(binary, binaryPattern(n)))
	}
	add("ping with payload", []wire{{op: ping, payload: "are you there"}}, msg(ping, "are you there"))
	add("ping of 125 bytes", []wire{{op: ping, payload: binaryPattern(125)}}, msg(ping, binaryPattern(125)))
	add("empty ping", []wire{{op: ping}}, msg(ping, ""))
	add("pong with payload", []wire{{op: pong, payload: "yes"}}, msg(pong, "yes"))
	add("multi-byte text", []wire{{op: text, payload: "héllo €𝄞"}}, msg(text, "héllo €𝄞"))
	add("binary may be invalid UTF-8", []wire{{op: binary, payload: "\xff\xc0"}}, msg(binary, "\xff\xc0"))
	add("several messages", []wire{{op: text, payload: "a"}, {op: binary, payload: "b"}, {op: pong}, {op: text}},
		msg(text, "a"), msg(binary, "b"), msg(pong, ""), msg(text, ""))

	// Close frames.
	add("close empty", []wire{{op: close}}, event{op: close})
	add("close of 1 byte", []wire{{op: close, payload: "\x03"}}, fail(ws.StatusProtocolError))
	for _, c := range []ws.StatusCode{1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999} {
		add(fmt.Sprintf("close code %d", c), []wire{{op: close, payload: closeBody(c, "bye")}}, closed(c, "bye"))
	}
	for _, c := range []ws.StatusCode{0, 999, 1004, 1005, 1006, 1012, 1013, 1014, 1015, 1016, 1100, 2000, 2999, 5000, 65535} {
		add(fmt.Sprintf("close code %d", c), []wire{{op: close, payload: closeBody(c, "")}}, fail(ws.StatusProtocolError))
	}
	add("close without reason", []wire{{op: close, payload: closeBody(1000, "")}}, closed(1000, ""))
	add("close with 123-byte reason", []wire{{op: close, payload: closeBody(1001, pattern(123))}}, closed(1001, pattern(123)))
	add("close with multi-byte reason", []wire{{op: close, payload: closeBody(4000, "au revoir, café ☕")}},
		closed(4000, "au revoir, café ☕"))
	add("close with invalid UTF-8 reason", []wire{{op: close, payload: closeBody(1000, "bad \xed\xa0\x80")}},
		fail(ws.StatusInvalidFramePayloadData))

	// Header violations.
	for rsv := byte(1); rsv <= 7; rsv++ {
		add(fmt.Sprintf("rsv %03b on text", rsv), []wire{{op: text, payload: "x", rsv: rsv}}, fail(ws.StatusProtocolError))
	}
	add("rsv on ping", []wire{{op: ping, rsv: 4}}, fail(ws.StatusProtocolError))
	for _, op := range []ws.OpCode{3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf} {
		add(fmt.Sprintf("reserved opcode %#x", byte(op)), []wire{{op: op, payload: "x"}}, fail(ws.StatusProtocolError))
	}
	add("unmasked text", []wire{{op: text, payload: "hi", unmasked: true}}, fail(ws.StatusProtocolError))
	add("unmasked ping", []wire{{op: ping, unmasked: true}}, fail(ws.StatusProtocolError))
	add("ping over 125 bytes", []wire{{op: ping, payload: pattern(126)}}, fail(ws.StatusProtocolError))
	add("close over 125 bytes", []wire{{op: close, payload: closeBody(1000, pattern(124))}}, fail(ws.StatusProtocolError))
	add("control over 125 bytes fails at the header", []wire{{op: pong, declare: 200}}, fail(ws.StatusProtocolError))
	add("fragmented ping", []wire{{op: ping, payload: "p", more: true}}, fail(ws.StatusProtocolError))
	add("fragmented close", []wire{{op: close, more: true}}, fail(ws.StatusProtocolError))
	add("64-bit length with MSB set", []wire{{op: binary, declare: 1 << 63}}, fail(ws.StatusProtocolError))
	add("64-bit length all ones", []wire{{op: text, declare: 1<<64 - 1}}, fail(ws.StatusProtocolError))
	add("error after good messages", []wire{{op: text, payload: "ok"}, {op: ping}, {op: text, rsv: 1}},
		msg(text, "ok"), msg(ping, ""), fail(ws.StatusProtocolError))

	// Fragmentation.
	add("fragmented text", []wire{{op: text, payload: "Hel", more: true}, {op: cont, payload: "lo, ", more: true}, {op: cont, payload: "world"}},
		msg(text, "Hello, world"))
	add("fragmented binary with empty fragments", []wire{{op: binary, more: true}, {op: cont, payload: "\x00\xff", more: true}, {op: cont}},
		msg(binary, "\x00\xff"))
	add("ping between fragments", []wire{{op: text, payload: "Hel", more: true}, {op: ping, payload: "p"}, {op: pong}, {op: cont, payload: "lo"}},
		msg(ping, "p"), msg(pong, ""), msg(text, "Hello"))
	add("close between fragments", []wire{{op: text, payload: "a", more: true}, {op: close, payload: closeBody(1000, "")}},
		closed(1000, ""))
	add("continuation without start", []wire{{op: cont, payload: "x"}}, fail(ws.StatusProtocolError))
	add("continuation after final frame", []wire{{op: text, payload: "a"}, {op: cont, payload: "b"}},
		msg(text, "a"), fail(ws.StatusProtocolError))
	add("text inside fragmented message", []wire{{op: text, payload: "a", more: true}, {op: text, payload: "b"}},
		fail(ws.StatusProtocolError))
	add("binary inside fragmented message", []wire{{op: text, payload: "a", more: true}, {op: ping}, {op: binary, payload: "b"}},
		msg(ping, ""), fail(ws.StatusProtocolError))
	add("rune split across fragments", []wire{{op: text, payload: "\xe2", more: true}, {op: cont, payload: "\x82\xac"}},
		msg(text, "€"))

	// Message size.
	addMax("text of exactly MaxMessage", 100, []wire{{op: text, payload: pattern(100)}}, msg(text, pattern(100)))
	addMax("text over MaxMessage", 100, []wire{{op: text, payload: pattern(101)}}, fail(ws.StatusMessageTooBig))
	addMax("binary over MaxMessage fails at the header", 100, []wire{{op: binary, declare: 1 << 40}}, fail(ws.StatusMessageTooBig))
	addMax("fragments of exactly MaxMessage", 100, []wire{{op: binary, payload: pattern(60), more: true}, {op: cont, payload: pattern(40)}},
		msg(binary, pattern(60)+pattern(40)))
	addMax("fragments over MaxMessage fail at the header", 100, []wire{{op: text, payload: pattern(60), more: true}, {op: cont, declare: 41}},
		fail(ws.StatusMessageTooBig))
	addMax("control frames do not count", 4, []wire{{op: text, payload: "ab", more: true}, {op: ping, payload: "12345"}, {op: cont, payload: "cd"}},
		msg(ping, "12345"), msg(text, "abcd"))

	// UTF-8.
	add("invalid UTF-8", []wire{{op: text, payload: "ab\xffcd"}}, fail(ws.StatusInvalidFramePayloadData))
	add("invalid UTF-8 in first fragment fails before the last arrives", []wire{{op: text, payload: "ab\xc0\xafcd", more: true}},
		fail(ws.StatusInvalidFramePayloadData))
	add("invalid UTF-8 in a later fragment", []wire{{op: text, payload: "ok", more: true}, {op: cont, payload: "\xed\xa0\x80", more: true}},
		fail(ws.StatusInvalidFramePayloadData))
	add("text ending mid-rune", []wire{{op: text, payload: "a\xe2\x82"}}, fail(ws.StatusInvalidFramePayloadData))
	add("fragmented text ending mid-rune", []wire{{op: text, payload: "a", more: true}, {op: cont, payload: "\xf0\x9f"}},
		fail(ws.StatusInvalidFramePayloadData))
	return cases
}

// TestDecode feeds every case whole, one byte at a time and at random
// split points; feed also checks that payloads never alias the input and
// that errors are sticky.
func TestDecode(t *testing.T) {
	for _, tc := range decodeCases() {
		t.Run(tc.name, func(t *testing.T) {
			rng := newRand(t)
			max := tc.max
			if max == 0 {
				max = defaultMax
			}
			s := stream(rng, tc.frames...)
			splits := []struct {
				name string
				cuts []int
			}{
				{"whole", nil},
				{"bytewise", everyByte(len(s))},
				{"random", randomCuts(rng, len(s))},
			}
			for _, sp := range splits {
				got := feed(t, NewDecoder(max), s, sp.cuts)
				if !slices.Equal(got, tc.want) {
					t.Errorf("%s: got %v\nwant %v", sp.name, got, tc.want)
				}
			}
		})
	}
}

func (e event) String() string {
	if e.err != 0 {
		return fmt.Sprintf("error %d", e.err)
	}
	p := e.payload
	if len(p) > 32 {
		p = fmt.Sprintf("%s...(%d bytes)", p[:32], len(p))
	}
	if e.op == ws.OpClose {
		return fmt.Sprintf("close %d %q %q", e.code, e.reason, p)
	}
	return fmt.Sprintf("op %d %q", e.op, p)
}

func TestPartial(t *testing.T) {
	rng := newRand(t)
	frames := []wire{
		{op: ws.OpText, payload: "hel", more: true},
		{op: ws.OpPing, payload: "p"},
		{op: ws.OpContinuation, payload: "lo"},
		{op: ws.OpBinary},
		{op: ws.OpBinary, payload: strings.Repeat("b", 300)},
	}
	var s []byte
	ends := map[int]bool{}
	for _, w := range frames {
		s = append(s, w.bytes(rng)...)
		ends[len(s)] = true
	}
	d := NewDecoder(1 << 10)
	if d.Partial() {
		t.Fatal("new decoder is Partial")
	}
	for i := range s {
		n, _, _, err := d.Decode(s[i : i+1])
		if n != 1 || err != nil {
			t.Fatalf("byte %d: Decode = %d, %v", i, n, err)
		}
		if got, want := d.Partial(), !ends[i+1]; got != want {
			t.Fatalf("after %d bytes: Partial() = %v, want %v", i+1, got, want)
		}
	}
}

// TestInMessage feeds a stream byte by byte. At each frame's end InMessage
// must say whether a fragmented message is still open (pings inside one
// included); within a frame, Partial or InMessage must hold, which is what
// the partial-frame timeout watches.
func TestInMessage(t *testing.T) {
	rng := newRand(t)
	frames := []struct {
		w  wire
		in bool // InMessage once this frame has arrived
	}{
		{wire{op: ws.OpText, payload: "one frame"}, false},
		{wire{op: ws.OpPing, payload: "outside"}, false},
		{wire{op: ws.OpText, payload: "hel", more: true}, true},
		{wire{op: ws.OpPing, payload: "inside"}, true},
		{wire{op: ws.OpContinuation, payload: "l", more: true}, true},
		{wire{op: ws.OpPong}, true},
		{wire{op: ws.OpContinuation, payload: "o"}, false},
		{wire{op: ws.OpBinary, more: true}, true}, // an empty first fragment counts
		{wire{op: ws.OpContinuation, payload: strings.Repeat("b", 300)}, false},
	}
	d := NewDecoder(1 << 10)
	if d.InMessage() {
		t.Fatal("new decoder is InMessage")
	}
	for i, f := range frames {
		b := f.w.bytes(rng)
		for j := range b {
			n, _, _, err := d.Decode(b[j : j+1])
			if n != 1 || err != nil {
				t.Fatalf("frame %d byte %d: Decode = %d, %v", i, j, n, err)
			}
			if j < len(b)-1 && !d.Partial() && !d.InMessage() {
				t.Fatalf("frame %d after byte %d of %d: neither Partial nor InMessage", i, j+1, len(b))
			}
		}
		if got := d.InMessage(); got != f.in {
			t.Fatalf("after frame %d (op %d): InMessage() = %v, want %v", i, f.w.op, got, f.in)
		}
		if d.Partial() {
			t.Fatalf("after frame %d: Partial", i)
		}
	}
}

func TestDecodeCopiesPayload(t *testing.T) {
	rng := newRand(t)
	s := stream(rng, wire{op: ws.OpBinary, payload: "abcdef"}, wire{op: ws.OpPing, payload: "ping"})
	d := NewDecoder(100)
	var got []Message
	for p := s; len(p) > 0; {
		n, m, ok, err := d.Decode(p)
		if err != nil || !ok {
			t.Fatalf("Decode = %d, %v, %v", n, ok, err)
		}
		got = append(got, m)
		p = p[n:]
	}
	for i := range s {
		s[i] = ^s[i]
	}
	if len(got) != 2 {
		t.Fatalf("got %d messages, want 2", len(got))
	}
	if string(got[0].Payload) != "abcdef" || string(got[1].Payload) != "ping" {
		t.Fatalf("payloads changed with the input: %q, %q", got[0].Payload, got[1].Payload)
	}
}
