package server_test

import (
	"fmt"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/internal/deflate"
	"github.com/chatd/chatd/server/internal/testserver"
	"github.com/chatd/chatd/server/wstest"
)

// benchChatSizes are chat-sized JSON messages: a short reply, a typical
// line, a long paragraph.
var benchChatSizes = []int{40, 200, 400, 1024}

// benchChatMessage is a room message as chatd encodes it, n bytes: the
// envelope, and a prefix of natural chat text (no repeats: a repeated
// sentence would flatter compression). Under 120 bytes it is a client's
// short send.
func benchChatMessage(tb testing.TB, n int) []byte {
	text, err := os.ReadFile("internal/deflate/testdata/chat.txt")
	if err != nil {
		tb.Fatal(err)
	}
	if n < 120 {
		b := []byte(`{"data":"`)
		b = append(b, text[:n-len(b)-2]...)
		return append(b, `"}`...)
	}
	b := []byte(`{"type":"message","id":"c1f3a9","sender":"alice","room":"lobby","seq":18342,"ts":1765065600123,"data":"`)
	b = append(b, text[:n-len(b)-2]...)
	return append(b, `"}`...)
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// browserDeflated returns msg as a browser sends it with permessage-deflate:
// compressed at zlib's default level (6 here), RSV1 set, masked; plain if
// compression would not shrink it.
func browserDeflated(tb testing.TB, msg []byte) wstest.Frame {
	c, err := deflate.NewCompressor(6)
	if err != nil {
		tb.Fatal(err)
	}
	if z, ok := c.Append(nil, msg, deflate.DefaultBits); ok {
		return wstest.Text(z).WithRsv(4)
	}
	return wstest.Text(msg)
}

// BenchmarkDeflateEcho: one client echoes chat-sized messages through
// /echo over loopback, uncompressed ("plain") and with permessage-deflate
// ("deflate": the client's message compressed once beforehand, as a
// browser would send it; the server inflates it and compresses the echo
// when it is at least min_size, at the default level). The client writes a ready frame and reads
// the reply as a raw frame, so its own work is the same in both modes.
// cpu-ns/op is the whole process's CPU (server and client) per round trip;
// wire-B/op the bytes of both frames.
func BenchmarkDeflateEcho(b *testing.B) {
	for _, n := range benchChatSizes {
		for _, mode := range []string{"plain", "deflate"} {
			b.Run(fmt.Sprintf("%dB/%s", n, mode), func(b *testing.B) {
				srv := testserver.Start(b, func(c *server.Config) {
					c.EventLoops = 1
					c.Compression.Enabled = true
				})
				var opts []wstest.Option
				if mode == "deflate" {
					opts = append(opts, wstest.WithDeflate())
				}
				c := wstest.Dial(b, srv.URL("/echo"), opts...)
				msg := benchChatMessage(b, n)
				frame := wstest.Text(msg)
				if mode == "deflate" {
					frame = browserDeflated(b, msg)
				}
				raw := frame.Bytes()
				var wire int
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := cpuTime()
				for range b.N {
					if err := c.WriteRaw(raw); err != nil {
						b.Fatal(err)
					}
					h, _, err := c.ReadFrame(5 * time.Second)
					if err != nil {
						b.Fatal(err)
					}
					wire = len(raw) + int(h.Length) + 2 // reply: unmasked, 2-byte header
					if h.Length >= 126 {
						wire += 2
					}
				}
				cpu := cpuTime() - cpu0
				b.StopTimer()
				b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
				b.ReportMetric(float64(wire), "wire-B/op")
			})
		}
	}
}

// BenchmarkDeflateIdle: memory per idle connection, with and without
// permessage-deflate negotiated. 200 connections first exchange a 1 KiB
// message each (compressed both ways when negotiated), which makes each
// loop's compressor and inflater: state per loop, not per connection.
// Then 2,000 more do the same and sit idle; B/conn is the growth of the
// live heap (server and clients, in one process) per one of those. The
// clients' part differs only by wstest's record of what was negotiated
// (about 100 bytes); the rest of a difference would be the server's.
func BenchmarkDeflateIdle(b *testing.B) {
	const warm, n = 200, 2000
	for _, mode := range []string{"plain", "deflate"} {
		b.Run(mode, func(b *testing.B) {
			for range b.N {
				srv := testserver.Start(b, func(c *server.Config) {
					c.Compression.Enabled = true
					c.Connections.MaxPerAddress = 10 * n
					c.Connections.RatePerAddress, c.Connections.BurstPerAddress = 1e9, 1e9
				})
				var opts []wstest.Option
				if mode == "deflate" {
					opts = append(opts, wstest.WithDeflate())
				}
				msg := benchChatMessage(b, 1024)
				raw := wstest.Text(msg).Bytes()
				if mode == "deflate" {
					raw = browserDeflated(b, msg).Bytes()
				}
				open := func(k int) []*wstest.Conn {
					conns := make([]*wstest.Conn, k)
					for i := range conns {
						c := wstest.Dial(b, srv.URL("/echo"), opts...)
						if err := c.WriteRaw(raw); err != nil {
							b.Fatal(err)
						}
						if h, _, err := c.ReadFrame(5 * time.Second); err != nil || (h.Rsv != 0) != (mode == "deflate") {
							b.Fatalf("echo: %v rsv %d", err, h.Rsv)
						}
						conns[i] = c
					}
					return conns
				}
				warmed := open(warm)
				before := liveHeap()
				conns := open(n)
				after := liveHeap()
				b.ReportMetric(float64(after-before)/n, "B/conn")
				for _, c := range append(warmed, conns...) {
					c.Close()
				}
			}
		})
	}
}

func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
