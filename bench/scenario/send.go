package scenario

import (
	"context"
	"sync"
	"time"

	"github.com/chatd/chatd/bench/pace"
	"github.com/chatd/chatd/bench/wsconn"
)

// sendQueue is how many intended send times may wait for one sender.
const sendQueue = 4096

// pump runs the open-loop schedule {start, rate} until end (or limit
// messages, limit < 0 for none), spreading the messages round-robin over
// senders. Each sender has its own goroutine that calls send for every
// intended time handed to it. The lag between the intended and the actual
// send time goes to the "send_lag" histogram. A sender whose write fails
// stops sending; its later messages count as "unsent".
func (w *worker) pump(ctx context.Context, senders []*user, start, end time.Time, rate float64, limit int64,
	send func(u *user, k int64, at time.Time) error) {
	if len(senders) == 0 || rate <= 0 {
		return
	}
	type job struct {
		k  int64
		at time.Time
	}
	queues := make([]chan job, len(senders))
	var wg sync.WaitGroup
	for i, u := range senders {
		q := make(chan job, sendQueue)
		queues[i] = q
		wg.Go(func() {
			failed := false
			for j := range q {
				if failed {
					w.rec.Count(int(u.idx), "unsent", 1, time.Time{})
					continue
				}
				now := time.Now()
				w.rec.Latency(int(u.idx), "send_lag", now.Sub(j.at), j.at, false)
				if err := send(u, j.k, j.at); err != nil {
					failed = true
					if !w.closing.Load() {
						w.error(int(u.idx), "send: "+wsconn.Classify(err))
					}
					continue
				}
				w.live.sent.Add(1)
				w.rec.Count(int(u.idx), "sent", 1, time.Now())
			}
		})
	}
	sched := pace.Schedule{Start: start, Rate: rate}
	pace.Run(ctx, pace.RealClock{}, sched, end, limit, func(k int64, at time.Time) bool {
		select {
		case queues[k%int64(len(queues))] <- job{k, at}:
			return true
		case <-ctx.Done():
			return false
		}
	})
	for _, q := range queues {
		close(q)
	}
	wg.Wait()
}

// alive returns the users that are not nil.
func alive(users []*user) []*user {
	out := make([]*user, 0, len(users))
	for _, u := range users {
		if u != nil {
			out = append(out, u)
		}
	}
	return out
}

// indexes returns the global indexes of the shard for which keep is true.
func (w *worker) indexes(keep func(i int) bool) []int {
	var out []int
	for i := w.shard.First; i < w.shard.First+w.shard.N; i++ {
		if keep == nil || keep(i) {
			out = append(out, i)
		}
	}
	return out
}
