package server

import (
	"github.com/gobwas/ws"

	"github.com/chatd/chatd/server/internal/wsframe"
)

// WriteMessage sends one unfragmented message or control frame. It never
// blocks: what the socket does not take now is queued and sent when it is
// writable. Past the write budget the connection is closed as a slow consumer.
func (c *Conn) WriteMessage(op ws.OpCode, payload []byte) {
	var hdr [10]byte
	c.send(wsframe.AppendHeader(hdr[:0], op, len(payload)), payload)
}

// WritePrepared sends bytes that are already one or more encoded frames,
// such as a frame encoded once for many recipients. frame is not modified or
// retained after the call returns.
func (c *Conn) WritePrepared(frame []byte) { c.send(frame, nil) }

// send writes data frames of an open connection, within the write budget.
func (c *Conn) send(a, b []byte) {
	if c.state != stateOpen {
		return
	}
	c.write(a, b, c.srv.cfg.Limits.WriteBudgetBytes)
}

// queue writes a then b whatever the connection's state and budget: the
// handshake response and close frames, which are small and final.
func (c *Conn) queue(a, b []byte) { c.write(a, b, -1) }

// write makes one non-blocking write when nothing is pending, and queues
// what the socket did not take. A budget >= 0 bounds the queue: past it the
// connection is closed as a slow consumer.
func (c *Conn) write(a, b []byte, budget int) {
	if c.state == stateClosed {
		return
	}
	if len(c.out) == 0 {
		n, err := c.sock.write(a, b)
		if err != nil {
			c.peerGone(err.Error())
			return
		}
		if n >= len(a)+len(b) {
			c.afterDrain()
			return
		}
		if n >= len(a) {
			a, b = b[n-len(a):], nil
		} else {
			a = a[n:]
		}
	}
	if budget >= 0 && len(c.out)+len(a)+len(b) > budget {
		c.Close(CloseSlowConsumer, "slow consumer: outbound buffer over budget")
		return
	}
	c.out = append(append(c.out, a...), b...)
	c.armWrite()
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
			c.armWrite()
			return
		}
		c.out = c.out[n:]
	}
	c.out = nil // an idle connection holds no buffer
	if len(c.flushed) > 0 {
		fns := c.flushed
		c.flushed = nil
		for _, fn := range fns {
			fn()
		}
	}
	c.afterDrain()
}

// afterDrain finishes what waited for the queue to empty.
func (c *Conn) afterDrain() {
	switch {
	case c.endAfter:
		c.teardown(c.closeCode, c.closeReason)
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

// AfterFlush runs fn on the actor once every byte written so far has been
// accepted by the kernel: at once if nothing is pending. If the connection
// closes first, fn never runs.
func (c *Conn) AfterFlush(fn func()) {
	if c.state == stateClosed {
		return
	}
	if len(c.out) == 0 {
		fn()
		return
	}
	c.flushed = append(c.flushed, fn)
}
