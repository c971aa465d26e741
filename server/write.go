package server

import (
	"sync"
	"syscall"

	"github.com/gobwas/ws"
	"golang.org/x/sys/unix"

	"github.com/chatd/chatd/server/internal/wsframe"
)

// sysWriter writes to a socket without blocking. Writers are pooled so the
// callback handed to RawConn.Write is bound once, not allocated per write.
type sysWriter struct {
	iov [][]byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

var writerPool = sync.Pool{New: func() any {
	w := &sysWriter{iov: make([][]byte, 0, 2)}
	w.fn = w.write
	return w
}}

func (w *sysWriter) write(fd uintptr) bool {
	for {
		if len(w.iov) == 1 {
			w.n, w.err = unix.Write(int(fd), w.iov[0])
		} else {
			w.n, w.err = unix.Writev(int(fd), w.iov)
		}
		if w.err != syscall.EINTR {
			return true
		}
	}
}

// writeNow makes one non-blocking write of a then b (b may be nil) and
// returns how many bytes the socket took.
func (c *Conn) writeNow(a, b []byte) (int, error) {
	w := writerPool.Get().(*sysWriter)
	w.iov = append(w.iov[:0], a)
	if len(b) > 0 {
		w.iov = append(w.iov, b)
	}
	err := c.raw.Write(w.fn)
	n, werr := w.n, w.err
	w.iov = w.iov[:0]
	writerPool.Put(w)
	if err != nil {
		return 0, err
	}
	if werr == syscall.EAGAIN {
		return 0, nil
	}
	if n < 0 {
		n = 0
	}
	return n, werr
}

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

func (c *Conn) send(a, b []byte) {
	if c.state != stateOpen {
		return
	}
	if len(c.out) == 0 {
		n, err := c.writeNow(a, b)
		if err != nil {
			c.peerGone(err.Error())
			return
		}
		if n >= len(a)+len(b) {
			return
		}
		if n >= len(a) {
			a, b = b[n-len(a):], nil
		} else {
			a = a[n:]
		}
	}
	if len(c.out)+len(a)+len(b) > c.srv.cfg.Limits.WriteBudgetBytes {
		c.Close(CloseSlowConsumer, "slow consumer: outbound buffer over budget")
		return
	}
	c.out = append(append(c.out, a...), b...)
	c.armWrite()
}

// queueControl queues a close frame regardless of the budget (it is at most
// 127 bytes) and tries to send it.
func (c *Conn) queueClose(code ws.StatusCode, reason string) {
	c.out = wsframe.AppendClose(c.out, code, reason)
	c.writeOut()
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
		n, err := c.writeNow(c.out, nil)
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
	switch {
	case c.endAfter:
		c.teardown(c.closeCode, c.closeReason)
	case c.shutWrite:
		c.shutWrite = false
		_ = c.raw.Control(func(fd uintptr) { _ = syscall.Shutdown(int(fd), syscall.SHUT_WR) })
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
