package deflate

import (
	"fmt"
	"os"
	"runtime"
	"testing"
)

// chatMessage is a room message as chatd encodes it, n bytes (at least
// 120): the envelope and a prefix of natural chat text (testdata/chat.txt;
// no repeats, which would flatter compression).
func chatMessage(tb testing.TB, n int) []byte {
	text, err := os.ReadFile("testdata/chat.txt")
	if err != nil {
		tb.Fatal(err)
	}
	b := []byte(`{"type":"message","id":"c1f3a9","sender":"alice","room":"lobby","seq":18342,"ts":1765065600123,"data":"`)
	b = append(b, text[:n-len(b)-2]...)
	return append(b, `"}`...)
}

var benchSizes = []int{128, 200, 256, 400, 1024}

// BenchmarkCompress: the server's cost of compressing one chat message
// (one Append: the loop's writer reset, written, flushed), by level, and
// its size on the wire as a share of the original (ratio: 1 means sent
// plain, compression did not pay).
func BenchmarkCompress(b *testing.B) {
	for _, n := range benchSizes {
		msg := chatMessage(b, n)
		for _, level := range []int{1, 3, 5, 6, 9} {
			b.Run(fmt.Sprintf("%dB/level%d", n, level), func(b *testing.B) {
				c, _ := NewCompressor(level)
				dst := make([]byte, 0, 2*n)
				z, ok := c.Append(dst, msg, DefaultBits)
				ratio := 1.0
				if ok {
					ratio = float64(len(z)) / float64(n)
				}
				b.ReportAllocs()
				for b.Loop() {
					c.Append(dst, msg, DefaultBits)
				}
				b.ReportMetric(ratio, "ratio")
			})
		}
	}
}

// BenchmarkInflate: the server's cost of inflating one chat message a
// client compressed (as Append at level 9 makes it), the message's own
// buffer included.
func BenchmarkInflate(b *testing.B) {
	for _, n := range benchSizes {
		msg := chatMessage(b, n)
		c, _ := NewCompressor(9)
		z, ok := c.Append(nil, msg, DefaultBits)
		if !ok {
			b.Fatalf("%d bytes do not compress", n)
		}
		b.Run(fmt.Sprintf("%dB", n), func(b *testing.B) {
			var f Inflater
			b.ReportAllocs()
			for b.Loop() {
				if _, err := f.Inflate(z, 64<<10); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoopState: the memory an event loop's compressor (one window
// size, by level) and inflater hold once used: fixed per loop, whatever
// the number of connections. B/loop is the live heap they add.
func BenchmarkLoopState(b *testing.B) {
	msg := chatMessage(b, 1024)
	for _, level := range []int{1, 3, 6, 9} {
		b.Run(fmt.Sprintf("compressor/level%d", level), func(b *testing.B) {
			for range b.N {
				before := heapAlloc()
				c, _ := NewCompressor(level)
				c.Append(nil, msg, DefaultBits)
				b.ReportMetric(float64(heapAlloc()-before), "B/loop")
				runtime.KeepAlive(c)
			}
		})
	}
	b.Run("compressor/9bits", func(b *testing.B) {
		for range b.N {
			before := heapAlloc()
			c, _ := NewCompressor(3)
			c.Append(nil, msg, 9)
			b.ReportMetric(float64(heapAlloc()-before), "B/loop")
			runtime.KeepAlive(c)
		}
	})
	b.Run("inflater", func(b *testing.B) {
		c, _ := NewCompressor(6)
		z, _ := c.Append(nil, msg, DefaultBits)
		for range b.N {
			before := heapAlloc()
			var f Inflater
			f.Inflate(z, 64<<10)
			b.ReportMetric(float64(heapAlloc()-before), "B/loop")
			runtime.KeepAlive(&f)
		}
	})
}

func heapAlloc() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
