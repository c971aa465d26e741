package wsframe

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// runeMix has 1, 2, 3 and 4-byte runes.
var runeMix = []rune("aZ~éß€한😀𝄞\u0080\u07ff\u0800\uffff\U00010000\U0010ffff")

// randomText returns about n bytes of valid UTF-8, spoiled now and then.
func randomText(rng *rand.Rand, n int) string {
	var b []byte
	for len(b) < n {
		b = utf8.AppendRune(b, runeMix[rng.IntN(len(runeMix))])
	}
	if rng.IntN(10) == 0 {
		bad := []string{"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80"}
		i := rng.IntN(len(b) + 1)
		b = slices.Insert(b, i, []byte(bad[rng.IntN(len(bad))])...)
	}
	return string(b)
}

func randomSize(rng *rand.Rand) int {
	switch rng.IntN(8) {
	case 0:
		return 0
	case 1:
		return 120 + rng.IntN(10) // around the 7-bit/16-bit boundary
	case 2:
		return 1000 + rng.IntN(2000)
	default:
		return rng.IntN(40)
	}
}

// randomFrames returns a mostly valid stream: data messages cut into
// fragments at arbitrary bytes (so runes split across frames), control frames
// interleaved, and sometimes a broken frame at the end.
func randomFrames(rng *rand.Rand) []wire {
	var frames []wire
	for range 1 + rng.IntN(6) {
		if rng.IntN(4) == 0 {
			ops := []ws.OpCode{ws.OpPing, ws.OpPong, ws.OpClose}
			op := ops[rng.IntN(len(ops))]
			p := randomText(rng, rng.IntN(20))
			if op == ws.OpClose {
				p = closeBody(ws.StatusCode(1000+rng.IntN(12)), p)
			}
			frames = append(frames, wire{op: op, payload: p})
			continue
		}
		op := ws.OpBinary
		p := binaryPattern(randomSize(rng))
		if rng.IntN(2) == 0 {
			op = ws.OpText
			p = randomText(rng, randomSize(rng))
		}
		for first := true; ; first = false {
			cut := len(p)
			if rng.IntN(3) == 0 {
				cut = rng.IntN(len(p) + 1)
			}
			w := wire{op: ws.OpContinuation, payload: p[:cut], more: cut < len(p)}
			if first {
				w.op = op
			}
			frames = append(frames, w)
			p = p[cut:]
			if !w.more {
				break
			}
			if rng.IntN(4) == 0 {
				frames = append(frames, wire{op: ws.OpPing, payload: "x"})
			}
		}
	}
	if rng.IntN(4) == 0 {
		broken := []wire{
			{op: ws.OpText, rsv: 2},
			{op: ws.OpBinary, unmasked: true},
			{op: 0xb},
			{op: ws.OpContinuation, payload: "c"},
			{op: ws.OpPing, more: true},
			{op: ws.OpBinary, declare: 1 << 30},
		}
		frames = append(frames, broken[rng.IntN(len(broken))])
	}
	return frames
}

// TestSplitInvariance checks that how a stream is cut into reads never
// changes what it decodes to.
func TestSplitInvariance(t *testing.T) {
	rng := newRand(t)
	for i := range 300 {
		s := stream(rng, randomFrames(rng)...)
		max := 500 + rng.IntN(4000)
		whole := feed(t, NewDecoder(max), s, nil)
		if got := feed(t, NewDecoder(max), s, everyByte(len(s))); !slices.Equal(got, whole) {
			t.Fatalf("stream %d (%x) bytewise: got %v\nwhole gave %v", i, s, got, whole)
		}
		for range 5 {
			cuts := randomCuts(rng, len(s))
			if got := feed(t, NewDecoder(max), s, cuts); !slices.Equal(got, whole) {
				t.Fatalf("stream %d (%x) cut at %v: got %v\nwhole gave %v", i, s, cuts, got, whole)
			}
		}
	}
}

var validTexts = []string{
	"aé€𝄞z",
	"κόσμε 한국어 😀👍🏽",
	"\u0080\u07ff\u0800\ud7ff\ue000\uffff\U00010000\U0010ffff",
}

var invalidTexts = []struct{ name, text string }{
	{"overlong 2-byte", "ab\xc0\xafcd"},
	{"overlong 3-byte", "ab\xe0\x80\xafcd"},
	{"overlong 4-byte", "ab\xf0\x80\x80\xafcd"},
	{"surrogate", "κό\xed\xa0\x80σμε"},
	{"above U+10FFFF", "€\xf4\x90\x80\x80€"},
	{"lone continuation", "é\x80é"},
	{"byte FF", "x\xffy"},
	{"truncated rune then ASCII", "€\xe2\x82a"},
	{"truncated 4-byte rune at the end", "ok\xf0\x9f\x98"},
}

// fragments splits text into a text frame and continuations at the given
// byte offsets.
func fragments(text string, cuts []int) []wire {
	var frames []wire
	prev := 0
	for _, c := range append(slices.Clone(cuts), len(text)) {
		frames = append(frames, wire{op: ws.OpContinuation, payload: text[prev:c], more: true})
		prev = c
	}
	frames[0].op = ws.OpText
	frames[len(frames)-1].more = false
	return frames
}

func TestUTF8AcrossFragments(t *testing.T) {
	rng := newRand(t)
	check := func(t *testing.T, text string, cuts []int, want []event) {
		t.Helper()
		s := stream(rng, fragments(text, cuts)...)
		for _, readCuts := range [][]int{nil, everyByte(len(s))} {
			if got := feed(t, NewDecoder(1<<10), s, readCuts); !slices.Equal(got, want) {
				t.Fatalf("fragments cut at %v: got %v, want %v", cuts, got, want)
			}
		}
	}
	for _, text := range validTexts {
		t.Run(fmt.Sprintf("valid %q", text), func(t *testing.T) {
			want := []event{msg(ws.OpText, text)}
			for i := range len(text) + 1 {
				check(t, text, []int{i}, want)
			}
			check(t, text, everyByte(len(text)), want)
		})
	}
	for _, tc := range invalidTexts {
		t.Run(tc.name, func(t *testing.T) {
			want := []event{fail(ws.StatusInvalidFramePayloadData)}
			for i := range len(tc.text) + 1 {
				check(t, tc.text, []int{i}, want)
			}
			check(t, tc.text, everyByte(len(tc.text)), want)
		})
	}
}

// TestUTF8FailsFast checks that a text fragment fails exactly when its
// bytes so far can no longer start valid UTF-8, without waiting for the rest
// of the message.
func TestUTF8FailsFast(t *testing.T) {
	rng := newRand(t)
	texts := slices.Clone(validTexts)
	for _, tc := range invalidTexts {
		texts = append(texts, tc.text)
	}
	for _, text := range texts {
		for k := range len(text) + 1 {
			prefix := text[:k]
			var want []event
			if !validPrefix([]byte(prefix)) {
				want = []event{fail(ws.StatusInvalidFramePayloadData)}
			}
			s := stream(rng, wire{op: ws.OpText, payload: prefix, more: true})
			if got := feed(t, NewDecoder(1<<10), s, nil); !slices.Equal(got, want) {
				t.Errorf("first fragment %q: got %v, want %v", prefix, got, want)
			}
		}
	}
}
