package chat_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chatd/chatd/server"
	"github.com/chatd/chatd/server/chat"
	"github.com/chatd/chatd/server/history"
)

// BenchmarkRoomFanout measures what room history costs a room's fan-out:
// messages from 1 or 4 senders to a room of 50 members over real sockets,
// from the first send to the last member reading the last message, with
// history off (chat.history.messages 0), on (the default 100), and on and
// durable (written behind to a bbolt store every 100 ms). Senders keep at
// most a window of messages ahead of the slowest reader, so no member
// falls behind its write budget. ns/op is per message (50 deliveries).
func BenchmarkRoomFanout(b *testing.B) {
	for _, senders := range []int{1, 4} {
		for _, mode := range []string{"history-off", "history-on", "durable"} {
			b.Run(fmt.Sprintf("senders-%d/%s", senders, mode), func(b *testing.B) {
				benchFanout(b, senders, mode)
			})
		}
	}
}

func benchFanout(b *testing.B, senders int, mode string) {
	const members, window = 50, 64
	o := options{
		// Room deliveries queue on each member's connection: let more
		// than the window wait there.
		server: func(c *server.Config) { c.Limits.QueueSize = 4096 },
		chat: func(c *chat.Config) {
			c.Rooms.Presence = false
			c.Rate.MessagesPerSecond, c.Rate.Burst = 1e9, 1e9
			if mode == "history-off" {
				c.History.Messages = 0
			}
		},
	}
	if mode == "durable" {
		st, err := history.Open(history.Config{Dir: b.TempDir()}, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		o.opts = []chat.Option{chat.WithHistoryStore(st)}
	}
	e := start(b, o)
	var (
		mu   sync.Mutex // guards got and fail
		cond = sync.NewCond(&mu)
		got  = make([]int, members) // messages read, per member
		fail bool                   // a reader stopped
	)
	// waitFor blocks until every member has read n messages; false if a
	// reader failed.
	waitFor := func(n int) bool {
		mu.Lock()
		defer mu.Unlock()
		for !fail && slicesMin(got) < n {
			cond.Wait()
		}
		return !fail
	}
	var readers sync.WaitGroup
	for i := range members {
		c := e.login(b, fmt.Sprint("m", i))
		c.joinAt("dev", -1)
		readers.Add(1)
		go func() {
			defer readers.Done()
			// No deadlines: a run may take longer than the helpers' 5 s
			// (and a reader answers pings by writing).
			c.c.SetTimeout(0)
			for n := 1; n <= b.N; n++ {
				if _, _, err := c.c.ReadData(0); err != nil {
					b.Error(err)
					mu.Lock()
					fail = true
					cond.Broadcast()
					mu.Unlock()
					return
				}
				if n%16 == 0 || n == b.N {
					mu.Lock()
					got[i] = n
					cond.Broadcast()
					mu.Unlock()
				}
			}
		}()
	}
	conns := make([]*client, senders)
	for i := range conns {
		conns[i] = e.login(b, fmt.Sprint("sender", i))
		conns[i].joinAt("dev", -1)
		conns[i].c.SetTimeout(0)
	}
	payload := []byte(`{"room":"dev","data":"a message of some forty bytes, typical"}`)
	var sent atomic.Int64 // messages handed to the sockets, all senders
	b.ResetTimer()
	t0 := time.Now()
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := i; n < b.N; n += senders {
				if s := int(sent.Add(1)); s%16 == 0 && s > window && !waitFor(s-window) {
					return
				}
				if err := c.c.WriteText(payload); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	readers.Wait()
	elapsed := time.Since(t0)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "msg/s")
	b.ReportMetric(float64(b.N*members)/elapsed.Seconds(), "deliveries/s")
}

func slicesMin(s []int) int {
	n := s[0]
	for _, v := range s[1:] {
		n = min(n, v)
	}
	return n
}
