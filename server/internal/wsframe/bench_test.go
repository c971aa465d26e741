package wsframe

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

// benchCases are the frame payload sizes decoded by BenchmarkDecode: chat
// lines, and large messages that take the block cipher and UTF-8 fast paths.
var benchCases = []struct {
	name string
	size int
}{
	{"32B", 32},
	{"16KiB", 16 << 10},
}

// benchRead is the size of the reads the stream is cut into, like a
// connection's read buffer.
const benchRead = 32 << 10

func BenchmarkDecode(b *testing.B) {
	for _, bc := range benchCases {
		for _, op := range []struct {
			name string
			op   ws.OpCode
		}{{"text", ws.OpText}, {"binary", ws.OpBinary}} {
			b.Run(bc.name+"/"+op.name, func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				w := wire{op: op.op, payload: pattern(bc.size)}
				var s []byte
				frames := 0
				for len(s) < 1<<20 {
					s = append(s, w.bytes(rng)...)
					frames++
				}
				b.SetBytes(int64(len(s)))
				b.ReportAllocs()
				for b.Loop() {
					d := NewDecoder(1 << 20)
					got := 0
					for rest := s; len(rest) > 0; {
						p := rest[:min(len(rest), benchRead)]
						rest = rest[len(p):]
						for len(p) > 0 {
							n, _, ok, err := d.Decode(p)
							if err != nil {
								b.Fatal(err)
							}
							if ok {
								got++
							}
							p = p[n:]
						}
					}
					if got != frames {
						b.Fatalf("decoded %d messages, want %d", got, frames)
					}
				}
			})
		}
	}
}

func BenchmarkScanUTF8(b *testing.B) {
	for _, text := range []struct{ name, s string }{
		{"ascii", pattern(4 << 10)},
		{"mixed", strings.Repeat(string(runeMix), 4<<10/len(string(runeMix)))},
	} {
		b.Run(text.name, func(b *testing.B) {
			p := []byte(text.s)
			b.SetBytes(int64(len(p)))
			for b.Loop() {
				scanUTF8(p)
			}
		})
	}
}
