package scenario

import (
	"context"
	"time"

	"github.com/chatd/chatd/bench/check"
)

// room: members 0 … M-1 are in one room (the lobby by default), P of them
// publish at an aggregate open-loop rate, and observers M … M+O-1 stay
// outside it and must receive nothing. Besides every delivery's latency it
// measures, per message, the latency to the first and to the last member
// (merged across workers by the parent from the Fanout records).
func (w *worker) room(ctx context.Context) ([]*user, error) {
	m, room := w.cfg.N, w.cfg.RoomName
	w.fan = newFanout()
	users := w.open(ctx, w.indexes(nil), 0, "connect", func(u *user) {
		if room != "lobby" && int(u.idx) < m {
			if err := u.join(room, w.cfg.Timeout.D()); err != nil {
				w.error(int(u.idx), cause(err))
			}
		}
		w.chatReader(u)
	})
	var pubs []*user
	for _, u := range users {
		if u != nil && int(u.idx) < m && isPublisher(int(u.idx), m, w.cfg.Publishers, w.spread.urls) {
			pubs = append(pubs, u)
		}
	}
	t0, err := w.coord.Sync(ctx, PhaseReady)
	if err != nil {
		return users, err
	}
	w.measureFrom.Store(t0.Add(w.cfg.Warmup.D()).UnixNano())
	end := t0.Add(w.cfg.Warmup.D() + w.cfg.Duration.D())
	rate := w.shareOf(w.cfg.Rate, len(pubs), w.cfg.Publishers)
	w.pump(ctx, pubs, t0, end, rate, -1, func(u *user, k int64, at time.Time) error {
		s := check.Stream{From: u.idx, To: 0, Room: true}
		seq := u.out.Next(s)
		u.buf = appendRoom(u.buf[:0], room, func(b []byte) []byte {
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
