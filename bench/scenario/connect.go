package scenario

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// Phases every worker passes, in order, where the scenario has them. The
// parent records the time each was released and samples the server then.
const (
	PhaseReady    = "ready"    // connections open (and logged in, joined)
	PhaseWarm     = "warm"     // echo: warm-up over, measuring
	PhaseMeasured = "measured" // echo: measured window over
	PhaseSent     = "sent"     // every message written
	PhaseStored   = "stored"   // mailbox: every message acknowledged
	PhaseDrained  = "drained"  // late deliveries collected
)

// connect opens the shard's connections at cfg.Rate (split over the
// workers) and waits until every worker has opened its share; Run closes
// them at the end.
//
// Marks: connect_start (first intended start), connect_end (last
// connection done).
func (w *worker) connect(ctx context.Context) ([]*user, error) {
	start := time.Now()
	w.mark("connect_start", start)
	users := w.open(ctx, w.indexes(nil), w.shareOf(w.cfg.Rate, w.shard.N, w.cfg.Users()), "connect", w.holdReader)
	w.mark("connect_end", time.Now())
	_, err := w.coord.Sync(ctx, PhaseReady)
	return users, err
}

// idle opens the shard's connections, waits while the parent holds them
// and samples the server, then checks each is still alive with a ping
// (every RFC 6455 server answers one).
func (w *worker) idle(ctx context.Context) ([]*user, error) {
	users, err := w.connect(ctx)
	if err != nil {
		return users, err
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(w.cfg.Dials, len(users)) {
		wg.Go(func() {
			for ctx.Err() == nil {
				j := int(next.Add(1) - 1)
				if j >= len(users) {
					return
				}
				u := users[j]
				if u == nil {
					continue
				}
				if err := u.c.Ping([]byte("chatbench"), w.cfg.Timeout.D()); err != nil {
					w.error(int(u.idx), "ping after hold: "+cause(err))
					continue
				}
				w.rec.Count(int(u.idx), "alive", 1, time.Time{})
			}
		})
	}
	wg.Wait()
	return users, ctx.Err()
}

// holdReader starts a reader that only keeps the connection answering
// pings and counts what arrives.
func (w *worker) holdReader(u *user) {
	w.startReader(u, func(u *user, msg []byte) {
		w.rec.Count(int(u.idx), "unexpected_messages", 1, time.Time{})
	})
}

// shareOf is this worker's part of an aggregate rate: mine of all.
func (w *worker) shareOf(rate float64, mine, all int) float64 {
	if rate <= 0 || all == 0 {
		return rate
	}
	return rate * float64(mine) / float64(all)
}
