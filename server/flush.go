package server

import "math"

// flushWait is an OnFlushed callback waiting for the kernel to take every
// byte accepted before it was registered.
type flushWait struct {
	mark uint64 // c.sent when registered
	fn   func(written bool)
}

// OnFlushed calls fn on the actor with written=true once every byte the
// connection has accepted so far (every Send or SendFrame that
// returned nil) has been taken by the kernel: at once if nothing is
// pending. It calls fn(false) instead, and never fn(true), if the
// connection closes first, and at once if the connection is not open now
// (a frame sent just before may have been dropped). So fn(true) means the
// bytes are in the socket's send buffer; it says nothing of the peer
// having read them.
//
// Callbacks run in the order they were registered.
func (c *Conn) OnFlushed(fn func(written bool)) {
	if c.state != stateOpen {
		if len(c.flushWaits) == 0 {
			fn(false)
			return
		}
		// Keep the order: fail it behind the callbacks still waiting.
		c.flushWaits = append(c.flushWaits, flushWait{mark: math.MaxUint64, fn: fn})
		return
	}
	if c.wrote >= c.sent {
		fn(true)
		return
	}
	c.flushWaits = append(c.flushWaits, flushWait{mark: c.sent, fn: fn})
}

// fireFlushed runs the callbacks whose bytes have all been written.
func (c *Conn) fireFlushed() {
	i := 0
	for i < len(c.flushWaits) && c.flushWaits[i].mark <= c.wrote {
		i++
	}
	if i == 0 {
		return
	}
	done := c.flushWaits[:i]
	if i == len(c.flushWaits) {
		c.flushWaits = nil
	} else {
		c.flushWaits = append([]flushWait(nil), c.flushWaits[i:]...)
	}
	for _, w := range done {
		w.fn(true)
	}
}

// dropFlushWaits tells every waiting callback that its bytes were not
// written. It runs at teardown, after the state became closed, so the
// callbacks cannot write.
func (c *Conn) dropFlushWaits() {
	waits := c.flushWaits
	c.flushWaits = nil
	for _, w := range waits {
		w.fn(false)
	}
}
