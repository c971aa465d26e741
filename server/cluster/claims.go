package cluster

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/nats-io/nats.go/jetstream"
)

// claim takes a free slot of name (whose name key is nameKey) for the
// connection conn, out of max.
func (p *presence) claim(ctx context.Context, name, nameKey string, max int, conn uint64) (*Claim, error) {
	val, _ := json.Marshal(claimValue{User: name, Node: p.n.name, Inc: p.inc, Conn: conn})
	for slot := 0; slot < max; slot++ {
		key := slotKey(nameKey, slot)
		p.mu.Lock()
		cur, held := p.slots[key]
		live := held && p.liveLocked(cur)
		p.mu.Unlock()
		if live {
			if cur.User != name {
				return nil, ErrLookalike
			}
			continue
		}
		rev, err := p.take(ctx, key, val)
		if errors.Is(err, jetstream.ErrKeyExists) {
			// Taken meanwhile, or held by a claim this node has not seen:
			// ask the bucket.
			e, gerr := p.n.kv.Get(ctx, key)
			if gerr != nil {
				continue
			}
			var v claimValue
			if json.Unmarshal(e.Value(), &v) == nil && v.User != name {
				p.mu.Lock()
				live := p.liveLocked(v)
				p.mu.Unlock()
				if live {
					return nil, ErrLookalike
				}
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		c := &Claim{key: key, val: val, rev: rev}
		p.mu.Lock()
		p.mine[key] = c
		p.mu.Unlock()
		return c, nil
	}
	return nil, ErrTaken
}

// take creates key, first deleting a dead claim that holds it.
func (p *presence) take(ctx context.Context, key string, val []byte) (uint64, error) {
	rev, err := p.n.kv.Create(ctx, key, val)
	if !errors.Is(err, jetstream.ErrKeyExists) {
		return rev, err
	}
	e, gerr := p.n.kv.Get(ctx, key)
	if gerr != nil {
		return p.n.kv.Create(ctx, key, val)
	}
	var v claimValue
	_ = json.Unmarshal(e.Value(), &v)
	p.mu.Lock()
	live := p.liveLocked(v)
	p.mu.Unlock()
	if live {
		return 0, err
	}
	// Dead in this node's view, which may be behind the bucket: a live
	// node whose heartbeat lapsed (JetStream stalled for longer than the
	// TTL, as while a mesh creates its streams or elects a leader) beats
	// again at once (applyKey), and its heartbeat may be back before this
	// node has seen it. The end-to-end test caught a second session of a
	// name taken that way; read the heartbeat itself.
	if hb, herr := p.n.kv.Get(ctx, heartbeatKey(v.Node)); herr == nil && v.Inc != "" && string(hb.Value()) == v.Inc {
		return 0, err
	}
	// A dead node's claim: replace it at its revision, so a claim made
	// meanwhile by a live node is never overwritten.
	return p.n.kv.Update(ctx, key, val, e.Revision())
}

// release gives c back; the delete is made at c's revision, so a slot
// taken over meanwhile is left alone.
func (p *presence) release(ctx context.Context, c *Claim) error {
	p.mu.Lock()
	delete(p.mine, c.key)
	rev := c.rev
	p.mu.Unlock()
	err := p.n.kv.Delete(ctx, c.key, jetstream.LastRevision(rev))
	if err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
		p.mu.Lock()
		p.unreleased[c.key] = c
		p.mu.Unlock()
		return err
	}
	return nil
}

// retryReleases deletes again the claims whose release failed. A claim
// taken over meanwhile (its revision moved on) is left alone.
func (p *presence) retryReleases(ctx context.Context) {
	p.mu.Lock()
	claims := make([]*Claim, 0, len(p.unreleased))
	for _, c := range p.unreleased {
		claims = append(claims, c)
	}
	p.mu.Unlock()
	for _, c := range claims {
		err := p.n.kv.Delete(ctx, c.key, jetstream.LastRevision(c.rev))
		if err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return // still away: the next beat tries again
		}
		p.mu.Lock()
		if p.unreleased[c.key] == c {
			delete(p.unreleased, c.key)
		}
		p.mu.Unlock()
	}
}

// releaseAll gives back every claim, for a clean shutdown.
func (p *presence) releaseAll(ctx context.Context) error {
	p.mu.Lock()
	claims := make([]*Claim, 0, len(p.mine))
	for _, c := range p.mine {
		claims = append(claims, c)
	}
	p.mu.Unlock()
	var errs []error
	for _, c := range claims {
		if err := p.release(ctx, c); err != nil {
			errs = append(errs, err)
			if ctx.Err() != nil {
				break
			}
		}
	}
	p.mu.Lock()
	keys := make([]string, 0, len(p.myMembers))
	for k := range p.myMembers {
		keys = append(keys, k)
	}
	p.myMembers = map[string][]byte{}
	p.mu.Unlock()
	for _, k := range keys {
		_ = p.n.kv.Delete(ctx, k)
	}
	// Dead at once for every other node, rather than after the TTL.
	_ = p.n.kv.Delete(ctx, heartbeatKey(p.n.name))
	return errors.Join(errs...)
}
