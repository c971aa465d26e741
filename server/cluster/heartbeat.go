package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// beat writes the heartbeat with its TTL.
func (p *presence) beat(ctx context.Context) error {
	m := nats.NewMsg("$KV." + sessionsBucket + "." + heartbeatKey(p.n.name))
	m.Data = []byte(p.inc)
	_, err := p.n.js.PublishMsg(ctx, m, jetstream.WithMsgTTL(p.n.ttl))
	return err
}

// refreshLoop beats every third of the TTL, and at once after a
// reconnection, when it also claims again what the bucket lost (a NATS
// server restarted with the bucket in memory) and then has the bucket
// watched again (see watchLoop).
func (p *presence) refreshLoop() {
	t := time.NewTicker(p.n.ttl / 3)
	defer t.Stop()
	// restore stays set until a beat succeeds and the claims are made
	// again: a beat that fails right after a reconnection (the bucket not
	// made again yet) must not lose the restore.
	restore := false
	for {
		select {
		case <-p.n.stop:
			return
		case <-t.C:
		case <-p.beatc:
		case <-p.kickc:
			restore = true
		}
		ctx, cancel := context.WithTimeout(context.Background(), p.n.ttl/3)
		err := p.beat(ctx)
		if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, jetstream.ErrStreamNotFound) || isNoStream(err) {
			err = p.recreate(ctx)
			restore = true
		}
		if err == nil {
			p.retryReleases(ctx)
		}
		if err != nil {
			p.n.log.Warn("cluster heartbeat", zap.Error(err))
		} else if restore {
			p.restore(ctx)
			restore = false
			select {
			case p.rewatchc <- struct{}{}:
			default:
			}
		}
		cancel()
	}
}

func isNoStream(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no response from stream")
}

// recreate makes the bucket again after NATS lost it.
func (p *presence) recreate(ctx context.Context) error {
	cfg := p.n.kv
	st, err := cfg.Status(ctx)
	if err == nil && st != nil {
		return p.beat(ctx)
	}
	// With setup's config: its replicas, not 1.
	if _, err := p.n.js.CreateOrUpdateKeyValue(ctx, p.n.kvCfg); err != nil {
		return err
	}
	return p.beat(ctx)
}

// restore makes sure every claim of this node is still in the bucket,
// creating the ones that are gone.
func (p *presence) restore(ctx context.Context) {
	p.mu.Lock()
	claims := make([]*Claim, 0, len(p.mine))
	for _, c := range p.mine {
		claims = append(claims, c)
	}
	members := make(map[string][]byte, len(p.myMembers))
	for k, v := range p.myMembers {
		members[k] = v
	}
	p.mu.Unlock()
	for k, v := range members {
		if _, err := p.n.kv.Put(ctx, k, v); err != nil {
			p.n.log.Warn("cluster: restore a room membership", zap.String("key", k), zap.Error(err))
		}
	}
	for _, c := range claims {
		if e, err := p.n.kv.Get(ctx, c.key); err == nil && string(e.Value()) == string(c.val) {
			continue
		}
		rev, err := p.n.kv.Create(ctx, c.key, c.val)
		if errors.Is(err, jetstream.ErrKeyExists) {
			// Another node took the slot while this one was cut off (past
			// presence_ttl, the cluster let the user log in there): this
			// node's session must end, or the name is online twice.
			p.mu.Lock()
			delete(p.mine, c.key)
			p.mu.Unlock()
			var v claimValue
			_ = json.Unmarshal(c.val, &v)
			p.n.log.Warn("cluster: a session's slot was taken on another node while this one was cut off; closing the session",
				zap.String("user", v.User), zap.Uint64("conn", v.Conn))
			p.n.claimLost(v, c)
			continue
		}
		if err != nil {
			p.n.log.Warn("cluster: a session claim was lost while NATS was away and could not be made again",
				zap.String("key", c.key), zap.Error(err))
			continue
		}
		p.mu.Lock()
		c.rev = rev
		if p.mine[c.key] != c {
			// Released while it was being made again: give it back
			// (its release's delete found no key and was taken as done).
			p.unreleased[c.key] = c
		}
		p.mu.Unlock()
	}
	p.retryReleases(ctx)
	p.sweepOrphans(ctx)
}

// sweepOrphans deletes the room memberships of this incarnation that it
// no longer holds: a leave whose delete was lost while the link was down
// (the bucket's view has the key, this node gave it back). myMembers is
// updated before a membership is published, so a key being added is never
// taken for an orphan. (Claims given back are retried by retryReleases:
// a claim just created is in the view before it is in mine.)
func (p *presence) sweepOrphans(ctx context.Context) {
	var orphans []string
	p.mu.Lock()
	for k, v := range p.members {
		if _, held := p.myMembers[k]; v.Node == p.n.name && v.Inc == p.inc && !held {
			orphans = append(orphans, k)
		}
	}
	p.mu.Unlock()
	for _, k := range orphans {
		if err := p.n.kv.Delete(ctx, k); err != nil {
			p.n.log.Debug("cluster: delete a key given back", zap.String("key", k), zap.Error(err))
		}
	}
}

func (p *presence) kick() {
	select {
	case p.kickc <- struct{}{}:
	default:
	}
}
