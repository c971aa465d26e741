package scenario

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/chatd/chatd/bench/check"
)

// private: every user sends private messages, to its partner (i+N/2) or to
// a random other user, at an aggregate open-loop rate; latency runs from
// the intended send time carried in the payload to the delivery.
func (w *worker) private(ctx context.Context) ([]*user, error) {
	n := w.cfg.N
	users := w.open(ctx, w.indexes(nil), 0, "connect", w.chatReader)
	live := alive(users)
	t0, err := w.coord.Sync(ctx, PhaseReady)
	if err != nil {
		return users, err
	}
	start := t0
	w.measureFrom.Store(start.Add(w.cfg.Warmup.D()).UnixNano())
	end := start.Add(w.cfg.Warmup.D() + w.cfg.Duration.D())
	names := make([]string, n) // receivers' names, built once
	for i := range names {
		names[i] = userName(w.cfg.Tag, i)
	}
	random := w.cfg.Receiver == "random"
	rate := w.shareOf(w.cfg.Rate, len(live), n)
	w.pump(ctx, live, start, end, rate, -1, func(u *user, k int64, at time.Time) error {
		to := partner(int(u.idx), n)
		if random {
			to = rand.IntN(n - 1)
			if to >= int(u.idx) {
				to++
			}
		}
		s := check.Stream{From: u.idx, To: int32(to)}
		seq := u.out.Next(s)
		u.buf = appendPrivate(u.buf[:0], names[to], func(b []byte) []byte {
			return appendPayload(b, s, seq, at, w.cfg.Size)
		})
		if err := u.c.WriteText(u.buf); err != nil {
			return err
		}
		u.out.Commit(s)
		return nil
	})
	return users, w.finish(ctx)
}

// finish ends a sending phase: once every worker has sent everything,
// collect late deliveries, and wait for every worker to have done so before
// any connection closes.
func (w *worker) finish(ctx context.Context) error {
	w.mark("send_end", time.Now())
	t, err := w.coord.Sync(ctx, PhaseSent)
	if err != nil {
		return err
	}
	w.drain(ctx, t)
	_, err = w.coord.Sync(ctx, PhaseDrained)
	return err
}

// chatReader gives u an inbox and starts its chat reader.
func (w *worker) chatReader(u *user) {
	u.inbox = check.NewInbox(u.idx)
	w.startReader(u, w.onChat)
}
