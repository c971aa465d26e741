package cluster

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"go.uber.org/zap"
)

// Private messages between nodes. The sender's node publishes the message
// to chatd.node.<receiver's node>.private with a reply subject of its own,
// chatd.node.<sender's node>.outcome.<id>; the receiver's node hands it to
// the receiver's sessions there and answers "1" once some session wrote it
// to its socket, "0" when none did. No answer within PrivateTimeout (the
// node died with the message, or holds it for a session still reading its
// mailbox), or NATS's no-responders status (the node is gone), counts as
// not delivered: the sender's node then stores the message at once,
// without routing it to that node again. So a message is never lost
// between nodes, and may at worst be both delivered and stored (the answer
// was lost, or came too late): at least once, never a false "delivered".
//
// Order: one node publishes on one connection, and NATS keeps a
// publisher's order per subscriber; the receiving node handles its inbox
// on one goroutine, in order. So per-sender order holds across nodes.

// PrivateTimeout is how long a node waits for another node's answer about a
// private message before storing it.
const PrivateTimeout = 15 * time.Second

// PrivateHandler delivers a private message that came from another node to
// this node's sessions of its receiver, and calls answer exactly once with
// whether a session wrote it. It runs on the node's inbox goroutine and
// must not block.
type PrivateHandler func(msg []byte, answer func(delivered bool))

// CopyHandler gets a copy of a private message for the sender's own
// sessions on this node (other sessions of the sender see what it sent).
// It runs on the node's copy inbox goroutine and must not block.
type CopyHandler func(msg []byte)

type router struct {
	n       *Node
	handler atomic.Pointer[PrivateHandler]
	copies  atomic.Pointer[CopyHandler]
	mail    atomic.Pointer[func(user string)]
	// claimLost is told of a claim this node held that another node took
	// while this one was cut off (presence.restore).
	claimLost atomic.Pointer[func(user string, c *Claim)]
	// disconnects closes sessions for another node's Disconnect.
	disconnects atomic.Pointer[DisconnectHandler]
	next        atomic.Uint64

	mu      sync.Mutex
	pending map[uint64]*pendingPrivate
	timeout time.Duration // PrivateTimeout; shorter in tests
}

type pendingPrivate struct {
	done  func(delivered bool, err error)
	timer *time.Timer
}

func newRouter(n *Node) *router {
	return &router{n: n, pending: map[uint64]*pendingPrivate{}, timeout: PrivateTimeout}
}

func (r *router) inbox() string   { return "chatd.node." + r.n.name + ".private" }
func (r *router) outcome() string { return "chatd.node." + r.n.name + ".outcome." }

func copyInbox(node string) string { return "chatd.node." + node + ".copy" }

// mailSubject carries "mail was stored for user" to every node (NoEcho:
// not to the sender).
const mailSubject = "chatd.mail"

func disconnectInbox(node string) string { return "chatd.node." + node + ".disconnect" }

// DisconnectHandler closes this node's sessions of user with reason and
// returns how many it closed. It must not block.
type DisconnectHandler func(user, reason string) int

type disconnectRequest struct {
	User   string `json:"u"`
	Reason string `json:"r"`
}

// disconnect answers another node's Disconnect with the count closed here.
func (r *router) disconnect(m *nats.Msg) {
	var req disconnectRequest
	n := 0
	if h := r.disconnects.Load(); h != nil && json.Unmarshal(m.Data, &req) == nil {
		n = (*h)(req.User, req.Reason)
	}
	_ = m.Respond(strconv.AppendInt(nil, int64(n), 10))
}

func (r *router) start() error {
	if _, err := r.n.nc.Subscribe(r.inbox(), r.receive); err != nil {
		return err
	}
	if _, err := r.n.nc.Subscribe(r.outcome()+"*", r.answered); err != nil {
		return err
	}
	if _, err := r.n.nc.Subscribe(disconnectInbox(r.n.name), r.disconnect); err != nil {
		return err
	}
	if _, err := r.n.nc.Subscribe(mailSubject, func(m *nats.Msg) {
		if h := r.mail.Load(); h != nil {
			(*h)(string(m.Data))
		}
	}); err != nil {
		return err
	}
	if _, err := r.n.nc.Subscribe(copyInbox(r.n.name), func(m *nats.Msg) {
		if h := r.copies.Load(); h != nil {
			(*h)(m.Data)
		}
	}); err != nil {
		return err
	}
	// Once the server has the subscriptions, other nodes can reach this
	// one (a message sent before would get no-responders).
	return r.n.nc.Flush()
}

// send publishes msg to node and calls done once with the outcome, on a
// NATS goroutine or a timer's.
func (r *router) send(node string, msg []byte, done func(delivered bool, err error)) {
	if bad, why := r.n.Degraded(); bad {
		done(false, &degradedError{why})
		return
	}
	id := r.next.Add(1)
	p := &pendingPrivate{done: done}
	// The timer is set before p is visible: settle (from failAll, an
	// answer or the timer) always finds it.
	r.mu.Lock()
	p.timer = time.AfterFunc(r.timeout, func() { r.settle(id, false, context.DeadlineExceeded) })
	r.pending[id] = p
	r.mu.Unlock()
	if bad, why := r.n.Degraded(); bad {
		// Lost meanwhile: failAll may have run before p was pending.
		r.settle(id, false, &degradedError{why})
		return
	}
	m := &nats.Msg{Subject: "chatd.node." + node + ".private", Reply: r.outcome() + strconv.FormatUint(id, 10), Data: msg}
	if err := r.n.nc.PublishMsg(m); err != nil {
		r.settle(id, false, err)
	}
}

// answered handles another node's answer, or NATS's no-responders status.
func (r *router) answered(m *nats.Msg) {
	id, err := strconv.ParseUint(m.Subject[strings.LastIndexByte(m.Subject, '.')+1:], 10, 64)
	if err != nil {
		return
	}
	if len(m.Data) == 0 && m.Header.Get("Status") == "503" {
		r.settle(id, false, nats.ErrNoResponders) // the node is gone
		return
	}
	r.settle(id, len(m.Data) == 1 && m.Data[0] == '1', nil)
}

// failAll settles every message waiting for an answer as not delivered:
// the connection to NATS is gone, and with it the answers (a sender hears
// at once, rather than after PrivateTimeout; the message may all the same
// have been delivered before the link went).
func (r *router) failAll(err error) {
	r.mu.Lock()
	ids := make([]uint64, 0, len(r.pending))
	for id := range r.pending {
		ids = append(ids, id)
	}
	r.mu.Unlock()
	for _, id := range ids {
		r.settle(id, false, err)
	}
}

func (r *router) settle(id uint64, delivered bool, err error) {
	r.mu.Lock()
	p := r.pending[id]
	delete(r.pending, id)
	r.mu.Unlock()
	if p == nil {
		return // answered after the timeout: the message was stored too
	}
	p.timer.Stop()
	p.done(delivered, err)
}

var answerYes, answerNo = []byte("1"), []byte("0")

// receive hands a message from another node to the handler.
func (r *router) receive(m *nats.Msg) {
	h := r.handler.Load()
	if h == nil || m.Reply == "" {
		_ = m.Respond(answerNo)
		return
	}
	reply := m.Reply
	(*h)(m.Data, func(delivered bool) {
		a := answerNo
		if delivered {
			a = answerYes
		}
		if err := r.n.nc.Publish(reply, a); err != nil {
			r.n.log.Debug("cluster: answer a private message", zap.Error(err))
		}
	})
}

type degradedError struct{ why string }

func (e *degradedError) Error() string { return "cluster: " + e.why }
func (e *degradedError) Unwrap() error { return ErrDegraded }
