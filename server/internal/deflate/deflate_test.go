package deflate

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/klauspost/compress/flate"
)

// corpus returns n bytes of text with long-range repeats (sentences reused
// from far back), so that a compressor with a big window would use
// distances far above 512.
func corpus(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	words := []string{"über", "the", "chat", "message", "room", "alice", "bob", "permessage", "deflate",
		"window", "seventeen", "{\"type\":\"message\"", "\"text\":", "lorem", "ipsum", "Grüße"}
	var sentences [][]byte
	for range 40 {
		var s []byte
		for range 6 + r.IntN(10) {
			s = append(s, words[r.IntN(len(words))]...)
			s = append(s, ' ')
		}
		sentences = append(sentences, s)
	}
	var b []byte
	for len(b) < n {
		b = append(b, sentences[r.IntN(len(sentences))]...)
		if r.IntN(4) == 0 {
			b = append(b, byte(r.IntN(256)))
		}
	}
	return b[:n]
}

// TestCompressWindow: for every window size and level, what Append makes
// inflates back to the message and never reaches further back than
// 2^bits bytes (checked with puff, which reports distances), while the
// 15-bit window does reach further: the check can fail.
func TestCompressWindow(t *testing.T) {
	msg := corpus(48<<10, 1)
	for _, level := range []int{1, 5, 9} {
		c, err := NewCompressor(level)
		if err != nil {
			t.Fatal(err)
		}
		for bits := uint8(MinBits); bits <= DefaultBits; bits++ {
			if level != 1 && bits != DefaultBits {
				continue // smaller windows have one setting whatever the level
			}
			t.Run(fmt.Sprintf("level%d/bits%d", level, bits), func(t *testing.T) {
				z, ok := c.Append(nil, msg, bits)
				if !ok {
					t.Fatal("not compressed")
				}
				got, dist, err := puff(z)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, msg) {
					t.Fatal("puff: round trip differs")
				}
				if dist > 1<<bits {
					t.Fatalf("distance %d over the %d-byte window", dist, 1<<bits)
				}
				if bits == DefaultBits && dist <= 1<<14 {
					t.Fatalf("longest distance %d: the corpus does not exercise big windows", dist)
				}
				var f Inflater
				back, err := f.Inflate(z, len(msg))
				if err != nil || !bytes.Equal(back, msg) {
					t.Fatalf("Inflate: %v (equal %v)", err, bytes.Equal(back, msg))
				}
				t.Logf("%d -> %d bytes, longest distance %d", len(msg), len(z), dist)
			})
		}
	}
}

// TestCompressReuse: a Compressor's messages are independent (no context
// taken over), whatever came before; each inflates alone.
func TestCompressReuse(t *testing.T) {
	c, _ := NewCompressor(1)
	var f Inflater
	for i := range 50 {
		msg := corpus(100+i*97, uint64(i%3))
		bits := uint8(MinBits + i%8)
		z, ok := c.Append([]byte("prefix"), msg, bits)
		if !ok {
			t.Fatalf("message %d not compressed", i)
		}
		if string(z[:6]) != "prefix" {
			t.Fatal("dst clobbered")
		}
		got, err := f.Inflate(z[6:], 1<<20)
		if err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("message %d: %v", i, err)
		}
	}
}

// TestCompressNotSmaller: data that does not shrink is reported, dst
// unchanged.
func TestCompressNotSmaller(t *testing.T) {
	c, _ := NewCompressor(1)
	noise := make([]byte, 1000)
	r := rand.New(rand.NewPCG(7, 7))
	for i := range noise {
		noise[i] = byte(r.Uint32())
	}
	dst := []byte("keep")
	if z, ok := c.Append(dst, noise, DefaultBits); ok || string(z) != "keep" {
		t.Fatalf("noise compressed: %v %q", ok, z)
	}
	if _, ok := c.Append(nil, []byte("ab"), DefaultBits); ok {
		t.Fatal("2 bytes compressed")
	}
}

func TestNewCompressorLevels(t *testing.T) {
	for _, level := range []int{0, 10, -1} {
		if _, err := NewCompressor(level); err == nil {
			t.Errorf("level %d accepted", level)
		}
	}
}

// zlibLike compresses msg the way other peers do (the standard deflate
// of another library), flushed and without the tail.
func zlibLike(t testing.TB, msg []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(msg)
	w.Flush()
	return bytes.TrimSuffix(b.Bytes(), tail)
}

// TestInflate: inflation limits, and what is not DEFLATE.
func TestInflate(t *testing.T) {
	var f Inflater
	cases := []struct {
		name  string
		in    []byte
		limit int
		want  []byte
		err   error
	}{
		{"empty message", []byte{0x00}, 10, []byte{}, nil},
		// Not even the 0x00 of an empty message: the stream's first
		// header would be the restored tail, which does not parse.
		{"no payload at all", nil, 10, nil, ErrCorrupt},
		{"at the limit", zlibLike(t, bytes.Repeat([]byte("ab"), 500)), 1000, bytes.Repeat([]byte("ab"), 500), nil},
		{"one over", zlibLike(t, bytes.Repeat([]byte("ab"), 500)), 999, nil, ErrTooBig},
		{"limit 0", zlibLike(t, []byte("x")), 0, nil, ErrTooBig},
		{"final block inside", func() []byte {
			var b bytes.Buffer
			w, _ := flate.NewWriter(&b, 1)
			w.Write([]byte("closed"))
			w.Close()
			return b.Bytes()
		}(), 100, []byte("closed"), nil},
		{"reserved block type", []byte{0x07, 0x00}, 100, nil, ErrCorrupt},
		{"garbage", []byte("this is not deflate at all"), 100, nil, ErrCorrupt},
		{"truncated dynamic block", zlibLike(t, corpus(2000, 3))[:40], 1 << 20, nil, ErrCorrupt},
		{"distance before the start", []byte{0x03, 0x02, 0x00}, 100, nil, ErrCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := f.Inflate(tc.in, tc.limit)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err == nil && !bytes.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestInflateBomb: a payload that would inflate to 256 MiB stops at the
// limit, allocating about the limit, not the gigabyte.
func TestInflateBomb(t *testing.T) {
	// One flushed MiB of zeros is a run of whole blocks; 256 of them back
	// to back are one stream of 256 MiB.
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	w.Write(make([]byte, 1<<20))
	w.Flush()
	bomb := bytes.TrimSuffix(bytes.Repeat(b.Bytes(), 256), tail)
	two := bytes.TrimSuffix(bytes.Repeat(b.Bytes(), 2), tail)
	if out, err := new(Inflater).Inflate(two, 4<<20); err != nil || len(out) != 2<<20 {
		t.Fatalf("two blocks inflate to %d bytes (%v), not 2 MiB", len(out), err)
	}
	t.Logf("256 MiB of zeros in %d bytes", len(bomb))
	var f Inflater
	f.Inflate([]byte{0}, 10) // the decompressor's own state, once
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := f.Inflate(bomb, 64<<10)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTooBig) {
		t.Fatalf("err %v, want ErrTooBig", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Fatalf("inflating to a 64 KiB limit allocated %d bytes", alloc)
	}
}
