package server

import (
	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server/internal/evloop"
	"github.com/chatd/chatd/server/internal/wsframe"
)

// writeControl queues a ping or a pong, within the write budget, for an
// open connection.
func (c *Conn) writeControl(op ws.OpCode, payload []byte) { _ = c.sendOp(op, payload) }

// queue writes a then b whatever the connection's state and budget: the
// handshake response and close frames, which are small and final.
func (c *Conn) queue(a, b []byte) { c.write(a, b, -1) }

// write appends a then b to the connection's output, to be written at the
// end of the wake (see flushQueued). A budget >= 0 bounds the output: when
// the bytes would take it past the budget, what is queued is written now
// to see how much the socket takes, and if they still do not fit the
// connection is dropped as a slow consumer and the bytes with it. It
// reports whether the bytes were accepted.
//
// Accepted bytes are counted in sent and bytes the kernel took in wrote;
// OnFlushed callbacks wait for wrote to reach the sent mark they were
// registered at. A frame is either accepted whole or dropped whole, so a
// stream never carries part of a frame followed by something else.
func (c *Conn) write(a, b []byte, budget int) bool {
	if c.state == stateClosed {
		return false
	}
	total := len(a) + len(b)
	if budget >= 0 && c.queued()+total > budget {
		if !c.blocked && len(c.out) > 0 {
			c.writeOut()
			if c.state == stateClosed {
				return false
			}
		}
		if c.queued()+total > budget {
			c.dropSlowConsumer()
			return false
		}
	}
	if c.out == nil {
		c.out = c.loop.getBuffer(total)
	}
	c.sent += uint64(total)
	c.out = append(append(c.out, a...), b...)
	if !c.dirty && !c.blocked {
		c.dirty = true
		c.loop.Dirty((*connFlush)(c))
	}
	return true
}

// queued is the output not yet written: the queued bytes, and for a TLS
// connection the ciphertext waiting for the socket.
func (c *Conn) queued() int {
	if c.tls != nil {
		return len(c.out) + len(c.tls.pending)
	}
	return len(c.out)
}

// flushQueued runs at the end of the wake in which output was queued.
func (c *Conn) flushQueued() {
	if c.state == stateClosed || c.blocked {
		return // a blocked socket is written when it reports writable
	}
	c.writeOut()
}

// writable runs when a socket that had not taken all its output can take
// more.
func (c *Conn) writable() {
	c.blocked = false
	c.writeOut()
	c.setInterest()
}

// dropSlowConsumer ends a connection whose pending output is over the
// budget. Its close frame could only go out after that output, which the
// client is not reading, so none is sent: the connection is closing from
// now on (nothing more is accepted for it, its reader stops after
// limits.closing_read_bytes), and the socket is torn down as soon as the
// current event returns, with 4008 logged. Tearing down there rather than
// here keeps the session's Closed from running inside its own Message.
func (c *Conn) dropSlowConsumer() {
	const reason = "slow consumer: outbound buffer over budget"
	c.startClosing(CloseSlowConsumer, reason)
	c.postSystem(event{kind: evAbort, code: CloseSlowConsumer, reason: reason})
}

// queueClose queues a close frame regardless of the budget (it is at most
// 127 bytes).
func (c *Conn) queueClose(code StatusCode, reason string) {
	var buf [127]byte
	c.queue(wsframe.AppendClose(buf[:0], ws.StatusCode(code), reason), nil)
}

// writeOut writes as much of the output as the socket takes, then waits
// for writability or finishes what waited for the output to drain.
func (c *Conn) writeOut() {
	if c.tls != nil {
		c.writeOutTLS()
		return
	}
	done := 0
	for done < len(c.out) {
		n, err := c.sock.write(c.out[done:], nil)
		if err != nil {
			c.peerGone(err.Error())
			return
		}
		c.wrote += uint64(n)
		c.loop.st.bytesOut.Add(uint64(n))
		done += n
		if n == 0 {
			// The rest moves to the front, so the buffer keeps its start
			// (it goes back to the loop's pool whole).
			c.out = c.out[:copy(c.out, c.out[done:])]
			c.fireFlushed()
			if c.state != stateClosed && !c.blocked {
				c.blocked = true
				c.setInterest()
			}
			return
		}
	}
	if c.out != nil {
		c.loop.putBuffer(c.out)
		c.out = nil // an idle connection holds no buffer
	}
	c.fireFlushed()
	if c.state != stateClosed {
		c.afterDrain()
	}
}

// afterDrain finishes what waited for the output to be written.
func (c *Conn) afterDrain() {
	switch {
	case c.endAfter:
		// Before the upgrade the bytes were an HTTP answer: the socket
		// lingers until the client has read it. After it, the close
		// handshake is complete.
		c.end(c.closeCode, c.closeReason, !c.upgraded.Load())
	case c.shutWrite:
		c.shutWrite = false
		if c.tls != nil {
			c.tls.closeNotify()
		}
		c.sock.shutdownWrite()
	}
}

// Interest bits; see setInterest.
const (
	interestRead uint8 = 1 << iota
	interestWrite
)

// setInterest brings the socket's registration in line with what the
// connection wants: input unless it has ended or is paused, writability
// while output is blocked. Level-triggered, so it changes only when one of
// those does, never per wake.
func (c *Conn) setInterest() {
	if c.closed.Load() {
		return
	}
	var want uint8
	if !c.eof && !c.paused.Load() {
		want |= interestRead
	}
	if c.blocked {
		want |= interestWrite
	}
	if want == c.interest {
		return
	}
	c.interest = want
	var ev evloop.Events
	if want&interestRead != 0 {
		ev |= evloop.Read
	}
	if want&interestWrite != 0 {
		ev |= evloop.Write
	}
	if err := c.loop.Mod(c.sock.fd, ev); err != nil {
		// The fd is gone from under us; only teardown can follow.
		c.postSystem(event{kind: evEOF, reason: err.Error()})
	}
}
