package scenario

import (
	"context"
	"time"

	"github.com/chatd/chatd/bench/check"
)

// mailbox: users 0 … S-1 send K private messages to the offline users
// S … S+U-1 (sender j's m-th message goes to offline user (j+m) mod U),
// wait until the server acknowledged every one ("sent"), and then the
// offline users log in. Every stored message must arrive exactly once and
// in order; "drain" is each delivery's time since the logins began.
//
// Marks: store_end (last acknowledgement), login_start.
func (w *worker) mailbox(ctx context.Context) ([]*user, error) {
	s, u, k := w.cfg.Senders, w.cfg.N, w.cfg.Messages
	senders := alive(w.open(ctx, w.indexes(func(i int) bool { return i < s }), 0, "connect", w.chatReader))
	t0, err := w.coord.Sync(ctx, PhaseReady)
	if err != nil {
		return senders, err
	}
	// Messages are numbered 0 … K-1 and message m belongs to sender m mod S.
	// The pump numbers this worker's messages 0 … mine-1 round-robin over
	// its senders, which keeps the same share per sender.
	mine := 0
	for _, snd := range senders {
		mine += k / s
		if int(snd.idx) < k%s {
			mine++
		}
	}
	names := make([]string, u)
	for i := range names {
		names[i] = userName(w.cfg.Tag, s+i)
	}
	rate := w.shareOf(w.cfg.Rate, len(senders), s)
	w.pump(ctx, senders, t0, time.Time{}, rate, int64(mine), func(snd *user, _ int64, at time.Time) error {
		to := s + (int(snd.idx)+snd.nsent)%u
		st := check.Stream{From: snd.idx, To: int32(to)}
		seq := snd.out.Next(st)
		snd.buf = appendPrivate(snd.buf[:0], names[to-s], func(b []byte) []byte {
			return appendPayload(b, st, seq, at, w.cfg.Size)
		})
		if err := snd.c.WriteText(snd.buf); err != nil {
			return err
		}
		snd.out.Commit(st)
		snd.nsent++
		return nil
	})
	w.mark("send_end", time.Now())
	w.awaitAcks(ctx, senders)
	w.mark("store_end", time.Now())
	if _, err := w.coord.Sync(ctx, PhaseSent); err != nil {
		return senders, err
	}
	t1, err := w.coord.Sync(ctx, PhaseStored)
	if err != nil {
		return senders, err
	}
	w.measureFrom.Store(t1.UnixNano())
	w.mark("login_start", t1)
	receivers := w.open(ctx, w.indexes(func(i int) bool { return i >= s }), 0, "login", w.chatReader)
	w.drain(ctx, t1)
	_, err = w.coord.Sync(ctx, PhaseDrained)
	return append(senders, receivers...), err
}

// awaitAcks waits until every sender has one "sent" reply per message
// written, or cfg.Drain passes.
func (w *worker) awaitAcks(ctx context.Context, senders []*user) {
	deadline := time.Now().Add(w.cfg.Drain.D())
	for ctx.Err() == nil && time.Now().Before(deadline) {
		done := true
		for _, snd := range senders {
			if snd.acks.Load() < int64(snd.nsent) {
				done = false
				break
			}
		}
		if done {
			return
		}
		sleep(ctx, 20*time.Millisecond)
	}
}
