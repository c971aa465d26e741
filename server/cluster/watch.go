package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// The watch of the bucket is a NATS ordered consumer, which lives on one
// NATS server. Two events leave it blind, found by the end-to-end tests
// (cmd/chatd/cluster_e2e_test.go), and watchLoop watches again, from a
// fresh read of the whole bucket, after each:
//
//   - The server holding the consumer dies (kill -9 of a mesh member):
//     nats.go notices only after 10 to 20 s without its heartbeats, so
//     this node would see a dead node's users go (and any other change)
//     that much later than presence_ttl. Every node writes its heartbeat
//     every third of the TTL, so a watch with no update for two thirds of
//     the TTL while connected is stale.
//   - NATS restarts and loses the bucket (memory storage): nats.go's
//     consumer resumes after the sequence it had reached in the lost
//     bucket, so it skips the new bucket's first entries: the claims made
//     again after the restart, and new logins. The refresh loop asks for
//     a new watch once it has made this node's claims again (rewatchc).
//
// A key this node knew that a fresh read does not have is gone (deleted,
// or expired and its marker too), unless the bucket is not the one read
// before (NATS lost it and a node made it again): the other nodes then
// write their heartbeats and claims again at their own pace, and such a
// key is forgotten only if it is still missing a TTL later, so that their
// users do not look offline meanwhile.

// staleWatch is how long a connected node's watch may go without any
// update before it is made again: two of this node's own heartbeats.
func (p *presence) staleWatch() time.Duration { return 2 * p.n.ttl / 3 }

// watching is an open watch of the bucket.
type watching struct {
	w       jetstream.KeyWatcher
	cancel  context.CancelFunc
	created time.Time // the bucket's creation, zero if unknown
	gone    []string  // keys known before that the first read did not have
}

// stop ends the watch. nats.go's handler may be blocked sending an update
// nobody reads any more (its channel is full); stop reads the channel
// until the handler's goroutine closes it, so that the goroutine ends,
// within watchDrainTimeout.
func (w *watching) stop() {
	_ = w.w.Stop()
	w.cancel()
	timeout := time.NewTimer(watchDrainTimeout)
	defer timeout.Stop()
	for {
		select {
		case _, ok := <-w.w.Updates():
			if !ok {
				return
			}
		case <-timeout.C:
			return
		}
	}
}

// watchDrainTimeout bounds watching.stop's wait for nats.go to close a
// stopped watch's channel (it does once its handler returns).
const watchDrainTimeout = 2 * time.Second

// watch opens a watch of the whole bucket and applies its current content;
// it returns once the content is in.
func (p *presence) watch(ctx context.Context) (*watching, error) {
	// Which bucket this is: its creation time. No answer (no JetStream
	// leader yet) fails fast, before a watch that would wait longer.
	sctx, cancelStatus := context.WithTimeout(ctx, setupAttemptTimeout)
	st, err := p.n.kv.Status(sctx)
	cancelStatus()
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	var created time.Time
	if kst, ok := st.(*jetstream.KeyValueBucketStatus); ok && kst.StreamInfo() != nil {
		created = kst.StreamInfo().Created
	}
	// The watch outlives ctx: it ends with the node, or the next watch.
	wctx, cancel := context.WithCancel(context.Background())
	w, err := p.n.kv.WatchAll(wctx)
	if err != nil {
		cancel()
		return nil, err
	}
	nw := &watching{w: w, cancel: cancel, created: created}
	seen := map[string]bool{}
	for {
		select {
		case <-ctx.Done():
			nw.stop()
			return nil, ctx.Err()
		case <-p.n.stop:
			nw.stop()
			return nil, errors.New("cluster: node closed")
		case e, ok := <-w.Updates():
			if !ok {
				nw.stop()
				return nil, errors.New("cluster: watch ended")
			}
			if e != nil {
				seen[e.Key()] = true
				p.apply(e)
				continue
			}
		}
		break // the current values are in
	}
	nw.gone = p.missing(seen)
	return nw, nil
}

// missing returns the keys this node knows that are not in seen, except
// its own heartbeat.
func (p *presence) missing(seen map[string]bool) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var gone []string
	for node := range p.alive {
		if k := heartbeatKey(node); !seen[k] && node != p.n.name {
			gone = append(gone, k)
		}
	}
	for k := range p.slots {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	for k := range p.members {
		if !seen[k] {
			gone = append(gone, k)
		}
	}
	return gone
}

// watchLoop applies the bucket's changes until the node stops, watching
// again when the refresh loop asks (rewatchc) or the watch is stale.
func (p *presence) watchLoop(cur *watching) {
	defer func() { cur.stop() }()
	check := time.NewTicker(p.n.ttl / 6)
	defer check.Stop()
	updates, last := cur.w.Updates(), time.Now()
	// Keys missing from a fresh read of a bucket made again, each with
	// when it is forgotten unless it comes back before.
	suspects := map[string]time.Time{}
	for {
		again := false
		select {
		case <-p.n.stop:
			return
		case e, ok := <-updates:
			if !ok {
				updates = nil // ended: stale at a next check
				continue
			}
			last = time.Now()
			if e != nil {
				delete(suspects, e.Key())
				p.apply(e)
			}
		case <-p.rewatchc:
			again = true
		case <-check.C:
			for k, at := range suspects {
				if time.Now().After(at) {
					delete(suspects, k)
					p.applyKey(k, nil, true)
				}
			}
			again = time.Since(last) > p.staleWatch() && !p.n.degraded.Load()
		}
		if !again {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		nw, err := p.watch(ctx)
		cancel()
		if err != nil {
			p.n.log.Warn("cluster: watch the sessions bucket again", zap.Error(err))
			continue // again at the next check: last is unchanged
		}
		same := !cur.created.IsZero() && nw.created.Equal(cur.created)
		p.n.log.Info("cluster: watching the sessions bucket again", zap.Duration("quiet", time.Since(last).Round(time.Millisecond)),
			zap.Int("missing", len(nw.gone)), zap.Bool("same_bucket", same))
		// Stopping a watch deletes its consumer and waits for the answer:
		// up to 5 s when its server is the dead one. Not on this loop.
		p.n.wg.Go(cur.stop)
		cur, updates, last = nw, nw.w.Updates(), time.Now()
		// What the read had is no longer suspect. What it lacked stays
		// suspect until its time if it was already; else it is gone if the
		// last read of the same bucket had it, or suspect for a TTL.
		was := suspects
		suspects = map[string]time.Time{}
		for _, k := range nw.gone {
			switch at, ok := was[k]; {
			case ok:
				suspects[k] = at
			case same:
				p.applyKey(k, nil, true)
			default:
				suspects[k] = last.Add(p.n.ttl)
			}
		}
	}
}
