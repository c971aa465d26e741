package poll

import (
	"errors"
	"fmt"
	"sync"

	"github.com/mailru/easygo/netpoll"
)

// Poller is one epoll instance. It is safe for concurrent use.
type Poller struct {
	ep *netpoll.Epoll
}

// New starts an epoll instance and its wait goroutine. onError receives
// epoll_wait failures (there are none in normal operation).
func New(onError func(error)) (*Poller, error) {
	ep, err := netpoll.EpollCreate(&netpoll.EpollConfig{OnWaitError: onError})
	if err != nil {
		return nil, fmt.Errorf("epoll create: %w", err)
	}
	return &Poller{ep: ep}, nil
}

// Close stops the wait goroutine. Watches still registered get no more
// callbacks.
func (p *Poller) Close() error {
	if err := p.ep.Close(); err != nil && !errors.Is(err, netpoll.ErrClosed) {
		return fmt.Errorf("epoll close: %w", err)
	}
	return nil
}

// Ready is what an event reported for a watched socket.
type Ready struct {
	// Read is set when the socket is readable, hung up or in error and the
	// owner had asked to read.
	Read bool
	// Write is set when the socket is writable, hung up or in error and the
	// owner had asked to write.
	Write bool
}

// Watch is the registration of one socket.
//
// Its methods are safe for concurrent use. mu guards the interest flags and
// the removed flag, and serialises every epoll_ctl call for the fd, so that
// the interest registered in the kernel is always the union of what is
// wanted and not yet reported.
type Watch struct {
	p  *Poller
	fd int
	cb func(Ready)

	mu        sync.Mutex
	wantRead  bool
	wantWrite bool
	removed   bool
}

// Add registers fd, initially disarmed. cb is called on the epoll goroutine
// each time an armed interest becomes ready; it must not block.
func (p *Poller) Add(fd int, cb func(Ready)) (*Watch, error) {
	w := &Watch{p: p, fd: fd, cb: cb}
	if err := p.ep.Add(fd, netpoll.EPOLLONESHOT, w.handle); err != nil {
		return nil, fmt.Errorf("epoll add fd %d: %w", fd, err)
	}
	return w, nil
}

// ArmRead asks for one callback when the socket is readable.
func (w *Watch) ArmRead() error { return w.arm(true, false) }

// ArmWrite asks for one callback when the socket is writable.
func (w *Watch) ArmWrite() error { return w.arm(false, true) }

func (w *Watch) arm(read, write bool) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.removed {
		return nil
	}
	if (!read || w.wantRead) && (!write || w.wantWrite) {
		return nil
	}
	w.wantRead = w.wantRead || read
	w.wantWrite = w.wantWrite || write
	return w.modLocked()
}

func (w *Watch) modLocked() error {
	ev := netpoll.EpollEvent(netpoll.EPOLLONESHOT)
	if w.wantRead {
		ev |= netpoll.EPOLLIN
	}
	if w.wantWrite {
		ev |= netpoll.EPOLLOUT
	}
	if err := w.p.ep.Mod(w.fd, ev); err != nil {
		return fmt.Errorf("epoll mod fd %d: %w", w.fd, err)
	}
	return nil
}

// Remove unregisters the socket. It must be called before the socket is
// closed, so a reused fd number never inherits this registration. Later Arm
// calls do nothing, and a callback already collected by the epoll goroutine
// is dropped.
func (w *Watch) Remove() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.removed {
		return nil
	}
	w.removed = true
	if err := w.p.ep.Del(w.fd); err != nil && !errors.Is(err, netpoll.ErrClosed) {
		return fmt.Errorf("epoll del fd %d: %w", w.fd, err)
	}
	return nil
}

const (
	readEvents  = netpoll.EPOLLIN | netpoll.EPOLLERR | netpoll.EPOLLHUP | netpoll.EPOLLRDHUP
	writeEvents = netpoll.EPOLLOUT | netpoll.EPOLLERR | netpoll.EPOLLHUP
)

// handle runs on the epoll goroutine. The kernel has disarmed the fd
// (one-shot); whatever interest was not reported is armed again.
func (w *Watch) handle(ev netpoll.EpollEvent) {
	w.mu.Lock()
	if w.removed {
		w.mu.Unlock()
		return
	}
	var r Ready
	if ev&readEvents != 0 && w.wantRead {
		r.Read, w.wantRead = true, false
	}
	if ev&writeEvents != 0 && w.wantWrite {
		r.Write, w.wantWrite = true, false
	}
	if w.wantRead || w.wantWrite {
		// Errors here mean the fd is gone; the owner finds out on its next
		// read or write.
		_ = w.modLocked()
	}
	w.mu.Unlock()
	if r.Read || r.Write {
		w.cb(r)
	}
}
