package chat_test

import (
	"encoding/json"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/internal/deflate"
	"github.com/chatd/chatd/server/wstest"
)

// BenchmarkDeflateFanout: lobby messages of about 200 B, 400 B and 1 KiB
// of natural chat text from one sender to 50 members over loopback, with
// every connection uncompressed ("plain") or with permessage-deflate
// ("deflate": the sender's message compressed as a browser would, each
// delivery compressed once for all members). Members read raw frames, so
// the clients' work is the same in both modes. cpu-ns/delivery is the
// whole process's CPU (server and clients) per member delivery;
// wire-B/delivery the bytes of one delivered frame; compressed/delivery
// the share that came compressed (deliveries under min_size go plain);
// compressions/msg how often the server compressed, per message.
func BenchmarkDeflateFanout(b *testing.B) {
	text, err := os.ReadFile("../internal/deflate/testdata/chat.txt")
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{100, 300, 900} {
		for _, mode := range []string{"plain", "deflate"} {
			b.Run(fmt.Sprintf("text%dB/%s", n, mode), func(b *testing.B) {
				benchDeflateFanout(b, string(text[:n]), mode == "deflate")
			})
		}
	}
}

func benchDeflateFanout(b *testing.B, text string, compressed bool) {
	const members = 50
	e := start(b, options{
		server: func(c *server.Config) { c.Compression.Enabled = true },
		chat:   func(c *chat.Config) { c.Rate.MessagesPerSecond, c.Rate.Burst = 1e9, 1e9 },
	})
	var opts []wstest.Option
	if compressed {
		opts = append(opts, wstest.WithDeflate())
	}
	login := func(name string) *wstest.Conn {
		c := wstest.Dial(b, e.ts.URL("/ws"), opts...)
		c.SendText(b, name)
		if got := c.NextText(b); got != "True" {
			b.Fatalf("login %s: %q", name, got)
		}
		return c
	}
	sender := login("sender")
	conns := make([]*wstest.Conn, members)
	for i := range conns {
		conns[i] = login(fmt.Sprint("m", i))
	}
	body, _ := json.Marshal(map[string]string{"data": text})
	frame := wstest.Text(body)
	if compressed {
		c, _ := deflate.NewCompressor(6)
		if z, ok := c.Append(nil, body, deflate.DefaultBits); ok {
			frame = wstest.Text(z).WithRsv(4)
		}
	}
	raw := frame.Bytes()
	wire, zn := 0, 0
	z0 := e.ts.Srv.CompressionStats().Compressed
	b.ResetTimer()
	cpu0 := benchCPU()
	for range b.N {
		if err := sender.WriteRaw(raw); err != nil {
			b.Fatal(err)
		}
		for _, c := range conns {
			h, _, err := c.ReadFrame(10 * time.Second)
			if err != nil {
				b.Fatal(err)
			}
			if h.Rsv != 0 {
				zn++
			}
			wire = int(h.Length) + 2
			if h.Length >= 126 {
				wire += 2
			}
		}
	}
	cpu := benchCPU() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*members), "cpu-ns/delivery")
	b.ReportMetric(float64(wire), "wire-B/delivery")
	b.ReportMetric(float64(zn)/float64(b.N*members), "compressed/delivery")
	b.ReportMetric(float64(e.ts.Srv.CompressionStats().Compressed-z0)/float64(b.N), "compressions/msg")
}

func benchCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
