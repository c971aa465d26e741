package cluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/zap"
)

// Presence lives in one KV bucket, chatd_sessions, with two kinds of keys:
//
//   - n.<node>: the node's heartbeat, its incarnation (a random id of the
//     process), written with a per-message TTL of cluster.presence_ttl and
//     rewritten every third of it by the node itself.
//   - s.<user>.<slot>: a session claim, {user, node, incarnation, conn}.
//     <user> is the user's name key (auth.NameKey) in unpadded base64url;
//     <slot> is 0 to sessions_per_user-1.
//
// A claim is taken with the KV's atomic create, so two nodes never hold
// the same slot and a user never has more sessions than slots. A claim is
// live while its node's heartbeat holds its incarnation: when a node dies,
// its heartbeat expires (the bucket's delete marker tells every node) and
// all its claims are dead at once; a node that restarts under the same
// name has a new incarnation, so its old claims are dead at once too. A
// dead claim's slot is taken over (delete at its revision, then create).
// Refreshing is therefore one write per node, not per user.
//
// Every node watches the bucket and keeps the live claims in memory: who
// is online where (Nodes, Online, Page) is answered from there, without a
// round trip.

// ErrTaken means all of a user's slots are held by live sessions.
var ErrTaken = errors.New("cluster: every session of this user is taken")

// ErrLookalike means a different name with the same name key is online.
var ErrLookalike = errors.New("cluster: a name that looks the same is online")

// ErrDegraded means the node is cut off from NATS.
var ErrDegraded = errors.New("cluster: NATS unavailable")

// Claim is a session slot held by this node.
type Claim struct {
	key string
	val []byte
	rev uint64
}

type claimValue struct {
	User string `json:"u"`
	Node string `json:"n"`
	Inc  string `json:"i"`
	Conn uint64 `json:"c"`
}

type presence struct {
	n   *Node
	inc string // this process's incarnation

	mu    sync.Mutex
	mine  map[string]*Claim         // key → claim this node holds
	alive map[string]string         // node → live incarnation
	slots map[string]claimValue     // every claim key seen → value
	users map[string]map[string]int // user → node → live sessions (own node included)
	// rooms: room → user → node → member (live nodes only), from r. keys.
	rooms   map[string]map[string]map[string]bool
	members map[string]memberValue // every r. key seen → value
	// roomEvents are room changes of other nodes, in bucket order, for
	// the room handler (RoomPresenceHandler), called off the lock.
	roomEvents chan RoomChange
	myMembers  map[string][]byte // r. keys this node holds → value
	// unreleased are claims given back whose delete did not reach the
	// bucket (NATS away, or a link silently dropping bytes): the refresh
	// loop deletes them again, or the heartbeat, which goes on, would keep
	// them live for as long as this node lives.
	unreleased map[string]*Claim
	kickc      chan struct{}
	rewatchc   chan struct{} // the refresh loop asks watchLoop for a new watch
	beatc      chan struct{} // applyKey asks the refresh loop for a beat now
}

type memberValue struct {
	Room string `json:"r"`
	User string `json:"u"`
	Node string `json:"n"`
	Inc  string `json:"i"`
}

// RoomChange is a user coming into a room (In) or leaving it on Node.
type RoomChange struct {
	Room, User, Node string
	In               bool
}

func newPresence(n *Node) *presence {
	return &presence{
		n: n, inc: strconv.FormatUint(uint64(time.Now().UnixNano()), 36) + nuidish(),
		mine: map[string]*Claim{}, alive: map[string]string{}, slots: map[string]claimValue{},
		users: map[string]map[string]int{}, kickc: make(chan struct{}, 1), rewatchc: make(chan struct{}, 1),
		beatc: make(chan struct{}, 1),
		rooms: map[string]map[string]map[string]bool{}, members: map[string]memberValue{},
		roomEvents: make(chan RoomChange, 4096), myMembers: map[string][]byte{},
		unreleased: map[string]*Claim{},
	}
}

func nuidish() string { return strconv.FormatInt(int64(time.Now().Nanosecond()^0x5bd1e995), 36) }

func heartbeatKey(node string) string { return "n." + node }

func slotKey(nameKey string, slot int) string {
	return "s." + base64.RawURLEncoding.EncodeToString([]byte(nameKey)) + "." + strconv.Itoa(slot)
}

// start writes the first heartbeat and loads the bucket before returning,
// so the first login already sees the whole cluster.
func (p *presence) start(ctx context.Context) error {
	if err := p.beat(ctx); err != nil {
		return fmt.Errorf("cluster: first heartbeat: %w", err)
	}
	w, err := p.watch(ctx)
	if err != nil {
		return fmt.Errorf("cluster: watch %s: %w", sessionsBucket, err)
	}
	p.n.wg.Go(func() { p.watchLoop(w) })
	return nil
}

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

func (w *watching) stop() {
	_ = w.w.Stop()
	w.cancel()
}

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

// apply updates the in-memory view with one change of the bucket.
func (p *presence) apply(e jetstream.KeyValueEntry) {
	p.applyKey(e.Key(), e.Value(), e.Operation() != jetstream.KeyValuePut)
}

// applyKey updates the in-memory view with key's new value, or its
// deletion.
func (p *presence) applyKey(key string, value []byte, del bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if node, ok := strings.CutPrefix(key, "n."); ok {
		if del {
			p.setAliveLocked(node, "")
			if node == p.n.name {
				// This node's heartbeat lapsed while it lives: every node
				// now sees its users gone and may take their claims over.
				// Beat at once rather than at the next tick.
				select {
				case p.beatc <- struct{}{}:
				default:
				}
			}
		} else {
			p.setAliveLocked(node, string(value))
		}
		return
	}
	if strings.HasPrefix(key, "r.") {
		p.applyMemberLocked(key, value, del)
		return
	}
	if old, ok := p.slots[key]; ok {
		if p.alive[old.Node] == old.Inc {
			p.countLocked(old, -1)
		}
		delete(p.slots, key)
	}
	if del {
		return
	}
	var v claimValue
	if json.Unmarshal(value, &v) != nil {
		return
	}
	p.slots[key] = v
	if p.alive[v.Node] == v.Inc {
		p.countLocked(v, +1)
	}
}

// setAliveLocked records node's live incarnation ("" = dead) and moves
// the claims of the old and new incarnations in or out of the counts.
func (p *presence) setAliveLocked(node, inc string) {
	old := p.alive[node]
	if old == inc {
		return
	}
	for _, v := range p.slots {
		if v.Node != node {
			continue
		}
		if v.Inc == old {
			p.countLocked(v, -1)
		}
		if v.Inc == inc {
			p.countLocked(v, +1)
		}
	}
	for _, v := range p.members {
		if v.Node != node {
			continue
		}
		if v.Inc == old {
			p.memberLocked(v, false)
		}
		if v.Inc == inc {
			p.memberLocked(v, true)
		}
	}
	if inc == "" {
		delete(p.alive, node)
		p.n.log.Info("cluster: node gone", zap.String("node", node))
	} else {
		p.alive[node] = inc
	}
}

func (p *presence) countLocked(v claimValue, d int) {
	m := p.users[v.User]
	if m == nil {
		if d < 0 {
			return
		}
		m = map[string]int{}
		p.users[v.User] = m
	}
	m[v.Node] += d
	if m[v.Node] <= 0 {
		delete(m, v.Node)
	}
	if len(m) == 0 {
		delete(p.users, v.User)
	}
}

// liveLocked reports whether the claim v is held by a live node.
func (p *presence) liveLocked(v claimValue) bool {
	return v.Inc != "" && p.alive[v.Node] == v.Inc
}

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

// nodes returns the live nodes other than this one where user has
// sessions.
func (p *presence) nodes(user string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for node := range p.users[user] {
		if node != p.n.name {
			out = append(out, node)
		}
	}
	slices.Sort(out)
	return out
}

// online reports whether user has a live session on any node.
func (p *presence) online(user string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.users[user]) > 0
}

// page returns up to limit users online anywhere after after, sorted.
func (p *presence) page(after string, limit int) ([]string, bool) {
	p.mu.Lock()
	names := make([]string, 0, len(p.users))
	for u := range p.users {
		if u > after {
			names = append(names, u)
		}
	}
	p.mu.Unlock()
	slices.Sort(names)
	if len(names) > limit {
		return names[:limit], true
	}
	return names, false
}
