package evloop

import (
	"errors"
	"fmt"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/mailru/easygo/netpoll"
	"go.uber.org/zap"
	"golang.org/x/sys/unix"
)

// Events is what epoll reported for a socket, or the interest in it.
type Events = netpoll.EpollEvent

// Interest and readiness bits (level-triggered).
const (
	// Read: readable, or the peer hung up (EOF is a read).
	Read Events = netpoll.EPOLLIN
	// Write: writable.
	Write Events = netpoll.EPOLLOUT
	// Hangup and Error are reported whatever the interest.
	Hangup Events = netpoll.EPOLLHUP | netpoll.EPOLLRDHUP
	Error  Events = netpoll.EPOLLERR
	// none is the interest of a socket that wants nothing for now: one-shot
	// with no events, so a hang-up or an error is reported at most once
	// until the interest changes (level-triggered, they would be reported
	// on every wait).
	none Events = netpoll.EPOLLONESHOT
	// closed is easygo's event for callbacks still registered when the
	// epoll instance closes; it is not a readiness.
	closed Events = 0x20
)

// busySample: one wake in busySample is timed, and its time counted
// busySample times, for the busy time (the loop's utilisation): two clock
// reads per wake cost more than the rest of the metrics of a private
// message on a VM with a slow clock. Wakes follow one another in a
// regular stream, so every 16th is an unbiased sample.
const busySample = 16

// taskBudget bounds the inbox tasks one wake runs; the rest wait for the
// next wake, after the sockets epoll reports meanwhile.
const taskBudget = 4096

// Handler receives a registered socket's events, on the loop.
type Handler interface {
	OnEvents(ev Events)
}

// Flusher is something with output to write once per wake (see Dirty).
type Flusher interface {
	Flush()
}

// Loop is one event loop. Add, Mod, Del and Post are safe from any
// goroutine; Dirty and Buffer are for the loop's own callbacks.
type Loop struct {
	ep  *netpoll.Epoll
	efd int // the inbox's eventfd
	log *zap.Logger
	buf []byte // read buffer for the loop's callbacks

	in       inbox
	active   atomic.Bool // inside a wake, before its last inbox check
	notified atomic.Bool // the eventfd was written and not yet read
	// Counters for metrics: wakes (callbacks run) and eventfd wake-ups.
	wakes     atomic.Uint64
	wakeups   atomic.Uint64
	tasks     atomic.Uint64
	flushes   atomic.Uint64
	busy      atomic.Int64 // nanoseconds spent in wakes, estimated (see timeWake)
	sampled   uint32       // wakes since the last timed one; loop only
	dirty     []Flusher    // loop only
	closeOnce atomic.Bool
}

// New starts a loop with a read buffer of bufSize bytes.
func New(log *zap.Logger, bufSize int) (*Loop, error) {
	ep, err := netpoll.EpollCreate(&netpoll.EpollConfig{OnWaitError: func(err error) {
		log.Error("epoll wait failed", zap.Error(err))
	}})
	if err != nil {
		return nil, fmt.Errorf("epoll create: %w", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		_ = ep.Close()
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	l := &Loop{ep: ep, efd: efd, log: log, buf: make([]byte, bufSize)}
	if err := ep.Add(efd, netpoll.EPOLLIN, l.onInbox); err != nil {
		_ = ep.Close()
		_ = unix.Close(efd)
		return nil, fmt.Errorf("epoll add eventfd: %w", err)
	}
	return l, nil
}

// Add registers fd with interest ev (Read, Write or both; 0 for none).
// h.OnEvents runs on the loop for each readiness, starting possibly before
// Add returns: set up what h needs first.
func (l *Loop) Add(fd int, ev Events, h Handler) error {
	if err := l.ep.Add(fd, interest(ev), func(got Events) { l.wake(h, got) }); err != nil {
		return fmt.Errorf("epoll add fd %d: %w", fd, err)
	}
	return nil
}

// Mod changes fd's interest.
func (l *Loop) Mod(fd int, ev Events) error {
	if err := l.ep.Mod(fd, interest(ev)); err != nil {
		return fmt.Errorf("epoll mod fd %d: %w", fd, err)
	}
	return nil
}

// Del unregisters fd. Call it before closing fd, so that a reused fd number
// does not inherit the registration. A callback of the current batch may
// still run for fd afterwards (easygo looks a batch's callbacks up before
// running any): handlers must check they are still open.
func (l *Loop) Del(fd int) error {
	if err := l.ep.Del(fd); err != nil && !errors.Is(err, netpoll.ErrClosed) {
		return fmt.Errorf("epoll del fd %d: %w", fd, err)
	}
	return nil
}

func interest(ev Events) Events {
	if ev&(Read|Write) == 0 {
		return none
	}
	return ev & (Read | Write)
}

// Buffer is the loop's read buffer, for its callbacks: its contents are
// valid until the callback returns.
func (l *Loop) Buffer() []byte { return l.buf }

// Dirty marks f to be flushed once at the end of the current wake. Call it
// only from the loop's callbacks, at most once per wake for each f (the
// caller keeps the flag).
func (l *Loop) Dirty(f Flusher) { l.dirty = append(l.dirty, f) }

// Post hands task to the loop, from any goroutine. Tasks posted by one
// goroutine run in the order posted. It never blocks.
func (l *Loop) Post(task func()) {
	l.in.push(task)
	if l.active.Load() {
		return // the loop checks its inbox before it waits again
	}
	l.notify()
}

// notify writes the eventfd unless a write is already pending.
func (l *Loop) notify() {
	if !l.notified.CompareAndSwap(false, true) {
		return
	}
	var one = [8]byte{1}
	if _, err := unix.Write(l.efd, one[:]); err != nil && err != unix.EAGAIN {
		l.log.Error("event loop: eventfd write failed", zap.Error(err))
	}
}

// onInbox runs when the eventfd is readable.
func (l *Loop) onInbox(ev Events) {
	if ev&closed != 0 {
		return
	}
	start := l.timeWake()
	var b [8]byte
	_, _ = unix.Read(l.efd, b[:])
	l.wakeups.Add(1)
	// Cleared before the inbox is read: a post after this point writes the
	// eventfd again, or is seen by this wake.
	l.notified.Store(false)
	l.active.Store(true)
	l.leave(start)
}

// wake runs one socket callback, then the end of the wake.
func (l *Loop) wake(h Handler, ev Events) {
	if ev&closed != 0 {
		return
	}
	start := l.timeWake()
	l.active.Store(true)
	l.guard("socket callback", func() { h.OnEvents(ev) })
	l.leave(start)
}

// leave ends a wake: it runs the inbox's tasks, within the budget, flushes
// what the wake made dirty, and checks the inbox a last time.
//
// No wake-up is lost: a producer pushes, then loads active; leave stores
// active=false, then loads the inbox. Both are sequentially consistent, so
// either the producer saw active=false and writes the eventfd, or leave's
// final check sees the task (and writes the eventfd itself).
func (l *Loop) leave(start time.Time) {
	l.wakes.Add(1)
	ran := 0
	for ran < taskBudget {
		n := l.in.takeAll()
		if n == nil {
			break
		}
		for n != nil {
			next := n.next
			l.guard("task", n.task)
			release(n)
			n = next
			ran++
		}
	}
	l.tasks.Add(uint64(ran))
	l.flush()
	l.active.Store(false)
	if !l.in.empty() {
		l.notify()
	}
	if !start.IsZero() {
		l.busy.Add(busySample * int64(time.Since(start)))
	}
}

// timeWake returns the time now for a wake to be timed (one in
// busySample), else the zero Time. It runs on the loop.
func (l *Loop) timeWake() time.Time {
	if l.sampled++; l.sampled < busySample {
		return time.Time{}
	}
	l.sampled = 0
	return time.Now()
}

// flush flushes each dirty Flusher once; a Flush that makes another one
// dirty (or itself again) is flushed in the same pass.
func (l *Loop) flush() {
	for i := 0; i < len(l.dirty); i++ {
		f := l.dirty[i]
		l.dirty[i] = nil
		l.guard("flush", f.Flush)
	}
	l.flushes.Add(uint64(len(l.dirty)))
	l.dirty = l.dirty[:0]
}

// guard runs fn, recovering and logging a panic so the loop goes on.
func (l *Loop) guard(what string, fn func()) {
	defer func() {
		if v := recover(); v != nil {
			l.log.Error("event loop: recovered panic", zap.String("in", what),
				zap.Any("panic", v), zap.ByteString("stack", debug.Stack()))
		}
	}()
	fn()
}

// Stats are a loop's counters since it started. Busy is the time spent in
// wakes (callbacks, tasks and flushes), the rest being spent waiting in
// epoll_wait or for the CPU; it is estimated from one wake in busySample.
type Stats struct {
	Wakes, Wakeups, Tasks, Flushes uint64
	Busy                           time.Duration
}

// Stats returns the loop's counters.
func (l *Loop) Stats() Stats {
	return Stats{Wakes: l.wakes.Load(), Wakeups: l.wakeups.Load(), Tasks: l.tasks.Load(), Flushes: l.flushes.Load(),
		Busy: time.Duration(l.busy.Load())}
}

// Close stops the loop's goroutine and releases the epoll instance and the
// eventfd. It must not be called from the loop's own callbacks. Sockets
// still registered get no more callbacks.
func (l *Loop) Close() error {
	if l.closeOnce.Swap(true) {
		return nil
	}
	_ = l.ep.Del(l.efd)
	err := l.ep.Close()
	if errors.Is(err, netpoll.ErrClosed) {
		err = nil
	}
	if cerr := unix.Close(l.efd); cerr != nil {
		err = errors.Join(err, cerr)
	}
	return err
}
