package wsframe

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// wire describes one client frame. The zero value of every option gives a
// final, masked frame whose length field matches its payload.
type wire struct {
	op       ws.OpCode
	payload  string
	more     bool // clear FIN
	rsv      byte // the three RSV bits, 0-7
	unmasked bool
	// declare, when nonzero, makes bytes emit only a header declaring that
	// many payload bytes, as if the payload had not arrived yet.
	declare uint64
}

// bytes encodes w with the shortest length field and a random mask. The
// masking is done here byte by byte, independently of ws.Cipher.
func (w wire) bytes(rng *rand.Rand) []byte {
	b0 := byte(w.op) | w.rsv<<4
	if !w.more {
		b0 |= 0x80
	}
	var maskBit byte = 0x80
	if w.unmasked {
		maskBit = 0
	}
	n := uint64(len(w.payload))
	if w.declare != 0 {
		n = w.declare
	}
	var b []byte
	switch {
	case n <= 125:
		b = append(b, b0, maskBit|byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, b0, maskBit|126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, b0, maskBit|127), n)
	}
	if w.unmasked {
		if w.declare != 0 {
			return b
		}
		return append(b, w.payload...)
	}
	var mask [4]byte
	binary.LittleEndian.PutUint32(mask[:], rng.Uint32())
	b = append(b, mask[:]...)
	if w.declare != 0 {
		return b
	}
	for i := range len(w.payload) {
		b = append(b, w.payload[i]^mask[i%4])
	}
	return b
}

// stream concatenates the encoded frames.
func stream(rng *rand.Rand, frames ...wire) []byte {
	var b []byte
	for _, w := range frames {
		b = append(b, w.bytes(rng)...)
	}
	return b
}

// closeBody is a close frame payload.
func closeBody(code ws.StatusCode, reason string) string {
	return string(binary.BigEndian.AppendUint16(nil, uint16(code))) + reason
}

// event is what the decoder produced: a message, or (last) a failure whose
// close code is err.
type event struct {
	op      ws.OpCode
	payload string
	code    ws.StatusCode
	reason  string
	err     ws.StatusCode
	// compressed: RSV1 on the message's first frame, with Deflate.
	compressed bool
}

// feed decodes s as separate reads cut at the offsets in cuts (ascending).
// Each read is a fresh buffer, scribbled over as soon as Decode has consumed
// part of it, so a payload aliasing the caller's buffer comes out garbled.
// feed checks the Decode contract on the way and stops at the first error,
// after checking that the error is sticky.
func feed(tb testing.TB, d *Decoder, s []byte, cuts []int) []event {
	tb.Helper()
	var msgs []Message
	var failed *Error
	prev := 0
reads:
	for _, end := range slices.Concat(cuts, []int{len(s)}) {
		p := bytes.Clone(s[prev:end])
		prev = end
		for len(p) > 0 {
			n, m, ok, err := d.Decode(p)
			if n < 0 || n > len(p) {
				tb.Fatalf("Decode consumed %d of %d bytes", n, len(p))
			}
			clear(p[:n])
			p = p[n:]
			if err != nil {
				if ok || !errors.As(err, &failed) {
					tb.Fatalf("Decode returned ok=%v, err %T %v", ok, err, err)
				}
				checkSticky(tb, d, err)
				break reads
			}
			if ok {
				msgs = append(msgs, m)
				continue
			}
			if len(p) > 0 {
				tb.Fatalf("Decode returned nothing and left %d bytes", len(p))
			}
		}
	}
	var evs []event
	for _, m := range msgs {
		evs = append(evs, event{op: m.Op, payload: string(m.Payload), code: m.Code, reason: m.Reason, compressed: m.Compressed})
	}
	if failed != nil {
		evs = append(evs, event{err: failed.Code})
	}
	return evs
}

// checkSticky checks that once Decode has failed, it keeps failing with the
// same error and consumes nothing.
func checkSticky(tb testing.TB, d *Decoder, want error) {
	tb.Helper()
	for _, p := range [][]byte{nil, {0x81, 0x80, 1, 2, 3, 4}} {
		n, _, ok, err := d.Decode(p)
		if n != 0 || ok || err != want {
			tb.Fatalf("Decode after error = %d, %v, %v; want 0, false, %v", n, ok, err, want)
		}
	}
}

// everyByte cuts a stream of n bytes into one-byte reads.
func everyByte(n int) []int {
	cuts := make([]int, 0, n)
	for i := 1; i < n; i++ {
		cuts = append(cuts, i)
	}
	return cuts
}

// randomCuts cuts a stream of n bytes at random points.
func randomCuts(rng *rand.Rand, n int) []int {
	if n < 2 {
		return nil
	}
	var cuts []int
	for range rng.IntN(min(n, 32)) {
		cuts = append(cuts, 1+rng.IntN(n-1))
	}
	slices.Sort(cuts)
	return slices.Compact(cuts)
}

// newRand returns a randomly seeded generator and logs the seed if the test
// fails.
func newRand(tb testing.TB) *rand.Rand {
	seed := rand.Uint64()
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("random seed %d", seed)
		}
	})
	return rand.New(rand.NewPCG(seed, seed))
}

// runePrefixes holds every proper prefix of the UTF-8 encoding of every
// valid multi-byte rune.
var runePrefixes = sync.OnceValue(func() map[string]bool {
	set := make(map[string]bool)
	for r := rune(0x80); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		b := utf8.AppendRune(nil, r)
		for k := 1; k < len(b); k++ {
			set[string(b[:k])] = true
		}
	}
	return set
})

// validPrefix reports whether some bytes appended to p could make it valid
// UTF-8. It is the reference for how early an invalid sequence must fail.
func validPrefix(p []byte) bool {
	for k := 0; k <= min(3, len(p)); k++ {
		head, tail := p[:len(p)-k], p[len(p)-k:]
		if utf8.Valid(head) && (k == 0 || runePrefixes()[string(tail)]) {
			return true
		}
	}
	return false
}
