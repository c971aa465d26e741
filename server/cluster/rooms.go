package cluster

import (
	"encoding/base64"
	"sync"

	"github.com/nats-io/nats.go"
)

// Rooms between nodes: a room's messages and presence changes are
// published to chatd.room.<room> (the room's name in unpadded base64url),
// and a node subscribes to that subject only while it has members of the
// room, then fans each message out to them locally (encoding it once).
// NoEcho keeps a node from hearing its own publications. NATS keeps one
// publisher's order for each subscriber, so per-sender order holds.

// RoomHandler gets what another node published to a room. It runs on the
// room subscription's goroutine, one message at a time, and must not
// block.
type RoomHandler func(data []byte)

type roomSubs struct {
	n  *Node
	mu sync.Mutex
	m  map[string]*nats.Subscription
}

func newRoomSubs(n *Node) *roomSubs { return &roomSubs{n: n, m: map[string]*nats.Subscription{}} }

func roomSubject(room string) string {
	return "chatd.room." + base64.RawURLEncoding.EncodeToString([]byte(room))
}

// join subscribes to room unless already subscribed.
func (r *roomSubs) join(room string, h RoomHandler) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m[room] != nil {
		return nil
	}
	sub, err := r.n.nc.Subscribe(roomSubject(room), func(m *nats.Msg) { h(m.Data) })
	if err != nil {
		return err
	}
	r.m[room] = sub
	return nil
}

// leave unsubscribes from room.
func (r *roomSubs) leave(room string) {
	r.mu.Lock()
	sub := r.m[room]
	delete(r.m, room)
	r.mu.Unlock()
	if sub != nil {
		_ = sub.Unsubscribe()
	}
}
