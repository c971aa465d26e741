package chat

import (
	"context"
	"encoding/json"
	"errors"

	"go.uber.org/zap"

	"github.com/chatd/chatd/auth"
	"github.com/chatd/chatd/server/cluster"
	"github.com/chatd/chatd/server/wire"
)

// Cluster is what the service needs of the other chatd nodes when it runs
// as one of several (package cluster's *Node). With WithCluster:
//
//   - A login claims one of the user's sessions_per_user slots cluster-wide
//     (on the auth pool, never on a loop) before it is attached here; the
//     slot is given back when the session ends.
//   - A private message goes to the receiver's sessions here and to each
//     other node where the receiver has sessions; every node settles it
//     once, like a session, so "delivered" still means a socket took it,
//     and the message is stored (in the shared mailbox) only when no node
//     delivered it.
//   - A room's messages go to the room's JetStream stream, which gives
//     each its seq; every node with members of the room (this one too)
//     follows the stream, keeps the room's history from it and fans the
//     messages out to its members (cluster_rooms.go). So seqs, history
//     and since are the same on every node. Arrivals and departures on
//     other nodes reach this node's members as presence, and who and
//     rooms list the whole cluster.
//   - Cut off from NATS (Degraded), the node serves its own users and
//     refuses what it cannot promise: logins (no claim can be made) and
//     private messages to users not on this node.
type Cluster interface {
	Claim(ctx context.Context, name, nameKey string, max int, conn uint64) (*cluster.Claim, error)
	Release(c *cluster.Claim)
	Nodes(user string) []string
	Online(user string) bool
	Users(after string, limit int) ([]string, bool)
	SendPrivate(node string, msg []byte, done func(delivered bool, err error))
	HandlePrivate(h cluster.PrivateHandler)
	SendCopy(node string, msg []byte) error
	AnnounceMail(user string) error
	HandleClaimLost(h func(user string, c *cluster.Claim))
	HandleMail(h func(user string))
	Disconnect(ctx context.Context, node, user, reason string) (int, error)
	HandleDisconnect(h cluster.DisconnectHandler)
	HandleCopy(h cluster.CopyHandler)
	SetMember(room, user string, in bool) error
	RoomMembers(room string) map[string][]string
	Rooms(after string, limit int) ([]string, []int, bool)
	HandleRoomChanges(h func(cluster.RoomChange))
	ConfigureRooms(c cluster.RoomStreamsConfig)
	FollowRoom(room string, start func(cluster.RoomStart), h func(cluster.RoomMessage)) *cluster.Follower
	PublishRoom(room string, conn uint64, data []byte, done func(seq uint64, err error))
	Degraded() (bool, string)
}

// WithCluster makes the service one node of a cluster.
func WithCluster(c Cluster) Option { return func(o *options) { o.cluster = c } }

// Reasons a clustered login is refused for.
const reasonClusterDown = "server busy: the chat cluster is unavailable, try again"

// claimReason maps a claim's error to the reason the client hears.
func claimReason(err error) string {
	switch {
	case errors.Is(err, cluster.ErrTaken):
		return reasonOnline
	case errors.Is(err, cluster.ErrLookalike):
		return reasonLookalike
	default:
		return reasonClusterDown
	}
}

// claimFor takes a cluster slot for the identity id's session conn; it
// runs on the auth pool.
func (s *Service) claimFor(ctx context.Context, id auth.Identity, conn uint64) (*cluster.Claim, error) {
	name, err := auth.CanonicalName(id.Name)
	if err != nil {
		return nil, nil // refused by authDone, which checks the name again
	}
	max := id.MaxSessions
	if max == 0 {
		max = s.authCfg.SessionsPerUser
	}
	return s.cluster.Claim(ctx, name, auth.NameKey(name), max, conn)
}

// startCluster connects the service's handlers to the cluster.
func (s *Service) startCluster() {
	s.cluster.HandlePrivate(s.remotePrivate)
	s.cluster.HandleCopy(s.remoteCopy)
	s.cluster.HandleMail(s.mailHere)
	s.cluster.HandleClaimLost(s.claimLost)
	s.offline.stored = s.mailStored
	s.cluster.HandleDisconnect(s.disconnectHere)
	s.cluster.HandleRoomChanges(s.remoteRoomChange)
	s.rooms.cluster = s.cluster
	s.rooms.remoteMessage = s.streamMessage
	h := s.cfg.History
	s.cluster.ConfigureRooms(cluster.RoomStreamsConfig{Messages: h.Messages, MaxAge: h.MaxAge,
		Durable: h.Durable, MaxIdle: s.cfg.Rooms.MaxRooms})
}

// remotePrivate delivers a private message from another node to the
// receiver's sessions here, answering whether one wrote it. The sender's
// node decides whether to store it.
func (s *Service) remotePrivate(data []byte, answer func(bool)) {
	var m wire.Message
	if err := json.Unmarshal(data, &m); err != nil || m.Receiver == "" {
		s.log.Warn("cluster: a private message from another node does not decode", zap.Error(err))
		answer(false)
		return
	}
	to := s.users.live(m.Receiver)
	if len(to) == 0 {
		answer(false)
		return
	}
	p := &privateSend{svc: s, msg: m, answer: answer}
	p.encodeFor(to)
	p.pending.Store(int32(len(to)))
	p.handTo(to)
}

// remoteCopy shows the sender's sessions here a private message it sent
// from another node, as its other sessions on that node see it.
func (s *Service) remoteCopy(data []byte) {
	var m wire.Message
	if err := json.Unmarshal(data, &m); err != nil || m.Sender == "" {
		s.log.Warn("cluster: a copy from another node does not decode", zap.Error(err))
		return
	}
	to := s.users.live(m.Sender)
	if len(to) == 0 {
		return
	}
	frame := s.encodeMessage(&m)
	text := lazyText{render: func() string { return textLine(&m, m.Sender) }}
	for _, t := range to {
		t.deliverFor(frame, &text)
	}
}

// copyNodes returns the other nodes where p's sender has sessions, which
// get a copy of p on its first round (as its sessions here do).
func (p *privateSend) copyNodes() []string {
	c := p.svc.cluster
	if c == nil || p.answer != nil || p.msg.Sender == p.msg.Receiver {
		return nil
	}
	return c.Nodes(p.msg.Sender)
}

// sendCopies sends p.wire to nodes, for the sender's sessions there.
func (p *privateSend) sendCopies(nodes []string) {
	c := p.svc.cluster
	for _, n := range nodes {
		if err := c.SendCopy(n, p.wire); err != nil {
			p.svc.log.Debug("cluster: copy a private message to the sender's node", zap.String("node", n), zap.Error(err))
		}
	}
}

// mailStored runs after a message was stored for user. On one node the
// store is ordered with logins (users.route) and a session that logged in
// reads it; in a cluster the sender's node may have decided "offline"
// before it heard of a login elsewhere, whose session then read the
// mailbox before the store. So every session of user, here and on every
// other node (all of them: this node's view may lag the login), is told to
// read its mailbox again (drainAgain).
func (s *Service) mailStored(user string) {
	s.mailHere(user)
	if err := s.cluster.AnnounceMail(user); err != nil {
		s.log.Debug("cluster: announce stored mail", zap.String("user", user), zap.Error(err))
	}
}

// mailHere tells user's sessions here that mail was stored.
func (s *Service) mailHere(user string) {
	for _, t := range s.users.live(user) {
		t.notify(mailWaiting{})
	}
}

// claimLost closes the session here holding c: while this node was cut off
// from NATS for longer than presence_ttl, the other nodes let the user log
// in elsewhere and the slot is taken, so this session may not go on (the
// name would be online twice).
func (s *Service) claimLost(user string, c *cluster.Claim) {
	for _, sess := range s.users.sessions(user) {
		if sess.claim.Load() == c {
			sess.leaving.Store(true)
			sess.conn.Kick(CloseReplaced, "replaced: the name was taken on another node while this one was cut off")
		}
	}
}

// errClusterDown is what the sender hears of a private message to a user
// not on this node while the node is cut off from NATS.
func errClusterDown(receiver string) string {
	return "the chat cluster is unavailable: " + receiver + " cannot be reached or stored for now, try again"
}

// clusterDown reports whether the node is cut off from NATS (then the
// shared mailbox cannot be written either).
func (p *privateSend) clusterDown() bool {
	if p.svc.cluster == nil {
		return false
	}
	bad, _ := p.svc.cluster.Degraded()
	return bad
}

// remoteNodes returns the other nodes p's receiver is on, and whether the
// cluster is cut off (then nothing is known of them).
func (p *privateSend) remoteNodes() (nodes []string, down bool) {
	switch {
	case p.svc.cluster == nil:
		return nil, false
	case p.clusterDown():
		return nil, true
	}
	return p.svc.cluster.Nodes(p.msg.Receiver), false
}

// sendRemote hands p (p.wire, made before p was handed out) to each of
// nodes; each settles it once.
func (p *privateSend) sendRemote(nodes []string) {
	for _, n := range nodes {
		p.svc.cluster.SendPrivate(n, p.wire, func(delivered bool, err error) {
			if err != nil {
				p.lostNode.Store(true)
			}
			p.done(delivered)
		})
	}
}

// remoteRoomChange records a user coming into or leaving a room on another
// node, and tells the room's members here when that changes whether the
// user is in the room at all.
func (s *Service) remoteRoomChange(c cluster.RoomChange) {
	rm := s.rooms.get(c.Room)
	if rm == nil {
		return
	}
	gone := !c.In && !s.cluster.Online(c.User) && !s.users.isOnline(c.User)
	rm.mu.Lock()
	flush := rm.remoteChangeLocked(c.User, c.Node, c.In, gone)
	rm.mu.Unlock()
	if flush {
		rm.flushPresence(false)
	}
}

// remoteChangeLocked updates rm.remote; rm.mu is held.
func (rm *room) remoteChangeLocked(user, node string, in, gone bool) (flush bool) {
	if rm.hist == nil {
		return false // deleted
	}
	nodes := rm.remote[user]
	was := len(nodes) > 0 || rm.users[user] > 0
	if in {
		if nodes == nil {
			nodes = map[string]bool{}
			rm.remote[user] = nodes
		}
		nodes[node] = true
	} else if nodes != nil {
		delete(nodes, node)
		if len(nodes) == 0 {
			delete(rm.remote, user)
		}
	}
	now := len(rm.remote[user]) > 0 || rm.users[user] > 0
	if was == now || !rm.presence {
		return false
	}
	c := change{in: now}
	if !now && gone {
		c.gone = true
	}
	return rm.changedLocked(user, c)
}

// remoteMembersOf loads the members other nodes have in a room being
// created here.
func (r *rooms) remoteMembersOf(name string) map[string]map[string]bool {
	if r.cluster == nil {
		return nil // one node: never written
	}
	out := map[string]map[string]bool{}
	for user, nodes := range r.cluster.RoomMembers(name) {
		m := make(map[string]bool, len(nodes))
		for _, n := range nodes {
			m[n] = true
		}
		out[user] = m
	}
	return out
}
