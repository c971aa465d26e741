package metric

import (
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkPrivateMessageCounting is what counting adds to one private
// message end to end, operation for operation (docs/BENCHMARKS.md, "Issue
// 12: metrics"), with one wake per step (no batching, the worst case): on
// the sender's loop, a wake (timed one time in 16), the bytes and message counts of the read, chat's count of the
// kind and the arrival time; on the receiver's loop, a wake, the frame's and the bytes' counts, and at the flush the
// delivered count and the latency observation. The sender's "sent" reply
// adds a frame count and a byte count. Compare with the CPU per message
// of the whole server (tens of µs).
func BenchmarkPrivateMessageCounting(b *testing.B) {
	var (
		busy                       atomic.Int64
		bytesIn, bytesOut, in, out atomic.Uint64
		kindIn, kindOut            atomic.Uint64
		lat                        = NewHistogram(DurationBounds(10*time.Microsecond, 25*time.Microsecond, 50*time.Microsecond, 100*time.Microsecond, 250*time.Microsecond, 500*time.Microsecond, time.Millisecond, 2500*time.Microsecond, 5*time.Millisecond, 10*time.Millisecond, 25*time.Millisecond, 50*time.Millisecond, 100*time.Millisecond, 250*time.Millisecond, 500*time.Millisecond, time.Second)...)
	)
	var sampled uint32
	wake := func(fn func()) { // one wake in 16 is timed (evloop's busySample)
		if sampled++; sampled < 16 {
			fn()
			return
		}
		sampled = 0
		start := time.Now()
		fn()
		busy.Add(16 * int64(time.Since(start)))
	}
	for b.Loop() {
		var arrived time.Time
		wake(func() { // sender's loop: read, decode, route
			bytesIn.Add(90)
			in.Add(1)
			kindIn.Add(1)
			arrived = time.Now()
		})
		wake(func() { // receiver's loop: write, flush, settle
			out.Add(1)
			bytesOut.Add(120)
			kindOut.Add(1)
			lat.ObserveSince(arrived)
		})
		wake(func() { // sender's loop: the "sent" reply
			out.Add(1)
			bytesOut.Add(60)
		})
	}
}
