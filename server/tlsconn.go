package server

import (
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"time"

	"golang.org/x/sys/unix"

	"github.com/chatd/chatd/server/internal/evloop"
)

// A TLS connection is driven by its event loop like a plain one; only the
// handshake runs on a goroutine (tlshandshake.go). crypto/tls reads and
// writes ciphertext through tlsConn, a net.Conn over the connection's
// non-blocking socket:
//
//   - Read makes one non-blocking read. On EAGAIN it returns errWouldBlock, a
//     net.Error whose Temporary() is true: crypto/tls then keeps the
//     partial record it holds and its Conn stays usable (readRecordOrCCS
//     records only non-temporary errors as permanent; checked against Go
//     1.26's source). So the loop calls tls.Conn.Read until that error, and
//     only then waits for epoll: nothing is left in crypto/tls's buffer
//     that epoll cannot see. When the loop stops early (its read budget, a
//     full actor queue), the connection is "not drained", and rearm posts
//     a read to the loop instead of waiting for a readiness that may never
//     come.
//   - Write never fails with EAGAIN (crypto/tls makes every write error
//     permanent): it writes what the socket takes and keeps the rest in
//     pending, which the write path flushes when the socket is writable,
//     counted against write_budget_bytes.
//
// Plaintext output is encrypted only when pending is empty, so at most one
// batch of ciphertext waits per connection; the plaintext queued meanwhile
// waits in Conn.out as for a plain connection. A batch is encrypted in
// chunks of a full record (tlsChunk); after each, a mark notes where its
// ciphertext ends, and once the socket has taken the ciphertext up to a
// mark, the plaintext before it counts as written (Conn.wrote, which
// OnFlushed reports): a frame is reported written when the kernel has its
// ciphertext, not when it is encrypted, nor only once the whole batch is out.

// tlsChunk is how much plaintext is encrypted at a time: a full record.
const tlsChunk = 16 << 10

// tlsMark: once the socket has taken cipher bytes of ciphertext, plain
// bytes of plaintext are written.
type tlsMark struct{ cipher, plain uint64 }

// errWouldBlock is tlsConn's "the socket has nothing more for now".
var errWouldBlock net.Error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "tls transport: would block" }
func (wouldBlock) Timeout() bool   { return false }
func (wouldBlock) Temporary() bool { return true }

// tlsConn is a TLS connection's transport and state.
//
// Concurrency: during the handshake the handshake goroutine owns it
// (wait is set); after that, the connection's loop only.
type tlsConn struct {
	tc     *tls.Conn
	sock   *sock
	st     *loopStats // where socket bytes are counted
	remote netip.AddrPort
	// wait, set during the handshake, makes Read and Write block: on
	// EAGAIN they wait for readiness within the handshake deadline.
	wait *tlsWait
	// pending is ciphertext the socket did not take. cipher counts the
	// ciphertext crypto/tls has written (taken or pending) and plain the
	// plaintext encrypted; marks, while pending is not empty, map the end
	// of an encrypted chunk's ciphertext to the plaintext it completes.
	pending       []byte
	cipher, plain uint64
	marks         []tlsMark
	// drained: the last tls.Conn.Read found the socket empty, so crypto/tls
	// holds no complete record; kicked: a read is posted to the loop.
	drained, kicked bool
	// reads counts socket reads since the wake began (readsPerWake).
	reads int
	// The record framing of the ciphertext read so far: hdrN bytes of a
	// record header are in hdr, or left bytes of a record's body are still
	// to come (see midRecord).
	hdr  [5]byte
	hdrN int
	left int
}

// track follows the record framing through p, read from the socket.
func (t *tlsConn) track(p []byte) {
	for len(p) > 0 {
		if t.left > 0 {
			n := min(len(p), t.left)
			t.left -= n
			p = p[n:]
			continue
		}
		n := copy(t.hdr[t.hdrN:], p)
		t.hdrN += n
		p = p[n:]
		if t.hdrN == len(t.hdr) {
			t.left, t.hdrN = int(t.hdr[3])<<8|int(t.hdr[4]), 0
		}
	}
}

// midRecord reports whether the client has sent part of a record: input
// crypto/tls holds and cannot decrypt yet, so to the client part of a
// frame (rearm times it as one).
func (t *tlsConn) midRecord() bool { return t.hdrN > 0 || t.left > 0 }

// Read is crypto/tls's read of ciphertext.
func (t *tlsConn) Read(p []byte) (int, error) {
	for {
		n, err := t.sock.read(p)
		switch {
		case err == nil && n > 0:
			t.track(p[:n])
			t.reads++
			t.st.bytesIn.Add(uint64(n))
			return n, nil
		case err == nil:
			return 0, io.EOF
		case !isEAGAIN(err):
			return 0, err
		case t.wait == nil:
			return 0, errWouldBlock
		}
		if err := t.wait.ready(false); err != nil {
			return 0, err
		}
	}
}

// Write is crypto/tls's write of ciphertext. After the handshake it never
// blocks and never reports a full socket (see pending).
func (t *tlsConn) Write(p []byte) (int, error) {
	total := len(p)
	for len(t.pending) == 0 && len(p) > 0 {
		n, err := t.sock.write(p, nil)
		if err != nil {
			return total - len(p), err
		}
		t.st.bytesOut.Add(uint64(n))
		p = p[n:]
		if n == 0 {
			if t.wait == nil {
				break
			}
			if err := t.wait.ready(true); err != nil {
				return total - len(p), err
			}
		}
	}
	t.pending = append(t.pending, p...)
	t.cipher += uint64(total)
	return total, nil
}

// The rest of net.Conn. chatd owns the socket: Close does nothing (the
// Conn closes its sock); deadlines are chatd's timeouts, not the socket's.
func (t *tlsConn) Close() error                     { return nil }
func (t *tlsConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (t *tlsConn) RemoteAddr() net.Addr             { return net.TCPAddrFromAddrPort(t.remote) }
func (t *tlsConn) SetDeadline(time.Time) error      { return nil }
func (t *tlsConn) SetReadDeadline(time.Time) error  { return nil }
func (t *tlsConn) SetWriteDeadline(time.Time) error { return nil }

// read returns plaintext: n > 0; (0, nil) at the end of the stream (close_notify or EOF);
// unix.EAGAIN when crypto/tls needs more from an empty socket; or the
// error that broke the connection. On the connection's loop.
func (t *tlsConn) read(p []byte) (int, error) {
	n, err := t.tc.Read(p)
	if n > 0 {
		// An error with data (close_notify right after it) is sticky in
		// crypto/tls: the next read returns it again.
		t.drained = false
		return n, nil
	}
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Temporary() && !ne.Timeout():
		t.drained = true
		return 0, unix.EAGAIN
	case err == nil || errors.Is(err, io.EOF):
		return 0, nil
	}
	return 0, err
}

// closeNotify sends close_notify, best effort: the socket is about to be
// half-closed or closed.
func (t *tlsConn) closeNotify() {
	if len(t.pending) == 0 {
		_ = t.tc.CloseWrite()
	}
}

// readableTLS is readable for an upgraded TLS connection: it reads until
// crypto/tls reports the socket empty, readsPerWake socket reads, or
// reading must stop; rearm posts another read if crypto/tls may still hold
// input.
func (c *Conn) readableTLS(buf []byte) {
	t := c.tls
	t.reads = 0
	for t.reads < readsPerWake {
		if c.closed.Load() || c.eof || c.paused.Load() {
			return
		}
		p, closing := c.readSpace(buf)
		n, err := t.read(p)
		if !c.tlsWroteOnRead() {
			return
		}
		switch c.took(p, n, err, closing) {
		case readDone:
			return
		case readWait:
			c.rearm()
			return
		}
	}
	c.rearm()
}

// tlsWroteOnRead: crypto/tls may write while reading (an alert, the
// answer to a KeyUpdate request); what the socket did not take goes when
// it is writable. That ciphertext counts against write_budget_bytes like
// any output: a peer that keeps asking for it without reading (TLS 1.3
// KeyUpdate requests, 27 bytes of answer for 27 sent, no WebSocket output
// involved) would otherwise grow pending without bound. Past the budget
// the input stops and the connection is dropped as a slow consumer. It
// reports whether reading may go on.
func (c *Conn) tlsWroteOnRead() bool {
	if len(c.tls.pending) == 0 || c.state == stateClosed {
		return true
	}
	if c.queued() > c.srv.settings().writeBudgetBytes {
		c.eof = true // read no more: each read may add to pending
		c.setInterest()
		if c.state == stateOpen {
			c.dropSlowConsumer()
		} else {
			c.postSystem(event{kind: evAbort, code: CloseSlowConsumer, reason: reasonTLSOverBudget})
		}
		return false
	}
	if !c.blocked {
		c.blocked = true
		c.setInterest()
	}
	return true
}

// kickTLS posts a read to the loop when crypto/tls may hold input that
// epoll cannot report (see tlsConn.drained). Called by rearm. While the
// socket itself has bytes, epoll (level-triggered) reports it after the
// loop's other ready sockets, as for a plain connection: a client that
// keeps sending gets no extra turn. Only a socket found empty (SIOCINQ)
// needs the posted read, and then crypto/tls holds at most what the last
// reads brought.
func (c *Conn) kickTLS() {
	t := c.tls
	if t.drained || t.kicked || c.eof || c.paused.Load() || c.closed.Load() {
		return
	}
	if n, err := unix.IoctlGetInt(c.sock.fd, unix.SIOCINQ); err == nil && n > 0 {
		return
	}
	t.kicked = true
	c.loop.Post(func() {
		t.kicked = false
		(*connEvents)(c).OnEvents(evloop.Read)
	})
}

// encryptTLS encrypts plain, a chunk at a time, and counts as written
// what the socket took.
func (c *Conn) encryptTLS(plain []byte) error {
	t := c.tls
	for len(plain) > 0 {
		n := min(len(plain), tlsChunk)
		if _, err := t.tc.Write(plain[:n]); err != nil {
			return err
		}
		plain = plain[n:]
		t.plain += uint64(n)
		if len(t.pending) == 0 {
			c.wrote = t.plain // the socket took it all
		} else {
			t.marks = append(t.marks, tlsMark{cipher: t.cipher, plain: t.plain})
		}
	}
	c.creditTLS()
	return nil
}

// creditTLS counts as written the plaintext whose ciphertext the socket
// has taken.
func (c *Conn) creditTLS() {
	t := c.tls
	if len(t.pending) == 0 {
		c.wrote = t.plain
		t.marks = nil
		return
	}
	taken := t.cipher - uint64(len(t.pending))
	i := 0
	for i < len(t.marks) && t.marks[i].cipher <= taken {
		c.wrote = t.marks[i].plain
		i++
	}
	t.marks = t.marks[:copy(t.marks, t.marks[i:])]
}

// writeOutTLS is writeOut for a TLS connection: pending ciphertext
// first, then the queued plaintext, encrypted in one batch.
func (c *Conn) writeOutTLS() {
	t := c.tls
	if len(t.pending) > 0 {
		n, err := c.sock.write(t.pending, nil)
		if err != nil {
			c.peerGone(err.Error())
			return
		}
		t.st.bytesOut.Add(uint64(n))
		t.pending = t.pending[:copy(t.pending, t.pending[n:])]
		c.creditTLS()
		if len(t.pending) > 0 {
			c.blockTLS()
			return
		}
	}
	if len(c.out) > 0 {
		plain := c.out
		c.out = nil
		err := c.encryptTLS(plain)
		c.loop.putBuffer(plain)
		if err != nil {
			c.peerGone(err.Error())
			return
		}
		if len(t.pending) > 0 {
			c.blockTLS()
			return
		}
	}
	t.pending = nil // an idle connection holds no buffer
	c.fireFlushed()
	if c.state != stateClosed {
		c.afterDrain()
	}
}

func (c *Conn) blockTLS() {
	c.fireFlushed()
	if c.state != stateClosed && !c.blocked {
		c.blocked = true
		c.setInterest()
	}
}

// lastWriteTLS is lastWrite for a TLS connection.
func (c *Conn) lastWriteTLS() {
	t := c.tls
	if len(t.pending) > 0 || len(c.out) == 0 {
		return
	}
	plain := c.out
	c.out = nil
	if c.encryptTLS(plain) == nil {
		c.fireFlushed()
	}
}
