package server

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"github.com/chatd/chatd/server/internal/poll"
)

// Lingering. A socket closed while its receive buffer holds bytes chatd
// has not read makes the kernel send an RST instead of a FIN, and an RST
// can destroy an answer the client has not read yet (or make its still
// running write fail, so it never reads). That is the usual end of an HTTP
// error: the server answers as soon as it has seen enough of the request,
// and the rest is still arriving. So, as net/http's closeWriteAndWait
// does, a socket that has been answered (an HTTP error or refusal,
// /healthz) is handed to the linger set: it is half-closed, so the client
// reads the answer and then EOF; what the client still sends is read and
// discarded; the socket is closed when the client hangs up, once it has
// sent limits.closing_read_bytes, or after close_timeout (extended while
// the client keeps reading what the kernel still holds for it: see
// expire). A dropped slow consumer lingers the same way, so chatd's own
// close never destroys bytes it reported written.
//
// A lingering socket costs its fd, an epoll registration and a lingerer (a
// few dozen bytes): no Conn, no actor, no goroutine, no buffer (reads use
// the set's one discard buffer). connections.max_lingering bounds them; past it the
// oldest, which has had the longest to read its answer, is closed at once.
// Lingering sockets do not count against the connection limits.

// lingerer is one lingering socket.
//
// Concurrency: readable runs on the poller's goroutine (the registration
// is one-shot); finish may run concurrently from the sweeper, the set's
// eviction or Shutdown, and closes the fd once (sock's reference count
// keeps a read in progress safe). prev, next and since are guarded by
// lingerSet.mu.
type lingerer struct {
	set        *lingerSet
	sock       sock
	watch      *poll.Watch
	read       int // bytes discarded; reader only
	since      int64
	unsent     int // bytes the kernel still had to send, at the start or the last expiry check
	prev, next *lingerer
	done       atomic.Bool
}

// lingerSet holds the lingering sockets in the order they began, oldest
// first. mu guards max (Reconfigure), the list, n and closed.
type lingerSet struct {
	s   *Server
	max int

	// buf is where reads are discarded; only the poller's goroutine, which
	// runs every lingering socket's callback, uses it.
	buf [4096]byte

	mu         sync.Mutex
	head, tail *lingerer
	n          int
	closed     bool // Shutdown began: nothing lingers any more
}

func newLingerSet(s *Server) *lingerSet {
	return &lingerSet{s: s, max: s.cfg.Connections.MaxLingering}
}

// setMax changes connections.max_lingering. The set is not trimmed: each
// socket that lingers after it evicts the oldest while the set is full.
func (ls *lingerSet) setMax(n int) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	ls.max = n
}

// linger half-closes fd, whose answer has been written, and drains it
// until the client hangs up. It takes ownership of fd.
func (ls *lingerSet) linger(fd int) {
	_ = unix.Shutdown(fd, unix.SHUT_WR)
	l := &lingerer{set: ls, sock: sock{fd: fd}, since: nowNano()}
	l.unsent, _ = unix.IoctlGetInt(fd, unix.SIOCOUTQ) // what the client has yet to receive
	w, err := ls.s.poller.Add(fd, func(poll.Ready) { l.readable(ls.buf[:]) })
	if err != nil {
		_ = unix.Close(fd)
		return
	}
	l.watch = w
	evicted, ok := ls.add(l)
	if evicted != nil {
		evicted.finish()
	}
	if !ok {
		l.finish()
		return
	}
	if err := w.ArmRead(); err != nil {
		l.finish()
	}
}

// add appends l; past max it evicts the oldest, which the caller finishes.
// ok is false when l must not linger (max 0, or Shutdown began).
func (ls *lingerSet) add(l *lingerer) (evicted *lingerer, ok bool) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.closed || ls.max == 0 {
		return nil, false
	}
	if ls.n >= ls.max {
		evicted = ls.head
		ls.unlinkLocked(evicted)
	}
	l.prev = ls.tail
	if ls.tail != nil {
		ls.tail.next = l
	} else {
		ls.head = l
	}
	ls.tail = l
	ls.n++
	return evicted, true
}

// remove unlinks l if it is still linked.
func (ls *lingerSet) remove(l *lingerer) {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if l.prev != nil || ls.head == l {
		ls.unlinkLocked(l)
	}
}

func (ls *lingerSet) unlinkLocked(l *lingerer) {
	if l.prev != nil {
		l.prev.next = l.next
	} else {
		ls.head = l.next
	}
	if l.next != nil {
		l.next.prev = l.prev
	} else {
		ls.tail = l.prev
	}
	l.prev, l.next = nil, nil
	ls.n--
}

// expire finishes the sockets that began lingering before cutoff, except
// one whose client is still reading what the kernel holds for it: while
// the kernel's unsent bytes for the socket keep going down from one check
// to the next, it lingers another close_timeout. Closing it then could
// reset the connection and destroy bytes chatd reported written (a slow
// consumer that reads slowly but steadily). max_lingering still bounds
// the set. After Shutdown began nothing is extended.
func (ls *lingerSet) expire(cutoff int64) {
	var due []*lingerer
	ls.mu.Lock()
	for ls.head != nil && ls.head.since < cutoff {
		l := ls.head
		ls.unlinkLocked(l)
		due = append(due, l)
	}
	closed := ls.closed
	ls.mu.Unlock()
	for _, l := range due {
		if !closed && l.progressing() && ls.relink(l) {
			continue
		}
		l.finish()
	}
}

// progressing reports whether the kernel's unsent bytes went down since
// the last check (and are not all sent), and records them.
func (l *lingerer) progressing() bool {
	if !l.sock.acquire() {
		return false
	}
	unsent, err := unix.IoctlGetInt(l.sock.fd, unix.SIOCOUTQ)
	l.sock.release()
	if err != nil || unsent == 0 {
		return false
	}
	progress := unsent < l.unsent
	l.unsent = unsent
	return progress
}

// relink puts l back at the tail with a fresh start, unless it finished
// meanwhile or the set closed.
func (ls *lingerSet) relink(l *lingerer) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if ls.closed || l.done.Load() {
		return false
	}
	l.since = nowNano()
	l.prev = ls.tail
	if ls.tail != nil {
		ls.tail.next = l
	} else {
		ls.head = l
	}
	ls.tail = l
	ls.n++
	return true
}

// shutdown finishes every lingering socket; later ones close at once.
func (ls *lingerSet) shutdown() {
	ls.mu.Lock()
	ls.closed = true
	ls.mu.Unlock()
	ls.expire(1<<63 - 1)
}

func (ls *lingerSet) len() int {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return ls.n
}

// readable runs on the poller's goroutine (one-shot): it discards what the
// client sent. buf is the set's discard buffer.
func (l *lingerer) readable(buf []byte) {
	for !l.done.Load() {
		// limits.closing_read_bytes, which Reconfigure may have lowered
		// below what was read already.
		limit := l.set.s.settings().closingReadBytes
		// One byte past the limit tells "more than allowed" from "exactly".
		n, err := l.sock.read(buf[:min(len(buf), max(limit-l.read, 0)+1)])
		switch {
		case isEAGAIN(err):
			if l.watch.ArmRead() != nil {
				l.finish()
			}
			return
		case err != nil || n == 0: // the client hung up (or reset)
			l.finish()
			return
		}
		l.read += n
		if l.read > limit {
			l.finish()
			return
		}
	}
}

// finish closes the socket, once.
func (l *lingerer) finish() {
	if !l.done.CompareAndSwap(false, true) {
		return
	}
	l.set.remove(l)
	_ = l.watch.Remove()
	l.sock.close()
}
