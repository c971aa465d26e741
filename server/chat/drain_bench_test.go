package chat_test

import (
	"testing"
	"time"
)

// BenchmarkMailboxDrain measures how fast a stored mailbox reaches a
// reader at login, paged with flow control: 1,000 messages of 6 KB from a
// real bbolt store, to a reader with a 4 KiB receive buffer (slow: the
// socket fills and every page waits for it) and to one with the kernel's
// default buffer. It reports messages and MB per second of the whole
// drain, from the login to the last message read.
func BenchmarkMailboxDrain(b *testing.B) {
	const n, size = 1000, 6000
	for _, slow := range []bool{true, false} {
		name := "default-rcvbuf"
		if slow {
			name = "rcvbuf-4KiB"
		}
		b.Run(name, func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				st := openStore(b)
				fillMailbox(b, st, "bob", n, size)
				e := start(b, options{store: st})
				var bob *client
				if slow {
					bob = e.dialSlow(b)
				} else {
					bob = e.dial(b)
				}
				b.StartTimer()
				t0 := time.Now()
				bob.send("bob")
				if got := bob.text(); got != "True" {
					b.Fatalf("login: %q", got)
				}
				ids, closed := bob.readOffline(n, 0, nil)
				total += time.Since(t0)
				b.StopTimer()
				if closed != 0 || len(ids) != n {
					b.Fatalf("got %d of %d, closed %d", len(ids), n, closed)
				}
			}
			secs := total.Seconds() / float64(b.N)
			b.ReportMetric(float64(n)/secs, "msg/s")
			b.ReportMetric(float64(n*size)/secs/1e6, "MB/s")
		})
	}
}
