package server

import (
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
	"go.uber.org/zap"

	"github.com/chatd/chatd/actor"
	"github.com/chatd/chatd/server/internal/wsframe"
)

type connState uint8

const (
	// stateHandshake: the HTTP request is being read; nothing is written
	// until the response.
	stateHandshake connState = iota
	stateOpen
	// stateClosing: a close frame is queued or sent; data is no longer
	// delivered and the socket closes when the handshake completes or
	// close_timeout passes.
	stateClosing
	stateClosed
)

// Conn is one accepted connection: an HTTP request being read, then an
// upgraded WebSocket connection.
//
// Ownership: a connection belongs to one event loop for its life, and
// everything of it but the sweeper runs on that loop's goroutine, one
// thing at a time. Its state is split by who writes it:
//
//   - connInput: the socket callbacks that read and decode;
//   - connOutput: the actor's activations (the session's writes) and the
//     flush at the end of each wake;
//   - connLife: the lifecycle, written on the loop and read by the
//     sweeper too, hence its atomics (the sweeper only reads them and
//     posts to the actor's system lane).
//
// The fields of Conn itself are fixed at accept, except ep, protocol and
// target (set by the reader at the upgrade, before the actor opens the
// session) and sess (set by the actor at the upgrade). No field but the
// atomics needs a lock. Exported methods must be called from Session
// methods, which run on the actor.
type Conn struct {
	id     uint64
	srv    *Server
	loop   *loop
	actor  *actor.Ref[event]
	sess   Session // set on the actor by evUpgraded
	ep     Endpoint
	eps    *endpointStats // ep's counters (stats.go), set with ep
	opened int64          // unix nanoseconds
	remote netip.AddrPort
	// target is the request path, followed by "?" and the raw query until
	// the endpoint's Open returns; then the path alone, so an idle
	// connection does not carry its query (a token can be long).
	target string
	sock   sock
	// tls is the connection's TLS state (tlsconn.go), fixed once the
	// TLS handshake is done, before the Conn exists; nil for ws://.
	tls *tlsConn
	// regPrev and regNext link the open connections (registry); guarded
	// by the registry's lock.
	regPrev, regNext *Conn

	connInput
	connOutput
	connLife
}

// connInput is what the loop's read callbacks own: the request head, the
// frame decoder and input held back by a pause.
type connInput struct {
	// head is the request head read so far. After a successful upgrade
	// it is the complete head until the endpoint's Open returns
	// (RequestHeaders), then nil: the actor clears it.
	head []byte
	// dec holds a frame or a fragmented message left incomplete by the
	// last read, or is nil: complete input is decoded with the loop's
	// decoder (see consume), so an idle connection carries none.
	dec  *wsframe.Decoder
	held *heldInput
	// closingRead counts bytes read since chatd decided to close (see
	// readClosing); at most limits.closing_read_bytes.
	closingRead uint32
	discard     bool // a protocol error was seen: input is dropped until EOF
	eof         bool // the stream ended: nothing more is read
	// protocol is the subprotocol chosen at the handshake: 1 + its index in
	// the endpoint's Subprotocols, or 0 for none. A byte, not a string:
	// every idle connection carries it. Set before evUpgraded, like ep.
	protocol uint8
	// deflate is the window, in bits, of the messages chatd compresses on
	// this connection: permessage-deflate was negotiated (see deflate.go);
	// 0 if not. Set before evUpgraded, like protocol; read by the writes.
	deflate uint8
	// interest is what the socket is registered for (interestRead,
	// interestWrite); see setInterest.
	interest uint8
}

// connOutput is what the writes own: the queued output, the byte counts
// OnFlushed waits on, and how the connection ends once its output is
// written.
type connOutput struct {
	out         []byte
	sent        uint64      // bytes accepted for writing since the upgrade
	wrote       uint64      // bytes the kernel took
	flushWaits  []flushWait // OnFlushed callbacks, in mark order
	closeReason string
	closeCode   StatusCode
	// dirty: out has bytes queued this wake, and the connection is on its
	// loop's flush list.
	dirty bool
	// blocked: the socket took less than was queued; the rest goes when
	// it is writable.
	blocked   bool
	shutWrite bool // half-close once out is flushed (after our close frame)
	endAfter  bool // close the socket once out is flushed (close handshake done)
}

// connLife is the connection's lifecycle: its state, and the clocks and
// flags the sweeper reads (unix nanoseconds, 0 = unset).
type connLife struct {
	lastRead     atomic.Int64
	partialSince atomic.Int64
	pingSent     atomic.Int64
	closingSince atomic.Int64
	state        connState
	failed       bool // the endpoint panicked: it is not called again
	// reading: the loop is in this connection's read callback, where the
	// actor, if idle, handles what is read at once (deliver); loop only.
	reading     bool
	timeoutSent atomic.Bool // a frame or pong timeout was posted
	abortSent   atomic.Bool // a close-timeout abort was posted
	paused      atomic.Bool // reads stopped until the queue drains
	// sessPaused: the session asked reads to stop (PauseReading) until it
	// calls ResumeReading.
	sessPaused atomic.Bool
	closed     atomic.Bool
	upgraded   atomic.Bool // the handshake succeeded
	hsSlot     atomic.Bool // counts as a handshake in admission (until upgraded or ended)
}

// heldInput is what a reader could not deliver because the queue was full.
type heldInput struct {
	ev   event
	rest []byte
}

type eventKind uint8

const (
	evUpgraded eventKind = iota // data: the 101 response
	evReply                     // data: a complete HTTP response, then close
	evMessage
	evPing
	evPong
	evPeerClose
	evProtocolError
	evEOF
	evKeepalive
	evClose
	evAbort
	evNotify
)

// event is the connection actor's message.
type event struct {
	kind   eventKind
	op     ws.OpCode
	code   StatusCode
	data   []byte
	reason string
	ext    any // evNotify's value
}

// ID is the connection's number, unique within the process.
func (c *Conn) ID() uint64 { return c.id }

// Path is the endpoint path the connection was upgraded on: the full
// request path, so for an endpoint served under a prefix (HandlePrefix) it
// names what follows the prefix too. It is not percent-decoded.
func (c *Conn) Path() string {
	if i := strings.IndexByte(c.target, '?'); i >= 0 {
		return c.target[:i]
	}
	return c.target
}

// Query returns the parsed query of the upgrade request. It is available
// only during Endpoint.Open: the raw query is dropped when Open returns, so
// an idle connection does not carry it. Malformed pairs are skipped.
func (c *Conn) Query() url.Values {
	i := strings.IndexByte(c.target, '?')
	if i < 0 {
		return nil // Get on a nil Values is ""
	}
	v, _ := url.ParseQuery(c.target[i+1:])
	return v
}

// RequestURI is the upgrade request's target, path and raw query
// ("/stdio?a=b"). Like Query it is available only during Endpoint.Open;
// afterwards it is the path alone.
func (c *Conn) RequestURI() string { return c.target }

// RequestHeaders calls fn for each header line of the upgrade request, in
// order, with the name as sent and the value trimmed. It is available only
// during Endpoint.Open: the request head is dropped when Open returns, so
// an idle connection does not carry it. Afterwards it calls nothing.
func (c *Conn) RequestHeaders(fn func(name, value string)) {
	eachHeader(c.head, fn)
}

// dropQuery keeps only the path of target, in memory of its own, and
// drops the request head.
func (c *Conn) dropQuery() {
	if i := strings.IndexByte(c.target, '?'); i >= 0 {
		c.target = strings.Clone(c.target[:i])
	}
	c.head = nil
}

// PauseReading stops delivering this connection's messages until
// ResumeReading: the message being decoded when it takes effect, and the
// rest of what was read with it, are held (at most one read buffer and one
// message), the socket is not re-armed, and TCP backpressure reaches the
// client, as for a full queue. Control frames read before the next data
// message still pass. A paused connection has no frame or pong timeout,
// but is still pinged every keepalive.ping_interval: a client that has
// gone makes the second ping's write fail, which ends the connection.
// Call it from Session methods only.
func (c *Conn) PauseReading() { c.sessPaused.Store(true) }

// QueueSize is server.limits.queue_size: the events a connection's
// actor queues. What the socket brings fills at most half of it; a Session
// that makes work whose results come back through Notify (such as the
// outcome of a private message) may bound that work by the rest.
func (c *Conn) QueueSize() int { return c.srv.cfg.Limits.QueueSize }

// ResumeReading undoes PauseReading: held input is delivered and reading
// resumes (once the queue is at most a quarter full). Call it from Session
// methods only.
func (c *Conn) ResumeReading() {
	if c.sessPaused.Swap(false) && c.state != stateClosed {
		if c.pingSent.Load() != 0 {
			// Pinged while paused: the pong is still unread. Its
			// timeout counts from now.
			c.pingSent.Store(nowNano())
		}
		c.maybeResume()
	}
}

// Subprotocol is the subprotocol (Sec-WebSocket-Protocol) chosen at the
// handshake from those the endpoint offers (Subprotocols), or "".
func (c *Conn) Subprotocol() string {
	if c.protocol == 0 {
		return ""
	}
	return c.ep.(Subprotocols).Subprotocols()[c.protocol-1]
}

// RemoteAddr is the peer's address.
func (c *Conn) RemoteAddr() netip.AddrPort { return c.remote }

// Logger returns a logger carrying the connection's fields. It is built on
// demand rather than stored, to keep idle connections small; per-connection
// events use log.Check with fields(), which allocates nothing when the
// level is off.
func (c *Conn) Logger() *zap.Logger {
	return c.srv.log.With(c.fields()...)
}

func (c *Conn) fields() []zap.Field {
	return []zap.Field{zap.Uint64("conn", c.id), zap.Stringer("remote", c.remote), zap.String("path", c.Path())}
}

// Kick closes the connection with code and reason from any goroutine. It
// uses the actor's system lane, so it works even when the queue is full.
func (c *Conn) Kick(code StatusCode, reason string) {
	c.postSystem(event{kind: evClose, code: code, reason: reason})
}

// connActor is a Conn seen by its actor: the runtime's Receiver,
// DeadLetterer and StopObserver. A conversion, so these methods are not
// Conn's (sessions must not call them) and the actor costs no closure.
type connActor Conn

// Receive handles one event on the connection's actor.
func (a *connActor) Receive(ev event) {
	c := (*Conn)(a)
	switch ev.kind {
	case evUpgraded:
		c.upgradeDone(ev.data)
	case evReply:
		c.replyAndClose(ev.data)
	case evMessage:
		if c.state == stateOpen {
			c.loop.st.msgsIn[c.eps.idx].Add(1)
			c.sess.Message(MessageType(ev.op), ev.data)
		}
	case evPing:
		if c.state == stateOpen {
			c.writeControl(ws.OpPong, ev.data)
		}
	case evPong:
	case evPeerClose:
		c.peerClosed(ev.code, ev.reason)
	case evProtocolError, evClose:
		c.Close(ev.code, ev.reason)
	case evKeepalive:
		if c.state == stateOpen {
			c.writeControl(ws.OpPing, nil)
		}
	case evNotify:
		// Also after Closed: a value may carry a promise the session
		// must settle (see Session.Notify).
		if c.sess != nil && !c.failed {
			c.sess.Notify(ev.ext)
		}
	case evEOF:
		c.inputEnded(ev.reason)
	case evAbort:
		c.abort(ev.code, ev.reason)
	}
	// Whatever filled the queue (inbound messages or Notify values), a
	// paused reader resumes once it has drained to half.
	if c.state != stateClosed {
		c.maybeResume()
	}
}

// DeadLetter runs for each event still queued when the actor stopped (see
// actor.DeadLetterer). Notify values go to the session, which sees it has
// closed and settles whatever they promised; the rest (input, timers) no
// longer matter.
func (a *connActor) DeadLetter(ev event) {
	c := (*Conn)(a)
	if ev.kind == evNotify && c.sess != nil && !c.failed {
		c.sess.Notify(ev.ext)
	}
}

// ActorStopped runs when the actor stops. After a panic in an endpoint the
// connection is closed with 1011; after a normal teardown it does nothing.
func (a *connActor) ActorStopped(err error) {
	c := (*Conn)(a)
	if err == nil || c.closed.Load() {
		return
	}
	c.crashed(err)
}

// crashed closes the connection after a panic in its code, with 1011 sent
// best-effort. The session is not called again.
func (c *Conn) crashed(err error) {
	c.srv.log.Error("connection actor failed", zap.Uint64("conn", c.id), zap.Error(err))
	if c.state == stateClosed {
		return
	}
	c.failed = true
	// What the session queued and the kernel has not taken is dropped, and
	// never reported written: the callbacks waiting for it get false.
	waits := c.flushWaits
	c.flushWaits = nil
	if !c.blocked {
		// Nothing of the queue is on the wire yet (a partial write blocks),
		// so a close frame can replace it without cutting a frame.
		c.state = stateOpen // allow one last close frame
		c.out = wsframe.AppendClose(c.out[:0], ws.StatusCode(StatusInternalError), "internal error")
		c.writeOut()
	}
	c.teardown(StatusInternalError, "internal error")
	for _, w := range waits {
		w.fn(false)
	}
}

func nowNano() int64 { return time.Now().UnixNano() }
