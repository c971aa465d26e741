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
