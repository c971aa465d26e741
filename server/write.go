package server

import (
	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server/internal/wsframe"
)

// WriteMessage sends one unfragmented message or control frame. It never
// blocks: what the socket does not take now is queued and sent when it is
// writable. Past the write budget the connection is dropped as a slow
// consumer (4008). It reports whether the connection accepted the frame: false
// when the connection is not open (closing or closed) or the frame would
// exceed the write budget; the frame is then dropped.
func (c *Conn) WriteMessage(op ws.OpCode, payload []byte) bool {
	var hdr [10]byte
	return c.send(wsframe.AppendHeader(hdr[:0], op, len(payload)), payload)
}

// WritePrepared sends bytes that are already one or more encoded frames,
// such as a frame encoded once for many recipients. frame is not modified or
// retained after the call returns. It reports whether the connection
// accepted the bytes, as WriteMessage does.
func (c *Conn) WritePrepared(frame []byte) bool { return c.send(frame, nil) }

// send writes data frames of an open connection, within the write budget.
func (c *Conn) send(a, b []byte) bool {
	if c.state != stateOpen {
		return false
	}
	return c.write(a, b, c.srv.cfg.Limits.WriteBudgetBytes)
}

// queue writes a then b whatever the connection's state and budget: the
// handshake response and close frames, which are small and final.
func (c *Conn) queue(a, b []byte) { c.write(a, b, -1) }

// write makes one non-blocking write when nothing is pending, and queues
// what the socket did not take. A budget >= 0 bounds the queue: past it the
// connection is dropped as a slow consumer and the bytes with it. It
// reports whether the bytes were accepted (written or queued).
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
	if len(c.out) > 0 {
		if budget >= 0 && len(c.out)+total > budget {
			c.dropSlowConsumer()
			return false
		}
		c.sent += uint64(total)
		c.out = append(append(c.out, a...), b...)
		return true // armed for writability since c.out became non-empty
	}
	n, err := c.sock.write(a, b)
	if err != nil {
		c.peerGone(err.Error())
		return false
	}
	c.sent += uint64(total)
	c.wrote += uint64(n)
	if n >= total {
		c.fireFlushed()
		c.afterDrain()
		return true
	}
	if n >= len(a) {
		a, b = b[n-len(a):], nil
	} else {
		a = a[n:]
	}
	// Part of the frame is on the wire: the rest must follow it, whatever
	// the budget (one frame is at most max_message_bytes plus framing).
	c.out = append(append(c.out, a...), b...)
	c.armWrite()
	return true
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
// 127 bytes) and tries to send it.
func (c *Conn) queueClose(code ws.StatusCode, reason string) {
	var buf [127]byte
	c.queue(wsframe.AppendClose(buf[:0], code, reason), nil)
}

// flush runs when the socket became writable.
func (c *Conn) flush() {
	if c.state == stateClosed {
		return
	}
	c.writeOut()
}

// writeOut writes as much of the queue as the socket takes, then arms for
// writability or finishes a close that was waiting for the queue to drain.
func (c *Conn) writeOut() {
	for len(c.out) > 0 {
		n, err := c.sock.write(c.out, nil)
		if err != nil {
			c.peerGone(err.Error())
			return
		}
		if n == 0 {
			c.fireFlushed()
			if c.state != stateClosed {
				c.armWrite()
			}
			return
		}
		c.out = c.out[n:]
		c.wrote += uint64(n)
	}
	c.out = nil // an idle connection holds no buffer
	c.fireFlushed()
	if c.state != stateClosed {
		c.afterDrain()
	}
}

// afterDrain finishes what waited for the queue to empty.
func (c *Conn) afterDrain() {
	switch {
	case c.endAfter:
		// Before the upgrade the bytes were an HTTP answer: the socket
		// lingers until the client has read it. After it, the close
		// handshake is complete.
		c.end(c.closeCode, c.closeReason, !c.upgraded.Load())
	case c.shutWrite:
		c.shutWrite = false
		c.sock.shutdownWrite()
	}
}

func (c *Conn) armWrite() {
	if err := c.watch.ArmWrite(); err != nil {
		c.peerGone(err.Error())
	}
}
