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
// streams of rooms with no member on any node that keep no message and
// are older than emptyStreamGrace (a room being joined right now has a
// new, empty stream: the grace spares it), then, while more than MaxIdle
// streams of rooms without members keep messages, those whose last
// message is oldest. A room whose stream was deleted starts again at
// seq 1.
const (
	sweepInterval    = 30 * time.Second
	emptyStreamGrace = time.Minute
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

// sweep deletes the room streams the bounds above no longer allow.
func (r *roomStreams) sweep(ctx context.Context, now time.Time) error {
	type idle struct {
		name string
		last time.Time
	}
	var idles []idle
	lister := r.n.js.ListStreams(ctx, jetstream.WithStreamListSubject("chatd.room.*"))
	for info := range lister.Info() {
		if len(info.Config.Subjects) != 1 {
			continue
		}
		room := roomFromSubject(info.Config.Subjects[0])
		if room == "" || r.following(room) || len(r.n.RoomMembers(room)) > 0 {
			continue
		}
		last := info.Created
		if info.State.LastTime.After(last) {
			last = info.State.LastTime
		}
		if info.State.Msgs == 0 {
			if now.Sub(last) > emptyStreamGrace {
				r.delete(ctx, info.Config.Name)
			}
			continue
		}
		idles = append(idles, idle{info.Config.Name, last})
	}
	if err := lister.Err(); err != nil {
		return err
	}
	r.mu.Lock()
	keep := r.cfg.MaxIdle
	r.mu.Unlock()
	if len(idles) <= keep {
		return nil
	}
	slices.SortFunc(idles, func(a, b idle) int { return a.last.Compare(b.last) })
	for _, i := range idles[:len(idles)-keep] {
		r.delete(ctx, i.name)
	}
	return nil
}

func (r *roomStreams) delete(ctx context.Context, stream string) {
	if err := r.n.js.DeleteStream(ctx, stream); err != nil {
		r.n.log.Debug("cluster: delete room stream", zap.String("stream", stream), zap.Error(err))
	}
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
