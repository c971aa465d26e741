package scenario

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/chatd/chatd/bench/check"
)

// echo runs round trips on /echo: closed loop per connection (cfg.Rate 0)
// or an open-loop aggregate rate. Every echo is checked against what was
// sent: same bytes, each once, in order.
func (w *worker) echo(ctx context.Context) ([]*user, error) {
	size := w.cfg.Size
	users := w.open(ctx, w.indexes(nil), 0, "connect", func(u *user) {
		u.inbox = check.NewInbox(u.idx)
		u.reply = make(chan struct{}, 1)
		w.startReader(u, w.onEcho)
	})
	live := alive(users)
	w.measureFrom.Store(1 << 62) // nothing is measured before the warm-up ends
	t0, err := w.coord.Sync(ctx, PhaseReady)
	if err != nil {
		return users, err
	}
	send := func(u *user, _ int64, at time.Time) error {
		s := check.Stream{From: u.idx, To: u.idx}
		seq := u.out.Next(s)
		if cap(u.buf) < size {
			u.buf = make([]byte, size)
		}
		u.buf = u.buf[:size]
		fillEcho(u.buf, int(u.idx), seq, at)
		if err := u.c.WriteBinary(u.buf); err != nil {
			return err
		}
		u.out.Commit(s)
		return nil
	}

	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if w.cfg.Rate > 0 {
		rate := w.shareOf(w.cfg.Rate, w.shard.N, w.cfg.Users())
		wg.Go(func() { w.pump(loadCtx, live, t0, time.Time{}, rate, -1, send) })
	} else {
		var stopped atomic.Bool
		for _, u := range live {
			wg.Go(func() {
				for loadCtx.Err() == nil && !stopped.Load() {
					if err := send(u, 0, time.Now()); err != nil {
						if !w.closing.Load() {
							w.error(int(u.idx), "send: "+cause(err))
						}
						return
					}
					w.live.sent.Add(1)
					w.rec.Count(int(u.idx), "sent", 1, time.Now())
					select {
					case <-u.reply:
					case <-u.done:
						return
					case <-loadCtx.Done():
						return
					}
				}
			})
		}
	}

	sleep(ctx, w.cfg.Warmup.D())
	t1, err := w.coord.Sync(ctx, PhaseWarm)
	if err == nil {
		w.measureFrom.Store(t1.UnixNano())
		sleep(ctx, w.cfg.Duration.D())
		var t2 time.Time
		t2, err = w.coord.Sync(ctx, PhaseMeasured)
		w.measureTo.Store(t2.UnixNano())
	}
	stopLoad()
	wg.Wait()
	w.mark("send_end", time.Now())
	w.drain(ctx, time.Now())
	return users, err
}

// onEcho checks one echo and measures its round trip.
func (w *worker) onEcho(u *user, msg []byte) {
	seq, at, err := parseEcho(msg, int(u.idx), w.cfg.Size)
	if err != nil {
		w.corruptPayload(msg)
		return
	}
	now := time.Now()
	out := u.inbox.Deliver(check.Stream{From: u.idx, To: u.idx}, seq)
	w.live.delivered.Add(1)
	w.lastDelivery.Store(now.UnixNano())
	w.rec.Count(int(u.idx), "delivered", 1, now)
	if out != check.Duplicate && w.measured(at) {
		w.rec.Latency(int(u.idx), "latency", now.Sub(at), at, true)
		w.rec.Count(int(u.idx), "measured", 1, time.Time{})
	}
	select {
	case u.reply <- struct{}{}:
	default:
	}
}
