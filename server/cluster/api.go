package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"
)

// Claim takes one of max session slots of the user name (whose name key,
// auth.NameKey, is nameKey) for connection conn of this node. It fails
// with ErrTaken when every slot is held by a live session anywhere, with
// ErrLookalike when a different name with the same key is online, and
// with ErrDegraded when NATS is unreachable. It blocks for a few round
// trips to NATS: never call it on an event loop.
func (n *Node) Claim(ctx context.Context, name, nameKey string, max int, conn uint64) (*Claim, error) {
	if bad, _ := n.Degraded(); bad {
		return nil, ErrDegraded
	}
	return n.presence.claim(ctx, name, nameKey, max, conn)
}

// releaseTimeout bounds one release.
const releaseTimeout = 5 * time.Second

// Release gives c back, in the background: it does not block. A release
// that fails (NATS away) leaves the claim until this node's heartbeat
// expires or it restarts.
func (n *Node) Release(c *Claim) {
	if c == nil {
		return
	}
	n.wg.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), releaseTimeout)
		defer cancel()
		if err := n.presence.release(ctx, c); err != nil {
			n.log.Debug("cluster: release a session claim", zap.String("key", c.key), zap.Error(err))
		}
	})
}

// Nodes returns the other live nodes where user has sessions.
func (n *Node) Nodes(user string) []string { return n.presence.nodes(user) }

// Online reports whether user has a live session on any node.
func (n *Node) Online(user string) bool { return n.presence.online(user) }

// Users returns up to limit users online anywhere whose names sort after
// after, and whether more follow.
func (n *Node) Users(after string, limit int) ([]string, bool) {
	return n.presence.page(after, limit)
}

// SendPrivate hands msg to node's PrivateHandler and calls done once with
// whether a session there wrote it (err says why not, when known). It does
// not block; done runs on a NATS or timer goroutine.
func (n *Node) SendPrivate(node string, msg []byte, done func(delivered bool, err error)) {
	n.router.send(node, msg, done)
}

// HandlePrivate sets the handler of private messages from other nodes.
// Until it is set, they are answered "not delivered".
func (n *Node) HandlePrivate(h PrivateHandler) { n.router.handler.Store(&h) }

// SendCopy hands node's CopyHandler a copy of a private message, for the
// sender's sessions there; nothing is answered (a copy is not a delivery).
func (n *Node) SendCopy(node string, msg []byte) error {
	return n.nc.Publish(copyInbox(node), msg)
}

// HandleCopy sets the handler of copies for senders' sessions here.
func (n *Node) HandleCopy(h CopyHandler) { n.router.copies.Store(&h) }

// AnnounceMail tells every other node that mail was stored for user, so
// that their sessions of user read their mailbox again. It goes to all
// nodes, not to those this node's view has the user on: that view may not
// have the login yet. It does not wait.
func (n *Node) AnnounceMail(user string) error { return n.nc.Publish(mailSubject, []byte(user)) }

// HandleMail sets the handler of AnnounceMail from other nodes.
func (n *Node) HandleMail(h func(user string)) { n.router.mail.Store(&h) }

// HandleClaimLost sets what is told of a session claim this node held
// that another node took meanwhile (this node was cut off from NATS for
// longer than presence_ttl and its user logged in elsewhere): the session
// must end, or the name would be online twice.
// The handler gets the user and the lost claim itself (the session
// holding it may not be the connection the claim was made for: a resume
// takes its session's claim over).
func (n *Node) HandleClaimLost(h func(user string, c *Claim)) { n.router.claimLost.Store(&h) }

// claimLost tells the handler that c (value v), a claim of this node, was
// lost.
func (n *Node) claimLost(v claimValue, c *Claim) {
	if h := n.router.claimLost.Load(); h != nil {
		(*h)(v.User, c)
	}
}

// Disconnect asks node to close its sessions of user with reason, and
// returns how many it closed. It blocks for a round trip (bounded by ctx).
func (n *Node) Disconnect(ctx context.Context, node, user, reason string) (int, error) {
	data, _ := json.Marshal(disconnectRequest{User: user, Reason: reason})
	m, err := n.nc.RequestWithContext(ctx, disconnectInbox(node), data)
	if err != nil {
		return 0, fmt.Errorf("cluster: disconnect %s on %s: %w", user, node, err)
	}
	return strconv.Atoi(string(m.Data))
}

// HandleDisconnect sets the handler of other nodes' Disconnect requests.
func (n *Node) HandleDisconnect(h DisconnectHandler) { n.router.disconnects.Store(&h) }

// SetMember records, for every node, that user has (in) or no longer has
// a session of this node in room. It does not block.
func (n *Node) SetMember(room, user string, in bool) error {
	return n.presence.setMember(room, user, in)
}

// RoomMembers returns room's users on other live nodes, each with its
// nodes.
func (n *Node) RoomMembers(room string) map[string][]string { return n.presence.roomMembers(room) }

// Rooms returns up to limit rooms with members on any node after after,
// sorted, with their numbers of users, and whether more follow.
func (n *Node) Rooms(after string, limit int) ([]string, []int, bool) {
	return n.presence.roomPage(after, limit)
}

// HandleRoomChanges runs h, on one goroutine in bucket order, for every
// user coming into or leaving a room on another node. Call it once.
func (n *Node) HandleRoomChanges(h func(RoomChange)) {
	n.wg.Go(func() {
		for {
			select {
			case <-n.stop:
				return
			case c := <-n.presence.roomEvents:
				h(c)
			}
		}
	})
}
