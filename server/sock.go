package server

import (
	"errors"
	"net/netip"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// errSockClosed is returned by sock operations after close.
var errSockClosed = errors.New("socket closed")

// closedBit marks a sock closed in refs; the low bits count users.
const closedBit = 1 << 30

// sock is a connection's socket, held by its own file descriptor: chatd
// accepts with accept4 and never wraps the fd in a net.Conn, so there is
// one fd per connection, it stays non-blocking, and Go's runtime poller
// does not track it too.
//
// Concurrency: a Conn's socket is used by its loop only, but a lingering
// socket is read on the poller's goroutine while the sweeper may close
// it. Every operation holds a reference for the duration of its
// syscall, and close releases the fd only when no reference is held, so an
// fd number is never reused by a new connection while an old reader still
// uses it.
type sock struct {
	fd   int
	refs atomic.Int32 // closedBit | number of operations in progress
}

func (s *sock) acquire() bool {
	for {
		v := s.refs.Load()
		if v&closedBit != 0 {
			return false
		}
		if s.refs.CompareAndSwap(v, v+1) {
			return true
		}
	}
}

func (s *sock) release() {
	if s.refs.Add(-1) == closedBit {
		_ = unix.Close(s.fd)
	}
}

// close closes the fd now, or when the last operation in progress ends.
// The fd must already be removed from the poller. Idempotent.
func (s *sock) close() {
	for {
		v := s.refs.Load()
		if v&closedBit != 0 {
			return
		}
		if s.refs.CompareAndSwap(v, v|closedBit) {
			if v == 0 {
				_ = unix.Close(s.fd)
			}
			return
		}
	}
}

// detach marks the sock closed and hands its fd to the caller, who then
// owns it. If an operation is in progress, ok is false and the fd is
// closed when it ends, as with close. Idempotent: only the first call can
// return ok.
func (s *sock) detach() (fd int, ok bool) {
	if s.refs.CompareAndSwap(0, closedBit) {
		return s.fd, true
	}
	s.close()
	return -1, false
}

// read makes one non-blocking read. It returns unix.EAGAIN when there is
// nothing to read, and (0, nil) at EOF.
func (s *sock) read(p []byte) (int, error) {
	if !s.acquire() {
		return 0, errSockClosed
	}
	defer s.release()
	for {
		n, err := unix.Read(s.fd, p)
		if err != unix.EINTR {
			if n < 0 {
				n = 0
			}
			return n, err
		}
	}
}

// iovPool holds the two-entry slices writev takes, so a write allocates
// nothing.
var iovPool = sync.Pool{New: func() any { iov := make([][]byte, 0, 2); return &iov }}

// write makes one non-blocking write of a then b (b may be empty) and
// returns how many bytes the socket took; a full socket is (0, nil).
func (s *sock) write(a, b []byte) (int, error) {
	if !s.acquire() {
		return 0, errSockClosed
	}
	defer s.release()
	var n int
	var err error
	for {
		if len(b) == 0 {
			n, err = unix.Write(s.fd, a)
		} else {
			iov := iovPool.Get().(*[][]byte)
			*iov = append((*iov)[:0], a, b)
			n, err = unix.Writev(s.fd, *iov)
			clear(*iov)
			iovPool.Put(iov)
		}
		if err != unix.EINTR {
			break
		}
	}
	if err == unix.EAGAIN {
		return 0, nil
	}
	if n < 0 {
		n = 0
	}
	return n, err
}

// shutdownWrite half-closes the socket: the peer reads EOF after what was
// written.
func (s *sock) shutdownWrite() {
	if s.acquire() {
		_ = unix.Shutdown(s.fd, unix.SHUT_WR)
		s.release()
	}
}

// addrPort converts a socket address from accept4.
func addrPort(sa unix.Sockaddr) netip.AddrPort {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return netip.AddrPortFrom(netip.AddrFrom4(a.Addr), uint16(a.Port))
	case *unix.SockaddrInet6:
		return netip.AddrPortFrom(netip.AddrFrom16(a.Addr), uint16(a.Port))
	}
	return netip.AddrPort{}
}
