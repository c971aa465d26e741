package cluster

import (
	"encoding/base64"
	"encoding/json"
	"slices"

	"github.com/nats-io/nats.go"
)

// Room membership across the cluster lives in the sessions bucket too: a
// key r.<room>.<user>.<node> while user has a session in room on node
// (written by that node when its first local session of the user joins,
// deleted when its last one leaves), valid while node's heartbeat holds
// the incarnation in the value. So who and rooms are cluster-wide, a node
// hears of arrivals and departures on other nodes (RoomChanges), and a
// dead node's members leave every room together when its heartbeat
// expires.

func memberKey(room, user, node string) string {
	enc := base64.RawURLEncoding
	return "r." + enc.EncodeToString([]byte(room)) + "." + enc.EncodeToString([]byte(user)) + "." + node
}

// applyMemberLocked handles a change of an r. key.
func (p *presence) applyMemberLocked(key string, value []byte, del bool) {
	var v memberValue
	if !del && json.Unmarshal(value, &v) == nil && p.members[key] == v {
		// Unchanged: a new watch reads every key again (watchLoop), which
		// must not tell the rooms that their members left and came back.
		return
	}
	if old, ok := p.members[key]; ok {
		if p.alive[old.Node] == old.Inc {
			p.memberLocked(old, false)
		}
		delete(p.members, key)
	}
	if del {
		return
	}
	if json.Unmarshal(value, &v) != nil {
		return
	}
	p.members[key] = v
	if p.alive[v.Node] == v.Inc {
		p.memberLocked(v, true)
	}
}

// memberLocked records v as a live member (in) or not, and queues the
// change for the room handler when it is another node's.
func (p *presence) memberLocked(v memberValue, in bool) {
	users := p.rooms[v.Room]
	if in {
		if users == nil {
			users = map[string]map[string]bool{}
			p.rooms[v.Room] = users
		}
		nodes := users[v.User]
		if nodes == nil {
			nodes = map[string]bool{}
			users[v.User] = nodes
		}
		if nodes[v.Node] {
			return
		}
		nodes[v.Node] = true
	} else {
		nodes := users[v.User]
		if !nodes[v.Node] {
			return
		}
		delete(nodes, v.Node)
		if len(nodes) == 0 {
			delete(users, v.User)
		}
		if len(users) == 0 {
			delete(p.rooms, v.Room)
		}
	}
	if v.Node != p.n.name {
		select {
		case p.roomEvents <- RoomChange{Room: v.Room, User: v.User, Node: v.Node, In: in}:
		default:
			// The handler is far behind: it re-reads the room (RoomMembers)
			// when it sees a reset.
			p.n.log.Warn("cluster: room change queue full; a room's remote member list may lag")
		}
	}
}

// roomMembers returns the users of room on other live nodes, with their
// nodes.
func (p *presence) roomMembers(room string) map[string][]string {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string][]string{}
	for user, nodes := range p.rooms[room] {
		for node := range nodes {
			if node != p.n.name {
				out[user] = append(out[user], node)
			}
		}
	}
	return out
}

// roomPage returns up to limit rooms with members anywhere after after,
// sorted, with their user counts.
func (p *presence) roomPage(after string, limit int) (names []string, users []int, more bool) {
	p.mu.Lock()
	for r := range p.rooms {
		if r > after {
			names = append(names, r)
		}
	}
	slices.Sort(names)
	if len(names) > limit {
		names, more = names[:limit], true
	}
	for _, r := range names {
		users = append(users, len(p.rooms[r]))
	}
	p.mu.Unlock()
	return names, users, more
}

// setMember publishes this node's membership of user in room, without
// waiting for the acknowledgement (one connection keeps the order of a
// join and the leave after it).
func (p *presence) setMember(room, user string, in bool) error {
	key := memberKey(room, user, p.n.name)
	m := nats.NewMsg("$KV." + sessionsBucket + "." + key)
	p.mu.Lock()
	if in {
		m.Data, _ = json.Marshal(memberValue{Room: room, User: user, Node: p.n.name, Inc: p.inc})
		p.myMembers[key] = m.Data
	} else {
		m.Header.Set("KV-Operation", "DEL")
		delete(p.myMembers, key)
	}
	p.mu.Unlock()
	_, err := p.n.js.PublishMsgAsync(m)
	return err
}
