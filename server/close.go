package server

import (
	"time"

	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// Close starts a server-initiated close: it sends a close frame with code
// and reason, stops delivering messages, and half-closes the socket once the
// frame is written. The socket closes when the peer answers, hangs up, or
// server.close_timeout passes. Calling Close on a closing connection does
// nothing.
func (c *Conn) Close(code StatusCode, reason string) {
	if c.state == stateHandshake {
		c.teardown(code, reason) // no WebSocket yet: nothing to say
		return
	}
	if c.state != stateOpen {
		return
	}
	c.startClosing(code, reason)
	c.shutWrite = true
	c.queueClose(code, reason)
}

func (c *Conn) startClosing(code StatusCode, reason string) {
	c.state = stateClosing
	c.closeCode, c.closeReason = code, reason
	c.closingSince.Store(nowNano())
	// Reading goes on while closing, for the peer's close frame, even if
	// the session had paused it (see mayResume).
	c.maybeResume()
	if ce := c.srv.log.Check(zap.DebugLevel, "connection closing"); ce != nil && c.upgraded.Load() {
		ce.Write(zap.Uint64("conn", c.id), zap.Int("code", int(code)), zap.String("reason", reason))
	}
}

// peerClosed handles the peer's close frame (code 0: it sent none).
func (c *Conn) peerClosed(code StatusCode, reason string) {
	switch c.state {
	case stateClosing:
		// The peer answered our close: the handshake is complete and the
		// server closes the TCP connection first (RFC 6455, 7.1.1), by
		// half-closing it and lingering until the peer hangs up.
		c.end(c.closeCode, c.closeReason, true)
	case stateOpen:
		logged := code
		if code == 0 {
			logged = StatusNoStatusRcvd
		}
		c.startClosing(logged, reason)
		c.endAfter = true
		c.queueClose(code, "") // echo the peer's code, or an empty close
	}
}

// inputEnded handles the end of the peer's input. A clean EOF while
// closing, with output still queued, does not end the connection yet: a
// peer that half-closed right after its close frame may still be reading
// what chatd owes it (the replies to its last messages, then the close
// answer). The connection ends once that is written (endAfter), or when
// close_timeout passes.
func (c *Conn) inputEnded(reason string) {
	if c.state == stateClosing && reason == reasonPeerGone && c.queued() > 0 {
		c.endAfter = true
		return
	}
	c.peerGone(reason)
}

// peerGone handles EOF, a reset or a failed write.
func (c *Conn) peerGone(reason string) {
	switch c.state {
	case stateHandshake:
		c.srv.handshakeFailed(hsPeerGone)
		c.teardown(StatusAbnormalClosure, reason)
	case stateOpen:
		c.teardown(StatusAbnormalClosure, reason)
	case stateClosing:
		c.teardown(c.closeCode, c.closeReason)
	}
}

// abort closes the socket now. A non-zero code is sent best-effort first
// (pong timeout); code 0 keeps the code of the close already in progress.
func (c *Conn) abort(code StatusCode, reason string) {
	switch c.state {
	case stateClosed:
		return
	case stateHandshake:
		c.teardown(code, reason)
	case stateOpen:
		c.startClosing(code, reason)
		c.queueClose(code, reason)
		c.teardown(code, reason)
	case stateClosing:
		// A slow consumer (dropped at once), or a close handshake the peer
		// did not finish within close_timeout (or shutdown's deadline).
		// The kernel may still hold bytes chatd reported written to a slow
		// consumer: closing the socket while the peer is still sending
		// would reset it and destroy them, so that socket lingers
		// (half-closed, input discarded) until the peer hangs up,
		// limits.closing_read_bytes or close_timeout. A peer that has had
		// close_timeout already gets no more.
		if code != 0 {
			c.closeCode = code
		}
		c.end(c.closeCode, reason, code == CloseSlowConsumer)
	}
}

// teardown closes the socket and releases the connection. It runs on the
// actor, exactly once.
func (c *Conn) teardown(code StatusCode, reason string) { c.end(code, reason, false) }

// end releases the connection. Its socket is closed, or, with linger (an
// HTTP answer has been written), handed to the linger set, which closes it
// once the client has read the answer.
func (c *Conn) end(code StatusCode, reason string, linger bool) {
	if c.state == stateClosed {
		return
	}
	if len(c.out) > 0 && !c.blocked {
		c.lastWrite()
	}
	if linger && c.tls != nil && !c.blocked {
		c.tls.closeNotify() // the HTTP answer is complete
	}
	c.state = stateClosed
	c.closed.Store(true)
	if err := c.loop.Del(c.sock.fd); err != nil {
		c.srv.log.Debug("epoll del", zap.Uint64("conn", c.id), zap.Error(err))
	}
	if fd, ok := c.sock.detach(); linger && ok {
		c.srv.lingers.linger(fd)
	} else if ok {
		_ = unix.Close(fd)
	}
	c.leaveHandshake()
	c.srv.adm.release(keyOf(c.remote), nowNano())
	c.out = nil
	c.srv.reg.remove(c)
	c.dropFlushWaits()
	if c.sess != nil && !c.failed {
		c.sess.Closed(code, reason)
	}
	if c.upgraded.Load() {
		c.eps.closed.Add(1)
		c.srv.closedWith(code)
	}
	if !c.upgraded.Load() {
		if ce := c.srv.log.Check(zap.DebugLevel, "connection ended before upgrade"); ce != nil {
			ce.Write(zap.Stringer("remote", c.remote), zap.String("reason", reason))
		}
	} else if ce := c.srv.log.Check(zap.InfoLevel, "connection closed"); ce != nil {
		ce.Write(append(c.fields(),
			zap.Int("code", int(code)),
			zap.String("reason", reason),
			zap.Duration("duration", time.Duration(nowNano()-c.opened)))...)
	}
	c.actor.Stop()
}

// lastWrite makes one attempt to write what is queued before the socket
// closes: output is written at the end of a wake, and a close decided in
// the same wake (a close frame queued just before an abort, an answer to
// the peer's close frame followed by its EOF) must still go out.
func (c *Conn) lastWrite() {
	if c.tls != nil {
		c.lastWriteTLS()
		return
	}
	n, err := c.sock.write(c.out, nil)
	if err != nil || n == 0 {
		return
	}
	c.wrote += uint64(n)
	c.loop.st.bytesOut.Add(uint64(n))
	c.out = c.out[n:]
	c.fireFlushed()
}

// leaveHandshake gives the connection's handshake back to admission, once.
func (c *Conn) leaveHandshake() {
	if c.hsSlot.CompareAndSwap(true, false) {
		c.srv.adm.endHandshake(keyOf(c.remote))
	}
}
