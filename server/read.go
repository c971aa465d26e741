package server

import (
	"errors"

	"golang.org/x/sys/unix"

	"github.com/gobwas/ws"

	"github.com/chatd/chatd/actor"
	"github.com/chatd/chatd/server/internal/wsframe"
)

// readsPerWake bounds the reads one wake may do on one connection, so a
// fast sender cannot monopolise its loop: the socket is level-triggered,
// and the next epoll_wait reports it again, after the other ready sockets.
const readsPerWake = 8

func isEAGAIN(err error) bool { return err == unix.EAGAIN }

// readable runs on the connection's loop when its socket is readable. buf
// is the loop's read buffer.
func (c *Conn) readable(buf []byte) {
	if !c.upgraded.Load() {
		c.readHandshake(buf)
		return
	}
	if c.tls != nil {
		c.readableTLS(buf)
		return
	}
	for i := 0; i < readsPerWake; i++ {
		if c.closed.Load() || c.eof || c.paused.Load() {
			return
		}
		p, closing := c.readSpace(buf)
		n, err := c.sock.read(p)
		if n > 0 {
			c.loop.st.bytesIn.Add(uint64(n))
		}
		switch c.took(p, n, err, closing) {
		case readDone:
			return
		case readWait:
			c.rearm()
			return
		}
		if n < len(p) {
			break
		}
	}
	c.rearm()
}

// readSpace is where the next read of an upgraded connection goes: buf,
// or, once chatd decided to close the connection (closing), only one byte
// past what limits.closing_read_bytes leaves, which tells "more" from
// "exactly" (max: Reconfigure may have lowered the limit below what was
// read already).
func (c *Conn) readSpace(buf []byte) (p []byte, closing bool) {
	closing = c.discard || c.closingSince.Load() != 0
	if !closing {
		return buf, false
	}
	return buf[:min(len(buf), max(c.srv.settings().closingReadBytes-int(c.closingRead), 0)+1)], true
}

// What took says of one read.
type readStep uint8

const (
	readMore readStep = iota // decoded; read again
	readWait                 // nothing more for now: rearm and wait
	readDone                 // the input ended or the reading is over for this wake (already handled)
)

// took hands one read's result, n bytes into p (from readSpace) or err,
// to the connection: the decoder, the closing reader, or the end of the
// input.
func (c *Conn) took(p []byte, n int, err error, closing bool) readStep {
	switch {
	case isEAGAIN(err):
		return readWait
	case err != nil:
		c.endOfInput(err.Error())
		return readDone
	case n == 0:
		c.endOfInput(reasonPeerGone)
		return readDone
	}
	c.touch()
	if closing {
		c.readClosing(p[:n])
		return readDone // readClosing reads on, or ends the input
	}
	if !c.consume(p[:n]) {
		return readDone
	}
	return readMore
}

// readClosing takes input read after chatd decided to close the
// connection (its close frame is queued or sent, or the input broke the
// protocol). Up to limits.closing_read_bytes is still decoded, for the
// peer's close frame; past that the peer is only wasting chatd's time, and
// the input ends, which tears a closing connection down at once.
func (c *Conn) readClosing(p []byte) {
	c.srv.closingRead.Add(int64(len(p)))
	left := max(c.srv.settings().closingReadBytes-int(c.closingRead), 0)
	over := len(p) > left
	if over {
		p = p[:left]
	}
	c.closingRead += uint32(len(p))
	if !c.consume(p) {
		// The queue is full (or the actor gone): the EOF cannot queue
		// behind the held input. The actor is closing (closingSince is
		// only set there), so the system lane ends it.
		if over {
			c.eof = true
			c.postSystem(event{kind: evAbort, reason: reasonClosingOverflow})
		}
		return
	}
	if over {
		c.endOfInput(reasonClosingOverflow)
		return
	}
	c.rearm()
}

// endOfInput queues the end of the stream behind the messages read before
// it, so a close frame followed at once by EOF is still answered.
func (c *Conn) endOfInput(reason string) {
	c.eof = true
	c.setInterest()
	c.deliver(event{kind: evEOF, reason: reason}, nil)
}

// rearm records whether a frame or a fragmented message is pending (for
// TLS, also part of a record, which holds part of a frame), and
// makes sure the socket is watched for input (it stays registered; this
// changes the registration only after a pause). partialSince is when the oldest pending one
// began: consume clears it when a message completes, so a new one started
// in the same read is timed from this read, while a control frame inside a
// fragmented message does not restart the message's clock.
func (c *Conn) rearm() {
	if (c.dec != nil || c.tls != nil && c.tls.midRecord()) && !c.discard {
		if c.partialSince.Load() == 0 {
			c.partialSince.Store(nowNano())
		}
	} else if c.partialSince.Load() != 0 {
		c.partialSince.Store(0)
	}
	c.setInterest()
	if c.tls != nil {
		c.kickTLS()
	}
}

// touch records inbound activity for keepalive.
func (c *Conn) touch() {
	c.lastRead.Store(nowNano())
	if c.pingSent.Load() != 0 {
		c.pingSent.Store(0)
	}
}

// consume decodes p and posts what completes. It returns false when reading
// must stop without re-arming: the queue is full (the rest of p is held)
// or the actor has stopped.
//
// A connection holds a decoder only while a frame or a fragmented message
// is incomplete between reads; otherwise it decodes with its loop's
// (decoderFor), and an idle connection carries none.
func (c *Conn) consume(p []byte) bool {
	d := c.decoderFor()
	defer c.keepDecoder(d)
	for len(p) > 0 && !c.discard {
		n, m, ok, err := d.Decode(p)
		p = p[n:]
		if ok && m.Compressed && c.closingSince.Load() == 0 {
			// (Once closing, messages are dropped unread: no inflating.)
			m, err = c.inflate(m)
		}
		var ev event
		switch {
		case err != nil:
			var fe *wsframe.Error
			if !errors.As(err, &fe) {
				fe = &wsframe.Error{Code: ws.StatusProtocolError, Reason: err.Error()}
			}
			// The failure is queued behind the messages that preceded it,
			// so they are answered first. Reading goes on, discarding, so
			// the peer's EOF is seen and the socket never closes with
			// unread data.
			c.discard = true
			ev = event{kind: evProtocolError, code: StatusCode(fe.Code), reason: fe.Reason}
		case ok:
			if !d.InMessage() && c.partialSince.Load() != 0 {
				c.partialSince.Store(0) // see rearm
			}
			ev = messageEvent(m)
		default:
			continue
		}
		if !c.deliver(ev, p) {
			return false
		}
	}
	return true
}

// decoderFor returns the connection's own decoder if it holds one (input
// left incomplete by an earlier read), else its loop's.
func (c *Conn) decoderFor() *wsframe.Decoder {
	if c.dec != nil {
		return c.dec
	}
	c.loop.dec.Deflate = c.deflate != 0
	// A message begins here: it is held to the limit in force now.
	c.loop.dec.MaxMessage = c.srv.settings().maxMessageBytes
	return &c.loop.dec
}

// keepDecoder runs after decoding with d: a connection left with an
// incomplete frame or message keeps the state in a decoder of its own;
// one that has none drops it. The loop's decoder is fresh for the next
// connection either way.
func (c *Conn) keepDecoder(d *wsframe.Decoder) {
	shared := d == &c.loop.dec
	switch {
	case shared && !d.Idle() && !c.discard:
		own := *d
		c.dec = &own
	case !shared && (d.Idle() || c.discard):
		c.dec = nil
	}
	if shared {
		d.Reset()
	}
}

// deliver posts ev to the normal lane, in order with the messages before it.
// On a full queue it holds ev and rest and pauses reading. It reports
// whether reading may go on. The actor runs on the same loop, once this
// wake's reading is done.
func (c *Conn) deliver(ev event, rest []byte) bool {
	if ev.kind == evMessage && c.sessPaused.Load() && c.closingSince.Load() == 0 {
		// PauseReading. Not once closing: messages are dropped then, and
		// the peer's close frame behind them must be read.
		c.hold(ev, rest)
		return false
	}
	post := c.actor.PostBelow
	if c.reading {
		// In the read callback: an idle actor handles ev here and now, on
		// this loop, instead of after the wake's reading (the same
		// activation, without the hand-off).
		post = c.actor.PostInline
	}
	switch err := post(ev, c.inboundLimit()); {
	case err == nil:
		return true
	case errors.Is(err, actor.ErrQueueFull):
		c.hold(ev, rest)
		return false
	default:
		return false // the actor stopped: the connection is gone
	}
}

func messageEvent(m wsframe.Message) event {
	switch m.Op {
	case ws.OpPing:
		return event{kind: evPing, data: m.Payload}
	case ws.OpPong:
		return event{kind: evPong}
	case ws.OpClose:
		return event{kind: evPeerClose, code: StatusCode(m.Code), reason: m.Reason}
	default:
		return event{kind: evMessage, op: m.Op, data: m.Payload}
	}
}

// hold keeps ev and the unread rest of the buffer until the queue drains,
// and pauses reading. If the actor drained the queue meanwhile, reading
// resumes at once so no wake-up is lost.
func (c *Conn) hold(ev event, rest []byte) {
	c.held = &heldInput{ev: ev, rest: append([]byte(nil), rest...)}
	c.paused.Store(true)
	if c.mayResume() && c.paused.CompareAndSwap(true, false) {
		c.resumeInput()
		return
	}
	c.setInterest()
}

// inboundLimit is how much of the queue what the socket brings may fill:
// half, so that the other half is always there for what other goroutines
// post (deliveries, the outcome of a private message): a client that
// floods its own connection pauses its reading, and is never closed as a
// slow consumer for the replies to its flood.
func (c *Conn) inboundLimit() int { return max(1, c.srv.cfg.Limits.QueueSize/2) }

func (c *Conn) resumeAt() int { return c.srv.cfg.Limits.QueueSize / 4 }

// mayResume reports whether paused input may be taken up again: the
// queue has drained to a quarter and the session has not paused reading
// (a closing connection reads regardless, for the peer's close frame).
// Whoever clears a condition (the actor after each event, ResumeReading,
// startClosing) checks the paused flag afterwards, so no wake-up is lost.
func (c *Conn) mayResume() bool {
	return (!c.sessPaused.Load() || c.closingSince.Load() != 0) && c.actor.Len() <= c.resumeAt()
}

// maybeResume runs on the actor after each event: once the queue
// has drained to a quarter, the held input is delivered and reading resumes.
func (c *Conn) maybeResume() {
	if c.paused.Load() && c.mayResume() && c.paused.CompareAndSwap(true, false) {
		c.resumeInput()
	}
}

// resumeInput delivers held input and watches the socket for input again.
// The caller won the paused flag, so it is the only reader.
func (c *Conn) resumeInput() {
	h := c.held
	c.held = nil
	if h == nil {
		c.rearm()
		return
	}
	if !c.deliver(h.ev, h.rest) {
		return
	}
	if c.consume(h.rest) {
		c.rearm()
	}
}

// postSystem posts to the system lane; it only fails once the actor has
// stopped, when there is nothing left to tell it.
func (c *Conn) postSystem(ev event) { _ = c.actor.PostSystem(ev) }
