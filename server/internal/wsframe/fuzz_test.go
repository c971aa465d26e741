package wsframe

import (
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// FuzzDecode decodes arbitrary bytes whole, at fuzzed split points and one
// byte at a time. The results must agree, and whatever comes out must obey
// the limits the decoder promises. feed checks the Decode contract, that no
// payload aliases the input and that errors are sticky.
func FuzzDecode(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range decodeCases() {
		s := stream(rng, tc.frames...)
		if len(s) <= 1<<12 {
			f.Add(s, rng.Uint64(), uint16(1000))
		}
	}
	for range 20 {
		f.Add(stream(rng, randomFrames(rng)...), rng.Uint64(), uint16(rng.IntN(5000)))
	}
	f.Fuzz(func(t *testing.T, data []byte, seed uint64, max uint16) {
		whole := feed(t, NewDecoder(int(max)), data, nil)
		rng := rand.New(rand.NewPCG(seed, seed))
		cuts := randomCuts(rng, len(data))
		if got := feed(t, NewDecoder(int(max)), data, cuts); !slices.Equal(got, whole) {
			t.Fatalf("cut at %v: got %v\nwhole gave %v", cuts, got, whole)
		}
		if len(data) <= 1<<12 {
			if got := feed(t, NewDecoder(int(max)), data, everyByte(len(data))); !slices.Equal(got, whole) {
				t.Fatalf("bytewise: got %v\nwhole gave %v", got, whole)
			}
		}
		for i, e := range whole {
			checkEvent(t, e, int(max), i == len(whole)-1)
		}
		// The same stream with permessage-deflate negotiated: RSV1 on a
		// message's first frame is allowed, and marks it compressed.
		deflating := func() *Decoder {
			d := NewDecoder(int(max))
			d.Deflate = true
			return d
		}
		wholeZ := feed(t, deflating(), data, nil)
		if got := feed(t, deflating(), data, cuts); !slices.Equal(got, wholeZ) {
			t.Fatalf("Deflate, cut at %v: got %v\nwhole gave %v", cuts, got, wholeZ)
		}
		for i, e := range wholeZ {
			checkEvent(t, e, int(max), i == len(wholeZ)-1)
		}
	})
}

// checkEvent checks one decoder result against the package's promises.
func checkEvent(t *testing.T, e event, max int, last bool) {
	t.Helper()
	if e.err != 0 {
		switch e.err {
		case ws.StatusProtocolError, ws.StatusInvalidFramePayloadData, ws.StatusMessageTooBig:
		default:
			t.Fatalf("error with close code %d", e.err)
		}
		if !last {
			t.Fatal("decoding went on after an error")
		}
		return
	}
	switch e.op {
	case ws.OpText, ws.OpBinary:
		if e.compressed {
			// Left as it came, for the caller to inflate and check.
			if len(e.payload) > CompressedLimit(max) {
				t.Fatalf("%d-byte compressed message with MaxMessage %d", len(e.payload), max)
			}
			break
		}
		if len(e.payload) > max {
			t.Fatalf("%d-byte message with MaxMessage %d", len(e.payload), max)
		}
		if e.op == ws.OpText && !utf8.ValidString(e.payload) {
			t.Fatalf("text message %q is not valid UTF-8", e.payload)
		}
	case ws.OpPing, ws.OpPong, ws.OpClose:
		if len(e.payload) > 125 {
			t.Fatalf("%d-byte control frame", len(e.payload))
		}
	default:
		t.Fatalf("message with opcode %d", e.op)
	}
	if e.op != ws.OpClose {
		if e.code != 0 || e.reason != "" {
			t.Fatalf("%v carries a close code or reason", e)
		}
		return
	}
	if e.payload == "" {
		if e.code != 0 || e.reason != "" {
			t.Fatalf("empty close with code %d, reason %q", e.code, e.reason)
		}
		return
	}
	if e.payload != closeBody(e.code, e.reason) || ws.CheckCloseFrameData(e.code, e.reason) != nil || e.code > 4999 {
		t.Fatalf("accepted %v", e)
	}
}

// FuzzScanUTF8 streams scanUTF8 over pieces of a byte string, keeping the
// incomplete tail as the decoder does, and checks it against utf8.Valid of
// the whole, and that it fails exactly when the bytes so far cannot be
// completed into valid UTF-8.
func FuzzScanUTF8(f *testing.F) {
	seeds := slices.Concat(validTexts, []string{"", "a", "\xe2", "\xe2\x82", "\xf0\x9f\x98", "\xef\xbf\xbd"})
	for _, tc := range invalidTexts {
		seeds = append(seeds, tc.text)
	}
	for i, s := range seeds {
		f.Add([]byte(s), uint(i))
	}
	f.Fuzz(func(t *testing.T, data []byte, cut uint) {
		want := utf8.Valid(data)
		c := 0
		if len(data) > 0 {
			c = int(cut % uint(len(data)+1))
		}
		if got := scanStream(t, data, []int{c}); got != want {
			t.Fatalf("split at %d: valid=%v, utf8.Valid says %v", c, got, want)
		}
		if got := scanStream(t, data, everyByte(len(data))); got != want {
			t.Fatalf("bytewise: valid=%v, utf8.Valid says %v", got, want)
		}
	})
}

// scanStream runs scanUTF8 over data cut at cuts the way readPayload does and
// reports whether the whole is valid.
func scanStream(t *testing.T, data []byte, cuts []int) bool {
	t.Helper()
	// Prefixes of data shorter than bad can still become valid UTF-8;
	// validPrefix is monotone, so a binary search finds it.
	bad := sort.Search(len(data)+1, func(k int) bool { return !validPrefix(data[:k]) })
	var pending []byte // bytes not yet known to be complete runes
	prev := 0
	for _, end := range slices.Concat(cuts, []int{len(data)}) {
		pending = append(pending, data[prev:end]...)
		done, ok := scanUTF8(pending)
		if ok != (end < bad) {
			t.Fatalf("after %q: ok=%v, but validPrefix says %v", data[:end], ok, !ok)
		}
		if !ok {
			return false
		}
		if done < 0 || done > len(pending) || len(pending)-done > 3 || !utf8.Valid(pending[:done]) {
			t.Fatalf("scanUTF8(%q) = %d", pending, done)
		}
		pending = pending[done:]
		prev = end
	}
	return len(pending) == 0
}
