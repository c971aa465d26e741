package cluster

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// The sweeper bounds the room streams (history.go). One node sweeps, the
// live node whose name sorts first, every sweepInterval: it deletes the
// streams no node follows (no consumer) of rooms with no member on any
// node that keep no message and
// are older than emptyStreamGrace (a room being joined right now has a
// new, empty stream: the grace spares it), then, while more than MaxIdle
// streams of rooms without members keep messages, those whose last
// message is oldest. A room whose stream was deleted starts again at
// seq 1.
const (
	sweepInterval    = 30 * time.Second
	emptyStreamGrace = time.Minute
	sweepConfirm     = 2 * time.Second // roomStreams.sweepConfirm
)

// sweepLoop runs the sweeper until the node closes.
func (r *roomStreams) sweepLoop() {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		select {
		case <-r.n.stop:
			return
		case <-t.C:
		}
		if bad, _ := r.n.Degraded(); bad || !r.n.presence.firstAlive() {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), sweepInterval)
		if err := r.sweep(ctx, time.Now()); err != nil {
			r.n.log.Debug("cluster: sweep room streams", zap.Error(err))
		}
		cancel()
	}
}

// sweep deletes the room streams the bounds above no longer allow. It
// lists the candidates, waits sweepConfirm, and deletes each only if it
// is still unchanged and unfollowed then: a node that started following
// one meanwhile (its consumer, made a few milliseconds after it made sure
// the stream exists) keeps it. A follower starting in the instant of the
// delete finds the stream made anew (RoomStart.Reset).
func (r *roomStreams) sweep(ctx context.Context, now time.Time) error {
	type candidate struct {
		name    string
		room    string
		last    time.Time
		created time.Time
		seq     uint64
		empty   bool
	}
	var all []candidate
	lister := r.n.js.ListStreams(ctx, jetstream.WithStreamListSubject("chatd.room.*"))
	for info := range lister.Info() {
		if len(info.Config.Subjects) != 1 {
			continue
		}
		room := roomFromSubject(info.Config.Subjects[0])
		if room == "" || r.followed(room, info.State.Consumers) {
			continue
		}
		last := info.Created
		if info.State.LastTime.After(last) {
			last = info.State.LastTime
		}
		all = append(all, candidate{name: info.Config.Name, room: room, last: last, created: info.Created,
			seq: info.State.LastSeq, empty: info.State.Msgs == 0})
	}
	if err := lister.Err(); err != nil {
		return err
	}
	var doomed, idle []candidate
	for _, c := range all {
		switch {
		case c.empty && now.Sub(c.last) > emptyStreamGrace:
			doomed = append(doomed, c)
		case !c.empty:
			idle = append(idle, c)
		}
	}
	r.mu.Lock()
	keep := r.cfg.MaxIdle
	r.mu.Unlock()
	if len(idle) > keep {
		slices.SortFunc(idle, func(a, b candidate) int { return a.last.Compare(b.last) })
		doomed = append(doomed, idle[:len(idle)-keep]...)
	}
	if len(doomed) == 0 {
		return nil
	}
	select {
	case <-time.After(r.sweepConfirm):
	case <-ctx.Done():
		return ctx.Err()
	}
	for _, c := range doomed {
		s, err := r.n.js.Stream(ctx, c.name)
		if err != nil {
			continue
		}
		info := s.CachedInfo()
		if !info.Created.Equal(c.created) || info.State.LastSeq != c.seq || r.followed(c.room, info.State.Consumers) {
			continue
		}
		if err := r.n.js.DeleteStream(ctx, c.name); err != nil {
			r.n.log.Debug("cluster: delete room stream", zap.String("stream", c.name), zap.Error(err))
		}
	}
	return nil
}

// followed reports whether a node follows room: this one, or one with a
// consumer on its stream or members in the presence view.
func (r *roomStreams) followed(room string, consumers int) bool {
	return consumers > 0 || r.following(room) || len(r.n.RoomMembers(room)) > 0
}

// firstAlive reports whether this node's name sorts first among the live
// nodes: that node sweeps.
func (p *presence) firstAlive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := make([]string, 0, len(p.alive)+1)
	names = append(names, p.n.name)
	for node := range p.alive {
		names = append(names, node)
	}
	return slices.MinFunc(names, cmp.Compare[string]) == p.n.name
}
